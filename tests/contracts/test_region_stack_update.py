"""The pipeline updates another region's support stack itself (examples/multi-region.yaml,
examples/lambda-multi-region.yaml): its UpdatePipeline stage runs a CloudFormation action in
that region, whose action role may describe, create and update that one stack there and pass
that stack's own role; CloudFormation, with that role, may make every call the resource schemas
list for the stack's types (the "CloudFormation role covers its stack's resource types" contract
of test_cloudformation_roles.py, on this role and stack), on the stack's own resources, and
nothing of the pipeline stack's, of the environments' or of another app's. Judged by the policy
evaluator against the synthesized policies."""

from __future__ import annotations

import json

import pytest

from conveyor.constructs.cfn_permissions import PERMISSIONS
from conveyor.constructs.cfn_scopes import scoped
from conveyor.constructs.cloudformation_role import ALIAS_ACTIONS, TAGGED_KEY_ACTIONS
from tests.contracts.model import Example, Located, Role
from tests.contracts.obligations import stack_ssm_parameter_arns
from tests.contracts.owned import own_resources
from tests.contracts.test_self_update import update_project

REGION = "us-east-1"
EXAMPLES = ["multi-region", "lambda-multi-region"]


def _stack(example: Example) -> str:
    return f"{example.synthesized.spec.app}-region-{REGION}"


def _action(example: Example) -> dict[str, object]:
    (found,) = [
        action
        for stage, action in example.actions()
        if stage == "UpdatePipeline" and action["Name"] == "UpdateRegionUsEast1"
    ]
    return found


def _deploy_role(example: Example) -> Role:
    config = _action(example)["Configuration"]
    assert isinstance(config, dict)
    return example.role(config["RoleArn"])


def _tags(located: Located) -> dict[str, str]:
    return {f"aws:ResourceTag/{t['Key']}": str(t["Value"]) for t in located.value("Tags") or []}


def _of(example: Example, kind: str, stack: str) -> list[Located]:
    return [r for r in example.of_type(kind) if r.stack == stack]


def _stack_arn(example: Example, stack: str, region: str = REGION) -> str:
    return f"arn:aws:cloudformation:{region}:{example.account}:stack/{stack}/0a1b2c3d"


@pytest.mark.parametrize("example", EXAMPLES, indirect=True)
def test_the_action_runs_in_the_region_from_the_synth_artifact(example: Example) -> None:
    action = _action(example)
    assert action["Region"] == REGION
    config = action["Configuration"]
    assert isinstance(config, dict)
    assert config["StackName"] == _stack(example)
    assert config["TemplatePath"] == f"Synth::{_stack(example)}.template.json"
    assert _stack(example) in example.synthesized.templates
    # The region's artifact store, which that stack itself holds, carries the action's input.
    stores = {s["Region"]: s["ArtifactStore"] for s in example.pipeline.value("ArtifactStores")}
    assert stores[REGION]["Location"] == f"{example.synthesized.spec.app}-artifacts-" + (
        f"{example.account}-{REGION}"
    )
    assert [
        b
        for b in _of(example, "AWS::S3::Bucket", _stack(example))
        if b.value("BucketName") == stores[REGION]["Location"]
    ]


