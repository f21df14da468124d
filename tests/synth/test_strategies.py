"""Deployment strategies, validation, history, notices and alarms on the synthesized examples.

Each test reads the template the way CloudFormation and CodePipeline will, and names the
failure mode the asserted property prevents.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.synth.conftest import Synthesized


@pytest.fixture(scope="session")
def storefront(synthesized: dict[str, Synthesized]) -> Synthesized:
    """S5: CodeCommit → buildx (Docker Hub login) → ECR → ECS blue/green through CodeDeploy."""
    return synthesized["codecommit-blue-green"]


@pytest.fixture(scope="session")
def quotes(synthesized: dict[str, Synthesized]) -> Synthesized:
    """S4: Lambda canary through a CodeDeploy alias."""
    return synthesized["lambda-canary"]


@pytest.fixture(scope="session")
def payments(synthesized: dict[str, Synthesized]) -> Synthesized:
    """S3: S3 source, parallel checks, scan gate, staging → approval → prod, audiences."""
    return synthesized["payments"]


def _one(found: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def _stages(s: Synthesized) -> dict[str, list[dict[str, Any]]]:
    pipeline = s.pipeline()
    return {st["Name"]: st["Actions"] for st in pipeline["Properties"]["Stages"]}


def _stage(s: Synthesized, name: str) -> dict[str, Any]:
    pipeline = s.pipeline()
    found: dict[str, Any] = next(
        st for st in pipeline["Properties"]["Stages"] if st["Name"] == name
    )
    return found


def _action(s: Synthesized, stage: str, name: str) -> dict[str, Any]:
    return next(a for a in _stages(s)[stage] if a["Name"] == name)


def _policy_statements(s: Synthesized, role_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def _render(value: Any) -> str:
    """A string the way CloudFormation will resolve it, with references as <Ref>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(p) for p in parts)
    return "<Ref>"


def _user_parameters(action: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_render(action["Configuration"]["UserParameters"]))
    return loaded


