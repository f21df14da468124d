"""Deployment history: one DynamoDB record per pipeline execution and per environment deploy.

Fed by EventBridge (CodePipeline pipeline/stage execution state changes, CodeDeploy deployment
state changes). Events arrive at least once and in any order, so every write is a conditional
update whose result depends only on the set of events seen (prevents FM74 gaps and lies).
"""

# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:
    from . import common
else:  # Lambda imports app.py as a top-level module from the asset folder
    import common

logger = common.get_logger("conveyor.record_deployment")

PIPELINE_EXECUTION = "CodePipeline Pipeline Execution State Change"
STAGE_EXECUTION = "CodePipeline Stage Execution State Change"
CODEDEPLOY_DEPLOYMENT = "CodeDeploy Deployment State-change Notification"

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "CANCELED", "SUPERSEDED"})
_PIPELINE_STATES = {
    "STARTED": "IN_PROGRESS",
    "RESUMED": "IN_PROGRESS",
    "STOPPING": "STOPPING",
    "STOPPED": "STOPPED",
    "SUCCEEDED": "SUCCEEDED",
    "FAILED": "FAILED",
    "CANCELED": "CANCELED",
    "SUPERSEDED": "SUPERSEDED",
}
_CODEDEPLOY_STATES = {
    "START": "IN_PROGRESS",
    # READY: blue/green replacement is up and waiting for traffic to be rerouted.
    "READY": "IN_PROGRESS",
    "SUCCESS": "SUCCEEDED",
    "FAILURE": "FAILED",
    "STOP": "STOPPED",
}
# Identifier formats from the service APIs; anything else cannot be a real event and would only
# make DynamoDB reject the key.
_EXECUTION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DEPLOYMENT_ID = re.compile(r"d-[A-Z0-9]{9}")
_PIPELINE_NAME = re.compile(r"[A-Za-z0-9.@_-]{1,100}")
_RANK = {"IN_PROGRESS": 1, "STOPPING": 2}
# Output or pipeline variables that carry what was deployed (see README).
_ARTIFACT_VARIABLES = {"IMAGE_DIGEST": "image_digest", "FUNCTION_VERSION": "function_version"}


@dataclass(frozen=True)
class Config:
    table: str
    app: str
    stage_environments: dict[str, str]
    group_environments: dict[str, str]

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            table=common.require_env("DEPLOYMENT_TABLE_NAME"),
            app=common.require_env("APP_NAME"),
            stage_environments=common.env_mapping("STAGE_ENVIRONMENTS"),
            group_environments=common.env_mapping("DEPLOYMENT_GROUP_ENVIRONMENTS"),
        )


@dataclass(frozen=True)
class Observation:
    """One event's view of one record: its static attributes and the state it reports."""

    pk: str
    sk: str
    at: datetime
    outcome: str
    attributes: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    rolled_back: bool = False

    @property
    def terminal(self) -> bool:
        return self.outcome in TERMINAL

    @property
    def state_key(self) -> str:
        # Later events win; in the same instant a terminal state beats a running one.
        rank = 3 if self.terminal else _RANK.get(self.outcome, 0)
        return f"{common.iso_utc(self.at)}#{rank}#{self.outcome}"


@dataclass(frozen=True)
class RollbackMark:
    """A CodeDeploy rollback deployment names the deployment it undid."""

    pk: str
    sk: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Parsed:
    observation: Observation | None = None
    marks: tuple[RollbackMark, ...] = ()
    ignored: str | None = None


# ---------------------------------------------------------------------------------------------
# Event parsing: total functions; anything unexpected becomes an "ignored" reason.


def _text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _as_mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse(event: object, config: Config) -> Parsed:
    body = _as_mapping(event)
    detail_type = body.get("detail-type")
    detail = _as_mapping(body.get("detail"))
    at = common.parse_time(body.get("time"))
    if at is None:
        return Parsed(ignored="event has no usable 'time'")
    if detail_type in (PIPELINE_EXECUTION, STAGE_EXECUTION):
        return _parse_pipeline(detail_type, detail, at, body, config)
    if detail_type == CODEDEPLOY_DEPLOYMENT:
        return _parse_codedeploy(detail, at, config)
    return Parsed(ignored=f"unsupported detail-type {detail_type!r}")


