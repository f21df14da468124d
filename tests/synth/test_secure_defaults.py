"""Every secure default of a generated pipeline, asserted on the synthesized template.

Each test names the failure mode it guards. Assertions are on properties, not on existence.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.synth.conftest import Synthesized


def _one(found: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def _artifact_bucket(s: Synthesized) -> tuple[str, dict[str, Any]]:
    pipeline = s.pipeline()
    bucket_ref = pipeline["Properties"]["ArtifactStore"]["Location"]["Ref"]
    return bucket_ref, s.template["Resources"][bucket_ref]


def test_artifact_bucket_is_private_encrypted_versioned_and_expires(web: Synthesized) -> None:
    """FM01, FM02, FM03."""
    _, bucket = _artifact_bucket(web)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_ref = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert web.template["Resources"][key_ref]["Type"] == "AWS::KMS::Key"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["ExpirationInDays"] == 30
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"] != _artifact_bucket(web)[0]


def test_every_bucket_denies_plain_http(web: Synthesized, minimal: Synthesized) -> None:
    """FM04: each bucket has a policy with Deny on aws:SecureTransport = false."""
    for s in (web, minimal):
        buckets = s.resources("AWS::S3::Bucket")
        policies = s.resources("AWS::S3::BucketPolicy").values()
        protected = set()
        for policy in policies:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if (
                    statement["Effect"] == "Deny"
                    and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
                    == "false"
                ):
                    protected.add(policy["Properties"]["Bucket"]["Ref"])
        assert protected == set(buckets), s.name


def test_every_bucket_blocks_public_access_and_is_encrypted(
    synthesized: dict[str, Synthesized],
) -> None:
    """FM01, FM02 on all buckets, including the access-log bucket (SSE-S3 by necessity)."""
    for s in synthesized.values():
        for logical_id, bucket in s.resources("AWS::S3::Bucket").items():
            props = bucket["Properties"]
            assert all(props["PublicAccessBlockConfiguration"].values()), logical_id
            algorithm = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
                "ServerSideEncryptionByDefault"
            ]["SSEAlgorithm"]
            assert algorithm in {"aws:kms", "AES256"}, logical_id
            rules = props["LifecycleConfiguration"]["Rules"]
            # The pipeline's package store, or another region's (its region's stack).
            if logical_id.startswith(("DeliveryPackagesBucket", "PackagesBucket")):
                # F6: a release's package is deployed again by rollbacks; only replaced
                # versions expire, builds and deployed copies each by their own rule
                # (test_strategies).
                assert len(rules) == 2, logical_id
                for rule in rules:
                    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"], logical_id
                    assert "ExpirationInDays" not in rule, logical_id
            else:
                (rule,) = rules
                assert "ExpirationInDays" in rule, logical_id


def test_keys_rotate(synthesized: dict[str, Synthesized]) -> None:
    """FM07."""
    for s in synthesized.values():
        keys = s.resources("AWS::KMS::Key")
        assert keys
        for logical_id, key in keys.items():
            assert key["Properties"]["EnableKeyRotation"] is True, logical_id


def test_environment_data_has_its_own_key(web: Synthesized) -> None:
    """FM76: the environment's log groups are not encrypted with the pipeline's key."""
    _, bucket = _artifact_bucket(web)
    pipeline_key = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    service_logs = [
        g
        for g in web.resources("AWS::Logs::LogGroup").values()
        if g["Properties"]["LogGroupName"] == "/conveyor/web/service/prod"
    ]
    (group,) = service_logs
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0] != pipeline_key


def test_image_repository(web: Synthesized) -> None:
    """FM02, FM10, FM11."""
    _, repo = _one(web.resources("AWS::ECR::Repository"))
    props = repo["Properties"]
    assert props["RepositoryName"] == "web-images"
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["ImageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert props["ImageTagMutabilityExclusionFilters"] == [
        {
            "ImageTagMutabilityExclusionFilterType": "WILDCARD",
            "ImageTagMutabilityExclusionFilterValue": "buildcache",
        }
    ]
    assert props["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    keep = [r for r in rules if r["selection"]["tagStatus"] == "any"]
    assert keep[0]["selection"]["countType"] == "imageCountMoreThan"
    assert keep[0]["selection"]["countNumber"] == 10
    assert keep[0]["action"]["type"] == "expire"


def test_build_project(web: Synthesized) -> None:
    """FM20, FM21, FM22, FM23."""
    _, project = web.build_project()
    props = project["Properties"]
    env = props["Environment"]
    assert env["Image"] == "aws/codebuild/standard:7.0"
    assert env["PrivilegedMode"] is True
    assert props["TimeoutInMinutes"] == 15
    # FM29: warm hosts keep Docker layers, the source and package caches.
    assert props["Cache"] == {
        "Type": "LOCAL",
        "Modes": ["LOCAL_DOCKER_LAYER_CACHE", "LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"],
    }
    logs = props["LogsConfig"]["CloudWatchLogs"]
    assert logs["Status"] == "ENABLED"
    group_id = logs["GroupName"]["Ref"]
    group = web.template["Resources"][group_id]
    assert group["Properties"]["LogGroupName"] == "/conveyor/web/build"
    assert "EncryptionKey" in props
    names = {v["Name"] for v in env["EnvironmentVariables"]}
    assert {"REPOSITORY_URI", "IMAGE_REPO_NAME", "CONTAINER_NAME"} <= names


def test_only_docker_builds_are_privileged(synthesized: dict[str, Synthesized]) -> None:
    """FM20 both ways: Docker builds get the daemon, nothing else gets privileged mode."""
    for s in synthesized.values():
        build_id, _ = s.build_project()
        # The pull-request pipeline's build builds the same image (never pushed).
        builds = {f"{s.spec.app}-pr-build"}
        for logical_id, project in s.resources("AWS::CodeBuild::Project").items():
            privileged = project["Properties"]["Environment"]["PrivilegedMode"]
            is_build = logical_id == build_id or project["Properties"]["Name"] in builds
            expected = is_build and s.spec.build.docker is not None
            assert privileged is expected, (s.name, logical_id)


def test_log_groups_have_retention_and_encryption(synthesized: dict[str, Synthesized]) -> None:
    """FM08, FM24."""
    for s in synthesized.values():
        for logical_id, group in s.resources("AWS::Logs::LogGroup").items():
            assert group["Properties"]["RetentionInDays"] == s.spec.retention.log_days, logical_id
            assert "KmsKeyId" in group["Properties"], logical_id


def test_logs_service_may_use_the_log_keys(web: Synthesized) -> None:
    """CloudWatch Logs needs the key policy grant, or the encrypted log group fails to create."""
    for logical_id, key in web.resources("AWS::KMS::Key").items():
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        logs = [s for s in statements if "logs" in json.dumps(s.get("Principal", {}))]
        assert logs, logical_id
        assert "kms:EncryptionContext:aws:logs:arn" in json.dumps(logs[0]["Condition"])


def _statements(s: Synthesized, role_id: str) -> list[dict[str, Any]]:
    result = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            result += policy["Properties"]["PolicyDocument"]["Statement"]
    return result


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_build_role_can_push_to_its_repository_only(web: Synthesized) -> None:
    """FM41 (missing ECR permissions) without FM40 (wildcards)."""
    _, project = web.build_project()
    role_id = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    statements = _statements(web, role_id)
    repo_id, _ = _one(web.resources("AWS::ECR::Repository"))
    granted: dict[str, list[Any]] = {}
    for statement in statements:
        for action in _actions(statement):
            granted.setdefault(action, []).append(statement["Resource"])
    for action in (
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "ecr:PutImage",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
    ):
        assert action in granted, action
        assert granted[action] == [{"Fn::GetAtt": [repo_id, "Arn"]}] or all(
            r == {"Fn::GetAtt": [repo_id, "Arn"]} for r in granted[action]
        ), action
    assert granted["ecr:GetAuthorizationToken"] == ["*"]
    assert not any(a.endswith(":*") or a == "*" for a in granted), sorted(granted)


def test_deploy_role_is_scoped_to_the_service(minimal: Synthesized) -> None:
    """FM40: CDK's EcsDeployAction would grant ecs:UpdateService on "*"."""
    roles = minimal.resources("AWS::IAM::Role")
    deploy_ids = [r for r in roles if r.startswith("DeliveryDeployRoleStaging")]
    (role_id,) = deploy_ids
    statements = _statements(minimal, role_id)
    update = [s for s in statements if "ecs:UpdateService" in _actions(s)]
    (statement,) = update
    # The existing service is named through parameters whose defaults are the spec's names.
    parameters = minimal.template["Parameters"]
    refs = [p["Ref"] for p in statement["Resource"]["Fn::Join"][1] if isinstance(p, dict)]
    named = {parameters[r]["Default"] for r in refs if r in parameters}
    assert named == {"api-staging", "api"}
    for s in statements:
        if s["Resource"] == "*":
            assert set(_actions(s)) <= {
                "ecs:DescribeTaskDefinition",
                "ecs:RegisterTaskDefinition",
                "ecs:DescribeTasks",
                "ecs:ListTasks",
            }


