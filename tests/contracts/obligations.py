"""What each role of an example must be allowed to do, derived from what its principal does:
the pipeline's actions (and their RoleArn), each CodeBuild project's buildspec, each handler.
The requirements themselves come from conveyor.rules.runtime_contracts (one table, sourced)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from conveyor.history.records import TIME_INDEX
from conveyor.rules.runtime_contracts import (
    BUILDSPEC_COMMAND_KINDS,
    CLOUDFORMATION_MODE_NEEDS,
    CODEBUILD_PROJECT_NEEDS,
    HANDLER_CONTRACTS,
    PIPELINE_ACTION_NEEDS,
    PIPELINE_ASSUMES_ACTION_ROLES,
    PIPELINE_RULE_NEEDS,
    READ_ARTIFACTS,
    SCHEDULE_DEAD_LETTER_NEEDS,
    SCHEDULE_ECS_TARGET_NEEDS,
    SCHEDULE_TAGGED_TASK_NEEDS,
    WRITE_ARTIFACTS,
    Need,
)
from tests.contracts.model import Example, Located, Role


@dataclass(frozen=True)
class Obligation:
    """One API call a role must be allowed to make."""

    role: Role
    action: str
    resource: str
    context: tuple[tuple[str, str], ...]
    why: str  # who performs it (pipeline action, project, handler)
    source: str

    def __str__(self) -> str:
        return f"{self.why}: {self.action} on {self.resource} (needed per {self.source})"


def _request_context(need: Need, resources: dict[str, list[str]]) -> tuple[tuple[str, str], ...]:
    """Condition keys AWS adds to the request, beyond the table's own."""
    context = dict(need.context)
    if "ecs-cluster" in resources:
        # ECS tags task calls with their cluster (ecs:cluster).
        context["ecs:cluster"] = resources["ecs-cluster"][0]
    if need.on == "artifact-key":
        # The artifact key is used by S3 on the caller's behalf (SSE-KMS).
        region = resources["artifact-key"][0].split(":")[3]
        context["kms:ViaService"] = f"s3.{region}.amazonaws.com"
        if "artifact-key-alias" in resources:
            # Another region's store key, which its grants name by alias: KMS gives the
            # request the key's aliases (kms:ResourceAliases).
            context["kms:ResourceAliases"] = resources["artifact-key-alias"][0]
    return tuple(sorted(context.items()))


# The calls that name a change set, which AWS gives the cloudformation:ChangeSetName key.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
CHANGE_SET_CALLS = frozenset(
    {
        "cloudformation:CreateChangeSet",
        "cloudformation:DeleteChangeSet",
        "cloudformation:DescribeChangeSet",
        "cloudformation:ExecuteChangeSet",
    }
)
# What CodePipeline puts for #{codepipeline.PipelineExecutionId}: an execution's id (a UUID,
# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html),
# here one that starts with a digit.
EXECUTION_ID = "0e5a79b2-5b6c-4d7e-8f90-a1b2c3d4e5f6"


def _expand(
    role: Role, needs: tuple[Need, ...], resources: dict[str, list[str]], why: str
) -> list[Obligation]:
    found = []
    for need in needs:
        targets = resources.get(need.on, ["*"] if need.on == "*" else [])
        context = _request_context(need, resources)
        for action in need.actions:
            named = context
            if action in CHANGE_SET_CALLS and "change-set-name" in resources:
                # The name as CodePipeline sends it: its variables resolved.
                (name,) = resources["change-set-name"]
                named = tuple(
                    sorted({**dict(context), "cloudformation:ChangeSetName": name}.items())
                )
            for resource in targets:
                found.append(Obligation(role, action, resource, named, why, need.source))
    return found