def _parse_pipeline(
    detail_type: str,
    detail: Mapping[str, Any],
    at: datetime,
    body: Mapping[str, Any],
    config: Config,
) -> Parsed:
    pipeline, execution_id = _text(detail, "pipeline"), _text(detail, "execution-id")
    state = _PIPELINE_STATES.get(str(detail.get("state")))
    if (
        pipeline is None
        or execution_id is None
        or state is None
        or not _PIPELINE_NAME.fullmatch(pipeline)
        or not _EXECUTION_ID.fullmatch(execution_id)
    ):
        return Parsed(ignored="pipeline event without valid pipeline, execution-id or state")
    attributes: dict[str, Any] = {
        "app": config.app,
        "pipeline": pipeline,
        "execution_id": execution_id,
    }
    region = _text(body, "region")
    if region:
        attributes["region"] = region
    trigger = _as_mapping(detail.get("execution-trigger"))
    if _text(trigger, "trigger-type"):
        attributes["trigger_type"] = trigger["trigger-type"]
        attributes["triggered_by"] = _text(trigger, "trigger-detail") or trigger["trigger-type"]
    if detail_type == PIPELINE_EXECUTION:
        pk = f"{config.app}#pipeline"
    else:
        stage = _text(detail, "stage")
        environment = config.stage_environments.get(stage or "")
        if environment is None:
            return Parsed(ignored=f"stage {stage!r} is not mapped in STAGE_ENVIRONMENTS")
        pk = f"{config.app}#{environment}"
        attributes.update(environment=environment, stage=stage)
    return Parsed(Observation(pk, execution_id, at, state, attributes))


def _parse_codedeploy(detail: Mapping[str, Any], at: datetime, config: Config) -> Parsed:
    deployment_id, group = _text(detail, "deploymentId"), _text(detail, "deploymentGroup")
    state = _CODEDEPLOY_STATES.get(str(detail.get("state")))
    if (
        deployment_id is None
        or group is None
        or state is None
        or not _DEPLOYMENT_ID.fullmatch(deployment_id)
    ):
        return Parsed(ignored="CodeDeploy event without valid deploymentId, group or state")
    environment = config.group_environments.get(group)
    if environment is None:
        return Parsed(ignored=f"deployment group {group!r} is not in DEPLOYMENT_GROUP_ENVIRONMENTS")
    attributes: dict[str, Any] = {
        "app": config.app,
        "environment": environment,
        "deployment_id": deployment_id,
        "deployment_group": group,
    }
    if _text(detail, "application"):
        attributes["codedeploy_application"] = detail["application"]
    pk = f"{config.app}#{environment}"
    return Parsed(Observation(pk, f"codedeploy#{deployment_id}", at, state, attributes))


# ---------------------------------------------------------------------------------------------
# Enrichment: best effort. Missing permissions or vanished executions must not lose the record.


