"""Each environment stack's CloudFormation service role may make every call the resource
schemas list for the types in that stack's final template, judged by the policy evaluator."""

from __future__ import annotations

import json

import pytest

from conveyor.constructs.cfn_permissions import PERMISSIONS
from conveyor.constructs.cfn_scopes import scoped
from conveyor.constructs.cloudformation_role import ALIAS_ACTIONS, TAGGED_KEY_ACTIONS
from conveyor.constructs.naming import Naming
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located
from tests.contracts.obligations import stack_ssm_parameter_arns
from tests.contracts.owned import own_resources as _own


def _stacks(example: Example) -> list[tuple[str, str, str]]:
    """(stack, its CloudFormation role's ARN, account) per environment."""
    spec = example.synthesized.spec
    naming = Naming(spec.app, spec.suffix)
    found = []
    for env in spec.environments:
        stack = naming.name(env.name)
        account = example.resolvers[stack].account
        role = f"arn:aws:iam::{account}:role/{naming.name('cloudformation', env.name)}"
        found.append((stack, role, account))
    return found


def _tags(located: Located) -> dict[str, str]:
    """A resource's tags as the aws:ResourceTag/<key> request context AWS gives a call on it."""
    return {f"aws:ResourceTag/{t['Key']}": str(t["Value"]) for t in located.value("Tags") or []}


def _keys(example: Example, stack: str) -> list[Located]:
    return [k for k in example.of_type("AWS::KMS::Key") if k.stack == stack]


_SLR_KEY = "iam:AWSServiceName"
# The service-linked role each type's service creates on first use (each service's SLR page).
_LINKED = {
    "AWS::ECS::Cluster": [("ecs.amazonaws.com", "AWSServiceRoleForECS")],
    "AWS::DynamoDB::GlobalTable": [
        ("replication.dynamodb.amazonaws.com", "AWSServiceRoleForDynamoDBReplication")
    ],
    "AWS::Chatbot::SlackChannelConfiguration": [
        ("management.chatbot.amazonaws.com", "AWSServiceRoleForAWSChatbot")
    ],
}


def _service_linked(example: Example, stack: str, kind: str) -> list[tuple[str, str]]:
    if kind != "AWS::ApplicationAutoScaling::ScalableTarget":
        return _LINKED.get(kind, [])
    return [
        (
            f"{t.value('ServiceNamespace')}.application-autoscaling.amazonaws.com",
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
        )
        for t in example.of_type(kind)
        if t.stack == stack
    ]


