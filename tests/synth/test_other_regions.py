"""An environment in another region (issue 10, examples/multi-region.yaml): its region's support
stack, the pipeline's artifact store there, its actions there, and the image there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.deploy.assembly import Assembly
from tests.synth.conftest import Synthesized

REGION = "us-east-1"
REGION_STACK = "atlas-region-us-east-1"


@pytest.fixture(scope="module")
def example(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["multi-region"]


def _of(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _text(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _region_parameter(example: Synthesized) -> str:
    (name,) = [
        name
        for name, parameter in example.template["Parameters"].items()
        if parameter.get("Default") == REGION
    ]
    return str(name)


def test_the_region_stack_holds_an_artifact_store_and_repository_with_conveyors_standards(
    example: Synthesized,
) -> None:
    template = example.templates[REGION_STACK]
    (key,) = _of(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    aliases = [r["Properties"]["AliasName"] for r in _of(template, "AWS::KMS::Alias")]
    # Its own region as AWS::Region, like every name of a stack bound to its region.
    assert aliases == [{"Fn::Join": ["", ["alias/atlas-key-region-", {"Ref": "AWS::Region"}]]}]
    buckets = {
        _text(b["Properties"].get("BucketName")): b["Properties"]
        for b in _of(template, "AWS::S3::Bucket")
    }
    store = next(p for name, p in buckets.items() if "atlas-artifacts-" in name)
    assert "us-east-1" not in _text(store["BucketName"])  # its own region, as AWS::Region
    assert store["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    assert store["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "s3/atlas-artifacts-region-" in _text(store["LoggingConfiguration"]["LogFilePrefix"])
    encryption = store["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert store["LifecycleConfiguration"]["Rules"]
    policies = _text(_of(template, "AWS::S3::BucketPolicy"))
    assert "aws:SecureTransport" in policies
    (repository,) = _of(template, "AWS::ECR::Repository")
    properties = repository["Properties"]
    assert properties["RepositoryName"] == "atlas-images"
    assert properties["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert "deployed-prod-" in properties["LifecyclePolicy"]["LifecyclePolicyText"]
    assert "deployed-staging-" not in properties["LifecyclePolicy"]["LifecyclePolicyText"]


def test_the_region_stack_holds_the_cloudformation_role_of_the_environment_there(
    example: Synthesized,
) -> None:
    roles = [
        r["Properties"].get("RoleName")
        for r in _of(example.templates[REGION_STACK], "AWS::IAM::Role")
    ]
    assert "atlas-cloudformation-prod" in roles
    assert "atlas-cloudformation-prod" not in _text(
        [r["Properties"].get("RoleName") for r in _of(example.template, "AWS::IAM::Role")]
    )


def test_conveyor_deploy_deploys_the_region_stack_before_the_pipeline(example: Synthesized) -> None:
    """The first time (the pipeline's artifact store there must exist before the pipeline);
    from then on the pipeline updates it too."""
    assembly = Assembly.read(example.outdir)
    pipeline = assembly.pipeline_stack()
    assert REGION_STACK in assembly.deployed_by_hand(pipeline)
    assert assembly.updated_with_pipeline(pipeline) == [REGION_STACK]
    assert assembly.environment_stacks(pipeline)["prod"] == ["atlas-prod"]
    manifest = json.loads((example.outdir / "manifest.json").read_text())
    dependencies = manifest["artifacts"][pipeline]["dependencies"]
    assert REGION_STACK in dependencies


MULTI_REGION = ["multi-region", "lambda-multi-region"]


def _update_stage(synthesized: Synthesized) -> dict[str, Any]:
    stages: list[dict[str, Any]] = synthesized.pipeline()["Properties"]["Stages"]
    (stage,) = [s for s in stages if s["Name"] == "UpdatePipeline"]
    return stage


def _parameter_default(synthesized: Synthesized, value: object) -> object:
    """A Ref to one of the pipeline stack's parameters, read at its default."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return synthesized.template["Parameters"][value["Ref"]]["Default"]
    return value


@pytest.mark.parametrize("name", MULTI_REGION)
def test_update_pipeline_updates_the_region_stack_there_before_the_pipeline_stack(
    synthesized: dict[str, Synthesized], name: str
) -> None:
    """A change to the region's stack (production's CloudFormation role there, say, after
    `scaling:` widens it) is applied by the pipeline, before its own stack and any release."""
    s = synthesized[name]
    region_stack = f"{s.spec.app}-region-{REGION}"
    actions = {a["Name"]: a for a in _update_stage(s)["Actions"]}
    assert list(actions) == ["Synth", "UpdateRegionUsEast1", "UpdatePipeline"]
    synth, region, update = (
        actions["Synth"],
        actions["UpdateRegionUsEast1"],
        actions["UpdatePipeline"],
    )
    assert synth["RunOrder"] < region["RunOrder"] < update["RunOrder"]
    assert region["ActionTypeId"]["Provider"] == "CloudFormation"
    assert _parameter_default(s, region["Region"]) == REGION
    config = region["Configuration"]
    assert config["ActionMode"] == "CREATE_UPDATE"
    assert config["Capabilities"] == "CAPABILITY_NAMED_IAM"
    assert "ParameterOverrides" not in config
    # The stack and its template by the region's parameter, as everything of that region.
    joined = _text([config["StackName"], config["TemplatePath"]])
    assert REGION not in joined
    resolved = _text(config).replace(f'{{"Ref": "{_region_parameter(s)}"}}', json.dumps(REGION))
    assert f"Synth::{s.spec.app}-region-" in resolved
    assert (s.outdir / f"{region_stack}.template.json").is_file()
    assert region["InputArtifacts"] == [{"Name": "Synth"}]
    # The stack's own role, made in that stack (by name: the pipeline stack references
    # nothing of it).
    assert config["RoleArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
        f"{s.spec.app}-cfn-region-${{{_region_parameter(s)}}}"
    }
    roles = [
        r["Properties"]
        for r in _of(s.templates[region_stack], "AWS::IAM::Role")
        if "cfn-region-" in _text(r["Properties"].get("RoleName"))
    ]
    assert [r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] for r in roles] == [
        {"Service": "cloudformation.amazonaws.com"}
    ]


