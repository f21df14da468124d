"""What AWS executes on a generated pipeline's behalf, and which IAM actions each step needs.

Pure data (no aws_cdk, no boto3): `conveyor check` rules and tests/contracts read the same
table. Each entry names the API actions a principal performs, the resource they act on (a
*resource kind* the caller resolves to an ARN: the ECS service the action names, the artifact
bucket's objects, ...), and the AWS page the requirement comes from, so the next reader can
re-check it when AWS changes a service.

Resource kinds:
  "*"                      actions that support no resource-level permission
  artifact-object(s)       objects in the pipeline's artifact bucket (``<bucket>/*``)
  artifact-bucket          the artifact bucket itself
  artifact-key             the KMS key that encrypts the artifact bucket
  ecs-service              the service named by ClusterName/ServiceName
  ecs-cluster              the cluster named by ClusterName
  ecs-task-definition      any revision of any task definition family (``task-definition/*``)
  task-roles               the task and execution roles the service's task definition names
  codebuild-project        the project named by ProjectName
  lambda-function          the function named by FunctionName (or by the handler's env)
  approval-topic           the topic named by an approval's NotificationArn
  connection               the CodeStar connection named by ConnectionArn
  codecommit-repository    the repository named by RepositoryName
  source-bucket/object     the S3 source bucket and its S3ObjectKey
  ecr-repository           the image repository the build pushes to
  log-group                the project's or function's log group
  codedeploy-application / codedeploy-deployment-group / codedeploy-config
  deployment-table         the deployment history table
  deployment-table-index   its index of each environment's records in start order (by-start)
  topic                    the notification topic a handler publishes to
  pipeline                 the pipeline a handler reads
  event-bus                the account's default event bus
  cloudformation-stack     the stack named by a CloudFormation action's StackName
  cloudformation-role      the service role named by its RoleArn (passed to CloudFormation)
  package-object           the Lambda package object a build uploads (PACKAGE_BUCKET/PACKAGE_KEY)
  package-bucket           the bucket holding it (PACKAGE_BUCKET)
  deployed-packages        each Lambda environment's copy of it (the DEPLOYED_KEY its
                           MarkDeployed action passes)
  gate-alarms              the alarms of an environment's gate, which its Release-<env>
                           MarkDeployed action passes (GATE_ALARMS) and reads again
  stack-ssm-parameters     the Parameter Store parameters the SSM-typed template parameters of
                           the action's stack name (their defaults)
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    """Actions a principal performs on one kind of resource, and where AWS says so."""

    actions: tuple[str, ...]
    on: str
    source: str
    # Request context AWS adds for these calls (condition keys a policy may test).
    context: tuple[tuple[str, str], ...] = ()


ACTION_REFERENCE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference.html"
_ECS_ACTION = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECS.html"
_ECS_BG_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECSbluegreen.html"
)
_CODEBUILD_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html"
)
_LAMBDA_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Lambda.html"
)
_CONNECTION_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/"
    "action-reference-CodestarConnectionSource.html"
)
_CODECOMMIT_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeCommit.html"
)
_S3_SOURCE_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html"
)
# The action's service-role permissions for CloudFormation (stack calls, iam:PassRole of the
# stack's role): https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role
_CLOUDFORMATION_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html"
)
_APPROVAL_ACTION = "https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals-service-role-permissions.html"
# Every action reads its input artifacts from and writes its outputs to the artifact store,
# through the action's role, with the bucket's KMS key.
_ARTIFACT_STORE = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html"
    "#how-to-custom-role-policy"
)
# ECS authorizes tags on create: RegisterTaskDefinition with tags needs ecs:TagResource too.
_ECS_TAG_ON_CREATE = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html"
)
_PASS_TASK_ROLES = (("iam:PassedToService", "ecs-tasks.amazonaws.com"),)
# The tag-on-create authorization names the creating call in ecs:CreateAction.
_TAG_ON_REGISTER = (("ecs:CreateAction", "RegisterTaskDefinition"),)

READ_ARTIFACTS = (
    Need(("s3:GetObject",), "artifact-objects", _ARTIFACT_STORE),
    Need(("kms:Decrypt",), "artifact-key", _ARTIFACT_STORE),
)
WRITE_ARTIFACTS = (
    Need(("s3:PutObject",), "artifact-objects", _ARTIFACT_STORE),
    Need(("kms:GenerateDataKey", "kms:Decrypt"), "artifact-key", _ARTIFACT_STORE),
)

# Per CodePipeline action type ("Category/Owner/Provider"): what the action's role performs,
# from the action's "Service role policy permissions" section. Artifact access is added from
# READ_ARTIFACTS / WRITE_ARTIFACTS by whether the action has input or output artifacts.
PIPELINE_ACTION_NEEDS: dict[str, tuple[Need, ...]] = {
    "Deploy/AWS/ECS": (
        Need(("ecs:DescribeServices", "ecs:UpdateService"), "ecs-service", _ECS_ACTION),
        Need(("ecs:DescribeTaskDefinition",), "*", _ECS_ACTION),
        Need(("ecs:RegisterTaskDefinition",), "ecs-task-definition", _ECS_ACTION),
        Need(("ecs:TagResource",), "ecs-task-definition", _ECS_TAG_ON_CREATE, _TAG_ON_REGISTER),
        Need(("ecs:DescribeTasks", "ecs:ListTasks"), "*", _ECS_ACTION),
        Need(("iam:PassRole",), "task-roles", _ECS_ACTION, _PASS_TASK_ROLES),
    ),
    "Deploy/AWS/CodeDeployToECS": (
        Need(
            (
                "codedeploy:CreateDeployment",
                "codedeploy:GetDeployment",
            ),
            "codedeploy-deployment-group",
            _ECS_BG_ACTION,
        ),
        Need(
            (
                "codedeploy:GetApplication",
                "codedeploy:GetApplicationRevision",
                "codedeploy:RegisterApplicationRevision",
            ),
            "codedeploy-application",
            _ECS_BG_ACTION,
        ),
        Need(("codedeploy:GetDeploymentConfig",), "codedeploy-config", _ECS_BG_ACTION),
        # Tag-on-create applies only when taskdef.json carries tags; conveyor's carry none.
        Need(("ecs:RegisterTaskDefinition",), "ecs-task-definition", _ECS_BG_ACTION),
        Need(("iam:PassRole",), "task-roles", _ECS_BG_ACTION, _PASS_TASK_ROLES),
    ),
    "Build/AWS/CodeBuild": (
        Need(
            ("codebuild:StartBuild", "codebuild:BatchGetBuilds"),
            "codebuild-project",
            _CODEBUILD_ACTION,
        ),
    ),
    "Test/AWS/CodeBuild": (
        Need(
            ("codebuild:StartBuild", "codebuild:BatchGetBuilds"),
            "codebuild-project",
            _CODEBUILD_ACTION,
        ),
    ),
    "Invoke/AWS/Lambda": (
        Need(("lambda:InvokeFunction",), "lambda-function", _LAMBDA_ACTION),
        Need(("lambda:ListFunctions",), "*", _LAMBDA_ACTION),
    ),
    "Source/AWS/CodeStarSourceConnection": (
        Need(("codestar-connections:UseConnection",), "connection", _CONNECTION_ACTION),
    ),
    "Source/AWS/CodeCommit": (
        Need(
            (
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:UploadArchive",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:CancelUploadArchive",
            ),
            "codecommit-repository",
            _CODECOMMIT_ACTION,
        ),
    ),
    "Source/AWS/S3": (
        Need(("s3:GetObject", "s3:GetObjectVersion"), "source-object", _S3_SOURCE_ACTION),
        Need(("s3:GetBucketVersioning",), "source-bucket", _S3_SOURCE_ACTION),
    ),
    "Approval/AWS/Manual": (Need(("sns:Publish",), "approval-topic", _APPROVAL_ACTION),),
    # What it calls depends on its ActionMode: CLOUDFORMATION_MODE_NEEDS.
    "Deploy/AWS/CloudFormation": (),
}

_CLOUDFORMATION_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html"
)
_PASS_TO_CLOUDFORMATION = Need(("iam:PassRole",), "cloudformation-role", _CLOUDFORMATION_ACTION)
# CloudFormation reads an SSM-typed template parameter's value when a stack is created or
# updated or a change set created, with the caller's credentials (the CDK bootstrap's deploy
# role holds ssm:GetParameters for CreateChangeSet "to evaluate any SSM parameters").
# Executing a change set reuses the values resolved at its creation.
RESOLVE_SSM_PARAMETERS = Need(
    ("ssm:GetParameters",),
    "stack-ssm-parameters",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/systems-manager-parameter-types.html",
)
# Per ActionMode of a CloudFormation action: the calls its role makes on the stack, and passing
# the stack's service role to CloudFormation.
CLOUDFORMATION_MODE_NEEDS: dict[str, tuple[Need, ...]] = {
    "CREATE_UPDATE": (
        Need(
            (
                "cloudformation:DescribeStacks",
                "cloudformation:CreateStack",
                "cloudformation:UpdateStack",
            ),
            "cloudformation-stack",
            _CLOUDFORMATION_ACTION,
        ),
        _PASS_TO_CLOUDFORMATION,
        RESOLVE_SSM_PARAMETERS,
    ),
    "CHANGE_SET_REPLACE": (
        Need(
            (
                "cloudformation:DescribeStacks",
                "cloudformation:CreateChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DeleteChangeSet",
            ),
            "cloudformation-stack",
            _CLOUDFORMATION_ACTION,
        ),
        _PASS_TO_CLOUDFORMATION,
        RESOLVE_SSM_PARAMETERS,
    ),
    "CHANGE_SET_EXECUTE": (
        Need(
            (
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
            ),
            "cloudformation-stack",
            _CLOUDFORMATION_ACTION,
        ),
    ),
}

# The pipeline's own service role assumes each action's role.
# https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html
PIPELINE_ASSUMES_ACTION_ROLES = Need(
    ("sts:AssumeRole",),
    "action-role",
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html",
)

# Stage-condition rules run with the pipeline's role (a rule without its own RoleArn): a
# CloudWatchAlarm rule reads its alarm's state; a DeploymentWindow rule calls nothing.
# https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
PIPELINE_RULE_NEEDS: dict[str, tuple[Need, ...]] = {
    "CloudWatchAlarm": (
        Need(
            ("cloudwatch:DescribeAlarms",),
            "alarm",
            "https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html",
        ),
    ),
    "DeploymentWindow": (),
}

# What EventBridge Scheduler does with a schedule's execution role when the target is ECS
# RunTask: run the task definition (in the target cluster: ECS gives RunTask the ecs:cluster
# key), pass the task's roles to ECS, tag the task it creates when the target propagates tags
# (tag-on-create), and send a run it could not start to the dead-letter queue, encrypting the
# message with the queue's key (an SQS producer of a KMS-encrypted queue needs
# kms:GenerateDataKey and kms:Decrypt).
_SCHEDULER_ECS = (
    "https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html"
)
_SCHEDULER_ROLE = (
    "https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html"
    "#setting-up-execution-role"
)
_ECS_EVENTS_ROLE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html"
_SCHEDULER_DLQ = (
    "https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html"
)
_SQS_KMS = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-key-management.html"
)
SCHEDULE_ECS_TARGET_NEEDS: tuple[Need, ...] = (
    Need(("ecs:RunTask",), "task-definition", _SCHEDULER_ECS),
    Need(("iam:PassRole",), "task-roles", _ECS_EVENTS_ROLE, _PASS_TASK_ROLES),
)
SCHEDULE_TAGGED_TASK_NEEDS: tuple[Need, ...] = (
    Need(("ecs:TagResource",), "task", _ECS_EVENTS_ROLE, (("ecs:CreateAction", "RunTask"),)),
)
SCHEDULE_DEAD_LETTER_NEEDS: tuple[Need, ...] = (
    Need(("sqs:SendMessage",), "dead-letter-queue", _SCHEDULER_DLQ),
    Need(("kms:GenerateDataKey", "kms:Decrypt"), "dead-letter-key", _SQS_KMS),
)
SCHEDULER_TRUST = _SCHEDULER_ROLE

_CODEBUILD_ROLE = (
    "https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html"
)
# Every CodeBuild project writes its logs; it reads its input artifacts, and writes outputs when
# its pipeline action has some (READ_ARTIFACTS / WRITE_ARTIFACTS).
CODEBUILD_PROJECT_NEEDS: tuple[Need, ...] = (
    Need(("logs:CreateLogStream", "logs:PutLogEvents"), "log-group", _CODEBUILD_ROLE),
)

_ECR_AUTH = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html"
_ECR_PUSH = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html"
_ECR_PULL = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-pull-iam.html"
_ECR_API = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html"
_LAMBDA_API = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html"
)
_CODEDEPLOY_API = "https://docs.aws.amazon.com/codedeploy/latest/userguide/auth-and-access-control-permissions-reference.html"
_SSM_API = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html"
)

ECR_PUSH = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
ECR_PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


@dataclass(frozen=True)
class CommandKind:
    """A kind of buildspec command recognised by a pattern, and what it needs."""

    name: str
    pattern: str
    needs: tuple[Need, ...]

    def occurs_in(self, command: str) -> bool:
        return re.search(self.pattern, command) is not None


# Per buildspec command kind. `aws <service> <operation>` calls are listed one by one (the CLI
# operation name maps to the API action of the same name).
BUILDSPEC_COMMAND_KINDS: tuple[CommandKind, ...] = (
    CommandKind(
        # A Lambda build uploads the function's package; S3 encrypts it with the bucket's
        # key on the caller's behalf (kms:GenerateDataKey through S3).
        "s3-put-package",
        r"aws s3api put-object",
        (
            Need(
                ("s3:PutObject",),
                "package-object",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html",
            ),
            Need(
                ("kms:GenerateDataKey",),
                "artifact-key",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
            ),
        ),
    ),
    CommandKind(
        # A Lambda environment's MarkDeployed job looks up the build's package version and
        # the environment's copy; 404 (not there) rather than 403 needs s3:ListBucket.
        "s3-head-package",
        r"aws s3api head-object",
        (
            Need(
                ("s3:GetObject", "s3:GetObjectVersion"),
                "package-object",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html",
            ),
            Need(
                ("s3:GetObject", "s3:GetObjectVersion"),
                "deployed-packages",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html",
            ),
            Need(
                ("s3:ListBucket",),
                "package-bucket",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html",
            ),
        ),
    ),
    CommandKind(
        # ... and, rolling back to a release whose build version expired, lists the versions
        # of the environment's copy.
        "s3-list-package-versions",
        r"aws s3api list-object-versions",
        (
            Need(
                ("s3:ListBucketVersions",),
                "package-bucket",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html",
            ),
        ),
    ),
    CommandKind(
        # ... then copies a version of the package to the environment's key; S3 decrypts the
        # source and encrypts the copy with the bucket's key on the caller's behalf.
        "s3-copy-package",
        r"aws s3api copy-object",
        (
            Need(
                ("s3:GetObject", "s3:GetObjectVersion"),
                "package-object",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html",
            ),
            Need(
                ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"),
                "deployed-packages",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html",
            ),
            Need(
                ("kms:Decrypt", "kms:GenerateDataKey"),
                "artifact-key",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
            ),
        ),
    ),
    CommandKind(
        # Release-<env>'s MarkDeployed reads its gate's alarms again before it does anything
        # (buildspec.gate_alarm_commands); DescribeAlarms is authorized per alarm ARN.
        "cloudwatch-describe-gate-alarms",
        r"aws cloudwatch describe-alarms",
        (
            Need(
                ("cloudwatch:DescribeAlarms",),
                "gate-alarms",
                "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html",
            ),
        ),
    ),
    CommandKind(
        "ecr-login",
        r"aws ecr get-login-password",
        (Need(("ecr:GetAuthorizationToken",), "*", _ECR_AUTH),),
    ),
    CommandKind(
        "docker-push",
        r"docker (buildx build [^;&|]*--push|push)\b",
        (Need(ECR_PUSH + ECR_PULL, "ecr-repository", _ECR_PUSH),),
    ),
    CommandKind(
        # buildx's registry cache reads and writes cache manifests in the same repository.
        "registry-cache",
        r"--cache-(from|to) [\"']?type=registry",
        (Need(ECR_PULL + ECR_PUSH, "ecr-repository", _ECR_PULL),),
    ),
    CommandKind(
        "ecr-describe-images",
        r"aws ecr describe-images",
        (Need(("ecr:DescribeImages",), "ecr-repository", _ECR_API),),
    ),
    CommandKind(
        "ssm-parameters",
        r"aws ssm get-parameters?\b",
        (Need(("ssm:GetParameters",), "ssm-parameter", _SSM_API),),
    ),
    CommandKind(
        "lambda-get-alias",
        r"aws lambda get-alias",
        (Need(("lambda:GetAlias",), "lambda-function", _LAMBDA_API),),
    ),
    CommandKind(
        "lambda-update-code",
        r"aws lambda update-function-code",
        (
            Need(
                ("lambda:UpdateFunctionCode", "lambda:PublishVersion"),
                "lambda-function",
                _LAMBDA_API,
            ),
        ),
    ),
    CommandKind(
        # The waiter polls GetFunctionConfiguration on the published version.
        "lambda-wait-version",
        r"aws lambda wait published-version-active",
        (Need(("lambda:GetFunctionConfiguration",), "lambda-function", _LAMBDA_API),),
    ),
    CommandKind(
        "codedeploy-create-deployment",
        r"aws deploy create-deployment",
        (
            Need(("codedeploy:CreateDeployment",), "codedeploy-deployment-group", _CODEDEPLOY_API),
            Need(
                ("codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision"),
                "codedeploy-application",
                _CODEDEPLOY_API,
            ),
            Need(("codedeploy:GetDeploymentConfig",), "codedeploy-config", _CODEDEPLOY_API),
        ),
    ),
    CommandKind(
        "codedeploy-get-deployment",
        r"aws deploy get-deployment(\s|$)",
        (Need(("codedeploy:GetDeployment",), "codedeploy-deployment-group", _CODEDEPLOY_API),),
    ),
)

# The CLI call `aws <service> <operation>` as the API action it performs, for recorded calls.
CLI_SERVICE_PREFIX: dict[str, str] = {"deploy": "codedeploy", "s3api": "s3"}

_HANDLERS = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"
_JOB_RESULT = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html"
)
_HOOK_STATUS = "https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html"
# Powertools' idempotency record: PutItem (conditional), GetItem, UpdateItem, and DeleteItem when
# the decision raised (https://docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/
# #iam-permissions); the DynamoDB actions themselves:
_DYNAMODB_API = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html"
_IDEMPOTENCY_RECORD = Need(
    ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    "idempotency-table",
    _DYNAMODB_API,
)
# notify and record_deployment read a CodeDeploy deployment's error and rollback (the reason
# in a notice, the rollback in the history); the action's resource is the deployment group.
_READ_DEPLOYMENTS = Need(
    ("codedeploy:GetDeployment",), "codedeploy-deployment-group", _CODEDEPLOY_API
)


@dataclass(frozen=True)
class HandlerContract:
    """A conveyor handler: how its function is recognised, and the calls its code makes."""

    name: str
    function_name: str  # regex on the function's FunctionName
    needs: tuple[Need, ...]


# Per handler, from its boto3 calls (src/conveyor/handlers/<name>/app.py). Every handler invoked
# by a pipeline action reports its result back (put_job_*_result).
HANDLER_CONTRACTS: tuple[HandlerContract, ...] = (
    # validate_http as a CodeDeploy lifecycle hook reports to CodeDeploy, not to CodePipeline.
    HandlerContract(
        "validate_http_hook",
        r"-validate-http-.*-hook$",
        (
            Need(
                ("codedeploy:PutLifecycleEventHookExecutionStatus",),
                "codedeploy-deployment-group",
                _HOOK_STATUS,
            ),
        ),
    ),
    HandlerContract(
        "scan_gate",
        r"-scan-gate$",
        (
            Need(
                ("codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"),
                "*",
                _JOB_RESULT,
            ),
        ),
    ),
    HandlerContract(
        "validate_http",
        r"-validate-http-",
        (
            Need(
                ("codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"),
                "*",
                _JOB_RESULT,
            ),
            _IDEMPOTENCY_RECORD,
        ),
    ),
    HandlerContract(
        "record_deployment",
        r"-record-deployment$",
        (
            Need(
                ("codepipeline:GetPipelineExecution", "codepipeline:ListActionExecutions"),
                "pipeline",
                _HANDLERS,
            ),
            Need(("dynamodb:UpdateItem",), "deployment-table", _HANDLERS),
            # A succeeded stage rollback finds the releases it replaced in its environment's
            # records, newest first (stage_rollback_marks); a Query of an index is authorized
            # on the index's ARN.
            Need(("dynamodb:Query",), "deployment-table-index", _DYNAMODB_API),
            _READ_DEPLOYMENTS,
        ),
    ),
    HandlerContract(
        "notify",
        r"-notify-",
        (
            Need(("codepipeline:GetPipelineExecution",), "pipeline", _HANDLERS),
            Need(("sns:Publish",), "topic", _HANDLERS),
            _READ_DEPLOYMENTS,
            _IDEMPOTENCY_RECORD,
            # An approval notice summarizes its environment's change set (CHANGE_SET_STACKS);
            # the action's resource is the stack.
            Need(
                ("cloudformation:DescribeChangeSet",),
                "cloudformation-stack",
                "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html",
            ),
        ),
    ),
    HandlerContract(
        "watch_executions",
        r"-watch-executions$",
        (
            Need(("codepipeline:ListPipelineExecutions",), "pipeline", _HANDLERS),
            # Its metric is an embedded-metric-format line in its own log group: no
            # cloudwatch:PutMetricData call (issue 17, Powertools Metrics).
        ),
    ),
)

# CodeDeploy's and ECS's deployment events in an environment's own account reach the pipeline
# account's default bus (history, rollback notices): the forwarding rule's role puts them there,
# and the bus's policy admits that account, for that source.
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
FORWARD_EVENTS_NEEDS: tuple[Need, ...] = tuple(
    Need(
        ("events:PutEvents",),
        "event-bus",
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html",
        (("events:source", source),),
    )
    for source in ("aws.codedeploy", "aws.ecs")
)

# Services that publish to an SNS topic on a template's behalf, by the resource that makes them
# publish. An explicit topic policy replaces SNS's default one, so each must be allowed there,
# and on the topic's KMS key (kms:GenerateDataKey*, kms:Decrypt).
# https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
SERVICE_PUBLISHERS: dict[str, str] = {
    "AWS::CloudWatch::Alarm": "cloudwatch.amazonaws.com",
    "AWS::Events::Rule": "events.amazonaws.com",
    "AWS::CodeStarNotifications::NotificationRule": "codestar-notifications.amazonaws.com",
}
PUBLISH_NEEDS: tuple[Need, ...] = (
    Need(
        ("sns:Publish",),
        "topic",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html",
    ),
)
ENCRYPTED_PUBLISH_NEEDS: tuple[Need, ...] = (
    Need(
        ("kms:GenerateDataKey", "kms:Decrypt"),
        "topic-key",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services",
    ),
)