@pytest.mark.parametrize("example", EXAMPLES, indirect=True)
def test_the_action_role_may_update_that_stack_there_and_pass_its_role_only(
    example: Example,
) -> None:
    """What CodePipeline's CloudFormation action calls with its role, on that one stack in that
    region, and iam:PassRole of the stack's role
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role,
    https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html);
    it reads the template from that region's store, decrypting with the store's key."""
    action = _action(example)
    role = example.role(str(action["RoleArn"]))
    stack = _stack_arn(example, _stack(example))
    for call in (
        "cloudformation:DescribeStacks",
        "cloudformation:DescribeStackEvents",
        "cloudformation:CreateStack",
        "cloudformation:UpdateStack",
        "cloudformation:GetTemplate",
    ):
        assert example.allows(role, call, stack), call
    deploy_role = _deploy_role(example)
    assert example.allows(role, "iam:PassRole", deploy_role.arn)
    bucket = next(
        s["ArtifactStore"]["Location"]
        for s in example.pipeline.value("ArtifactStores")
        if s["Region"] == REGION
    )
    assert example.allows(role, "s3:GetObject", f"arn:aws:s3:::{bucket}/pipeline/Synth/abc")
    (key,) = _of(example, "AWS::KMS::Key", _stack(example))
    (alias,) = [a.value("AliasName") for a in _of(example, "AWS::KMS::Alias", _stack(example))]
    assert example.allows(role, "kms:Decrypt", key.arn, {"kms:ResourceAliases": alias})
    # Nothing else: not the pipeline's own stack, an environment's, the same stack in the
    # pipeline's region; no other role to pass.
    app = example.synthesized.spec.app
    for other in (
        _stack_arn(example, f"{app}-pipeline", example.region),
        _stack_arn(example, f"{app}-prod"),
        _stack_arn(example, f"{app}-staging", example.region),
        _stack_arn(example, _stack(example), example.region),
        _stack_arn(example, f"{app}-region-{REGION}-x"),
    ):
        for call in ("cloudformation:UpdateStack", "cloudformation:CreateStack"):
            assert not example.allows(role, call, other), (call, other)
    for other_role in (f"{app}-cloudformation-prod", f"{app}-cloudformation-staging", "Admin"):
        arn = f"arn:aws:iam::{example.account}:role/{other_role}"
        assert not example.allows(role, "iam:PassRole", arn), other_role


def _targets(example: Example, action: str, stack: str) -> list[tuple[str, dict[str, str]]]:
    """What a schema action of the region stack acts on, with the request context AWS adds:
    the stack's roles (by their names and tags) and the managed policies CloudFormation names
    after the stack; its key and alias; its own resources of the service for a scoped call;
    else "*" (a create, a read)."""
    account = example.account
    if scoped(action):
        return own_resources(example, stack).get(action.split(":", 1)[0], [])
    if action.startswith("iam:"):
        found = [(role.arn, _tags(role)) for role in _of(example, "AWS::IAM::Role", stack)]
        found.append((f"arn:aws:iam::{account}:policy/{stack}-RoleOverflowPolicy1-1A2B", {}))
        return found
    if action in TAGGED_KEY_ACTIONS or action in ALIAS_ACTIONS:
        keys = _of(example, "AWS::KMS::Key", stack)
        found = [(key.arn, {} if action in ALIAS_ACTIONS else _tags(key)) for key in keys]
        if action in ALIAS_ACTIONS:
            found += [
                (f"arn:aws:kms:{REGION}:{account}:{alias.value('AliasName')}", {})
                for alias in _of(example, "AWS::KMS::Alias", stack)
            ]
        return found
    return [("*", {})]


@pytest.mark.parametrize("example", EXAMPLES, indirect=True)
def test_the_stack_role_allows_what_the_schemas_need(example: Example) -> None:
    role = _deploy_role(example)
    assert role.stack == _stack(example)
    assert "cloudformation.amazonaws.com" in str(role.trust)
    stack = _stack(example)
    types = {r["Type"] for r in example.synthesized.templates[stack]["Resources"].values()}
    assert {"AWS::IAM::Role", "AWS::S3::Bucket", "AWS::KMS::Key"} <= types
    refused, checked = [], 0
    for kind in sorted(types):
        for action in PERMISSIONS[kind]:
            if action.startswith("iam:") and ("Group" in action or "User" in action):
                continue  # the stack's policies attach to roles, never to groups or users
            for resource, context in _targets(example, action, stack):
                checked += 1
                if not (verdict := example.allows(role, action, resource, context)):
                    refused.append(f"{kind} {action} {resource}: {verdict.why}")
    # CloudFormation resolves the stack's SSM-typed parameter (the CDK bootstrap version there).
    parameters = stack_ssm_parameter_arns(example, stack, REGION, example.account)
    assert parameters
    for arn in parameters:
        checked += 1
        if not (verdict := example.allows(role, "ssm:GetParameters", arn)):
            refused.append(f"ssm:GetParameters {arn}: {verdict.why}")
    assert checked
    assert refused == []