def test_buildspec_logs_in_builds_with_cache_and_writes_image_definitions(
    web: Synthesized,
) -> None:
    """FM26, FM27, FM29."""
    _, project = web.build_project()
    buildspec = json.loads(project["Properties"]["Source"]["BuildSpec"])
    text = json.dumps(buildspec)
    assert "aws ecr get-login-password" in text
    assert "docker buildx build" in text
    assert "--cache-from" in text and "--cache-to" in text
    assert buildspec["artifacts"]["files"] == ["imagedefinitions.json", "imageDetail.json"]
    assert buildspec["env"]["exported-variables"] == ["IMAGE_URI", "IMAGE_TAG", "IMAGE_DIGEST"]


def test_no_account_id_or_region_is_hard_coded(synthesized: dict[str, Synthesized]) -> None:
    """FM25: the only 12-digit numbers are the user's connection ARN and AWS's own ELB
    log-delivery account of the stack's region."""
    from aws_cdk.region_info import RegionInfo

    for s in synthesized.values():
        text = json.dumps(s.template["Resources"])
        text = re.sub(r"arn:aws:codestar-connections:[^\"]+", "", text)
        # Whole numbers only: asset hashes are hex and may hold twelve digits in a row.
        numbers = set(re.findall(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])", text))
        elb_accounts = {RegionInfo.get(r).elbv2_account for r in ("eu-west-1", "us-east-1")}
        assert numbers <= elb_accounts, (s.name, numbers)