@pytest.mark.parametrize("name", MULTI_REGION)
def test_the_region_stack_s_role_names_its_own_resources_only(
    synthesized: dict[str, Synthesized], name: str
) -> None:
    """Its IAM calls on the stack's roles by name (production's CloudFormation role, itself)
    and the roles and policies CloudFormation names after the stack; its S3 calls that change
    a bucket on the stack's buckets (the artifact store by its name); its ECR calls on the
    stack's repository by name. Nothing of the pipeline stack's."""
    s = synthesized[name]
    template = s.templates[f"{s.spec.app}-region-{REGION}"]
    statements = [
        statement
        for lid, r in template["Resources"].items()
        if lid.startswith("DeploymentRole")
        and r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        for action in actions:
            by_action.setdefault(action, []).extend(_text(r) for r in resources)
    put_role_policy = by_action["iam:PutRolePolicy"]
    assert any(f"role/{s.spec.app}-cloudformation-prod" in r for r in put_role_policy)
    assert not [r for r in put_role_policy if f"role/{s.spec.app}-*" in r or r == '"*"']
    assert not [r for r in by_action["s3:PutBucketPolicy"] if r == '"*"']
    assert any(f"{s.spec.app}-artifacts-" in r for r in by_action["s3:PutBucketPolicy"])
    assert f"{s.spec.app}-pipeline" not in _text(statements)
    if "ecr:DeleteRepository" in by_action:
        assert by_action["ecr:DeleteRepository"] == [
            _text(
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":ecr:",
                            {"Ref": "AWS::Region"},
                            ":",
                            {"Ref": "AWS::AccountId"},
                            f":repository/{s.spec.app}-images",
                        ],
                    ]
                }
            )
        ]


@pytest.mark.parametrize("name", ["web-service", "payments", "lambda-canary"])
def test_a_pipeline_without_another_region_updates_only_its_own_stack(
    synthesized: dict[str, Synthesized], name: str
) -> None:
    s = synthesized[name]
    actions = [(a["Name"], a["RunOrder"]) for a in _update_stage(s)["Actions"]]
    assert actions == [("Synth", 1), ("UpdatePipeline", 2)]


