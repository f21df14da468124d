"""The UpdatePipeline stage's buildspec, run against stub CLIs (stub `conveyor synth` leaves what
the real synth of the example wrote): it leaves the templates the CloudFormation actions read and
the handlers package, publishes the pipeline stack's assets, and fails clearly without the spec.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import conveyor
from conveyor.constructs.cfn_permissions import PERMISSIONS
from conveyor.constructs.cfn_scopes import scoped
from conveyor.constructs.cloudformation_role import ALIAS_ACTIONS, TAGGED_KEY_ACTIONS
from tests.contracts.buildspecs import Run, run
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located, Role
from tests.contracts.obligations import buildspec
from tests.contracts.owned import own_resources


def update_project(example: Example) -> Located:
    (found,) = [
        p
        for p in example.of_type("AWS::CodeBuild::Project")
        if p.value("Name")
        == f"{example.synthesized.spec.app}-update-pipeline"
        + (f"-{example.synthesized.spec.suffix}" if example.synthesized.spec.suffix else "")
    ]
    return found


def secondary_artifact(result: Run, project: Located, name: str) -> list[str]:
    """Files the buildspec's secondary artifact `name` holds, relative to its base directory."""
    artifact = buildspec(project)["artifacts"]["secondary-artifacts"][name]
    base = result.workdir / artifact["base-directory"]
    return sorted(
        str(path.relative_to(base))
        for pattern in artifact["files"]
        for path in base.glob(pattern)
        if path.is_file()
    )


def template_paths(example: Example) -> list[str]:
    """`Synth::<file>` of every CloudFormation action: what the Synth artifact must hold."""
    return [
        action["Configuration"]["TemplatePath"]
        for _, action in example.actions()
        if action["ActionTypeId"]["Provider"] == "CloudFormation"
        and "TemplatePath" in action["Configuration"]
    ]


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_update_pipeline_leaves_every_template_the_pipeline_deploys(
    example: Example, tmp_path: Path
) -> None:
    project = update_project(example)
    result = run(example, project, tmp_path / "update")
    assert result.returncode == 0, result.output
    synth = secondary_artifact(result, project, "Synth")
    paths = template_paths(example)
    assert paths, "no CloudFormation action reads the Synth artifact"
    for path in paths:
        artifact, file = path.split("::")
        assert artifact == "Synth"
        assert file in synth, f"{file} not at the root of the Synth artifact: {synth[:5]}"


@pytest.mark.parametrize("example", ["web-service"], indirect=True)
def test_update_pipeline_installs_its_own_version_and_publishes_the_stack_assets(
    example: Example, tmp_path: Path
) -> None:
    result = run(example, update_project(example), tmp_path / "update")
    assert result.returncode == 0, result.output
    assert ["pip", "install", "--quiet", f"conveyor[cdk]=={conveyor.__version__}"] in result.calls
    assert ["conveyor", "synth", "conveyor.yaml", "-o", ".conveyor/synth"] in result.calls
    (publish,) = [call for call in result.calls if call[0] == "npx"]
    assert publish[3:] == [
        "publish-assets",
        "--unstable=publish-assets",
        "--app",
        ".conveyor/synth",
        "--all",
    ]


@pytest.mark.parametrize("example", ["web-service"], indirect=True)
def test_the_handlers_artifact_is_the_handlers_package_without_what_does_not_run(
    example: Example, tmp_path: Path
) -> None:
    """Zip root = package root: the handler strings (`notify.app.handler`) resolve in it."""
    project = update_project(example)
    result = run(example, project, tmp_path / "update")
    assert result.returncode == 0, result.output
    files = secondary_artifact(result, project, "Handlers")
    handlers = {
        function.value("Handler").split(".")[0]
        for function in example.of_type("AWS::Lambda::Function")
        if function.value("Handler").endswith(".app.handler")
    }
    assert handlers
    for handler in handlers:
        assert f"{handler}/app.py" in files
    assert "_common.py" in files
    assert not [f for f in files if "__pycache__" in f or "/events/" in f or f.endswith(".md")]


@pytest.mark.parametrize("example", ["web-service"], indirect=True)
def test_a_repository_without_the_spec_fails_naming_the_key_to_set(
    example: Example, tmp_path: Path
) -> None:
    result = run(example, update_project(example), tmp_path / "update", with_spec=False)
    assert result.returncode != 0
    assert "the source has no conveyor.yaml; set self_update.spec in conveyor.yaml" in result.output
    assert not [call for call in result.calls if call[0] in ("conveyor", "npx")]


def deployment_role(example: Example) -> Role:
    """The role CloudFormation updates the pipeline stack with."""
    (config,) = [
        action["Configuration"]
        for stage, action in example.actions()
        if stage == "UpdatePipeline" and action["Name"] == "UpdatePipeline"
    ]
    return example.role(config["RoleArn"])


