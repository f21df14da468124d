"""Regenerate src/conveyor/constructs/cfn_permissions.py from cfn-lint's copy of the
CloudFormation resource schemas.

A CloudFormation service role must allow what CloudFormation itself calls while it creates,
updates, reads and deletes each resource of a stack; every resource type's schema lists those
calls under `handlers.{create,update,delete,read}.permissions`.
https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html
cfn-lint ships the schemas (`cfnlint/data/schemas/providers/<region>.json` maps a type to its
file in `cfnlint/data/schemas/resources/`), but it is a test-time judge, not a runtime
dependency of conveyor: so the table is generated into src/ and tests/constructs/
test_cfn_permissions.py proves it still matches cfn-lint's data.

Usage: .venv/bin/python scripts/cfn_permissions.py   (rewrites the module in place)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cfnlint
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource

HANDLERS = ("create", "update", "delete", "read")
ACTION = re.compile(r"[a-z0-9-]+:[A-Za-z0-9]+")
# Every resource type the pipeline stack (stages/self_update.py) or an environment stack can hold;
# synthesis fails, naming the type, when a stack holds one that is missing here.
TYPES = (
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
    "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CertificateManager::Certificate",
    "AWS::CloudWatch::Alarm",
    "AWS::CodeBuild::Project",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentConfig",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::CodePipeline::Pipeline",
    "AWS::CodeStarNotifications::NotificationRule",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::EC2::EIP",
    "AWS::EC2::FlowLog",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::ECR::Repository",
    "AWS::ECS::Cluster",
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::Events::EventBusPolicy",
    "AWS::Events::Rule",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
    "AWS::Logs::LogGroup",
    "AWS::Route53::RecordSet",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::ServiceDiscovery::HttpNamespace",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SSM::Parameter",
    "AWS::Scheduler::Schedule",
)
IAM_ACTIONS = load_resource(AdditionalSpecs, "Policies.json")
# Types whose schema lists no handlers (resources CloudFormation still provisions the old way):
# the calls their service documents for the same operations, with the page.
SUPPLEMENT: dict[str, tuple[str, ...]] = {
    # https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-permissions-reference.html
    "AWS::CodeBuild::Project": (
        "codebuild:BatchGetProjects",
        "codebuild:CreateProject",
        "codebuild:DeleteProject",
        "codebuild:UpdateProject",
        "iam:PassRole",
    ),
}
TARGET = Path(__file__).resolve().parents[1] / "src/conveyor/constructs/cfn_permissions.py"


def schema_permissions(kind: str, region: str = "us-east-1") -> tuple[str, ...]:
    """The sorted, distinct permissions of `kind`'s create, update, delete and read handlers."""
    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    provider = json.loads((schemas / "providers" / f"{region}.json").read_text())
    schema = json.loads((schemas / "resources" / f"{provider[kind]}.json").read_text())
    handlers = schema.get("handlers", {})
    if not handlers:
        return SUPPLEMENT[kind]
    found = {p for h in HANDLERS for p in handlers.get(h, {}).get("permissions", [])}
    # Some schemas list S3 REST operations (s3:REST.PUT.OBJECT), which IAM refuses in a policy,
    # or names IAM no longer has (s3:PutBucketReplication): keep the actions IAM's own list,
    # as cfn-lint ships it (its rule W3037 judges policies by it), knows.
    return tuple(sorted(p for p in found if ACTION.fullmatch(p) and _known(p)))


def _known(action: str) -> bool:
    service, name = action.lower().split(":", 1)
    return name in IAM_ACTIONS.get(service, {}).get("Actions", {})


def render() -> str:
    lines = [
        '"""What CloudFormation calls to create, update, read and delete each resource type a',
        "conveyor stack holds: `handlers.{create,update,delete,read}.permissions` of the",
        "CloudFormation resource schemas, as cfn-lint ships them. GENERATED by",
        "scripts/cfn_permissions.py; do not edit (tests/constructs/test_cfn_permissions.py",
        "compares it with cfn-lint's data).",
        "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html",
        '"""',
        "",
        "PERMISSIONS: dict[str, tuple[str, ...]] = {",
    ]
    for kind in TYPES:
        actions = schema_permissions(kind)
        if len(actions) == 1:  # as ruff format writes it
            lines.append(f'    "{kind}": ("{actions[0]}",),')
            continue
        lines.append(f'    "{kind}": (')
        lines += [f'        "{action}",' for action in actions]
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(Path.cwd())}: {len(TYPES)} resource types")
