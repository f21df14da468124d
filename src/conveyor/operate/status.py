"""What a deployed pipeline is doing and what each environment runs.

- the latest executions: ListPipelineExecutions;
- each stage's latest run and its V2 conditions (before entry, on success, on failure):
  GetPipelineState
  (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineState.html);
- each environment: its stack (DescribeStacks) gives the release it runs (the image digest or
  code object the pipeline passed as a parameter), its URL (the stack's output) and when it
  last changed; the commit comes from the stage's latest execution.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from conveyor.operate.executions import Execution, detail, listed
from conveyor.operate.names import (
    CODE_BUCKET_PARAMETER,
    CODE_KEY_PARAMETER,
    CODE_VERSION_PARAMETER,
    IMAGE_PARAMETER,
    URL_OUTPUT,
    EnvironmentNames,
)

CONDITIONS = {
    "before_entry": "beforeEntryConditionState",
    "on_success": "onSuccessConditionState",
    "on_failure": "onFailureConditionState",
}


class StackNotReadableError(Exception):
    """Another account's stack cannot be read; the message says what to do instead."""


@dataclass(frozen=True)
class StageStatus:
    name: str
    status: str | None
    execution_id: str | None
    type: str | None
    # Condition kind (before_entry, on_success, on_failure) -> status of its latest evaluation.
    conditions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "execution_id": self.execution_id,
            "type": self.type,
            "conditions": self.conditions,
        }


@dataclass(frozen=True)
class EnvironmentStatus:
    name: str
    stage: str
    stack: str
    account: str | None = None
    region: str | None = None  # another region's than the pipeline's
    stack_status: str | None = None  # None: not read (another account or region)
    not_read: str | None = None  # why another account's (or region's) stack was not read
    image: str | None = None
    code: str | None = None
    url: str | None = None
    updated: datetime | None = None
    last_run: StageStatus | None = None
    execution: Execution | None = None

    @property
    def deployed(self) -> bool:
        return self.stack_status not in (None, "NOT_DEPLOYED")

    @property
    def release(self) -> str | None:
        return self.image or self.code

    def to_json(self) -> dict[str, Any]:
        execution = self.execution
        return {
            "name": self.name,
            "stage": self.stage,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "stack_status": self.stack_status,
            "not_read": self.not_read,
            "image": self.image,
            "code": self.code,
            "url": self.url,
            "updated": self.updated.isoformat() if self.updated else None,
            "stage_status": self.last_run.status if self.last_run else None,
            "execution_id": self.last_run.execution_id if self.last_run else None,
            "commit": execution.commit if execution else None,
            "commit_summary": execution.summary if execution else None,
        }


@dataclass(frozen=True)
class PipelineStatus:
    pipeline: str
    version: int | None
    executions: list[Execution]
    stages: list[StageStatus]
    environments: list[EnvironmentStatus]

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "pipeline_version": self.version,
            "executions": [e.to_json() for e in self.executions],
            "stages": [s.to_json() for s in self.stages],
            "environments": [e.to_json() for e in self.environments],
        }


def _stage(data: Mapping[str, Any]) -> StageStatus:
    latest = data.get("latestExecution") or {}
    conditions: dict[str, str] = {}
    for kind, key in CONDITIONS.items():
        state = data.get(key)
        evaluated = state.get("latestExecution") if isinstance(state, Mapping) else None
        if isinstance(evaluated, Mapping) and evaluated.get("status"):
            conditions[kind] = str(evaluated["status"])
    return StageStatus(
        name=str(data.get("stageName", "")),
        status=latest.get("status"),
        execution_id=latest.get("pipelineExecutionId"),
        type=latest.get("type"),
        conditions=conditions,
    )


def read_pipeline(
    client: Any, pipeline: str, *, limit: int
) -> tuple[int | None, list[StageStatus], list[Execution]]:
    state = client.get_pipeline_state(name=pipeline)
    version = state.get("pipelineVersion")
    stages = [_stage(s) for s in state.get("stageStates", [])]
    executions = list(listed(client, pipeline, page_size=limit, most=limit)) if limit else []
    return (version if isinstance(version, int) else None), stages, executions