def lookup_pipeline_execution(pipeline: str, execution_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    codepipeline = common.client("codepipeline")
    try:
        execution = codepipeline.get_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
    except Exception as exc:
        _warn_lookup("codepipeline:GetPipelineExecution", exc, pipeline=pipeline)
    else:
        found.update(_execution_attributes(execution))
    try:
        pages = codepipeline.list_action_executions(
            pipelineName=pipeline, filter={"pipelineExecutionId": execution_id}, maxResults=100
        )
    except Exception as exc:
        _warn_lookup("codepipeline:ListActionExecutions", exc, pipeline=pipeline)
    else:
        for detail in pages.get("actionExecutionDetails", ()):
            outputs = _as_mapping(_as_mapping(detail.get("output")).get("outputVariables"))
            found.update(_artifact_variables(outputs.items()))
    return found


def _execution_attributes(execution: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    revisions = [r for r in execution.get("artifactRevisions", ()) if _text(r, "revisionId")]
    if revisions:
        first = revisions[0]
        found["commit"] = first["revisionId"]
        if _text(first, "revisionUrl"):
            found["commit_url"] = first["revisionUrl"]
        message = _commit_message(first.get("revisionSummary"))
        if message:
            found["commit_message"] = message
        if len(revisions) > 1:
            found["source_revisions"] = {
                str(r.get("name", i)): r["revisionId"] for i, r in enumerate(revisions)
            }
    trigger = _as_mapping(execution.get("trigger"))
    if _text(trigger, "triggerType"):
        found["trigger_type"] = trigger["triggerType"]
        found["triggered_by"] = _text(trigger, "triggerDetail") or trigger["triggerType"]
    if _text(execution, "executionType"):
        found["execution_type"] = execution["executionType"]
    target = _text(
        _as_mapping(execution.get("rollbackMetadata")), "rollbackTargetPipelineExecutionId"
    )
    if target:
        found["rollback_target_execution_id"] = target
    variables = ((v.get("name"), v.get("resolvedValue")) for v in execution.get("variables", ()))
    found.update(_artifact_variables(variables))
    return found


def _commit_message(summary: object) -> str | None:
    if not isinstance(summary, str) or not summary.strip():
        return None
    # Connection sources put a JSON document here; S3/CodeCommit sources put plain text.
    try:
        decoded = json.loads(summary)
    except json.JSONDecodeError:
        decoded = None
    if isinstance(decoded, Mapping) and isinstance(decoded.get("CommitMessage"), str):
        summary = decoded["CommitMessage"]
    return str(summary).strip()[:500] or None


def _artifact_variables(pairs: Any) -> dict[str, str]:
    found = {}
    for name, value in pairs:
        attribute = _ARTIFACT_VARIABLES.get(str(name).upper())
        if attribute and isinstance(value, str) and value:
            found[attribute] = value
    return found


@dataclass(frozen=True)
class DeploymentFacts:
    attributes: dict[str, Any]
    reason: str | None = None
    rolled_back: bool = False
    rollback_of: str | None = None


def lookup_deployment(deployment_id: str) -> DeploymentFacts:
    try:
        info = common.client("codedeploy").get_deployment(deploymentId=deployment_id)
    except Exception as exc:
        _warn_lookup("codedeploy:GetDeployment", exc, deployment_id=deployment_id)
        return DeploymentFacts({})
    info = _as_mapping(_as_mapping(info).get("deploymentInfo"))
    attributes: dict[str, Any] = {}
    if _text(info, "deploymentConfigName"):
        attributes["deployment_config"] = info["deploymentConfigName"]
    attributes.update(_appspec_attributes(info.get("revision")))
    rollback = _as_mapping(info.get("rollbackInfo"))
    rollback_of = _text(rollback, "rollbackTriggeringDeploymentId")
    if rollback_of:
        attributes["rollback_of"] = rollback_of
    return DeploymentFacts(
        attributes=attributes,
        reason=_text(_as_mapping(info.get("errorInformation")), "message"),
        rolled_back=bool(_text(rollback, "rollbackDeploymentId")),
        rollback_of=rollback_of,
    )


def _appspec_attributes(revision: object) -> dict[str, Any]:
    content = _as_mapping(_as_mapping(revision).get("appSpecContent")).get("content")
    if not isinstance(content, str):
        return {}
    try:
        appspec = json.loads(content)
    except json.JSONDecodeError:
        return {}  # YAML appspecs carry the same facts, but the runtime has no YAML parser
    found: dict[str, Any] = {}
    for resource in appspec.get("Resources", ()) if isinstance(appspec, Mapping) else ():
        for spec in _as_mapping(resource).values():
            props = _as_mapping(_as_mapping(spec).get("Properties"))
            if _text(props, "TargetVersion"):
                found["function_version"] = str(props["TargetVersion"])
                if _text(props, "CurrentVersion"):
                    found["previous_function_version"] = str(props["CurrentVersion"])
            if _text(props, "TaskDefinition"):
                found["task_definition"] = props["TaskDefinition"]
    return found


def _warn_lookup(action: str, exc: Exception, **fields: Any) -> None:
    logger.warning(
        "lookup failed; recording without it",
        extra={"lookup": action, "error": common.error_code(exc), **fields},
    )


def enrich(parsed: Parsed, config: Config) -> Parsed:
    observation = parsed.observation
    if observation is None:
        return parsed
    attributes = dict(observation.attributes)
    if "deployment_id" in attributes:
        facts = lookup_deployment(attributes["deployment_id"])
        attributes.update(facts.attributes)
        marks: tuple[RollbackMark, ...] = ()
        if facts.rollback_of:
            marks = (
                RollbackMark(
                    observation.pk,
                    f"codedeploy#{facts.rollback_of}",
                    {
                        "app": config.app,
                        "environment": attributes["environment"],
                        "deployment_id": facts.rollback_of,
                        "rolled_back_by": attributes["deployment_id"],
                    },
                ),
            )
        enriched = replace(
            observation,
            attributes=attributes,
            reason=facts.reason if observation.terminal else None,
            rolled_back=facts.rolled_back,
        )
        return replace(parsed, observation=enriched, marks=marks)
    attributes.update(lookup_pipeline_execution(attributes["pipeline"], attributes["execution_id"]))
    return replace(parsed, observation=replace(observation, attributes=attributes))


# ---------------------------------------------------------------------------------------------
# Writes. Each is a separate conditional update so that one losing condition drops only the part
# of the event that is stale; the final item is a function of the set of events, not their order.


class _Update:
    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def set(self, attribute: str, value: Any) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.value(value)}")

    def remove(self, attribute: str) -> None:
        self.removes.append(self.name(attribute))

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)


