"""What a stack's resources are to IAM: the ARNs AWS authorizes a call on them against, and
the resource tags in the request context (the scoped calls of cfn_scopes.py)."""

from __future__ import annotations

import hashlib

from tests.contracts.model import Example, Located


def _tags(located: Located) -> dict[str, str]:
    return {f"aws:ResourceTag/{t['Key']}": str(t["Value"]) for t in located.value("Tags") or []}


# EC2 resource types by CloudFormation type (ids EC2 generates).
_EC2 = {
    "AWS::EC2::VPC": "vpc",
    "AWS::EC2::Subnet": "subnet",
    "AWS::EC2::SecurityGroup": "security-group",
    "AWS::EC2::RouteTable": "route-table",
    "AWS::EC2::InternetGateway": "internet-gateway",
    "AWS::EC2::NatGateway": "natgateway",
    "AWS::EC2::EIP": "elastic-ip",
    "AWS::EC2::FlowLog": "vpc-flow-log",
}


def _arns(located: Located) -> tuple[str, list[str]]:
    """(service, the ARNs AWS authorizes a call on `located` against): the resource and the
    sub-resources the schema's calls act on (versions, aliases, listeners, objects...), the
    parts AWS or CloudFormation generates filled in."""
    kind = located.resource["Type"]
    region, account = located.resolver.region, located.resolver.account
    name = located.value
    if kind == "AWS::S3::Bucket":
        # A name made of the account and region (an artifact store's), as the stack resolves it.
        bucket = name("BucketName") or f"{located.stack}-{located.lid}-1a2b3c4d5e6f7".lower()
        return "s3", [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/logs/object"]
    if kind == "AWS::Logs::LogGroup":
        group = f"arn:aws:logs:{region}:{account}:log-group:{name('LogGroupName')}"
        return "logs", [group, f"{group}:*"]
    if kind == "AWS::SNS::Topic":
        return "sns", [f"arn:aws:sns:{region}:{account}:{name('TopicName')}"]
    if kind == "AWS::Lambda::Function":
        function = name("FunctionName") or f"{located.stack}-{located.lid[:20]}-1A2B3C"
        arn = f"arn:aws:lambda:{region}:{account}:function:{function}"
        return "lambda", [arn, f"{arn}:live", f"{arn}:7"]
    ecs = f"arn:aws:ecs:{region}:{account}"
    if kind == "AWS::ECS::Cluster":
        return "ecs", [f"{ecs}:cluster/{name('ClusterName')}"]
    if kind == "AWS::ECS::Service":
        service = located.arn
        return "ecs", [service, service.replace(":service/", ":service-deployment/") + "/d1a2"]
    if kind == "AWS::ECS::TaskDefinition":
        return "ecs", [f"{ecs}:task-definition/{name('Family')}:7"]
    elb = f"arn:aws:elasticloadbalancing:{region}:{account}"
    if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        balancer = f"app/{name('Name')}/50dc6c495c0c9188"
        return "elasticloadbalancing", [
            f"{elb}:loadbalancer/{balancer}",
            f"{elb}:listener/{balancer}/f2f7dc8efc522ab2",
            f"{elb}:listener-rule/{balancer}/f2f7dc8efc522ab2/9683b2d02a6cabee",
        ]
    if kind == "AWS::ElasticLoadBalancingV2::TargetGroup":
        return "elasticloadbalancing", [f"{elb}:targetgroup/{located.lid[:20]}/73e2d6bc24d8a067"]
    if kind == "AWS::Scheduler::Schedule":
        # A schedule's ARN names its group (default unless given) and its name.
        group = name("GroupName") or "default"
        return "scheduler", [
            f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name('Name')}"
        ]
    if kind == "AWS::SQS::Queue":
        return "sqs", [f"arn:aws:sqs:{region}:{account}:{name('QueueName')}"]
    if kind == "AWS::Events::Rule":
        bus = name("EventBusName")
        in_bus = "" if bus in (None, "default") else f"{bus}/"
        return "events", [f"arn:aws:events:{region}:{account}:rule/{in_bus}{name('Name')}"]
    if kind == "AWS::ApplicationAutoScaling::ScalableTarget":
        # Application Auto Scaling generates the target's id; the call is authorized on it.
        target = f"scalable-target/{hashlib.sha256(located.lid.encode()).hexdigest()[:36]}"
        return "application-autoscaling", [
            f"arn:aws:application-autoscaling:{region}:{account}:{target}"
        ]
    if kind == "AWS::CloudWatch::Alarm":
        alarm = name("AlarmName") or f"{located.stack}-{located.lid}-1A2B3C4D5E6F"
        return "cloudwatch", [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}"]
    if kind == "AWS::ApplicationAutoScaling::ScalingPolicy":
        # The alarms a target tracking policy has Application Auto Scaling create, named
        # after the target's resource id (API_PutScalingPolicy.html, its example).
        if located.properties.get("PolicyType") != "TargetTrackingScaling":
            return "", []
        scaled = located.resolver.resources[located.properties["ScalingTargetId"]["Ref"]]
        resource_id = located.resolver.text(scaled["Properties"]["ResourceId"])
        return "cloudwatch", [
            f"arn:aws:cloudwatch:{region}:{account}:alarm:TargetTracking-{resource_id}-"
            f"Alarm{side}-d4f0770c-b46e-434a-a60f-3b36d653feca"
            for side in ("High", "Low")
        ]
    if kind == "AWS::ECR::Repository":
        return "ecr", [f"arn:aws:ecr:{region}:{account}:repository/{name('RepositoryName')}"]
    if kind in _EC2:
        return "ec2", [f"arn:aws:ec2:{region}:{account}:{_EC2[kind]}/{_EC2[kind]}-0a1b2c3d"]
    return "", []


def own_resources(example: Example, stack: str) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Per service, what `stack`'s resources are to IAM: ARN and resource tags."""
    found: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for kind in {r["Type"] for r in example.synthesized.templates[stack]["Resources"].values()}:
        for located in example.of_type(kind):
            if located.stack != stack:
                continue
            service, arns = _arns(located)
            found.setdefault(service, []).extend((arn, _tags(located)) for arn in arns)
    return found