def test_the_pipeline_has_an_artifact_store_in_each_region_named_not_referenced(
    example: Synthesized,
) -> None:
    properties = example.pipeline()["Properties"]
    assert "ArtifactStore" not in properties
    stores = properties["ArtifactStores"]
    parameter = _region_parameter(example)
    assert [s["Region"] for s in stores] == [{"Ref": "AWS::Region"}, {"Ref": parameter}]
    other = _text(stores[1]["ArtifactStore"])
    assert "atlas-artifacts-" in other and f'"Ref": "{parameter}"' in other
    assert ":alias/atlas-key-region-" in other
    assert "Fn::ImportValue" not in _text(example.template)


def test_the_environments_actions_and_bake_run_in_its_region(example: Synthesized) -> None:
    parameter = {"Ref": _region_parameter(example)}
    stages = {s["Name"]: s for s in example.pipeline()["Properties"]["Stages"]}
    deploy = stages["Deploy-prod"]
    cloudformation = [
        a for a in deploy["Actions"] if a["ActionTypeId"]["Provider"] == "CloudFormation"
    ]
    assert cloudformation and all(a["Region"] == parameter for a in cloudformation)
    assert all("Region" not in a for a in stages["Deploy-staging"]["Actions"])
    rules = deploy["OnSuccess"]["Conditions"][0]["Rules"]
    assert rules and all(rule["Region"] == parameter for rule in rules)
    change_set = next(a for a in cloudformation if a["Name"] == "ChangeSet")
    overrides = _text(change_set["Configuration"]["ParameterOverrides"])
    # The image there: its region's repository, by the build's digest.
    assert ".dkr.ecr." in overrides and '"Ref": "' + parameter["Ref"] in overrides
    assert "/atlas-images@#{Build.IMAGE_DIGEST}" in overrides
    assert "atlas-cloudformation-prod" in _text(change_set["Configuration"]["RoleArn"])


def test_the_approval_notice_reads_the_change_set_in_its_region(example: Synthesized) -> None:
    """The change set the approver is told to read lives in production's region; the AWS CLI
    (and the console) look in the caller's region unless told, where the stack is not."""
    parameter = _region_parameter(example)
    stages = {s["Name"]: s for s in example.pipeline()["Properties"]["Stages"]}
    (approve,) = [a for a in stages["Approve-prod"]["Actions"] if a["Name"] == "Approve"]
    notice = approve["Configuration"]["CustomData"]
    assert notice["Fn::Join"][0] == ""
    parts = notice["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<" + p["Ref"] + ">" for p in parts)
    change_set = "conveyor-prod-#{codepipeline.PipelineExecutionId}"
    assert f"--change-set-name {change_set} --region <{parameter}>`" in text
    assert f"CloudFormation console in <{parameter}>" in text
    assert len(text) < 1000  # an action configuration value's limit


def test_the_build_pushes_to_the_region_and_may_nowhere_else(example: Synthesized) -> None:
    _, project = example.build_project()
    variables = {
        v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]
    }
    assert "atlas-images" in _text(variables["REPLICA_REPOSITORY_URIS"])
    policies = _text(_of(example.template, "AWS::IAM::Policy"))
    assert ":repository/atlas-images" in policies
    assert "ecr:PutImage" in policies