def _apply(table: str, pk: str, sk: str, update: _Update, condition: str | None = None) -> bool:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    request: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
        "UpdateExpression": update.expression(),
        "ExpressionAttributeNames": update.names,
    }
    if update.values:
        request["ExpressionAttributeValues"] = {
            k: serializer.serialize(v) for k, v in update.values.items()
        }
    if condition:
        request["ConditionExpression"] = condition
    dynamodb = common.client("dynamodb")
    try:
        dynamodb.update_item(**request)
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def write(table: str, observation: Observation) -> None:
    pk, sk, moment = observation.pk, observation.sk, common.iso_utc(observation.at)

    static = _Update()
    for attribute, value in sorted(observation.attributes.items()):
        static.set(attribute, value)
    rolled = static.name("rolled_back")
    static.sets.append(f"{rolled} = if_not_exists({rolled}, {static.value(False)})")
    _apply(table, pk, sk, static)

    start = _Update()
    started, at = start.name("started_at"), start.value(moment)
    start.sets.append(f"{started} = {at}")
    _apply(table, pk, sk, start, f"attribute_not_exists({started}) OR {started} > {at}")

    state = _Update()
    key, new_key = state.name("state_key"), state.value(observation.state_key)
    state.sets.append(f"{key} = {new_key}")
    state.set("outcome", observation.outcome)
    state.set("last_event_at", moment)
    if observation.terminal:
        state.set("ended_at", moment)
    else:
        state.remove("ended_at")
    if observation.reason:
        state.set("reason", observation.reason[:1000])
    else:
        state.remove("reason")
    _apply(table, pk, sk, state, f"attribute_not_exists({key}) OR {key} < {new_key}")

    if observation.rolled_back:
        mark_rolled_back(table, pk, sk, {})
    elif "deployment_id" in observation.attributes:
        settle_rollback(table, pk, sk)


def mark_rolled_back(table: str, pk: str, sk: str, attributes: Mapping[str, Any]) -> None:
    # rolled_back only ever goes from false to true, so marks commute with every other write.
    mark = _Update()
    for attribute, value in sorted(attributes.items()):
        mark.set(attribute, value)
    mark.set("rolled_back", True)
    _apply(table, pk, sk, mark)
    settle_rollback(table, pk, sk)


def settle_rollback(table: str, pk: str, sk: str) -> None:
    settle = _Update()
    settle.set("outcome", "ROLLED_BACK")
    outcome, rolled = settle.name("outcome"), settle.name("rolled_back")
    condition = (
        f"{rolled} = {settle.value(True)} AND "
        f"{outcome} IN ({settle.value('FAILED')}, {settle.value('STOPPED')})"
    )
    _apply(table, pk, sk, settle, condition)


# ---------------------------------------------------------------------------------------------


def handler(event: object, context: object) -> dict[str, Any]:
    common.bind_request(context)
    config = Config.from_env()
    parsed = parse(event, config)
    observation = parsed.observation
    if observation is None:
        logger.info("ignored", extra={"reason": parsed.ignored, "detail_type": _detail_type(event)})
        return {"status": "ignored", "reason": parsed.ignored}
    parsed = enrich(parsed, config)
    observation = parsed.observation or observation
    write(config.table, observation)
    for mark in parsed.marks:
        mark_rolled_back(config.table, mark.pk, mark.sk, mark.attributes)
    logger.info(
        "recorded",
        extra={
            "pk": observation.pk,
            "sk": observation.sk,
            "outcome": observation.outcome,
            "at": common.iso_utc(observation.at),
        },
    )
    return {"status": "recorded", "pk": observation.pk, "sk": observation.sk}


def _detail_type(event: object) -> object:
    return _as_mapping(event).get("detail-type")