@pytest.mark.parametrize("example", ["web-service", "payments"], indirect=True)
def test_cloudformation_may_make_every_call_the_pipeline_stack_needs(example: Example) -> None:
    """Each resource type's schema handlers (create, update, delete, read) list what
    CloudFormation calls; the deployment role allows each of them."""
    synthesized = example.synthesized
    stack = synthesized.template
    stack_name = f"{synthesized.spec.app}-pipeline" + (
        f"-{synthesized.spec.suffix}" if synthesized.spec.suffix else ""
    )
    role = deployment_role(example)
    types = {r["Type"] for r in stack["Resources"].values()} - {"AWS::CDK::Metadata"}
    app = synthesized.spec.app
    iam_targets = [
        f"arn:aws:iam::{example.account}:role/{app}-pipeline-X",
        f"arn:aws:iam::{example.account}:policy/{app}-pipeline-X",
    ]
    own = own_resources(example, stack_name)
    refused = []
    for kind in sorted(t for t in types if not t.startswith("Custom::")):
        for action in PERMISSIONS[kind]:
            if re.fullmatch(r"iam:\w*(Group|User)\w*", action):
                continue  # the stack attaches policies to roles only, never to groups or users
            targets: list[tuple[str, dict[str, str]]] = [("*", {})]
            if scoped(action):
                # The pipeline stack's own resources, by name or tags; every one of them.
                targets = own.get(action.split(":", 1)[0], [])
                if not all(example.allows(role, action, t, c) for t, c in targets):
                    refused.append(f"{kind}: {action}")
                continue
            if action == "iam:CreateServiceLinkedRole":
                # The role the type's service creates, for that service only.
                targets = [
                    (
                        f"arn:aws:iam::{example.account}:role/aws-service-role/{service}/{name}",
                        {"iam:AWSServiceName": service},
                    )
                    for service, name in _LINKED[kind]
                ]
                if not all(example.allows(role, action, t, c) for t, c in targets):
                    refused.append(f"{kind}: {action}")
                continue
            if action.startswith("iam:"):
                targets = [(target, {}) for target in iam_targets]
            elif action in TAGGED_KEY_ACTIONS or action in ALIAS_ACTIONS:
                # The pipeline stack's own keys, by the tags it gives them.
                targets = [(key.arn, _tags(key)) for key in _pipeline_keys(example)]
                if action in ALIAS_ACTIONS:
                    targets += [
                        (f"arn:aws:kms:{example.region}:{example.account}:{name}", {})
                        for name in _pipeline_aliases(example)
                    ]
                if not all(example.allows(role, action, t, c) for t, c in targets):
                    refused.append(f"{kind}: {action}")
                continue
            if not any(example.allows(role, action, t, c) for t, c in targets):
                refused.append(f"{kind}: {action}")
    assert refused == [], "\n".join(refused)


# The service-linked role each pipeline stack type's service creates on first use.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-security.html
# https://docs.aws.amazon.com/chatbot/latest/adminguide/slr-permissions.html
_LINKED = {
    "AWS::DynamoDB::GlobalTable": [
        ("replication.dynamodb.amazonaws.com", "AWSServiceRoleForDynamoDBReplication")
    ],
    "AWS::Chatbot::SlackChannelConfiguration": [
        ("management.chatbot.amazonaws.com", "AWSServiceRoleForAWSChatbot")
    ],
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration": [
        ("management.chatbot.amazonaws.com", "AWSServiceRoleForAWSChatbot")
    ],
}


def _tags(located: Located) -> dict[str, str]:
    return {f"aws:ResourceTag/{t['Key']}": str(t["Value"]) for t in located.value("Tags") or []}


def _pipeline_keys(example: Example) -> list[Located]:
    stack = f"{example.synthesized.spec.app}-pipeline"
    return [k for k in example.of_type("AWS::KMS::Key") if k.stack == stack]


def _pipeline_aliases(example: Example) -> list[str]:
    stack = f"{example.synthesized.spec.app}-pipeline"
    return [
        str(a.value("AliasName")) for a in example.of_type("AWS::KMS::Alias") if a.stack == stack
    ]


@pytest.mark.parametrize("example", ["web-service"], indirect=True)
def test_the_deployment_role_cannot_destroy_an_environment_s_key(example: Example) -> None:
    """Issue 10: the pipeline stack's role held kms:ScheduleKeyDeletion and kms:PutKeyPolicy on
    "*": updating the pipeline could delete an environment's key. Now only keys tagged as the
    pipeline's (Environment "shared") are its to manage."""
    role = deployment_role(example)
    (key, *_) = _pipeline_keys(example)
    own = _tags(key)
    assert own["aws:ResourceTag/Environment"] == "shared"
    assert example.allows(role, "kms:ScheduleKeyDeletion", key.arn, own)
    for env in example.synthesized.spec.environments:
        theirs = {**own, "aws:ResourceTag/Environment": env.name}
        for action in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:TagResource"):
            assert not example.allows(role, action, key.arn, theirs), (env.name, action)