def _target(
    example: Example, stack: str, account: str, action: str, kind: str = ""
) -> list[tuple[str, dict[str, str]]]:
    """What a schema action of `stack` acts on, with the request context AWS adds: the stack's
    roles (CloudFormation names them after the stack), AWS's service-linked roles, the
    stack's keys (tagged like every resource of it), the stack's own resources of the service
    for a scoped call (with their tags, and EC2's also before CloudFormation tags them), else
    "*" (a create, a read)."""
    if scoped(action):
        service = action.split(":", 1)[0]
        own = _own(example, stack).get(service, [])
        if service == "ec2":
            own = own + [(arn, {}) for arn, _ in own]
        return own
    if action == "iam:CreateServiceLinkedRole":
        return [
            (f"arn:aws:iam::{account}:role/aws-service-role/{service}/{name}", {_SLR_KEY: service})
            for service, name in _service_linked(example, stack, kind)
        ]
    if action.startswith("iam:"):
        return [(f"arn:aws:iam::{account}:role/{stack}-WebTaskRole-1A2B3C", {})]
    if action in TAGGED_KEY_ACTIONS or action in ALIAS_ACTIONS:
        # An alias's key side is unconditioned: a key just created, before its tags count.
        found = [
            (key.arn, {} if action in ALIAS_ACTIONS else _tags(key))
            for key in _keys(example, stack)
        ]
        if action in ALIAS_ACTIONS:
            found += [
                # The stack's own region (an environment in another region has its keys there).
                (f"arn:aws:kms:{alias.resolver.region}:{account}:{alias.value('AliasName')}", {})
                for alias in example.of_type("AWS::KMS::Alias")
                if alias.stack == stack
            ]
        return found
    return [("*", {})]


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_allows_what_the_schemas_need(example: Example) -> None:
    refused = []
    checked = 0
    for stack, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        assert "cloudformation.amazonaws.com" in str(role.trust)
        template = example.synthesized.templates[stack]
        types = {r["Type"] for r in template["Resources"].values()}
        for kind in sorted(t for t in types if not t.startswith("Custom::")):
            for action in PERMISSIONS[kind]:
                for resource, context in _target(example, stack, account, action, kind):
                    checked += 1
                    if not (verdict := example.allows(role, action, resource, context)):
                        refused.append(f"{stack} {kind} {action} {resource}: {verdict.why}")
    assert checked
    assert refused == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_may_tag_the_key_it_creates(example: Example) -> None:
    """Tags on CreateKey are authorized as kms:TagResource on no key yet (the IAM policy must
    not be limited to particular keys): no resource tag to match.
    https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html"""
    for stack, role_arn, _ in _stacks(example):
        if not _keys(example, stack):
            continue
        role = example.role(role_arn)
        assert example.allows(role, "kms:CreateKey", "*")
        assert example.allows(role, "kms:TagResource", "*")


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_cannot_destroy_or_take_over_another_environment_s_key(
    example: Example,
) -> None:
    """Issue 10: the role held kms:ScheduleKeyDeletion, kms:PutKeyPolicy and the rest on "*":
    staging's deploy could delete production's key, or rewrite its policy. Now each acts only
    on keys tagged with the stack's app and environment; a key of another environment, or one
    without conveyor's tags, is refused, and re-tagging one to claim it too."""
    stacks = _stacks(example)
    keys = {stack: _keys(example, stack) for stack, _, _ in stacks}
    checked = 0
    for stack, role_arn, account in stacks:
        role = example.role(role_arn)
        others = [k for other, found in keys.items() if other != stack for k in found]
        for key in others:
            if key.resolver.account != account:
                continue  # another account's key: its own key policy keeps this role out
            for action in (
                "kms:ScheduleKeyDeletion",
                "kms:PutKeyPolicy",
                "kms:DisableKey",
                "kms:DisableKeyRotation",
                "kms:UntagResource",
            ):
                checked += 1
                assert not example.allows(role, action, key.arn, _tags(key)), (stack, action)
            assert not example.allows(role, "kms:TagResource", key.arn, _tags(key)), stack
        for key in keys[stack]:
            # Its own key, by its tags; the same key tagged for another environment, or
            # without tags, is refused (the condition, not the ARN, decides).
            assert example.allows(role, "kms:ScheduleKeyDeletion", key.arn, _tags(key))
            other_env = {**_tags(key), "aws:ResourceTag/Environment": "someone-else"}
            for action in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"):
                checked += 1
                assert not example.allows(role, action, key.arn, other_env), (stack, action)
                assert not example.allows(role, action, key.arn, {}), (stack, action)
            assert not example.allows(role, "kms:TagResource", key.arn, other_env), stack
    assert checked


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_cannot_touch_other_roles(example: Example) -> None:
    """Nor those of the app's other environments, nor itself: it once held the IAM calls on
    every `{app}-*` role, so staging's deploy could grant itself production's access."""
    spec = example.synthesized.spec
    naming = Naming(spec.app, spec.suffix)
    names = [env.name for env in spec.environments]
    for stack, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        env = names[[s for s, _, _ in _stacks(example)].index(stack)]
        others = [f"arn:aws:iam::{account}:role/Admin", role_arn]
        others += [
            f"arn:aws:iam::{account}:role/{name}"
            for other in names
            if other != env
            for name in (naming.name(other) + "-FunctionRole-1A2B", naming.name("task", other))
        ]
        for other in others:
            for action in ("iam:PassRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"):
                assert not example.allows(role, action, other), (stack, action, other)


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_may_resolve_the_stacks_ssm_parameters(example: Example) -> None:
    """F8: CloudFormation reads an SSM-typed template parameter (the validation hook's
    Powertools layer) with ssm:GetParameters on every create, update and change set; the
    caller's role needs it (CLOUDFORMATION_MODE_NEEDS, test_iam_sufficiency), and so may the
    stack's own role.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/systems-manager-parameter-types.html
    """
    refused = []
    for stack, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        # Resolved where the stack deploys (another region's environment: there).
        region = example.resolvers[stack].region
        for arn in stack_ssm_parameter_arns(example, stack, region, account):
            if not (verdict := example.allows(role, "ssm:GetParameters", arn)):
                refused.append(f"{stack} {arn}: {verdict.why}")
    assert refused == []