def read_stack(client: Any, stack: str) -> dict[str, Any] | None:
    """The stack's description, or None when it does not exist (not deployed yet)."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        response = client.describe_stacks(StackName=stack)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        # CloudFormation answers a missing stack with ValidationError "... does not exist".
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            return None
        raise
    stacks = response.get("Stacks", [])
    return dict(stacks[0]) if stacks else None


def _pairs(items: Any, key: str, value: str) -> dict[str, str]:
    return {
        str(item[key]): str(item[value])
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, Mapping) and key in item and value in item
    }


def environment_status(
    names: EnvironmentNames,
    stack: dict[str, Any] | None,
    last_run: StageStatus | None,
    execution: Execution | None,
    *,
    read: bool = True,
    not_read: str | None = None,
) -> EnvironmentStatus:
    base = EnvironmentStatus(
        name=names.name,
        stage=names.stage,
        stack=names.stack,
        account=names.account,
        region=names.region,
        last_run=last_run,
        execution=execution,
    )
    if not read:
        return replace(base, not_read=not_read)
    if stack is None:
        return replace(base, stack_status="NOT_DEPLOYED")
    parameters = _pairs(stack.get("Parameters"), "ParameterKey", "ParameterValue")
    outputs = _pairs(stack.get("Outputs"), "OutputKey", "OutputValue")
    code = None
    if CODE_KEY_PARAMETER in parameters:
        bucket = parameters.get(CODE_BUCKET_PARAMETER, "")
        code = f"s3://{bucket}/{parameters[CODE_KEY_PARAMETER]}"
        # Each release is a version of the same object: without it every release looks alike.
        if parameters.get(CODE_VERSION_PARAMETER):
            code += f"?versionId={parameters[CODE_VERSION_PARAMETER]}"
    return replace(
        base,
        stack_status=str(stack.get("StackStatus", "")),
        image=parameters.get(IMAGE_PARAMETER),
        code=code,
        url=outputs.get(URL_OUTPUT),
        updated=stack.get("LastUpdatedTime") or stack.get("CreationTime"),
    )


def read_status(
    codepipeline: Any,
    cloudformation: Any,
    pipeline: str,
    environments: list[EnvironmentNames],
    *,
    limit: int = 5,
    other_account: Callable[[EnvironmentNames], Any] | None = None,
    in_region: Callable[[str], Any] | None = None,
) -> PipelineStatus:
    """`other_account` gives a CloudFormation client in an environment's own account (or
    raises StackNotReadableError saying why not); `in_region` one of the pipeline's account in
    another region; without them those stacks are not read."""
    from botocore.exceptions import ClientError

    version, stages, executions = read_pipeline(codepipeline, pipeline, limit=limit)
    by_stage = {s.name: s for s in stages}
    known = {e.id: e for e in executions}
    found: list[EnvironmentStatus] = []
    for names in environments:
        last_run = by_stage.get(names.stage)
        execution = None
        if last_run is not None and last_run.execution_id:
            execution = known.get(last_run.execution_id)
            if execution is None:  # older than the executions listed
                execution = detail(codepipeline, pipeline, last_run.execution_id)
                known[execution.id] = execution
        client = cloudformation
        if names.account is not None:
            # Another account's stack: the pipeline account's credentials cannot read it.
            try:
                if other_account is None:
                    raise StackNotReadableError("the pipeline account's credentials cannot read it")
                client = other_account(names)
            except StackNotReadableError as exc:
                found.append(
                    environment_status(
                        names, None, last_run, execution, read=False, not_read=str(exc)
                    )
                )
                continue
        elif names.region is not None:
            # Another region's stack: asked in the pipeline's region, CloudFormation answers
            # that it does not exist.
            if in_region is None:
                why = f"in {names.region}, not read: no client there"
                found.append(
                    environment_status(names, None, last_run, execution, read=False, not_read=why)
                )
                continue
            client = in_region(names.region)
        try:
            stack = read_stack(client, names.stack)
        except ClientError as exc:
            if client is cloudformation or names.account is None:
                raise
            code = exc.response.get("Error", {}).get("Code", "")
            why = f"{names.deploy_role} in account {names.account} may not describe it ({code})"
            found.append(
                environment_status(names, None, last_run, execution, read=False, not_read=why)
            )
            continue
        found.append(environment_status(names, stack, last_run, execution))
    return PipelineStatus(pipeline, version, executions, stages, found)


# Reading another account's stack: `conveyor status` assumes the role the pipeline deploys that
# environment as (`{app}-deploy-{env}`, made by `conveyor bootstrap --account`), which trusts
# the pipeline's account and may call cloudformation:DescribeStacks on the stack. The caller
# needs sts:AssumeRole on that role in its own identity policy:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
SESSION_NAME = "conveyor-status"


def role_arn(names: EnvironmentNames, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{names.account}:role/{names.deploy_role}"


def assumed_cloudformation(
    sts: Any, names: EnvironmentNames, client: Callable[[Mapping[str, str]], Any]
) -> Any:
    """A CloudFormation client in `names`' account, through its deploy role; `client` makes one
    from temporary credentials. Raises StackNotReadableError saying what to do."""
    from botocore.exceptions import ClientError

    partition = _partition(sts.meta.region_name or "")
    arn = role_arn(names, partition)
    try:
        response = sts.assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise StackNotReadableError(
            f"could not assume {arn} ({code}): it exists once `conveyor bootstrap --account "
            f"{names.account}` deployed it; allow sts:AssumeRole on it to whoever runs conveyor "
            f"status, or run conveyor status with a --profile of account {names.account}"
        ) from exc
    credentials = response["Credentials"]
    return client(
        {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    )


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