def test_the_keys_there_are_granted_by_alias(example: Synthesized) -> None:
    found = [
        statement
        for policy in _of(example.template, "AWS::IAM::Policy")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "kms:ResourceAliases" in _text(statement.get("Condition", {}))
    ]
    assert found
    for statement in found:
        assert ":key/*" in _text(statement["Resource"])
        aliases = statement["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
        assert "alias/atlas-key-region-" in _text(aliases)


def test_a_pipeline_in_a_stack_without_a_region_asks_for_one() -> None:
    """CodePipeline's cross-region actions need the pipeline's region: a Pipeline in a user's own
    stack bound to no region says what to write, instead of CDK's error from inside jsii."""
    import aws_cdk as cdk

    from conveyor import Pipeline
    from conveyor.spec import load_spec
    from tests.synth.conftest import ROOT

    spec = load_spec(ROOT / "examples" / "multi-region.yaml")
    stack = cdk.Stack(cdk.App(), "Mine")
    with pytest.raises(ValueError, match=r"env=Environment\(region='eu-west-1'\)"):
        Pipeline(stack, "Delivery", spec=spec)


KINDS = {
    "worker": '{kind: worker, health_command: [CMD-SHELL, "test -f /tmp/ok"]}',
    "backend": (
        '{kind: backend, port: 8080, health_command: [CMD-SHELL, "curl -f localhost:8080"]}'
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_service_without_a_load_balancer_in_another_region_forwards_its_events(
    kind: str, tmp_path: Path
) -> None:
    """Workers and backends (no load balancer) deploy there too, their stack forwarding the
    service's events; cdk-nag (synth raises on a finding) and conveyor check accept them."""
    from conveyor.rules import check_paths
    from conveyor.spec import parse_spec
    from conveyor.synth import synthesize

    create = f"      ecs: {{strategy: rolling, create: {KINDS[kind]}}}\n"
    text = (
        "app: atlas\nowner: team-atlas\nregion: eu-west-1\n"
        "source: {s3: {key: atlas/source.zip}}\nbuild: {docker: {}}\nenvironments:\n"
        f"  - name: staging\n    deploy:\n{create}"
        f"  - name: prod\n    region: us-east-1\n    deploy:\n{create}"
        "notifications:\n  email: [atlas-oncall@example.com]\n"
    )
    result = synthesize(parse_spec(text), tmp_path, nag=True)
    templates = {t.stack: json.loads(t.path.read_text()) for t in result.templates}
    rules = [
        r["Properties"]["Name"]
        for r in templates["atlas-prod"]["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
    ]
    assert "atlas-service-events-prod" in rules
    assert REGION_STACK in templates
    checked = check_paths([t.path for t in result.templates])
    assert checked.errors == [] and checked.findings == []


@pytest.fixture(scope="module")
def with_jobs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """multi-region with a `before` and a `tests` job on production and a `tests` job on
    staging: the pipeline template."""
    from conveyor.spec import parse_spec
    from conveyor.synth import synthesize

    root = Path(__file__).resolve().parents[2]
    text = (root / "examples" / "multi-region.yaml").read_text()
    jobs = (
        '    before: {commands: ["aws ecs describe-clusters --clusters $CLUSTER_NAME"]}\n'
        '    tests: {commands: ["curl -f $APP_URL/health"]}\n'
    )
    text = text.replace("    region: us-east-1\n", "    region: us-east-1\n" + jobs, 1)
    text = text.replace(
        "  - name: staging\n",
        '  - name: staging\n    tests: {commands: ["curl -f $APP_URL/health"]}\n',
        1,
    )
    result = synthesize(parse_spec(text), tmp_path_factory.mktemp("multi-region-jobs"))
    (pipeline,) = [t for t in result.templates if t.stack == "atlas-pipeline"]
    template: dict[str, Any] = json.loads(pipeline.path.read_text())
    return template


def _job_variables(template: dict[str, Any], stage: str, action: str) -> dict[str, str]:
    from conveyor.rules.intrinsics import render

    (pipeline,) = _of(template, "AWS::CodePipeline::Pipeline")
    (found,) = [
        a
        for s in pipeline["Properties"]["Stages"]
        if s["Name"] == stage
        for a in s["Actions"]
        if a["Name"] == action
    ]
    text = render(found["Configuration"]["EnvironmentVariables"])
    assert text is not None
    return {v["name"]: v["value"] for v in json.loads(text)}


def test_jobs_of_an_environment_in_another_region_are_told_its_region_and_image(
    with_jobs: dict[str, Any],
) -> None:
    """A `before` or `tests` job runs in the pipeline's region (CodeBuild's AWS_REGION): it is
    told the environment's region, and the image is the copy there that the stack deploys."""
    (parameter,) = [
        name for name, p in with_jobs["Parameters"].items() if p.get("Default") == REGION
    ]
    for stage, action in (("Release-prod", "Before"), ("Deploy-prod", "Tests")):
        variables = _job_variables(with_jobs, stage, action)
        assert variables["ENVIRONMENT_REGION"] == "${" + parameter + "}", stage
        assert variables["CLUSTER_NAME"] == "atlas-cluster-prod"
        assert variables["IMAGE_URI"] == (
            "${AWS::AccountId}.dkr.ecr.${" + parameter + "}.${AWS::URLSuffix}/atlas-images"
            "@#{Build.IMAGE_DIGEST}"
        )
    staging = _job_variables(with_jobs, "Deploy-staging", "Tests")
    assert "ENVIRONMENT_REGION" not in staging
    assert staging["IMAGE_URI"] == "#{Build.IMAGE_URI}"