def _code_object(example: Example, stack: str, code: dict[str, str]) -> str:
    """The S3 object a function's code is read from; the release's own package (the
    CodeBucket/CodeKey parameters) is the object the pipeline's deploy action names."""
    bucket, key = code["S3Bucket"], code["S3Key"]
    if bucket.startswith("param-"):
        for _, action in example.actions():
            config = action.get("Configuration", {})
            if config.get("StackName") == stack and "ParameterOverrides" in config:
                overrides = json.loads(config["ParameterOverrides"])
                bucket, key = overrides["CodeBucket"], overrides["CodeKey"]
    return f"arn:aws:s3:::{bucket}/{key}"


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_may_read_every_function_s_code(example: Example) -> None:
    """Lambda reads a function's package with the caller's credentials, here CloudFormation's
    service role (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html):
    the hooks' code in the account's CDK bootstrap bucket, the release's package in the
    pipeline's package store (encrypted with its key). An environment in another account once
    got a role that could read neither (issue 10)."""
    refused = []
    for stack, role_arn, _ in _stacks(example):
        role = example.role(role_arn)
        for function in example.of_type("AWS::Lambda::Function"):
            if function.stack != stack or "S3Bucket" not in (function.value("Code") or {}):
                continue
            code = _code_object(example, stack, function.value("Code"))
            assert not code.startswith("arn:aws:s3:::param-"), code
            if not (verdict := example.allows(role, "s3:GetObject", code)):
                refused.append(f"{stack} {function.lid} {code}: {verdict.why}")
            if not code.startswith("arn:aws:s3:::cdk-"):  # the package: the pipeline's key
                via = {"kms:ViaService": f"s3.{example.region}.amazonaws.com"}
                key = example.artifact_key
                if not (verdict := example.allows(role, "kms:Decrypt", key, via)):
                    refused.append(f"{stack} {function.lid} artifact key: {verdict.why}")
    assert refused == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_cannot_change_another_environment_s_resources(example: Example) -> None:
    """Issue 10: s3:DeleteBucket, s3:PutBucketPolicy, logs:DeleteLogGroup,
    sns:SetTopicAttributes, lambda:UpdateFunctionCode, lambda:AddPermission,
    ecs:UpdateService, ec2:DeleteVpc, ec2:AuthorizeSecurityGroupIngress,
    elasticloadbalancing:ModifyListener and the rest were granted on "*": staging's deploy
    could open, rewrite or delete production's resources. Now every scoped call the other
    stack's types need, on each of the other stack's resources in the same account (by its
    name, or with its tags), is refused."""
    stacks = _stacks(example)
    refused = checked = 0
    allowed = []
    for stack, role_arn, account in stacks:
        role = example.role(role_arn)
        for other, _, other_account in stacks:
            if other == stack or other_account != account:
                continue  # another account: its own roles and policies keep this role out
            template = example.synthesized.templates[other]
            actions = {
                a
                for t in {r["Type"] for r in template["Resources"].values()}
                for a in PERMISSIONS.get(t, ())
                if scoped(a)
            }
            for service, targets in _own(example, other).items():
                for action in sorted(a for a in actions if a.startswith(f"{service}:")):
                    for arn, tags in targets:
                        checked += 1
                        if example.allows(role, action, arn, tags):
                            allowed.append(f"{stack} may {action} {arn}")
                        else:
                            refused += 1
    if len(stacks) > 1 and len({a for _, _, a in stacks}) < len(stacks):
        assert checked
    assert allowed == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_cannot_reach_a_stack_whose_name_extends_its_own(example: Example) -> None:
    """F7: CloudFormation names a stack's roles and custom-resource functions
    `{stack}-{logical id}-{suffix}`, so `role/payments-prod-*` also matched the roles of an
    environment `prod-eu` (stack `payments-prod-eu`) or of an app `payments-prod`. Those
    carry their own App/Environment tags and are refused; the stack's own are allowed."""
    spec = example.synthesized.spec
    checked = expected = 0
    for stack, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        env = stack.removeprefix(f"{spec.app}-").removesuffix(
            f"-{spec.suffix}" if spec.suffix else ""
        )
        own = {"aws:ResourceTag/App": spec.app, "aws:ResourceTag/Environment": env}
        template = example.synthesized.templates[stack]
        if not any(r["Type"] == "AWS::IAM::Role" for r in template["Resources"].values()):
            continue  # no role of its own: the role holds no IAM call at all
        expected += 1
        mine = f"arn:aws:iam::{account}:role/{stack}-WebTaskRole-1A2B3C"
        assert example.allows(role, "iam:PassRole", mine, own)
        for name, tags in (
            (f"{stack}-eu-WebTaskRole-1A2B3C", {**own, "aws:ResourceTag/Environment": f"{env}-eu"}),
            (
                f"{stack}-eu-WebTaskRole-1A2B3C",
                {"aws:ResourceTag/App": stack, "aws:ResourceTag/Environment": "eu"},
            ),
        ):
            for action in ("iam:PassRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"):
                checked += 1
                arn = f"arn:aws:iam::{account}:role/{name}"
                assert not example.allows(role, action, arn, tags), (stack, action, name)
        if any(r["Type"].startswith("Custom::") for r in template["Resources"].values()):
            provider = f"arn:aws:lambda:{example.region}:{account}:function:{stack}-Provider-1A2B"
            assert example.allows(role, "lambda:InvokeFunction", provider, own)
            other = {**own, "aws:ResourceTag/Environment": f"{env}-eu"}
            longer = provider.replace(f":{stack}-", f":{stack}-eu-")
            assert not example.allows(role, "lambda:InvokeFunction", longer, other), stack
    assert checked or not expected