@pytest.mark.parametrize("example", EXAMPLES, indirect=True)
def test_the_stack_role_may_update_production_s_cloudformation_role_and_no_other(
    example: Example,
) -> None:
    """The stack holds production's CloudFormation role: its trust and policies change with the
    stack. The IAM calls reach the stack's roles only, not the pipeline's, not the roles of
    the environments' stacks, not another app's."""
    role = _deploy_role(example)
    app, account = example.synthesized.spec.app, example.account
    (production,) = [
        r
        for r in _of(example, "AWS::IAM::Role", _stack(example))
        if r.value("RoleName") == f"{app}-cloudformation-prod"
    ]
    for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"):
        assert example.allows(role, action, production.arn, _tags(production)), action
    pipeline_roles = [r for r in example.of_type("AWS::IAM::Role") if r.stack == f"{app}-pipeline"]
    assert pipeline_roles
    others = [(r.arn, _tags(r)) for r in pipeline_roles]
    others += [
        (f"arn:aws:iam::{account}:role/{name}", tags)
        for name, tags in (
            (f"{app}-prod-FunctionRole-1A2B", {"aws:ResourceTag/Environment": "prod"}),
            (f"{app}-cloudformation-staging", {"aws:ResourceTag/Environment": "shared"}),
            (f"{app}-ledger-cloudformation-prod", {"aws:ResourceTag/App": f"{app}-ledger"}),
            # A stack whose name extends this one's (another copy's, suffix "x").
            (
                f"{app}-region-{REGION}-x-Role-1A2B",
                {"aws:ResourceTag/App": app, "aws:ResourceTag/Environment": "x"},
            ),
            ("Admin", {}),
        )
    ]
    allowed = [
        f"{action} {arn}"
        for arn, tags in others
        for action in ("iam:PassRole", "iam:PutRolePolicy", "iam:AttachRolePolicy")
        if example.allows(role, action, arn, tags)
    ]
    assert allowed == []


@pytest.mark.parametrize("example", EXAMPLES, indirect=True)
def test_the_stack_role_cannot_change_the_pipeline_stack_s_or_another_app_s_resources(
    example: Example,
) -> None:
    """Every scoped call the region stack's types need (buckets, repositories) is refused on
    the pipeline stack's resources and on another app's of the same kind there; the pipeline
    stack's keys (tagged "shared" as the region stack's are, but in the pipeline's region) too."""
    role = _deploy_role(example)
    app = example.synthesized.spec.app
    stack = _stack(example)
    types = {r["Type"] for r in example.synthesized.templates[stack]["Resources"].values()}
    actions = {a for t in types for a in PERMISSIONS.get(t, ()) if scoped(a)}
    allowed, checked = [], 0
    for service, targets in own_resources(example, f"{app}-pipeline").items():
        for action in sorted(a for a in actions if a.startswith(f"{service}:")):
            for arn, tags in targets:
                checked += 1
                if example.allows(role, action, arn, tags):
                    allowed.append(f"{action} {arn}")
    for service, targets in own_resources(example, stack).items():
        for action in sorted(a for a in actions if a.startswith(f"{service}:")):
            for arn, tags in targets:
                theirs = arn.replace(f"{app}-", f"{app}ledger-")
                their_tags = {k: (f"{app}ledger" if v == app else v) for k, v in tags.items()}
                checked += 1
                if example.allows(role, action, theirs, their_tags):
                    allowed.append(f"{action} {theirs}")
    for key in [k for k in example.of_type("AWS::KMS::Key") if k.stack != stack]:
        for action in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey"):
            checked += 1
            if example.allows(role, action, key.arn, _tags(key)):
                allowed.append(f"{action} {key.arn}")
    assert checked
    assert allowed == []


@pytest.mark.parametrize("example", EXAMPLES, indirect=True)
def test_update_pipeline_may_publish_the_region_stack_s_assets_there(example: Example) -> None:
    """The region stack's only asset is its template (no function: nothing for Lambda to read),
    which `publish-assets --all` writes into that region's CDK bootstrap bucket as that
    region's file-publishing role: the Synth job may assume it."""
    outdir = example.synthesized.outdir
    manifest = json.loads((outdir / f"{_stack(example)}.assets.json").read_text())
    assert manifest.get("dockerImages", {}) == {}
    files = manifest["files"]
    assert [f["source"]["path"] for f in files.values()] == [f"{_stack(example)}.template.json"]
    role = example.role(update_project(example).value("ServiceRole"))
    for asset in files.values():
        for destination in asset["destinations"].values():
            assert destination["region"] == REGION
            publisher = (
                destination["assumeRoleArn"]
                .replace("${AWS::Partition}", "aws")
                .replace("${AWS::AccountId}", example.account)
            )
            assert example.allows(role, "sts:AssumeRole", publisher), publisher