def test_pipeline_is_v2_with_connection_source_and_no_webhook(web: Synthesized) -> None:
    """FM50, FM51."""
    _, pipeline = _one(web.resources("AWS::CodePipeline::Pipeline"))
    props = pipeline["Properties"]
    assert props["PipelineType"] == "V2"
    assert props["Name"] == "web-pipeline"
    source = props["Stages"][0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["DetectChanges"] is False
    (trigger,) = props["Triggers"]
    assert trigger["GitConfiguration"]["Push"][0]["Branches"]["Includes"] == ["main"]
    assert not web.resources("AWS::CodePipeline::Webhook")
    assert [stage["Name"] for stage in props["Stages"]] == [
        "Source",
        "UpdatePipeline",
        "Build",
        "Approve-prod",
        "Deploy-prod",
    ]
    # The environment's stack, with the build's image: a change set to approve, then (approved)
    # the same template and parameters deployed in the stage that rolls back (issue 11).
    change_set = next(a for a in props["Stages"][3]["Actions"] if a["Name"] == "ChangeSet")
    remade = next(a for a in props["Stages"][4]["Actions"] if a["Name"] == "ChangeSet")
    deploy = next(a for a in props["Stages"][4]["Actions"] if a["Name"] == "Deploy")
    assert (
        change_set["ActionTypeId"]["Provider"]
        == deploy["ActionTypeId"]["Provider"]
        == ("CloudFormation")
    )
    assert change_set["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE"
    assert remade["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE"
    assert deploy["Configuration"]["ActionMode"] == "CHANGE_SET_EXECUTE"
    assert change_set["Configuration"]["StackName"] == "web-prod"
    for action in (change_set, remade):
        assert json.loads(action["Configuration"]["ParameterOverrides"]) == {
            "ImageUri": "#{Build.IMAGE_URI}",
            "Release": "#{codepipeline.PipelineExecutionId}",
        }


def test_failures_reach_an_encrypted_topic_with_subscribers(
    synthesized: dict[str, Synthesized],
) -> None:
    """FM70, FM71, FM08: failure events go to the notify handler, which publishes to an
    encrypted topic that has email subscribers or a chat channel."""
    for s in synthesized.values():
        topics = s.resources("AWS::SNS::Topic")
        assert topics
        chats = [
            c["Properties"]["SnsTopicArns"]
            for kind in ("Slack", "MicrosoftTeams")
            for c in s.resources(f"AWS::Chatbot::{kind}ChannelConfiguration").values()
        ]
        for topic_id, topic in topics.items():
            assert "KmsMasterKeyId" in topic["Properties"]
            assert any(
                sub["Properties"]["Protocol"] == "email"
                and sub["Properties"]["TopicArn"] == {"Ref": topic_id.split("/")[-1]}
                for sub in s.resources("AWS::SNS::Subscription").values()
            ) or any({"Ref": topic_id} in listed for listed in chats), topic_id
            # Which services may publish, and encrypt: test_runtime_defects.py.
        failed_rules = [
            rule
            for rule in s.resources("AWS::Events::Rule").values()
            if "FAILED"
            in rule["Properties"].get("EventPattern", {}).get("detail", {}).get("state", [])
        ]
        assert failed_rules, s.name
        for rule in failed_rules:
            (target,) = rule["Properties"]["Targets"]
            if "Ref" in target["Arn"]:  # to a chat topic, as a custom notification
                assert target["Arn"]["Ref"] in topics
                assert '"source":"custom"' in str(target["InputTransformer"]["InputTemplate"])
                continue
            function_id = target["Arn"]["Fn::GetAtt"][0]
            function = s.template["Resources"][function_id]
            variables = function["Properties"]["Environment"]["Variables"]
            assert variables["TOPIC_ARN"]["Ref"] in topics
            assert function["Properties"]["Handler"] == "notify.app.handler"


def test_created_service_rolls_safely(web: Synthesized) -> None:
    """FM64."""
    _, service = _one(web.resources("AWS::ECS::Service"))
    props = service["Properties"]
    config = props["DeploymentConfiguration"]
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert config["MinimumHealthyPercent"] == 100
    assert config["MaximumPercent"] == 200
    assert props["HealthCheckGracePeriodSeconds"] == 60
    assert props["ServiceName"] == "web-service-prod"
    _, group = _one(web.resources("AWS::ElasticLoadBalancingV2::TargetGroup"))
    assert group["Properties"]["HealthCheckPath"] == "/health"


def test_execution_role_may_pull_the_pipeline_image(web: Synthesized) -> None:
    """The first pipeline deploy replaces the placeholder with an ECR image (CDK-NOTES)."""
    _, task = _one(web.resources("AWS::ECS::TaskDefinition"))
    role_id = task["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    actions = {a for s in _statements(web, role_id) for a in _actions(s)}
    assert {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} <= actions


def test_removal_policies_follow_the_environment(web: Synthesized, minimal: Synthesized) -> None:
    """FM05: production retains data; other environments delete and empty."""
    stateful = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::ECR::Repository", "AWS::Logs::LogGroup")
    for kind in stateful:
        for logical_id, resource in web.resources(kind).items():
            assert resource["DeletionPolicy"] == "RetainExceptOnCreate", logical_id
            assert resource["UpdateReplacePolicy"] == "Retain", logical_id
        for logical_id, resource in minimal.resources(kind).items():
            assert resource["DeletionPolicy"] == "Delete", logical_id
    assert minimal.resources("Custom::S3AutoDeleteObjects")
    _, repo = _one(minimal.resources("AWS::ECR::Repository"))
    assert repo["Properties"]["EmptyOnDelete"] is True


_NAME_KEYS = (
    "Name",
    "RepositoryName",
    "ServiceName",
    "ClusterName",
    "TopicName",
    "TableName",
    "FunctionName",
    "AlarmName",
    "ApplicationName",
    "DeploymentGroupName",
    "Family",
)


def test_names_follow_one_pattern(synthesized: dict[str, Synthesized]) -> None:
    """FM06, FM81: {app}-{type}[-{env}]; S3 bucket names are left to CloudFormation; log groups
    live under /conveyor/{app}/."""
    for s in synthesized.values():
        app = s.spec.app
        names = []
        for logical_id, resource in s.template["Resources"].items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::S3::Bucket" and "BucketName" in props:
                # Named only when another account must know it, and then never a literal.
                rendered = json.dumps(props["BucketName"])
                assert "AWS::AccountId" in rendered and "AWS::Region" in rendered, logical_id
            if resource["Type"] != "AWS::Lambda::Alias":  # alias names live inside a function
                names += [props[k] for k in _NAME_KEYS if isinstance(props.get(k), str)]
            group = props.get("LogGroupName")
            if resource["Type"] == "AWS::Logs::LogGroup":
                assert isinstance(group, str) and group.startswith(f"/conveyor/{app}/"), group
        assert names, s.name
        for name in names:
            assert re.fullmatch(rf"{app}-[a-z0-9-]+", name), (s.name, name)


def test_s1_names(web: Synthesized) -> None:
    names = {
        props[k]
        for template in web.templates.values()
        for r in template["Resources"].values()
        for props in [r.get("Properties", {})]
        for k in _NAME_KEYS
        if isinstance(props.get(k), str)
    }
    assert {
        "web-pipeline",
        "web-build",
        "web-images",
        "web-service-prod",
        "web-cluster-prod",
        "web-deployments",
        "web-team-notices",
        "web-pipeline-failed",
        "web-pipeline-stuck",
    } <= names


def test_suffix_keeps_two_copies_apart(tmp_path: Any) -> None:
    from conveyor.constructs.naming import Naming

    assert Naming("web", "pr42").name("pipeline") == "web-pipeline-pr42"
    assert Naming("web", "pr42").name("service", "prod") == "web-service-prod-pr42"
    with pytest.raises(ValueError, match="longer than 32"):
        Naming("a-very-long-application", "suffix-12345").name("alb", "production", max_length=32)


def test_outputs(web: Synthesized) -> None:
    """FM82."""
    outputs = web.template["Outputs"]
    for prefix in ("PipelineName", "TopicArnTeam", "DeploymentTableName", "ImageRepositoryUri"):
        assert any(name.startswith(f"Delivery{prefix}") for name in outputs), prefix
    # The environment's own outputs: the pipeline reads the Url as its deploy action's variable.
    assert {"ServiceName", "Url"} <= set(web.templates["web-prod"]["Outputs"])
    # No cross-stack exports: environment stacks do not exist when the pipeline is deployed.
    assert not [
        o for t in web.templates.values() for o in t.get("Outputs", {}).values() if "Export" in o
    ]