@pytest.mark.parametrize("example", ["payments", "lambda-canary"], indirect=True)
def test_the_stack_role_cannot_change_another_app_s_resources(example: Example) -> None:
    """The same calls on the resources of an app whose name extends this one's
    (`payments-ledger` beside `payments`): its names (`payments-ledger-alarms-prod`,
    `/conveyor/payments-ledger/...`) are not this stack's, its tags say App=payments-ledger."""
    app = example.synthesized.spec.app
    other = f"{app}-ledger"
    allowed, checked = [], 0
    for stack, role_arn, _ in _stacks(example):
        role = example.role(role_arn)
        template = example.synthesized.templates[stack]
        actions = {
            a
            for t in {r["Type"] for r in template["Resources"].values()}
            for a in PERMISSIONS.get(t, ())
            if scoped(a)
        }
        for service, targets in _own(example, stack).items():
            for arn, tags in targets:
                theirs = arn.replace(app, other)
                their_tags = {k: (other if v == app else v) for k, v in tags.items()}
                if theirs == arn and not their_tags:
                    continue
                for action in sorted(a for a in actions if a.startswith(f"{service}:")):
                    checked += 1
                    if example.allows(role, action, theirs, their_tags):
                        allowed.append(f"{stack} may {action} {theirs}")
    assert checked
    assert allowed == []