def _actions_of(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


# --- ECS blue/green through CodeDeploy (S5) -----------------------------------------------------


def test_blue_green_has_two_target_groups_and_two_listeners(storefront: Synthesized) -> None:
    """FM61."""
    groups = storefront.resources("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert len(groups) == 2
    listeners = {
        listener["Properties"]["Port"]: listener
        for listener in storefront.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    }
    # Production serves HTTPS on 443 (issue 15); 80 only redirects there.
    assert set(listeners) == {80, 443, 9000}
    production = listeners[443]["Properties"]["DefaultActions"][0]["TargetGroupArn"]["Ref"]
    test = listeners[9000]["Properties"]["DefaultActions"][0]["TargetGroupArn"]["Ref"]
    assert {production, test} == set(groups)
    assert listeners[80]["Properties"]["DefaultActions"][0]["Type"] == "redirect"
    _, service = _one(storefront.resources("AWS::ECS::Service"))
    assert service["Properties"]["DeploymentController"] == {"Type": "CODE_DEPLOY"}


def test_test_listener_is_not_open_to_the_world(storefront: Synthesized) -> None:
    """The test listener serves the unreleased version: only the VPC's NAT address may call."""
    rules = [
        rule
        for group in storefront.resources("AWS::EC2::SecurityGroup").values()
        for rule in group["Properties"].get("SecurityGroupIngress", [])
        if rule.get("FromPort") == 9000
    ]
    assert rules
    for rule in rules:
        assert rule["CidrIp"] != "0.0.0.0/0"
        assert "Fn::Join" in rule["CidrIp"]  # the NAT gateway's Elastic IP, /32


def test_codedeploy_group_shifts_traffic_and_rolls_back(storefront: Synthesized) -> None:
    """FM61, FM63: canary config, termination wait, alarms and automatic rollback."""
    _, group = _one(storefront.resources("AWS::CodeDeploy::DeploymentGroup"))
    props = group["Properties"]
    assert props["DeploymentStyle"] == {
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
        "DeploymentType": "BLUE_GREEN",
    }
    termination = props["BlueGreenDeploymentConfiguration"][
        "TerminateBlueInstancesOnDeploymentSuccess"
    ]
    assert termination == {"Action": "TERMINATE", "TerminationWaitTimeInMinutes": 10}
    # CodeDeploy rolls back a failed (hook) or stopped deployment itself; no alarm on the
    # service judges the replacement task set alone, and one would stop the pipeline's stage
    # rollback while the bad release serves (ECS_DEPLOYMENTS_WATCH, CV112).
    assert set(props["AutoRollbackConfiguration"]["Events"]) == {
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_REQUEST",
    }
    assert props["AlarmConfiguration"] == {"Enabled": False}
    (suppressed,) = group["Metadata"]["conveyor"]["suppress"]
    assert suppressed["rule"] == "CV073" and "CV112" in suppressed["reason"]
    _, config = _one(storefront.resources("AWS::CodeDeploy::DeploymentConfig"))
    routing = config["Properties"]["TrafficRoutingConfig"]
    assert routing == {
        "Type": "TimeBasedCanary",
        "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 20},
    }


def test_build_writes_codedeploy_inputs_and_the_action_reads_them(storefront: Synthesized) -> None:
    """FM26: imageDetail.json, taskdef and appspec come out of the build the action reads."""
    _, build = storefront.build_project()
    buildspec = json.loads(build["Properties"]["Source"]["BuildSpec"])
    assert set(buildspec["artifacts"]["files"]) == {
        "imagedefinitions.json",
        "imageDetail.json",
        "taskdef-prod.json",
        "appspec-prod.yaml",
    }
    variables = {v["Name"]: v for v in build["Properties"]["Environment"]["EnvironmentVariables"]}
    taskdef = json.dumps(variables["CONVEYOR_FILE_TASKDEF_PROD_JSON"]["Value"])
    assert "<IMAGE1_NAME>" in taskdef and "awsvpc" in taskdef and "FARGATE" in taskdef
    appspec = json.dumps(variables["CONVEYOR_FILE_APPSPEC_PROD_YAML"]["Value"])
    assert "AfterAllowTestTraffic" in appspec and "ContainerPort" in appspec
    stack = _action(storefront, "Deploy-prod", "Deploy")
    assert stack["ActionTypeId"]["Provider"] == "CloudFormation"
    deploy = _action(storefront, "Deploy-prod", "CodeDeploy")
    assert deploy["ActionTypeId"]["Provider"] == "CodeDeployToECS"
    # The stack (creating the service on the first release) before CodeDeploy.
    assert stack["RunOrder"] < deploy["RunOrder"]
    config = deploy["Configuration"]
    assert config["TaskDefinitionTemplatePath"] == "taskdef-prod.json"
    assert config["AppSpecTemplatePath"] == "appspec-prod.yaml"
    assert config["Image1ContainerName"] == "IMAGE1_NAME"


def test_task_definition_document_matches_the_stack(storefront: Synthesized) -> None:
    """taskdef.json is derived from the stack's own task definition, not written twice."""
    _, task = _one(storefront.resources("AWS::ECS::TaskDefinition"))
    _, build = storefront.build_project()
    variables = {v["Name"]: v for v in build["Properties"]["Environment"]["EnvironmentVariables"]}
    document = json.dumps(variables["CONVEYOR_FILE_TASKDEF_PROD_JSON"]["Value"])
    props = task["Properties"]
    assert props["Family"] in document
    assert f'\\"cpu\\":\\"{props["Cpu"]}\\"' in document
    assert f'\\"memory\\":\\"{props["Memory"]}\\"' in document
    # The roles by the names the environment's stack gives them (no cross-stack reference).
    for role in (props["ExecutionRoleArn"], props["TaskRoleArn"]):
        name = storefront.resource(role["Fn::GetAtt"][0])["Properties"]["RoleName"]
        assert f":role/{name}" in document


def test_validation_hook_runs_in_the_vpc_against_the_test_listener(
    storefront: Synthesized,
) -> None:
    """FM63: the check runs before production traffic; CodeDeploy may invoke it."""
    hooks = [
        (lid, f)
        for lid, f in storefront.resources("AWS::Lambda::Function").items()
        if "ValidationHook" in lid
    ]
    ((hook_id, hook),) = hooks
    props = hook["Properties"]
    assert "VpcConfig" in props
    url = json.dumps(props["Environment"]["Variables"]["VALIDATE_URL"])
    assert ":9000/healthz" in url
    _, group = _one(storefront.resources("AWS::CodeDeploy::DeploymentGroup"))
    group_role = group["Properties"]["ServiceRoleArn"]["Fn::GetAtt"][0]
    invoke = [
        s
        for s in _policy_statements(storefront, group_role)
        if "lambda:InvokeFunction" in _actions_of(s)
    ]
    assert invoke and {"Fn::GetAtt": [hook_id, "Arn"]} in invoke[0]["Resource"]


def test_docker_hub_credentials_come_from_parameter_store(storefront: Synthesized) -> None:
    """FM30 (S5)."""
    _, build = storefront.build_project()
    variables = {v["Name"]: v for v in build["Properties"]["Environment"]["EnvironmentVariables"]}
    assert variables["REGISTRY_LOGIN_USERNAME"] == {
        "Name": "REGISTRY_LOGIN_USERNAME",
        "Type": "PARAMETER_STORE",
        "Value": "/storefront/dockerhub/username",
    }
    assert variables["REGISTRY_LOGIN_PASSWORD"]["Type"] == "PARAMETER_STORE"


def test_codecommit_source_uses_the_existing_repository(storefront: Synthesized) -> None:
    """FM52: no repository is created."""
    assert not storefront.resources("AWS::CodeCommit::Repository")
    source = _action(storefront, "Source", "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["RepositoryName"] == "storefront"


# --- Lambda canary (S4) ----------------------------------------------------------------------


def test_lambda_has_version_alias_and_deployment_group(quotes: Synthesized) -> None:
    """FM62, FM65."""
    resources = quotes.templates["quotes-prod"]["Resources"]
    functions = {
        lid: f
        for lid, f in resources.items()
        if f["Properties"].get("FunctionName") == "quotes-function-prod"
    }
    ((function_id, function),) = functions.items()
    assert function["Properties"]["Runtime"] == "python3.12"
    assert function["Properties"]["Handler"] == "app.handler"
    aliases = [
        a
        for a in resources.values()
        if a["Type"] == "AWS::Lambda::Alias"
        and a["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    (alias,) = aliases
    assert alias["Properties"]["Name"] == "live"
    version_id = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
    version = resources[version_id]
    assert version["Type"] == "AWS::Lambda::Version"
    # A release is a new package key: the version's description names it, and a description
    # cannot be updated, so every release publishes a new version.
    assert "CodeKey" in json.dumps(version["Properties"]["Description"])
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert "AfterAllowTrafficHook" in update


def test_lambda_canary_config_alarms_and_role(quotes: Synthesized) -> None:
    """FM42, FM62, FM72."""
    configs = quotes.resources("AWS::CodeDeploy::DeploymentConfig")
    routing = [c["Properties"]["TrafficRoutingConfig"] for c in configs.values()]
    assert {
        "Type": "TimeBasedCanary",
        "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 10},
    } in routing
    groups = quotes.resources("AWS::CodeDeploy::DeploymentGroup")
    prod_group = next(
        g for g in groups.values() if g["Properties"]["DeploymentGroupName"] == "quotes-deploy-prod"
    )
    alarms = prod_group["Properties"]["AlarmConfiguration"]["Alarms"]
    assert len(alarms) == 2  # this release's version: errors, duration
    role_id = prod_group["Properties"]["ServiceRoleArn"]["Fn::GetAtt"][0]
    role = quotes.templates["quotes-prod"]["Resources"][role_id]
    managed = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert "service-role/AWSCodeDeployRoleForLambda" in managed
    for alarm in quotes.resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
        assert alarm["Properties"]["AlarmActions"]


def _rendered(value: Any) -> str:
    """A Fn::Join'ed string with each Ref written as ${LogicalId} (CDK joins tokens into a
    JSON parameter string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_rendered(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    raise AssertionError(f"unexpected intrinsic {value}")


def test_lambda_release_is_a_stack_update_with_the_build_package(quotes: Synthesized) -> None:
    """No deploy job and no placeholder code: the stack update names the version of the
    environment's copy of the package the build uploaded (made first in the stage), and the
    function's code is that object version."""
    assert not [
        p
        for p in quotes.resources("AWS::CodeBuild::Project").values()
        if p["Properties"]["Name"].startswith("quotes-deploy-")
    ]
    (bucket_id,) = [
        lid
        for lid, b in quotes.template["Resources"].items()
        if b["Type"] == "AWS::S3::Bucket" and lid.startswith("DeliveryPackagesBucket")
    ]
    for env, namespace in (("staging", "PackageStaging"), ("prod", "PackageProd")):
        # Production copies it first in Approve-prod (the change set shows that copy), then
        # Deploy-prod deploys it (issue 11); staging copies and deploys in its one stage.
        stages = _stages(quotes)
        first_stage = stages.get(f"Approve-{env}") or stages[f"Deploy-{env}"]
        first = next(a for a in first_stage if a["RunOrder"] == 1)
        assert first["Name"] == "MarkDeployed" and first["Namespace"] == namespace
        # The action of Deploy-<env> that carries the template and parameters: Deploy, or
        # for an approved environment the change set it makes again and then executes.
        stack = next(
            a for a in stages[f"Deploy-{env}"] if "ParameterOverrides" in a.get("Configuration", {})
        )
        assert stack["ActionTypeId"]["Provider"] == "CloudFormation"
        overrides = json.loads(_rendered(stack["Configuration"]["ParameterOverrides"]))
        assert overrides == {
            "CodeBucket": "${" + bucket_id + "}",
            "CodeKey": f"deployed/{env}/quotes-package.zip",
            "CodeVersion": f"#{{{namespace}.DEPLOYED_VERSION}}",
        }
        (function,) = [
            f
            for f in quotes.templates[f"quotes-{env}"]["Resources"].values()
            if f["Properties"].get("FunctionName") == f"quotes-function-{env}"
        ]
        assert function["Properties"]["Code"] == {
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Ref": "CodeKey"},
            "S3ObjectVersion": {"Ref": "CodeVersion"},
        }


def test_a_lambda_release_can_be_deployed_again_after_the_artifacts_expire(
    quotes: Synthesized,
) -> None:
    """F6: CloudFormation's own rollback (a failed canary) and a stage rollback to an earlier
    execution deploy an earlier package again. It used to be the Build artifact, which the
    artifact bucket expires after retention.artifact_days: a function released less often
    than that could not be rolled back. The package is now a version of one object in a bucket
    that never expires the current version and keeps the newest replaced ones whatever their
    age; the build uploads it and exports the version the stacks deploy."""
    from conveyor.constructs.artifact_store import DEPLOYED_VERSIONS_KEPT, PACKAGE_VERSIONS_KEPT

    (bucket,) = [
        b
        for lid, b in quotes.template["Resources"].items()
        if b["Type"] == "AWS::S3::Bucket" and lid.startswith("DeliveryPackagesBucket")
    ]
    properties = bucket["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Prefix"]: rule for rule in properties["LifecycleConfiguration"]["Rules"]}
    # Builds and deployed copies each under their own prefix: no rule covers both (S3 would
    # let the shorter expiry win) and none covers the whole bucket.
    assert sorted(rules) == ["deployed/", "quotes-package.zip"]
    for prefix, kept_count in (
        ("quotes-package.zip", PACKAGE_VERSIONS_KEPT),
        ("deployed/", DEPLOYED_VERSIONS_KEPT),
    ):
        rule = rules[prefix]
        assert rule["Status"] == "Enabled" and "Filter" not in rule
        assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule
        kept = rule["NoncurrentVersionExpiration"]
        assert kept["NewerNoncurrentVersions"] == kept_count >= 10
        assert kept["NoncurrentDays"] == quotes.spec.retention.artifact_days
    _, build = quotes.build_project()
    spec = json.loads(build["Properties"]["Source"]["BuildSpec"])
    assert spec["env"]["exported-variables"] == ["PACKAGE_VERSION"]
    commands = " ".join(spec["phases"]["build"]["commands"])
    assert 'PACKAGE_VERSION="$(aws s3api put-object --bucket "$PACKAGE_BUCKET"' in commands
    variables = {
        v["Name"]: v["Value"] for v in build["Properties"]["Environment"]["EnvironmentVariables"]
    }
    assert variables["PACKAGE_KEY"] == "quotes-package.zip"
    assert variables["PACKAGE_BUCKET"] == {
        "Ref": next(lid for lid, b in quotes.template["Resources"].items() if b is bucket)
    }


def test_a_failed_lambda_validation_is_rolled_back_by_the_stage(quotes: Synthesized) -> None:
    """Issue 11: the stage rollback deploys the last good package version again (its stack
    update shifts the alias back); the validation only fails the stage."""
    validate = _action(quotes, "Deploy-prod", "Validate")
    parameters = _user_parameters(validate)
    assert parameters["url"] == "https://quotes.example.com/health"
    assert "rollback" not in parameters
    assert _stage(quotes, "Deploy-prod")["OnFailure"]["Result"] == "ROLLBACK"


# --- ECS native blue/green ---------------------------------------------------------------------


def test_native_blue_green_strategy(synthesized: dict[str, Synthesized]) -> None:
    catalog = synthesized["native-blue-green"]
    _, service = _one(catalog.resources("AWS::ECS::Service"))
    config = service["Properties"]["DeploymentConfiguration"]
    assert config["Strategy"] == "LINEAR"
    assert config["LinearConfiguration"] == {"StepPercent": 25, "StepBakeTimeInMinutes": 2}
    assert config["BakeTimeInMinutes"] == 10
    # ECS judges the new revision by its validation hook and circuit breaker; the service's
    # alarms are the pipeline bake's (ECS_DEPLOYMENTS_WATCH).
    assert "Alarms" not in config
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    (balancer,) = service["Properties"]["LoadBalancers"]
    advanced = balancer["AdvancedConfiguration"]
    assert {"AlternateTargetGroupArn", "ProductionListenerRule", "TestListenerRule"} <= set(
        advanced
    )
    # The stack update is the deployment: ECS shifts traffic inside it.
    deploy = _action(catalog, "Deploy-prod", "Deploy")
    assert deploy["ActionTypeId"]["Provider"] == "CloudFormation"
    # FM63: the validation runs against the test listener before production traffic moves.
    (hook,) = config["LifecycleHooks"]
    assert hook["LifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    hook_function = catalog.resource(hook["HookTargetArn"]["Fn::GetAtt"][0])
    variables = hook_function["Properties"]["Environment"]["Variables"]
    assert ":9000/health" in json.dumps(variables["VALIDATE_URL"])


# --- rolling with validation (S2) --------------------------------------------------------------


def test_a_failed_rolling_validation_is_rolled_back_by_the_stage(
    synthesized: dict[str, Synthesized],
) -> None:
    """FM63, issue 11: a failed check after a rolling deploy fails the stage, whose rollback
    deploys the stack again with the last good image; the validation may not move the service
    itself (a second deployment racing the stage's)."""
    orders = synthesized["validated-service"]
    validate = _action(orders, "Deploy-staging", "Validate")
    assert validate["RunOrder"] == 2  # after the stack update
    parameters = _user_parameters(validate)
    assert "rollback" not in parameters
    assert parameters["retries"] == 6
    assert _stage(orders, "Deploy-staging")["OnFailure"]["Result"] == "ROLLBACK"
    function_id = validate["Configuration"]["FunctionName"]["Ref"]
    role_id = orders.template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert [
        s for s in _policy_statements(orders, role_id) if "ecs:UpdateService" in _actions_of(s)
    ] == []


# --- deployment history (FM74, FM66) -----------------------------------------------------------


def test_history_table_and_recorder(synthesized: dict[str, Synthesized]) -> None:
    for s in synthesized.values():
        ((table_id, table),) = [
            (lid, t)
            for kind in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
            for lid, t in s.resources(kind).items()
            # The idempotency tables: the pipeline's, and an internal service's validator's
            # in its environment's stack ({app}-idempotency-{env}).
            if not t["Properties"]["TableName"].startswith(f"{s.spec.app}-idempotency")
        ]
        props = table["Properties"]
        assert props["TableName"] == f"{s.spec.app}-deployments"
        assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
        assert props["SSESpecification"]["SSEEnabled"] is True
        replica = props["Replicas"][0]
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        recorder = next(
            f
            for f in s.resources("AWS::Lambda::Function").values()
            if f["Properties"].get("FunctionName") == f"{s.spec.app}-record-deployment"
        )
        variables = recorder["Properties"]["Environment"]["Variables"]
        assert variables["DEPLOYMENT_TABLE_NAME"] == {"Ref": table_id}
        assert json.loads(variables["STAGE_ENVIRONMENTS"]) == {
            f"Deploy-{env.name}": env.name for env in s.spec.environments
        }


def test_an_approval_notice_names_its_environment_the_history_records_only_the_deploy(
    payments: Synthesized,
) -> None:
    """Issue 11: production's approval and `before` job have stages of their own (Approve-prod,
    Release-prod); the notices still name its environment, while the history's mapping stays
    the deploy stages (a record per environment and execution: the approval stage's events
    would overwrite it)."""
    formatters = [
        f["Properties"]["Environment"]["Variables"]
        for f in payments.resources("AWS::Lambda::Function").values()
        if "notify" in json.dumps(f["Properties"].get("Description", ""))
        or "notices" in json.dumps(f["Properties"].get("Description", ""))
    ]
    mappings = [json.loads(v["STAGE_ENVIRONMENTS"]) for v in formatters if "TOPIC_ARN" in v]
    assert mappings
    for mapping in mappings:
        assert mapping == {
            "Deploy-staging": "staging",
            "Approve-prod": "prod",
            "Release-prod": "prod",
            "Deploy-prod": "prod",
        }


# --- S3 source, audiences, alarms (S3) ----------------------------------------------------------


def test_s3_source_triggers_through_eventbridge_without_cloudtrail(payments: Synthesized) -> None:
    source = _action(payments, "Source", "Source")
    assert source["Configuration"]["PollForSourceChanges"] is False
    bucket_id = source["Configuration"]["S3Bucket"]["Ref"]
    bucket = payments.template["Resources"][bucket_id]["Properties"]
    assert bucket["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert not payments.resources("AWS::CloudTrail::Trail")
    uploads = [
        r
        for r in payments.resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("detail-type") == ["Object Created"]
    ]
    (rule,) = uploads
    assert rule["Properties"]["EventPattern"]["detail"]["object"]["key"] == ["payments/source.zip"]


def test_the_scan_gate_function_has_the_memory_its_limits_were_measured_for(
    payments: Synthesized,
) -> None:
    """Issue 17 defect 7: the gate's limits fit MEMORY_MB (benchmarks/scan_gate_memory.py)."""
    from conveyor.handlers.scan_gate import app as scan_gate

    (gate,) = [
        f
        for f in payments.resources("AWS::Lambda::Function").values()
        if "scan" in f["Properties"]["Description"]
    ]
    assert gate["Properties"]["MemorySize"] == scan_gate.MEMORY_MB


def test_checks_run_in_parallel_then_the_gate(payments: Synthesized) -> None:
    """FM29, FM75."""
    build = _stages(payments)["Build"]
    orders = {a["Name"]: a["RunOrder"] for a in build}
    assert {
        orders[n]
        for n in (
            "Build",
            "Test-unit",
            "Test-integration",
            "Scan-bandit",
            "Scan-pip-audit",
            "Scan-gitleaks",
        )
    } == {1}
    assert orders["Scan-trivy"] == 2 and orders["ScanGate"] == 3
    gate = next(a for a in build if a["Name"] == "ScanGate")
    assert len(gate["InputArtifacts"]) == 5  # source (allow-list) + four scan reports
    # Every scan output is named, so the gate blocks when one of them holds no report.
    assert _user_parameters(gate) == {
        "fail_on": "critical",
        "scans": [a["Name"] for a in gate["InputArtifacts"][1:]],
    }


def test_each_audience_has_its_topic_and_events(payments: Synthesized) -> None:
    topics = {
        t["Properties"]["TopicName"]: lid
        for lid, t in payments.resources("AWS::SNS::Topic").items()
    }
    assert set(topics) == {
        "payments-developers-notices",
        "payments-security-notices",
        "payments-release-notices",
        # Custom notifications for the audiences with a chat channel (tests/synth/test_chat.py).
        "payments-developers-chat",
        "payments-release-chat",
        # Each environment's alarms tell a topic in that environment's own stack.
        "payments-alarms-staging",
        "payments-alarms-prod",
    }
    gate = next(
        f
        for f in payments.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "payments-scan-gate"
    )
    assert gate["Properties"]["Environment"]["Variables"]["SECURITY_TOPIC_ARN"] == {
        "Ref": topics["payments-security-notices"]
    }
    approval = _action(payments, "Approve-prod", "Approve")
    assert approval["Configuration"]["NotificationArn"] == {
        "Ref": topics["payments-release-notices"]
    }


def test_alarms_for_failed_and_stuck_executions(payments: Synthesized) -> None:
    """FM72, FM73."""
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in payments.resources("AWS::CloudWatch::Alarm").values()
    }
    failed = alarms["payments-pipeline-failed"]
    assert (failed["Namespace"], failed["MetricName"]) == (
        "AWS/CodePipeline",
        "FailedPipelineExecutions",
    )
    stuck = alarms["payments-pipeline-stuck"]
    assert (stuck["Namespace"], stuck["MetricName"]) == ("Conveyor", "StuckExecutions")
    for name, alarm in alarms.items():
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert alarm["AlarmActions"], name
    watcher = next(
        f
        for f in payments.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "payments-watch-executions"
    )
    assert watcher["Properties"]["Environment"]["Variables"]["STUCK_MINUTES"] == "45"


def test_environments_never_share_keys_or_log_buckets(payments: Synthesized) -> None:
    """FM76."""
    aliases = {a["Properties"]["AliasName"] for a in payments.resources("AWS::KMS::Alias").values()}
    assert {
        "alias/payments-key-staging",
        "alias/payments-key-prod",
        "alias/payments-key-pipeline",
    } <= aliases
    buckets = set()
    for stack, template in payments.templates.items():
        for alb in template["Resources"].values():
            if alb["Type"] != "AWS::ElasticLoadBalancingV2::LoadBalancer":
                continue
            attributes = {a["Key"]: a["Value"] for a in alb["Properties"]["LoadBalancerAttributes"]}
            # A bucket of the load balancer's own stack.
            bucket = attributes["access_logs.s3.bucket"]["Ref"]
            assert template["Resources"][bucket]["Type"] == "AWS::S3::Bucket"
            buckets.add((stack, bucket))
    assert {stack for stack, _ in buckets} == {"payments-staging", "payments-prod"}
