"""Issue 10: one stack per environment, deployed by the pipeline; no placeholder ever serves.

Every example synthesizes the pipeline's stack plus one per environment (and, for an
environment in another account, the one-time bootstrap stack there); the pipeline's stages
deploy the environment stacks with CloudFormation actions and the release's image or package.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from conveyor.constructs.naming import Naming
from conveyor.rules.intrinsics import render
from tests.synth.conftest import EXAMPLES, ROOT, Synthesized, joined

# What lives in an environment's stack, never in the pipeline's.
ENVIRONMENT_TYPES = {
    "AWS::EC2::VPC",
    "AWS::ECS::Cluster",
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::Lambda::Alias",
    "AWS::Lambda::Version",
}


def _pipeline_stages(s: Synthesized) -> list[dict[str, Any]]:
    pipeline = s.pipeline()
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_one_template_for_the_pipeline_and_one_per_environment(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    naming = Naming(s.spec.app, s.spec.suffix)
    expected = {naming.name("pipeline")} | {naming.name(e.name) for e in s.spec.environments}
    expected |= {naming.name("bootstrap", e.name) for e in s.spec.foreign_environments}
    # An environment in another region: its region's support stack (regional_support.py).
    expected |= {naming.name("region", region) for region in s.spec.other_regions}
    assert set(s.templates) == expected
    for kind in ENVIRONMENT_TYPES:
        assert not [r for r in s.template["Resources"].values() if r["Type"] == kind], kind


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_no_stack_imports_from_another(synthesized: dict[str, Synthesized], example: str) -> None:
    """Environment stacks do not exist when the pipeline's is first deployed, and another
    account could not import anyway: names, never exports."""
    for stack, template in synthesized[example].templates.items():
        text = json.dumps(template)
        assert "Fn::ImportValue" not in text, stack
        assert not [o for o in template.get("Outputs", {}).values() if "Export" in o], stack


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_no_template_holds_a_placeholder(synthesized: dict[str, Synthesized], example: str) -> None:
    """FM110: the first release creates the service with its real image, the function with
    its real package."""
    for stack, template in synthesized[example].templates.items():
        text = json.dumps(template).lower()
        for word in ("placeholder", "traefik", "whoami", "first pipeline run"):
            assert word not in text, (stack, word)
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECS::TaskDefinition":
                # The release's image runs in one container; sidecars run their pinned images.
                images = [c["Image"] for c in resource["Properties"]["ContainerDefinitions"]]
                assert images.count({"Ref": "ImageUri"}) == 1, stack
                assert all(isinstance(i, str) for i in images if i != {"Ref": "ImageUri"})
                pattern = template["Parameters"]["ImageUri"]["AllowedPattern"]
                assert "@sha256:" in pattern and "dkr\\\\.ecr" in json.dumps(pattern)


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_each_environment_stage_deploys_its_stack_with_the_release(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    naming = Naming(s.spec.app, s.spec.suffix)
    stages = {stage["Name"]: stage["Actions"] for stage in _pipeline_stages(s)}
    for env in s.spec.environments:
        actions = sorted(stages[f"Deploy-{env.name}"], key=lambda a: a["RunOrder"])
        stack_actions = [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        assert {a["Configuration"]["StackName"] for a in stack_actions} == {naming.name(env.name)}
        first = stack_actions[0]
        assert "Synth" in [i["Name"] for i in first["InputArtifacts"]]
        assert (
            first["Configuration"]["TemplatePath"]
            == f"Synth::{naming.name(env.name)}.template.json"
        )
        assert "RoleArn" in first["Configuration"]  # the stack's own service role
        # An approved environment makes the change set again in this stage and executes it: the
        # first release's stack exists only as the approval's change set (REVIEW_IN_PROGRESS,
        # which CREATE_UPDATE cannot update), and a rollback executes the last good release's.
        modes = [a["Configuration"]["ActionMode"] for a in stack_actions]
        if env.needs_approval:
            assert modes == ["CHANGE_SET_REPLACE", "CHANGE_SET_EXECUTE"]
            made, executed = stack_actions
            assert made["RunOrder"] < executed["RunOrder"]
            assert (
                made["Configuration"]["ChangeSetName"]
                == (executed["Configuration"]["ChangeSetName"])
            )
            assert "Namespace" in executed  # the stack's outputs (its URL) for later actions
        else:
            assert modes == ["CREATE_UPDATE"]


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_production_sees_the_change_set_before_approving(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """Approve-<env>: change set -> approval (its notice says where to read the change set);
    then Deploy-<env> makes the change set again from the same template and parameters and
    executes it. Issue 11: the approval is in no stage that rolls back, and a stage that
    executes a change set made it itself first (a rollback re-makes the last good release's)."""
    s = synthesized[example]
    stages = {stage["Name"]: stage for stage in _pipeline_stages(s)}
    names = list(stages)
    approved = [e for e in s.spec.environments if e.needs_approval]
    for env in approved:
        approval_stage, deploy_stage = stages[f"Approve-{env.name}"], stages[f"Deploy-{env.name}"]
        # Release-<env> (the gate again, the image's mark or the package's copy, the `before`
        # job) between them where the environment has a gate or a `before` job.
        between = 2 if f"Release-{env.name}" in stages else 1
        assert names.index(f"Approve-{env.name}") + between == names.index(f"Deploy-{env.name}")
        assert "OnFailure" not in approval_stage
        assert deploy_stage["OnFailure"]["Result"] == "ROLLBACK"
        actions = {a["Name"]: a for a in approval_stage["Actions"]}
        change_set, approve = actions["ChangeSet"], actions["Approve"]
        assert change_set["RunOrder"] < approve["RunOrder"]
        assert change_set["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE"
        deploy_actions = {a["Name"]: a for a in deploy_stage["Actions"]}
        remade, deploy = deploy_actions["ChangeSet"], deploy_actions["Deploy"]
        assert deploy["Configuration"]["ActionMode"] == "CHANGE_SET_EXECUTE"
        assert remade["RunOrder"] < deploy["RunOrder"]
        for key in ("StackName", "TemplatePath", "ParameterOverrides", "RoleArn", "ChangeSetName"):
            assert remade["Configuration"][key] == change_set["Configuration"][key], key
        name = change_set["Configuration"]["ChangeSetName"]
        # Issue 11 (review defect 6): one change set per execution, a name CloudFormation
        # accepts once the execution id (a UUID) is in it.
        assert name == f"conveyor-{env.name}-#{{codepipeline.PipelineExecutionId}}"
        resolved = name.replace("#{codepipeline.PipelineExecutionId}", str(uuid.UUID(int=0)))
        assert re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]*", resolved) and len(resolved) <= 128
        # In another region the notice names it (a Join with the region parameter).
        notice = render(approve["Configuration"]["CustomData"])
        assert notice is not None
        stack = change_set["Configuration"]["StackName"]
        assert f"aws cloudformation describe-change-set --stack-name {stack}" in notice
        assert f"--change-set-name {name}" in notice
        assert f"in Deploy-{env.name}." in notice
    for stage in stages.values():
        kinds = {a["ActionTypeId"]["Category"] for a in stage["Actions"]}
        ordered = sorted(stage["Actions"], key=lambda a: a["RunOrder"])
        modes = [a.get("Configuration", {}).get("ActionMode") for a in ordered]
        if "CHANGE_SET_EXECUTE" in modes:  # only after this stage made it
            assert "CHANGE_SET_REPLACE" in modes[: modes.index("CHANGE_SET_EXECUTE")]
        if "OnFailure" in stage and stage["OnFailure"]["Result"] == "ROLLBACK":
            assert "Approval" not in kinds, stage["Name"]


# --- a change to one environment's resources -----------------------------------------------


def _synth_changed(tmp_path: Path, example: str, env_name: str, cpu: int) -> dict[str, str]:
    from conveyor.spec import parse_spec
    from conveyor.synth import synthesize

    text = (ROOT / "examples" / f"{example}.yaml").read_text()
    spec = parse_spec(text)
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    for env in data["environments"]:
        if env["name"] == env_name:
            env["deploy"]["ecs"]["create"]["cpu"] = cpu
            env["deploy"]["ecs"]["create"]["memory"] = cpu * 2
    changed = type(spec).model_validate(data)
    result = synthesize(changed, tmp_path)
    return {t.stack: t.path.read_text() for t in result.templates}


@pytest.fixture(scope="module")
def web_with_more_cpu(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _synth_changed(tmp_path_factory.mktemp("web-cpu"), "web-service", "prod", 1024)


@pytest.fixture(scope="module")
def storefront_with_more_cpu(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _synth_changed(
        tmp_path_factory.mktemp("storefront-cpu"), "codecommit-blue-green", "prod", 1024
    )


def test_an_environment_change_changes_only_its_stack(
    synthesized: dict[str, Synthesized], web_with_more_cpu: dict[str, str]
) -> None:
    """Production's cpu is production's stack: the pipeline's template (all `conveyor deploy`
    touches) stays byte-identical, and the pipeline's change set applies the change."""
    before = synthesized["web-service"]
    assert set(web_with_more_cpu) == set(before.templates)
    original = {p.name: p.read_text() for p in before.template_paths()}
    assert web_with_more_cpu["web-pipeline"] == original["web-pipeline.template.json"]
    assert web_with_more_cpu["web-prod"] != original["web-prod.template.json"]
    (task,) = [
        r
        for r in json.loads(web_with_more_cpu["web-prod"])["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
    ]
    assert (task["Properties"]["Cpu"], task["Properties"]["Memory"]) == ("1024", "2048")


def test_codedeploy_service_keeps_its_task_definition_through_stack_updates(
    synthesized: dict[str, Synthesized], storefront_with_more_cpu: dict[str, str]
) -> None:
    """CloudFormation cannot change the task definition of a service under the CODE_DEPLOY
    controller: the service names its family, so neither a new image (the ImageUri parameter)
    nor a new cpu touches its TaskDefinition property; CodeDeploy's taskdef.json carries them."""

    def resources(text: str, kind: str) -> list[dict[str, Any]]:
        return [r for r in json.loads(text)["Resources"].values() if r["Type"] == kind]

    before = synthesized["codecommit-blue-green"]
    original = (before.outdir / "storefront-prod.template.json").read_text()
    after = storefront_with_more_cpu["storefront-prod"]
    (service,) = resources(original, "AWS::ECS::Service")
    assert service["Properties"]["DeploymentController"] == {"Type": "CODE_DEPLOY"}
    # A literal family, not a reference to the (replaced on change) revision.
    assert service["Properties"]["TaskDefinition"] == "storefront-task-prod"
    assert resources(after, "AWS::ECS::Service") == [service]
    assert resources(after, "AWS::ECS::TaskDefinition") != resources(
        original, "AWS::ECS::TaskDefinition"
    )
    # The new cpu reaches the service through the pipeline's taskdef.json.
    assert '\\"cpu\\":\\"1024\\"' in storefront_with_more_cpu["storefront-pipeline"]


# --- what a failed validation rolls back to --------------------------------------------------


def test_a_release_keeps_the_one_before_it_for_the_validation_rollback(
    synthesized: dict[str, Synthesized],
) -> None:
    """A release replaces the stack's task definition (a new ImageUri) and the function's
    version (a new CodeKey). CloudFormation deletes what it replaced before the Validate action
    runs (the task definition's delete handler deregisters it, and ECS refuses to move a
    service to an INACTIVE revision), so a rollback by hand (before issue 11, the validation's
    own) would find nothing to return to. UpdateReplacePolicy keeps the replaced one;
    DeletionPolicy stays Delete, so a failed first create still leaves nothing behind."""
    kept: dict[str, int] = {}
    for s in synthesized.values():
        for stack, template in s.templates.items():
            for logical_id, resource in template["Resources"].items():
                if resource["Type"] in ("AWS::ECS::TaskDefinition", "AWS::Lambda::Version"):
                    assert resource.get("UpdateReplacePolicy") == "Retain", (stack, logical_id)
                    assert resource.get("DeletionPolicy", "Delete") == "Delete", (stack, logical_id)
                    kept[resource["Type"]] = kept.get(resource["Type"], 0) + 1
    assert set(kept) == {"AWS::ECS::TaskDefinition", "AWS::Lambda::Version"}


@pytest.fixture(scope="module")
def rolling_in_another_account(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """multi-account.yaml with production rolling instead of CodeDeploy blue/green."""
    from conveyor.spec import parse_spec
    from conveyor.synth import synthesize

    spec = parse_spec((ROOT / "examples" / "multi-account.yaml").read_text())
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    for env in data["environments"]:
        if env["name"] == "prod":
            env["deploy"]["ecs"] = {"strategy": "rolling", "create": env["deploy"]["ecs"]["create"]}
    result = synthesize(type(spec).model_validate(data), tmp_path_factory.mktemp("rolling"))
    return {t.stack: json.loads(t.path.read_text()) for t in result.templates}


def _stage_actions(template: dict[str, Any], stage: str) -> dict[str, dict[str, Any]]:
    (pipeline,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    (found,) = [s for s in pipeline["Properties"]["Stages"] if s["Name"] == stage]
    return {a["Name"]: a for a in found["Actions"]}


def _granted(template: dict[str, Any], role_name: str) -> dict[str, str]:
    """Action -> its statement's resources, for the role named `role_name` in `template`."""
    resources = template["Resources"]
    (role_id,) = [k for k, r in resources.items() if r["Properties"].get("RoleName") == role_name]
    granted: dict[str, str] = {}
    for resource in resources.values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role_id} in resource["Properties"]["Roles"]
        ):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                for action in [actions] if isinstance(actions, str) else actions:
                    granted[action] = json.dumps(statement["Resource"])
    return granted


def _assumed_by_validator(template: dict[str, Any], validate: dict[str, Any]) -> list[str]:
    function_id = validate["Configuration"]["FunctionName"]["Ref"]
    role_id = template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        json.dumps(statement["Resource"])
        for policy in template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy"
        and {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sts:AssumeRole"
    ]


def test_a_failed_validation_in_another_account_leaves_the_rollback_to_the_stage(
    rolling_in_another_account: dict[str, Any],
) -> None:
    """Issue 11: a service conveyor creates in another account is put back by the stage's
    rollback (the stack deployed again there with the last good release); the validation names
    no rollback target, assumes no role there, and the deploy role there may not move the
    service itself (before: DescribeServices, ListTaskDefinitions, UpdateService)."""
    pipeline = rolling_in_another_account["ledger-pipeline"]
    validate = _stage_actions(pipeline, "Deploy-prod")["Validate"]
    assert "rollback" not in json.dumps(validate["Configuration"]["UserParameters"])
    assert _assumed_by_validator(pipeline, validate) == []
    granted = _granted(rolling_in_another_account["ledger-bootstrap-prod"], "ledger-deploy-prod")
    assert not {"ecs:UpdateService", "ecs:ListTaskDefinitions"} & set(granted)


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_ecs_rollbacks_in_another_account_are_forwarded_to_the_pipeline_s_notice(
    rolling_in_another_account: dict[str, Any],
) -> None:
    """Issue 14 defect 9, in another account: ECS says it rolled production's service back on
    production's account's bus. Its bootstrap stack forwards that service's deployment events to
    the pipeline account's bus, whose policy admits aws.ecs from production's account, and the
    pipeline's ECS rollback rule names the service's ARN in production's account (before: the
    rule left the service out and nothing forwarded its events).
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html"""
    pipeline = rolling_in_another_account["ledger-pipeline"]
    bootstrap = rolling_in_another_account["ledger-bootstrap-prod"]
    service = "service/ledger-cluster-prod/ledger-service-prod"
    (forward,) = [
        r
        for r in _of_type(bootstrap, "AWS::Events::Rule")
        if r["EventPattern"]["source"] == ["aws.ecs"]
    ]
    assert forward["EventPattern"]["detail-type"] == ["ECS Deployment State Change"]
    assert service in json.dumps(forward["EventPattern"]["resources"])
    assert ":event-bus/default" in json.dumps(forward["Targets"][0]["Arn"])
    (policy,) = _of_type(pipeline, "AWS::Events::EventBusPolicy")
    assert policy["Statement"]["Condition"] == {
        "ForAllValues:StringEquals": {"events:source": ["aws.ecs"]}
    }
    assert "ProdAccountId" in json.dumps(policy["Statement"]["Principal"])
    (notice,) = [
        r
        for r in _of_type(pipeline, "AWS::Events::Rule")
        if r.get("EventPattern", {}).get("source") == ["aws.ecs"]
    ]
    watched = json.dumps(notice["EventPattern"]["resources"])
    assert service.replace("-prod", "-staging") in watched
    (prod_arn,) = [a for a in notice["EventPattern"]["resources"] if service in json.dumps(a)]
    # production's account (the pipeline stack's parameter), not the pipeline's own
    assert "ProdAccountId" in json.dumps(prod_arn) and "AWS::AccountId" not in json.dumps(prod_arn)


# --- re-running a release after a validation rollback (review of issue 10, F3) -------------------


def _with_parameters(value: Any, parameters: dict[str, str]) -> Any:
    """`value` with each Ref to one of `parameters` replaced by its value."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {k: _with_parameters(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_parameters(v, parameters) for v in value]
    return value


def _first_stack_action(s: Synthesized, env: str) -> dict[str, Any]:
    stages = {stage["Name"]: stage["Actions"] for stage in _pipeline_stages(s)}
    actions = sorted(stages[f"Deploy-{env}"], key=lambda a: a["RunOrder"])
    return next(a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation")


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_a_new_execution_of_the_same_image_is_a_stack_change(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """A failed validation rolls the service back to the previous task definition; the stack
    still describes the failed release. Re-running the same commit pushes no new image (the
    build reuses the pushed digest), so with the image as the only parameter the stack update
    was a no-op: CodePipeline's CloudFormation action succeeds on "No updates are to be
    performed", nothing is redeployed, and Validate checks the previous release. The execution
    id is a parameter too, and the task definition changes with it."""
    s = synthesized[example]
    naming = Naming(s.spec.app, s.spec.suffix)
    image = f"{s.spec.account}.dkr.ecr.eu-west-1.amazonaws.com/x@sha256:{'0' * 64}"
    checked = 0
    for env in s.spec.environments:
        if env.deploy.ecs is None or env.deploy.ecs.create is None:
            continue
        # In another region the image is its region's repository, joined with the region's
        # parameter (Fn::Join): the release half reads the same.
        raw = _first_stack_action(s, env.name)["Configuration"]["ParameterOverrides"]
        overrides = json.loads(joined(raw))
        assert overrides["Release"] == "#{codepipeline.PipelineExecutionId}"
        template = s.templates[naming.name(env.name)]
        (task,) = [
            r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"
        ]
        first, again = (
            _with_parameters(task["Properties"], {"ImageUri": image, "Release": execution})
            for execution in ("0a1b-first", "2c3d-again")
        )
        assert first != again, f"{example}/{env.name}: a re-run would change nothing"
        checked += 1
    if not checked:
        pytest.skip(f"{example} creates no ECS service")


# --- region-agnostic templates (issue 16, CV036 inside Fn::Join) ----------------------------


@pytest.mark.parametrize("example", ["payments", "multi-account", "codecommit-blue-green"])
def test_a_stack_bound_to_a_region_names_it_as_aws_region(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """CDK writes a bound stack's region as a literal in every ARN it formats (log groups,
    stacks, pipelines, asset buckets); the template then names the region it was synthesized
    for. conveyor's synth writes it as AWS::Region: no literal of it is left in any resource's
    properties or output, and the pseudo parameter takes its place."""
    s = synthesized[example]
    region = s.spec.pipeline_region
    assert region is not None
    for stack, template in s.templates.items():
        body = json.dumps([template.get("Resources", {}), template.get("Outputs", {})])
        assert region not in body, stack
    assert "AWS::Region" in json.dumps(s.template["Resources"])


def test_codedeploy_blue_green_runs_in_the_other_account(
    synthesized: dict[str, Synthesized],
) -> None:
    """Issue 10's done-when: the multi-account example runs CodeDeploy blue/green in the other
    account. The group, its application and the validation hook are production's stack's (in
    production's account); the CodeDeployToECS action runs as a role of the bootstrap stack
    there; taskdef.json names production's roles in production's account; a failed validation
    stops or undoes the deployment there, as the deploy role."""
    s = synthesized["multi-account"]
    prod = s.templates["ledger-prod"]["Resources"]
    kinds = {r["Type"] for r in prod.values()}
    assert {"AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"} <= kinds
    hooks = [
        r["Properties"]["FunctionName"]
        for r in prod.values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("FunctionName") == "ledger-validate-http-prod-hook"
    ]
    assert hooks
    assert "AWS::CodeDeploy::DeploymentGroup" not in {
        r["Type"] for r in s.template["Resources"].values()
    }
    actions = _stage_actions(s.template, "Deploy-prod")
    codedeploy = actions["CodeDeploy"]
    assert codedeploy["ActionTypeId"]["Provider"] == "CodeDeployToECS"
    assert "role/ledger-codedeploy-prod" in json.dumps(codedeploy["RoleArn"])
    assert "ProdAccountId" in json.dumps(codedeploy["RoleArn"])
    granted = _granted(s.templates["ledger-bootstrap-prod"], "ledger-codedeploy-prod")
    assert (
        "deploymentgroup:ledger-deploy-prod/ledger-deploy-prod"
        in (granted["codedeploy:CreateDeployment"])
    )
    assert "role/ledger-task-prod" in granted["iam:PassRole"]
    # taskdef.json: production's roles, in production's account (its template parameter).
    (_, build) = s.build_project()
    variables = {
        v["Name"]: json.dumps(v["Value"])
        for v in build["Properties"]["Environment"]["EnvironmentVariables"]
    }
    (taskdef,) = [v for k, v in variables.items() if k.startswith("CONVEYOR_FILE_TASKDEF_PROD")]
    assert "ProdAccountId" in taskdef and "role/ledger-task-exec-prod" in taskdef
    # A failed validation leaves the rollback to the stage: nothing acts there but the action.
    assert "rollback" not in json.dumps(actions["Validate"]["Configuration"]["UserParameters"])
    assert _assumed_by_validator(s.template, actions["Validate"]) == []
    deployer = _granted(s.templates["ledger-bootstrap-prod"], "ledger-deploy-prod")
    assert not {"codedeploy:StopDeployment", "codedeploy:CreateDeployment"} & set(deployer)


def test_a_lambda_in_another_account_deploys_there(
    synthesized: dict[str, Synthesized],
) -> None:
    """Lambda canary across accounts: production's stack (function, alias under CodeDeploy's
    update policy, group, hook) is deployed there from the Build artifact, which the execution
    role there may read. A failed validation leaves the alias to the stage's rollback."""
    s = synthesized["lambda-other-account"]
    prod = s.templates["rates-prod"]["Resources"]
    (alias,) = [r for r in prod.values() if r["Type"] == "AWS::Lambda::Alias"]
    assert "CodeDeployLambdaAliasUpdate" in alias["UpdatePolicy"]
    actions = _stage_actions(s.template, "Deploy-prod")
    # The package store's bucket is a Ref, so the overrides are an Fn::Join.
    # Production makes its change set again in Deploy-prod, then executes it (issue 11).
    assert actions["Deploy"]["Configuration"]["ActionMode"] == "CHANGE_SET_EXECUTE"
    overrides = json.dumps(actions["ChangeSet"]["Configuration"]["ParameterOverrides"])
    assert '\\"CodeVersion\\":\\"#{PackageProd.DEPLOYED_VERSION}\\"' in overrides
    assert '\\"CodeKey\\":\\"deployed/prod/rates-package.zip\\"' in overrides
    assert "role/rates-cloudformation-prod" in json.dumps(
        actions["ChangeSet"]["Configuration"]["RoleArn"]
    )
    execution = _granted(s.templates["rates-bootstrap-prod"], "rates-cloudformation-prod")
    # The package store's one object (named by the pipeline account), and the hook's code.
    assert "rates-packages-" in execution["s3:GetObjectVersion"]
    assert "/deployed/prod/rates-package.zip" in execution["s3:GetObjectVersion"]
    assert "cdk-hnb659fds-assets-" in execution["s3:GetObject"]
    (packages,) = [
        r
        for r in s.template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and "ProdReadsPackages" in json.dumps(r)
    ]
    assert "role/rates-cloudformation-prod" in json.dumps(packages)
    # Production's own copy of the package, not the key every build writes.
    assert "/deployed/prod/rates-package.zip" in json.dumps(packages)
    assert '"/rates-package.zip"' not in json.dumps(packages)
    assert "rollback" not in json.dumps(actions["Validate"]["Configuration"]["UserParameters"])
    deployer = _granted(s.templates["rates-bootstrap-prod"], "rates-deploy-prod")
    assert "lambda:UpdateAlias" not in deployer
