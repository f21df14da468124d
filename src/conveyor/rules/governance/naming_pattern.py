"""Physical names that do not follow one pattern.

Heuristic: the last path segment of every physical name (references rendered as one token) is
classified as kebab-case, snake_case or other; when a template mixes kebab-case and snake_case,
the names in the minority style are reported. A template with one style, or without physical
names (CDK output), passes. An SSM parameter named by a path (``/adf/kms_arn``) is a key the
code reading it asks for by that exact spelling, not a resource name: it is left out.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy

PLACEHOLDER = lazy(r"\$\{[^}]*\}")

# The property that holds each resource type's physical name.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::CodeCommit::Repository": "RepositoryName",
    "AWS::CodeDeploy::Application": "ApplicationName",
    "AWS::CodeDeploy::DeploymentGroup": "DeploymentGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}


def _style(name: str) -> str | None:
    # Each step only where it can change the name: most names hold no placeholder, path or
    # ARN (a regular-expression call and two splits were most of this rule's cost).
    last = PLACEHOLDER.sub("x", name) if "${" in name else name
    if "/" in last:
        last = last.rsplit("/", 1)[-1]
    if ":" in last:
        last = last.rsplit(":", 1)[-1]
    if "_" in last and "-" not in last:
        return "snake_case"
    if "-" in last and "_" not in last:
        return "kebab-case"
    return None


def check_template(ctx: Context) -> Iterator[Hit]:
    styles: dict[str, list[tuple[str, str, str]]] = {}
    for lid, res in ctx.template.resources.items():
        prop = NAME_PROPERTIES.get(res.type)
        if prop is None:
            continue
        text = render(res.properties.get(prop))
        if not text or (res.type == "AWS::SSM::Parameter" and text.startswith("/")):
            continue
        style = _style(text)
        if style:
            styles.setdefault(style, []).append((lid, prop, text))
    if len(styles) < 2:
        return
    majority = max(styles, key=lambda s: len(styles[s]))
    for style, names in sorted(styles.items()):
        if style == majority:
            continue
        for lid, prop, text in names:
            yield Hit(
                lid,
                f"Properties.{prop}",
                f"name {text!r} is {style} while most names here are {majority}; "
                "use one pattern ({app}-{type}-{env})",
            )


RULE = Rule(
    id="CV091",
    title="Names do not follow one pattern",
    severity=Severity.INFO,
    resource_types=(),
    failure_modes=("FM81",),
    why="S2: names like 'my-bucket', 'build_project_1', 'pipeline-prod-xyz' made resources hard "
    "to identify; the fix was one pattern.",
    fix_cloudformation="Name everything !Sub '${App}-<type>-${Environment}' (or let "
    "CloudFormation generate names).",
    fix_cdk="One naming helper used by every construct.",
    fix_conveyor="Nothing to write: conveyor names resources {app}-{type}-{env}.",
    check_template=check_template,
)