def _artifact_resources(example: Example, region: str | None = None) -> dict[str, list[str]]:
    if region is not None and region != example.region:
        # An action in another region reads its artifacts from the store there (its
        # ArtifactStores entry), whose key is named by alias: a key of that region carrying it.
        (store,) = [
            s["ArtifactStore"]
            for s in example.pipeline.value("ArtifactStores") or []
            if s["Region"] == region
        ]
        bucket = f"arn:aws:s3:::{store['Location']}"
        alias = str(store["EncryptionKey"]["Id"]).split(":", 5)[5]
        # The key that alias names: the one in the alias's stack (the region's support stack).
        (named,) = [a for a in example.of_type("AWS::KMS::Alias") if a.value("AliasName") == alias]
        (key,) = [k for k in example.of_type("AWS::KMS::Key") if k.stack == named.stack]
        return {
            "artifact-objects": [f"{bucket}/{example.pipeline.value('Name')}/Build/a1b2c3d"],
            "artifact-bucket": [bucket],
            "artifact-key": [key.arn],
            "artifact-key-alias": [alias],
        }
    bucket = example.artifact_bucket
    return {
        "artifact-objects": [f"{bucket}/{example.pipeline.value('Name')}/Build/a1b2c3d"],
        "artifact-bucket": [bucket],
        "artifact-key": [example.artifact_key],
    }