@pytest.mark.parametrize("example", ["worker-service", "scheduled-job"], indirect=True)
def test_the_stack_role_cannot_delete_or_redirect_another_environment_s_queues_and_rules(
    example: Example,
) -> None:
    """Issue 15 review: the SQS and EventBridge calls of the environment stack's role were
    granted on "*", so staging's deploy could delete production's worker queue
    (sqs:DeleteQueue), rewrite its policy (sqs:SetQueueAttributes), or point production's
    failed-run rule elsewhere (events:PutTargets). Every SQS call and each of EventBridge's
    rule calls names its queue or rule (list_amazonsqs.html, list_amazoneventbridge.html):
    each environment's role reaches its own only."""
    stacks = _stacks(example)
    spec = example.synthesized.spec
    envs = {stack: env.name for (stack, _, _), env in zip(stacks, spec.environments, strict=True)}
    calls = {
        "AWS::SQS::Queue": ("sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:CreateQueue"),
        "AWS::Events::Rule": ("events:PutTargets", "events:DeleteRule", "events:PutRule"),
    }
    checked = 0
    for stack, role_arn, _ in stacks:
        role = example.role(role_arn)
        for kind, actions in calls.items():
            for located in example.of_type(kind):
                region, account = located.resolver.region, located.resolver.account
                if kind == "AWS::SQS::Queue":
                    arn = f"arn:aws:sqs:{region}:{account}:{located.value('QueueName')}"
                else:
                    arn = f"arn:aws:events:{region}:{account}:rule/{located.value('Name')}"
                tags = _tags(located)
                for action in actions:
                    checked += 1
                    verdict = example.allows(role, action, arn, tags)
                    if located.stack == stack:
                        assert verdict, (envs[stack], action, arn, verdict.why)
                    else:
                        assert not verdict, (envs[stack], "may", action, arn)
    assert checked


def _scaled(example: Example) -> list[str]:
    return sorted({t.stack for t in example.of_type("AWS::ApplicationAutoScaling::ScalableTarget")})


@pytest.mark.parametrize(
    "example", ["backend-service", "payments", "validated-service", "worker-service"], indirect=True
)
def test_the_stack_role_cannot_deregister_or_delete_another_environment_s_scaling(
    example: Example,
) -> None:
    """Issue 15 review: the Application Auto Scaling calls and CloudWatch alarm calls of the
    environment stack's role were granted on "*", so staging's deploy could deregister
    production's scalable target, delete its scaling policy (application-autoscaling:
    DeregisterScalableTarget, DeleteScalingPolicy) or delete its alarms (cloudwatch:
    DeleteAlarms). A scalable target is authorized on its generated ARN with aws:ResourceTag
    (resource-tagging-support.html), an alarm on `alarm:{name}` (list_amazoncloudwatch.html):
    each environment's role reaches its own target, its alarms and the target tracking alarms
    of its own services, and nobody else's."""
    stacks = _stacks(example)
    assert _scaled(example), "the example scales a service"
    calls = {
        "application-autoscaling": (
            "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:DeleteScalingPolicy",
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:RegisterScalableTarget",
        ),
        "cloudwatch": ("cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"),
    }
    own = {stack: _own(example, stack) for stack, _, _ in stacks}
    checked = 0
    for stack, role_arn, account in stacks:
        role = example.role(role_arn)
        for other, found in own.items():
            if example.resolvers[other].account != account:
                continue  # another account: its own roles keep this role out
            for service, actions in calls.items():
                for arn, tags in found.get(service, []):
                    for action in actions:
                        checked += 1
                        verdict = example.allows(role, action, arn, tags)
                        if other == stack:
                            assert verdict, (stack, action, arn, verdict.why)
                        else:
                            assert not verdict, (stack, "may", action, arn)
        # CloudFormation's own call on another app's target or alarm (not via a service).
        theirs = f"arn:aws:cloudwatch:{example.region}:{account}:alarm:someone-else-5xx-prod"
        assert not example.allows(role, "cloudwatch:DeleteAlarms", theirs), stack
    assert checked