@pytest.mark.parametrize("example", ["web-service"], indirect=True)
def test_the_deployment_role_creates_no_roles_outside_the_app(example: Example) -> None:
    role = deployment_role(example)
    assert example.allows(role, "iam:CreateRole", f"arn:aws:iam::{example.account}:role/web-x")
    assert not example.allows(role, "iam:CreateRole", f"arn:aws:iam::{example.account}:role/admin")
    assert not example.allows(
        role, "iam:PassRole", f"arn:aws:iam::{example.account}:role/OrganizationAccountAccess"
    )


@pytest.mark.parametrize("example", ["payments", "lambda-canary"], indirect=True)
def test_the_deployment_role_cannot_change_an_environment_s_resources(example: Example) -> None:
    """Issue 10: the pipeline stack's role held s3:DeleteBucket, logs:DeleteLogGroup,
    lambda:UpdateFunctionCode, sns:SetTopicAttributes... on "*": updating the pipeline could
    delete or rewrite an environment's resources. Each scoped call the pipeline stack's types
    need is refused on every environment stack's resources."""
    role = deployment_role(example)
    synthesized = example.synthesized
    types = {r["Type"] for r in synthesized.template["Resources"].values()}
    actions = {a for t in types for a in PERMISSIONS.get(t, ()) if scoped(a)}
    spec = synthesized.spec
    allowed, checked = [], 0
    for env in spec.environments:
        stack = f"{spec.app}-{env.name}" + (f"-{spec.suffix}" if spec.suffix else "")
        for service, targets in own_resources(example, stack).items():
            for action in sorted(a for a in actions if a.startswith(f"{service}:")):
                for arn, tags in targets:
                    checked += 1
                    if example.allows(role, action, arn, tags):
                        allowed.append(f"{action} {arn}")
    assert checked
    assert allowed == []


@pytest.mark.parametrize("example", ["payments"], indirect=True)
def test_the_deployment_role_cannot_reach_an_app_whose_name_extends_this_one_s(
    example: Example,
) -> None:
    """F7: `role/{app}-*` let the pipeline of app `payments` change the roles of an app
    `payments-ledger` (`payments-ledger-pipeline-...`), as app `pay` those of `pay-ments`,
    and an app's pipeline its environments' roles. Roles tagged for another app or
    environment are refused; the pipeline's own (tagged "shared") and ones not tagged yet
    (CreateRole) are allowed."""
    role = deployment_role(example)
    app, account = example.synthesized.spec.app, example.account
    own = {"aws:ResourceTag/App": app, "aws:ResourceTag/Environment": "shared"}
    for name in (f"{app}-pipeline-X", f"{app}-cloudformation-prod"):
        arn = f"arn:aws:iam::{account}:role/{name}"
        assert example.allows(role, "iam:PutRolePolicy", arn, own)
        assert example.allows(role, "iam:CreateRole", arn)
    for action in ("iam:PassRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole"):
        for name, tags in (
            (f"{app}-ledger-pipeline-X", {**own, "aws:ResourceTag/App": f"{app}-ledger"}),
            (f"{app}-ledger-cloudformation-prod", {**own, "aws:ResourceTag/App": f"{app}-ledger"}),
            # The app's environment stack's roles are their own CloudFormation role's.
            (f"{app}-prod-WebTaskRole-1A2B", {**own, "aws:ResourceTag/Environment": "prod"}),
        ):
            arn = f"arn:aws:iam::{account}:role/{name}"
            assert not example.allows(role, action, arn, tags), (action, name)


@pytest.mark.parametrize("example", ["multi-account"], indirect=True)
def test_update_pipeline_may_publish_assets_into_every_environment_account(
    example: Example,
) -> None:
    """`publish-assets --all` writes each stack's assets as the bootstrap file-publishing role
    of the stack's account (trusting the pipeline's account after `conveyor bootstrap
    --account`); the job may assume exactly those roles."""
    role = example.role(update_project(example).value("ServiceRole"))
    region = example.region
    accounts = {example.account} | {
        env.account for env in example.synthesized.spec.environments if env.account
    }
    assert len(accounts) == 2
    for account in accounts:
        publisher = (
            f"arn:aws:iam::{account}:role/cdk-hnb659fds-file-publishing-role-{account}-{region}"
        )
        assert example.allows(role, "sts:AssumeRole", publisher)
    other = (
        "arn:aws:iam::333333333333:role/cdk-hnb659fds-file-publishing-role-333333333333-" + region
    )
    assert not example.allows(role, "sts:AssumeRole", other)