def _ecs_resources(
    example: Example, account: str, cluster: str, service: str
) -> dict[str, list[str]]:
    region = example.region
    found = {
        "ecs-service": [f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}"],
        "ecs-cluster": [f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"],
    }
    located = example.by_name("AWS::ECS::Service", service)
    task_definition = None
    if located is not None:
        task_definition = example.by_arn(
            "AWS::ECS::TaskDefinition", located.value("TaskDefinition")
        )
    if task_definition is None:
        # An existing service: its task definition family is the service's own business.
        found["ecs-task-definition"] = [
            f"arn:aws:ecs:{region}:{account}:task-definition/{service}:2"
        ]
        return found
    family = task_definition.value("Family") or task_definition.lid.lower()
    found["ecs-task-definition"] = [f"arn:aws:ecs:{region}:{account}:task-definition/{family}:2"]
    found["task-roles"] = [
        arn
        for arn in (task_definition.value("TaskRoleArn"), task_definition.value("ExecutionRoleArn"))
        if arn
    ]
    return found


def _codedeploy_resources(
    example: Example, account: str, application: str, group: str
) -> dict[str, list[str]]:
    region = example.region
    config = "CodeDeployDefault.ECSAllAtOnce"
    for located in example.of_type("AWS::CodeDeploy::DeploymentGroup"):
        if located.resolver.name(located.lid) != group:
            continue
        # The group lives where its stack deploys (another region's environment: there).
        region = located.resolver.region
        if located.value("DeploymentConfigName"):
            config = located.value("DeploymentConfigName")
    return {
        "codedeploy-application": [
            f"arn:aws:codedeploy:{region}:{account}:application:{application}"
        ],
        "codedeploy-deployment-group": [
            f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{application}/{group}"
        ],
        "codedeploy-config": [f"arn:aws:codedeploy:{region}:{account}:deploymentconfig:{config}"],
    }


SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"


def stack_ssm_parameter_arns(example: Example, stack: str, region: str, account: str) -> list[str]:
    """The Parameter Store parameters the SSM-typed template parameters of `stack` name by
    default, as ARNs (AWS's public parameters, /aws/service/..., have no account in theirs)."""
    template = example.synthesized.templates.get(stack, {})
    found = []
    for parameter in template.get("Parameters", {}).values():
        if not parameter.get("Type", "").startswith(SSM_PARAMETER_TYPE):
            continue
        name = parameter["Default"]
        owner = "" if name.startswith("/aws/service/") else account
        found.append(f"arn:aws:ssm:{region}:{owner}:parameter{name}")
    return found


def action_resources(
    example: Example, action: dict[str, Any], account: str
) -> dict[str, list[str]]:
    """Resource kinds of runtime_contracts, resolved for one pipeline action."""
    config = action.get("Configuration", {})
    # An action in another region acts there (its Region).
    region = str(action.get("Region") or example.region)
    found = _artifact_resources(example, region)
    if "ClusterName" in config:
        found |= _ecs_resources(example, account, config["ClusterName"], config["ServiceName"])
    if "ApplicationName" in config:
        found |= _codedeploy_resources(
            example, account, config["ApplicationName"], config["DeploymentGroupName"]
        )
        # The blue/green action registers the task definition of taskdef.json: the family of
        # the deployment group's service, passing that service's roles.
        for located in example.of_type("AWS::CodeDeploy::DeploymentGroup"):
            if located.resolver.name(located.lid) != config["DeploymentGroupName"]:
                continue
            for service in located.value("ECSServices") or []:
                ecs = _ecs_resources(
                    example, account, service["ClusterName"], service["ServiceName"]
                )
                found |= {
                    k: v for k, v in ecs.items() if k in ("ecs-task-definition", "task-roles")
                }
    if "ProjectName" in config:
        found["codebuild-project"] = [
            f"arn:aws:codebuild:{region}:{account}:project/{config['ProjectName']}"
        ]
    if "FunctionName" in config:
        found["lambda-function"] = [
            f"arn:aws:lambda:{region}:{account}:function:{config['FunctionName']}"
        ]
    if "NotificationArn" in config:
        found["approval-topic"] = [config["NotificationArn"]]
    if "ConnectionArn" in config:
        found["connection"] = [config["ConnectionArn"]]
    if "RepositoryName" in config:
        found["codecommit-repository"] = [
            f"arn:aws:codecommit:{region}:{account}:{config['RepositoryName']}"
        ]
    if isinstance(config.get("StackName"), str):
        # A stack's ARN ends in the id CloudFormation gives it.
        found["cloudformation-stack"] = [
            f"arn:aws:cloudformation:{region}:{account}:stack/{config['StackName']}/0a1b2c3d"
        ]
        found["stack-ssm-parameters"] = stack_ssm_parameter_arns(
            example, config["StackName"], region, account
        )
    if isinstance(config.get("ChangeSetName"), str):
        found["change-set-name"] = [
            config["ChangeSetName"].replace("#{codepipeline.PipelineExecutionId}", EXECUTION_ID)
        ]
    if "RoleArn" in config:
        found["cloudformation-role"] = [config["RoleArn"]]
    if "S3Bucket" in config:
        found["source-bucket"] = [f"arn:aws:s3:::{config['S3Bucket']}"]
        found["source-object"] = [f"arn:aws:s3:::{config['S3Bucket']}/{config['S3ObjectKey']}"]
    return found


def action_type(action: dict[str, Any]) -> str:
    kind = action["ActionTypeId"]
    return f"{kind['Category']}/{kind['Owner']}/{kind['Provider']}"


def pipeline_action_obligations(example: Example) -> list[Obligation]:
    """Per pipeline action: its role's needs, and the pipeline role's right to assume it."""
    pipeline_role = example.pipeline_role
    found: list[Obligation] = []
    for stage, action in example.actions():
        role = example.role(action["RoleArn"]) if "RoleArn" in action else pipeline_role
        why = f"pipeline action {stage}/{action['Name']} ({action_type(action)})"
        needs = PIPELINE_ACTION_NEEDS[action_type(action)]
        needs += CLOUDFORMATION_MODE_NEEDS.get(
            action.get("Configuration", {}).get("ActionMode"), ()
        )
        # A CodeBuild action's project reads and writes the artifacts with its own role
        # (project_obligations); every other action does so with the action's role.
        touches_artifacts = action["ActionTypeId"]["Provider"] != "CodeBuild"
        if touches_artifacts and action.get("InputArtifacts"):
            needs += READ_ARTIFACTS
        if touches_artifacts and action.get("OutputArtifacts"):
            needs += WRITE_ARTIFACTS
        found += _expand(role, needs, action_resources(example, action, role.account), why)
        if role is not pipeline_role:
            found += _expand(
                pipeline_role,
                (PIPELINE_ASSUMES_ACTION_ROLES,),
                {"action-role": [role.arn]},
                f"pipeline role assuming the role of {stage}/{action['Name']}",
            )
    return found


def pipeline_rule_obligations(example: Example) -> list[Obligation]:
    """Per stage-condition rule (alarm gates, bakes, windows): the pipeline role's needs."""
    pipeline_role = example.pipeline_role
    found: list[Obligation] = []
    for stage in example.pipeline.value("Stages"):
        for key in ("BeforeEntry", "OnSuccess", "OnFailure"):
            for condition in (stage.get(key) or {}).get("Conditions", []):
                for rule in condition.get("Rules", []):
                    provider = rule["RuleTypeId"]["Provider"]
                    config = rule.get("Configuration", {})
                    role = example.role(rule["RoleArn"]) if "RoleArn" in rule else pipeline_role
                    resources = {}
                    if "AlarmName" in config:
                        # A rule in another region reads its alarm there (its Region).
                        where = rule.get("Region") or example.region
                        resources["alarm"] = [
                            f"arn:aws:cloudwatch:{where}:{role.account}:alarm:{config['AlarmName']}"
                        ]
                    why = f"rule {stage['Name']}/{key}/{rule['Name']} ({provider})"
                    found += _expand(role, PIPELINE_RULE_NEEDS[provider], resources, why)
    return found


def buildspec(project: Located) -> dict[str, Any]:
    text = project.value("Source").get("BuildSpec", "{}")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def buildspec_commands(spec: dict[str, Any]) -> list[str]:
    return [
        command
        for phase in spec.get("phases", {}).values()
        for command in phase.get("commands", [])
    ]


def project_environment(project: Located) -> dict[str, str]:
    variables = project.value("Environment").get("EnvironmentVariables", [])
    return {
        v["Name"]: str(v["Value"]) for v in variables if v.get("Type", "PLAINTEXT") == "PLAINTEXT"
    }


def project_resources(example: Example, project: Located) -> dict[str, list[str]]:
    account, region = project.resolver.account, project.resolver.region
    env = project_environment(project)
    found = _artifact_resources(example)
    logs = project.value("LogsConfig") or {}
    group = logs.get("CloudWatchLogs", {}).get(
        "GroupName", f"/aws/codebuild/{project.value('Name')}"
    )
    found["log-group"] = [f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:build-1"]
    repository = env.get("IMAGE_REPO_NAME") or env.get("REPOSITORY_URI", "").rsplit("/", 1)[-1]
    if repository:
        found["ecr-repository"] = [f"arn:aws:ecr:{region}:{account}:repository/{repository}"]
    if "PACKAGE_BUCKET" in env:
        bucket = f"arn:aws:s3:::{env['PACKAGE_BUCKET']}"
        found["package-object"] = [f"{bucket}/{env['PACKAGE_KEY']}"]
        found["package-bucket"] = [bucket]
        # Each action's environment key: in the package store, or in another region's
        # (DEPLOYED_BUCKET: a Lambda environment there, regional_support.py).
        found["deployed-packages"] = []
        for _, action in example.actions():
            if action.get("Configuration", {}).get("ProjectName") != project.value("Name"):
                continue
            variables = {
                v["name"]: v["value"]
                for v in json.loads(action["Configuration"].get("EnvironmentVariables", "[]"))
            }
            if "DEPLOYED_KEY" not in variables:
                continue
            target = f"arn:aws:s3:::{variables.get('DEPLOYED_BUCKET', env['PACKAGE_BUCKET'])}"
            found["deployed-packages"].append(f"{target}/{variables['DEPLOYED_KEY']}")
            if target not in found["package-bucket"]:
                found["package-bucket"].append(target)
    # The gate's alarms each Release-<env> MarkDeployed action of the project passes.
    found["gate-alarms"] = [
        f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
        for _, action in example.actions()
        if action.get("Configuration", {}).get("ProjectName") == project.value("Name")
        for variable in json.loads(action["Configuration"].get("EnvironmentVariables", "[]"))
        if variable["name"] == "GATE_ALARMS"
        for name in str(variable["value"]).splitlines()
    ]
    if "FUNCTION_NAME" in env:
        found["lambda-function"] = [
            f"arn:aws:lambda:{region}:{account}:function:{env['FUNCTION_NAME']}"
        ]
    if "CODEDEPLOY_APPLICATION" in env:
        found |= _codedeploy_resources(
            example, account, env["CODEDEPLOY_APPLICATION"], env["CODEDEPLOY_GROUP"]
        )
    return found


def project_obligations(example: Example) -> list[Obligation]:
    """Per CodeBuild project: logs and artifacts, plus what its buildspec's commands call."""
    found: list[Obligation] = []
    writes_output = {
        action["Configuration"]["ProjectName"]
        for _, action in example.actions()
        if "ProjectName" in action.get("Configuration", {}) and action.get("OutputArtifacts")
    }
    others = example.projects_of_other_pipelines()
    for project in example.of_type("AWS::CodeBuild::Project"):
        if project.value("Name") in others:
            continue  # judged with its own pipeline's store (the pull-request pipeline)
        role = example.role(project.value("ServiceRole"))
        resources = project_resources(example, project)
        commands = buildspec_commands(buildspec(project))
        why = f"CodeBuild project {project.value('Name')}"
        needs = CODEBUILD_PROJECT_NEEDS + READ_ARTIFACTS
        if project.value("Name") in writes_output:
            needs += WRITE_ARTIFACTS
        found += _expand(role, needs, resources, why)
        for kind in BUILDSPEC_COMMAND_KINDS:
            if any(kind.occurs_in(command) for command in commands):
                found += _expand(role, kind.needs, resources, f"{why} ({kind.name} command)")
    return found


def handler_of(function: Located) -> str | None:
    name = function.value("FunctionName") or ""
    for contract in HANDLER_CONTRACTS:
        if re.search(contract.function_name, name):
            return contract.name
    return None


def hooked_deployment_groups(example: Example, function: Located) -> list[str]:
    """The deployment groups whose deployments call `function` as a lifecycle hook: an ECS
    appspec (CONVEYOR_FILE_<path> of the build) or a Lambda deploy job (HOOK_FUNCTION) names it."""
    account = function.resolver.account
    names = (function.value("FunctionName"), function.arn)
    groups: list[str] = []
    for project in example.of_type("AWS::CodeBuild::Project"):
        env = project_environment(project)
        holders = {key for key, value in env.items() if any(name in value for name in names)}
        if "HOOK_FUNCTION" in holders:
            found = _codedeploy_resources(
                example, account, env["CODEDEPLOY_APPLICATION"], env["CODEDEPLOY_GROUP"]
            )
            groups += found["codedeploy-deployment-group"]
        for _, action in example.actions():
            config = action.get("Configuration", {})
            path = config.get("AppSpecTemplatePath")
            if path and "CONVEYOR_FILE_" + re.sub(r"[^A-Z0-9]", "_", path.upper()) in holders:
                found = _codedeploy_resources(
                    example, account, config["ApplicationName"], config["DeploymentGroupName"]
                )
                groups += found["codedeploy-deployment-group"]
    return sorted(set(groups))


def handler_obligations(example: Example) -> list[Obligation]:
    """Per conveyor handler function: the calls its code makes."""
    found: list[Obligation] = []
    contracts = {contract.name: contract for contract in HANDLER_CONTRACTS}
    for function in example.of_type("AWS::Lambda::Function"):
        handler = handler_of(function)
        if handler is None:
            continue
        role = example.role(function.value("Role"))
        env = (function.value("Environment") or {}).get("Variables", {})
        resources = {"pipeline": [example.pipeline.arn]}
        if "TOPIC_ARN" in env:
            resources["topic"] = [env["TOPIC_ARN"]]
        if "DEPLOYMENT_TABLE_NAME" in env:
            table = env["DEPLOYMENT_TABLE_NAME"]
            resources["deployment-table"] = [
                f"arn:aws:dynamodb:{example.region}:{role.account}:table/{table}"
            ]
            resources["deployment-table-index"] = [
                f"arn:aws:dynamodb:{example.region}:{role.account}:table/{table}/index/{TIME_INDEX}"
            ]
        if "IDEMPOTENCY_TABLE_NAME" in env:
            table = env["IDEMPOTENCY_TABLE_NAME"]
            resources["idempotency-table"] = [
                f"arn:aws:dynamodb:{example.region}:{role.account}:table/{table}"
            ]
        if handler in ("notify", "record_deployment"):
            # The CodeDeploy events they are sent: one per deployment group they map to an
            # environment (conveyor names each application after its one group).
            groups = json.loads(env.get("DEPLOYMENT_GROUP_ENVIRONMENTS") or "{}")
            resources["codedeploy-deployment-group"] = [
                arn
                for group in sorted(groups)
                for arn in _codedeploy_resources(example, role.account, group, group)[
                    "codedeploy-deployment-group"
                ]
            ]
        if handler == "notify":
            # The stacks whose change sets its approval notices summarize, each in its region.
            stacks = json.loads(env.get("CHANGE_SET_STACKS") or "{}")
            regions = json.loads(env.get("CHANGE_SET_REGIONS") or "{}")
            resources["cloudformation-stack"] = [
                f"arn:aws:cloudformation:{regions.get(stage, example.region)}:{role.account}:"
                f"stack/{stacks[stage]}/0a1b2c3d"
                for stage in sorted(stacks)
            ]
        if handler == "validate_http_hook":
            # No CodeDeploy group calls it: an ECS native blue/green lifecycle hook, which
            # answers in its return value and calls nothing.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html
            resources["codedeploy-deployment-group"] = hooked_deployment_groups(example, function)
        why = f"handler {handler} ({function.value('FunctionName')})"
        found += _expand(role, contracts[handler].needs, resources, why)
    return found


def schedule_obligations(example: Example) -> list[Obligation]:
    """Per EventBridge Scheduler schedule that starts an ECS task: what the scheduler does with
    its execution role (the task, the task's roles, tagging the task, the dead-letter queue)."""
    found: list[Obligation] = []
    for schedule in example.of_type("AWS::Scheduler::Schedule"):
        target = schedule.value("Target")
        parameters = target.get("EcsParameters")
        if parameters is None:
            continue
        role = example.role(target["RoleArn"])
        revision = parameters["TaskDefinitionArn"]
        cluster = target["Arn"]
        task = example.by_arn("AWS::ECS::TaskDefinition", revision)
        assert task is not None, f"{example.name}: {revision} is not a task definition of it"
        task_roles = [task.value("TaskRoleArn"), task.value("ExecutionRoleArn")]
        region, account = cluster.split(":")[3], cluster.split(":")[4]
        cluster_name = cluster.rsplit("/", 1)[-1]
        resources = {
            "ecs-cluster": [cluster],
            "task-definition": [revision],
            "task-roles": [r for r in task_roles if r],
            "task": [f"arn:aws:ecs:{region}:{account}:task/{cluster_name}/0123456789abcdef"],
        }
        needs = SCHEDULE_ECS_TARGET_NEEDS
        if parameters.get("PropagateTags") or parameters.get("EnableECSManagedTags"):
            needs += SCHEDULE_TAGGED_TASK_NEEDS
        queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if queue_arn is not None:
            queue = example.by_arn("AWS::SQS::Queue", queue_arn)
            assert queue is not None, f"{example.name}: {queue_arn} is not a queue of it"
            resources["dead-letter-queue"] = [queue_arn]
            key = queue.value("KmsMasterKeyId")
            if key is not None:
                resources["dead-letter-key"] = [key]
            needs += SCHEDULE_DEAD_LETTER_NEEDS
        why = f"schedule {schedule.value('Name')} (EventBridge Scheduler)"
        found += _expand(role, needs, resources, why)
    return found