@pytest.mark.parametrize("example", ["backend-service", "payments"], indirect=True)
def test_the_stack_role_passes_application_auto_scaling_s_permission_check(
    example: Example,
) -> None:
    """Before it registers a target, Application Auto Scaling calls PutMetricAlarm and
    DeleteAlarms with no alarm name on its caller's behalf and fails the register on
    AccessDenied (security_iam_permission_validation.html): a forward access session
    (aws:ViaAWSService). The scaled stack's role allows exactly those, and only so."""
    for stack, role_arn, _ in _stacks(example):
        role = example.role(role_arn)
        via = {"aws:ViaAWSService": "true"}
        for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"):
            assert bool(example.allows(role, action, "*", via)) == (stack in _scaled(example))
            assert not example.allows(role, action, "*"), (stack, action)
        if stack in _scaled(example):
            assert example.allows(role, "cloudwatch:DescribeAlarms", "*")


@pytest.mark.parametrize("example", ["payments", "backend-service"], indirect=True)
def test_the_stack_role_creates_only_its_services_linked_roles(example: Example) -> None:
    """iam:CreateServiceLinkedRole was granted on every aws-service-role/* with no
    iam:AWSServiceName: a stack's deploy could create any service's linked role in the account
    (using-service-linked-roles.html). Now exactly the roles of the stack's services (ECS, and
    Application Auto Scaling's ECS role where a service scales), each for its own service."""
    for stack, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        slr = f"arn:aws:iam::{account}:role/aws-service-role"
        ecs = f"{slr}/ecs.amazonaws.com/AWSServiceRoleForECS"
        assert example.allows(
            role, "iam:CreateServiceLinkedRole", ecs, {_SLR_KEY: "ecs.amazonaws.com"}
        )
        for arn, service in (
            (f"{slr}/rds.amazonaws.com/AWSServiceRoleForRDS", "rds.amazonaws.com"),
            (ecs, "rds.amazonaws.com"),
            (
                f"{slr}/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk",
                "elasticbeanstalk.amazonaws.com",
            ),
        ):
            assert not example.allows(role, "iam:CreateServiceLinkedRole", arn, {_SLR_KEY: service})
        scaling = (
            f"{slr}/ecs.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_ECSService"
        )
        verdict = example.allows(
            role,
            "iam:CreateServiceLinkedRole",
            scaling,
            {_SLR_KEY: "ecs.application-autoscaling.amazonaws.com"},
        )
        assert bool(verdict) == (stack in _scaled(example)), stack
        # Nor may the role change or pass a service-linked role.
        for action in ("iam:PassRole", "iam:PutRolePolicy", "iam:DeleteRole"):
            assert not example.allows(role, action, ecs), (stack, action)


@pytest.mark.parametrize("example", ["payments", "multi-account"], indirect=True)
def test_the_stack_role_may_have_elastic_load_balancing_create_its_linked_role(
    example: Example,
) -> None:
    """An account's first load balancer or target group has Elastic Load Balancing create
    AWSServiceRoleForElasticLoadBalancing with the caller's iam:CreateServiceLinkedRole
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html),
    though the ELBv2 schemas do not list that action: in a fresh account (production's own, in
    multi-account) the stack's first create would fail without it. Only that service's role."""
    for stack, role_arn, account in _stacks(example):
        template = example.synthesized.templates[stack]
        if not any(
            r["Type"].startswith("AWS::ElasticLoadBalancingV2::")
            for r in template["Resources"].values()
        ):
            continue
        role = example.role(role_arn)
        slr = f"arn:aws:iam::{account}:role/aws-service-role"
        elb = f"{slr}/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
        service = "elasticloadbalancing.amazonaws.com"
        assert example.allows(role, "iam:CreateServiceLinkedRole", elb, {_SLR_KEY: service}), stack
        assert not example.allows(
            role, "iam:CreateServiceLinkedRole", elb, {_SLR_KEY: "rds.amazonaws.com"}
        )
