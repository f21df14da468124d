"""Deployment history: one DynamoDB record per pipeline execution and per environment deploy.

Fed by EventBridge (CodePipeline pipeline/stage execution state changes, CodeDeploy deployment
state changes). Events arrive at least once and in any order, so every write is a conditional
update whose result depends only on the set of events seen (prevents FM74 gaps and lies).

Enrichment (commit, commit time, digest, rollbacks) comes from read-only lookups. A lookup that
fails, is throttled past the time budget, or returns something unreadable never loses the event:
the record is written with what the event itself says, and a WARNING log line that is also an
`EnrichmentIncomplete` CloudWatch metric (embedded metric format) says what is missing. Later
events of the same execution look up again and fill the gap (attributes are only ever set).
"""

# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or (__package__ or "").startswith("conveyor."):
    from .. import _common as common  # noqa: TID252 (the same module in Lambda and tests)
else:  # Lambda: the asset root is the handlers folder, where the shared module is top-level
    import _common as common

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
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")
_PIPELINE_NAME = re.compile(r"[A-Za-z0-9.@_-]{1,100}")
_RANK = {"IN_PROGRESS": 1, "STOPPING": 2}
# Output or pipeline variables that carry what was deployed (see README).
_ARTIFACT_VARIABLES = {"IMAGE_DIGEST": "image_digest", "FUNCTION_VERSION": "function_version"}
# Free text from events and lookups is clipped so no item nears DynamoDB's 400 KB limit.
_TEXT_MAX = 1000


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
    # Times that differ between deliveries only by mistake; the earliest one seen is kept.
    earliest: dict[str, datetime] = field(default_factory=dict)

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
    """A record a rollback undid: the deployment a CodeDeploy rollback names, or a release a
    stage rollback replaced (stage_rollback_marks)."""

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


def _clip(value: str) -> str:
    return value[:_TEXT_MAX]


def _as_mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


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
    return Parsed(ignored=f"unsupported detail-type {_clip(repr(detail_type))}")


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
        attributes["region"] = _clip(region)
    trigger = _as_mapping(detail.get("execution-trigger"))
    trigger_type = _text(trigger, "trigger-type")
    if trigger_type:
        attributes["trigger_type"] = _clip(trigger_type)
        attributes["triggered_by"] = _clip(_text(trigger, "trigger-detail") or trigger_type)
    # Every execution, stage and action event carries the execution's start time, so lead time
    # has its pipeline part even when the pipeline record's own events are late or lost:
    # https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html
    earliest = {}
    pipeline_start = common.parse_time(detail.get("start-time"))
    if pipeline_start is not None:
        earliest["pipeline_started_at"] = pipeline_start
    if detail_type == PIPELINE_EXECUTION:
        pk = f"{config.app}#pipeline"
    else:
        stage = _text(detail, "stage")
        environment = config.stage_environments.get(stage or "")
        if environment is None:
            return Parsed(ignored=f"stage {_clip(repr(stage))} is not mapped in STAGE_ENVIRONMENTS")
        pk = f"{config.app}#{environment}"
        attributes.update(environment=environment, stage=stage)
    return Parsed(Observation(pk, execution_id, at, state, attributes, earliest=earliest))


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
        return Parsed(
            ignored=f"deployment group {_clip(repr(group))} is not in DEPLOYMENT_GROUP_ENVIRONMENTS"
        )
    attributes: dict[str, Any] = {
        "app": config.app,
        "environment": environment,
        "deployment_id": deployment_id,
        "deployment_group": group,
    }
    application = _text(detail, "application")
    if application:
        attributes["codedeploy_application"] = _clip(application)
    # Where the deployment runs: an environment in another region forwards its events here,
    # and the deployment is looked up there (enrich).
    region = _text(detail, "region")
    if region and _REGION.fullmatch(region):
        attributes["region"] = region
    pk = f"{config.app}#{environment}"
    return Parsed(Observation(pk, f"codedeploy#{deployment_id}", at, state, attributes))


# ---------------------------------------------------------------------------------------------
# Enrichment: best effort within a time budget. Missing permissions, throttling, vanished
# executions or unreadable answers must not lose the record.

# Throttling codes that the SDKs' standard retry mode treats as retryable throttles:
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)
# Kept back for the DynamoDB writes after the lookups (the construct gives the function 30 s).
WRITE_RESERVE_SECONDS = 8.0
_ASSUMED_REMAINING_MS = 30_000  # a context without get_remaining_time_in_millis
_BACKOFF_FIRST, _BACKOFF_CAP = 0.25, 4.0
_MAX_ACTION_PAGES = 50
_sleep: Callable[[float], None] = time.sleep
_clock: Callable[[], float] = time.monotonic


class Budget:
    """The time left for lookups: Lambda's remaining time less what the writes need."""

    def __init__(self, context: object) -> None:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        try:
            milliseconds = float(remaining()) if callable(remaining) else _ASSUMED_REMAINING_MS
        except Exception:  # a broken context must not cost the record
            milliseconds = _ASSUMED_REMAINING_MS
        self._deadline = _clock() + milliseconds / 1000 - WRITE_RESERVE_SECONDS

    def allows(self, seconds: float) -> bool:
        return _clock() + seconds < self._deadline


def call_with_backoff(budget: Budget, operation: Callable[..., Any], **request: Any) -> Any:
    """`operation(**request)`, retrying throttles with full-jitter exponential backoff for as
    long as the budget allows; any other error, or a throttle past the budget, is raised."""
    ceiling = _BACKOFF_FIRST
    while True:
        try:
            return operation(**request)
        except Exception as exc:
            pause = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
            if common.error_code(exc) not in _THROTTLED or not budget.allows(pause):
                raise
            _sleep(pause)
            ceiling = min(ceiling * 2, _BACKOFF_CAP)


def _incomplete(lookup: str, exc: BaseException, **fields: Any) -> None:
    """A WARNING that is also a CloudWatch metric (embedded metric format):
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
    """
    metric = {
        "Timestamp": int(time.time() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": "conveyor",
                "Dimensions": [["Lookup"]],
                "Metrics": [{"Name": "EnrichmentIncomplete", "Unit": "Count"}],
            }
        ],
    }
    logger.warning(
        "lookup failed; recording without it",
        extra={
            "lookup": lookup,
            "error": common.error_code(exc),
            "_aws": metric,
            "Lookup": lookup,
            "EnrichmentIncomplete": 1,
            **fields,
        },
    )


@dataclass(frozen=True)
class PipelineFacts:
    attributes: dict[str, Any] = field(default_factory=dict)
    rolled_back: bool = False


def lookup_pipeline_execution(
    pipeline: str, execution_id: str, stage: str | None, budget: Budget
) -> PipelineFacts:
    codepipeline = common.client("codepipeline")
    found: dict[str, Any] = {}
    try:
        response = call_with_backoff(
            budget,
            codepipeline.get_pipeline_execution,
            pipelineName=pipeline,
            pipelineExecutionId=execution_id,
        )
        found.update(_execution_attributes(_as_mapping(response.get("pipelineExecution"))))
    except Exception as exc:
        _incomplete("codepipeline:GetPipelineExecution", exc, pipeline=pipeline)
    details: list[Mapping[str, Any]] = []
    try:
        for detail in _action_executions(codepipeline, budget, pipeline, execution_id):
            details.append(_as_mapping(detail))
    except Exception as exc:
        _incomplete("codepipeline:ListActionExecutions", exc, pipeline=pipeline)
    rolled_back = False
    try:
        found.update(_action_attributes(details, found.get("commit")))
        rollback = _validation_rollback(details, stage) if stage else None
        if rollback:
            found.update(rollback)
            rolled_back = True
    except Exception as exc:
        _incomplete("codepipeline:ListActionExecutions", exc, pipeline=pipeline)
    found.setdefault("committed_at", found.pop("_revision_created", None))
    found.pop("_revision_created", None)
    return PipelineFacts({k: v for k, v in found.items() if v is not None}, rolled_back)


def _action_executions(
    codepipeline: Any, budget: Budget, pipeline: str, execution_id: str
) -> Iterable[Any]:
    """Every page: an execution with many stages, or retried actions, has more than 100."""
    token: str | None = None
    for _ in range(_MAX_ACTION_PAGES):
        request: dict[str, Any] = {
            "pipelineName": pipeline,
            "filter": {"pipelineExecutionId": execution_id},
            "maxResults": 100,
        }
        if token:
            request["nextToken"] = token
        page = call_with_backoff(budget, codepipeline.list_action_executions, **request)
        page = _as_mapping(page)
        yield from _as_list(page.get("actionExecutionDetails"))
        token = _text(page, "nextToken")
        if token is None:
            return


def _execution_attributes(execution: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    revisions = [
        _as_mapping(r)
        for r in _as_list(execution.get("artifactRevisions"))
        if _text(_as_mapping(r), "revisionId")
    ]
    if revisions:
        first = revisions[0]
        found["commit"] = _clip(first["revisionId"])
        if _text(first, "revisionUrl"):
            found["commit_url"] = _clip(first["revisionUrl"])
        message = _commit_message(first.get("revisionSummary"))
        if message:
            found["commit_message"] = message
        # "The date and time when the most recent revision of the artifact was created": the
        # commit time when no source action variable gives it (e.g. an S3 upload):
        # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ArtifactRevision.html
        created = common.parse_time(first.get("created"))
        if created is not None:
            found["_revision_created"] = common.iso_utc(created)
        if len(revisions) > 1:
            found["source_revisions"] = {
                _clip(str(r.get("name", i))): _clip(r["revisionId"])
                for i, r in enumerate(revisions)
            }
    trigger = _as_mapping(execution.get("trigger"))
    trigger_type = _text(trigger, "triggerType")
    if trigger_type:
        found["trigger_type"] = _clip(trigger_type)
        found["triggered_by"] = _clip(_text(trigger, "triggerDetail") or trigger_type)
    if _text(execution, "executionType"):
        found["execution_type"] = _clip(execution["executionType"])
    target = _text(
        _as_mapping(execution.get("rollbackMetadata")), "rollbackTargetPipelineExecutionId"
    )
    if target:
        found["rollback_target_execution_id"] = _clip(target)
    variables = (
        (_as_mapping(v).get("name"), _as_mapping(v).get("resolvedValue"))
        for v in _as_list(execution.get("variables"))
    )
    found.update(_artifact_variables(variables))
    return found


def _commit_message(summary: object) -> str | None:
    # Decoding (connection sources' JSON, never raising on what a committer wrote) is shared
    # with notify; the record keeps the first 500 characters and no attribute for an empty one.
    return common.commit_message(summary).strip()[:500] or None


def _artifact_variables(pairs: Iterable[tuple[object, object]]) -> dict[str, str]:
    found = {}
    for name, value in pairs:
        attribute = _ARTIFACT_VARIABLES.get(str(name).upper())
        if attribute and isinstance(value, str) and value:
            found[attribute] = _clip(value)
    return found


# Source actions publish the commit's dates as output variables (CodeCommit: CommitterDate and
# AuthorDate; GitHub/Bitbucket/GitLab connections: AuthorDate), ISO 8601:
# https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html
_COMMIT_DATES = ("CommitterDate", "AuthorDate")


def _action_attributes(details: Iterable[Mapping[str, Any]], commit: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for detail in details:
        outputs = _as_mapping(_as_mapping(detail.get("output")).get("outputVariables"))
        found.update(_artifact_variables(outputs.items()))
        category = _as_mapping(_as_mapping(detail.get("input")).get("actionTypeId")).get("category")
        if category != "Source" or "committed_at" in found:
            continue
        if commit and outputs.get("CommitId") not in (None, commit):
            continue  # another source of a multi-source pipeline
        for name in _COMMIT_DATES:
            moment = common.parse_time(outputs.get(name))
            if moment is not None:
                found["committed_at"] = common.iso_utc(moment)
                break
    return found


# The contract with validate_http (see docs/commands/history.md): when the check fails and the
# handler rolls the environment back itself, the job failure message ends with "Rollback: …."
# naming what it did. CodePipeline returns that message as the failed action's error details:
# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionResult.html
# What counts as a rollback (validate_http/rollback.py): "<what> rolled back from <old> to
# <new>" (ECS service, Lambda alias), "CodeDeploy deployment <id> stopped and rolled back", and
# "CodeDeploy deployment <new id> returns <group> to the revision before <id>". Anything else
# ("no rollback configured", "ROLLBACK FAILED (…)", "… not rolled back again", "… ended Failed;
# CodeDeploy rolls it back", whose rollback CodeDeploy's own events record) is not one.
_ROLLBACK_MARK = "Rollback: "
_ROLLED_BACK = " rolled back from "
_CODEDEPLOY_ROLLBACKS = (
    re.compile(r"CodeDeploy deployment d-[A-Z0-9]{9} stopped and rolled back"),
    re.compile(
        r"CodeDeploy deployment d-[A-Z0-9]{9} returns [A-Za-z0-9._+=,@-]{1,100} "
        r"to the revision before d-[A-Z0-9]{9}"
    ),
)


def validation_rollback(message: str) -> str | None:
    """What a validation rollback did, from a job failure message; None if it did not roll back."""
    at = message.rfind(_ROLLBACK_MARK)
    if at < 0:
        return None
    done = message[at + len(_ROLLBACK_MARK) :].strip().removesuffix(".")
    if done.startswith("ROLLBACK FAILED"):
        return None
    if any(pattern.fullmatch(done) for pattern in _CODEDEPLOY_ROLLBACKS):
        return done
    what, found, versions = done.partition(_ROLLED_BACK)
    old, to, new = versions.partition(" to ")
    if not (what and found and old and to and new):
        return None
    return _clip(done)


def _validation_rollback(details: Iterable[Mapping[str, Any]], stage: str) -> dict[str, Any]:
    found: list[tuple[str, str]] = []
    for detail in details:
        if detail.get("stageName") != stage or detail.get("status") != "Failed":
            continue
        result = _as_mapping(_as_mapping(detail.get("output")).get("executionResult"))
        moment = common.parse_time(detail.get("lastUpdateTime"))
        for message in (
            _as_mapping(result.get("errorDetails")).get("message"),
            result.get("externalExecutionSummary"),
        ):
            what = validation_rollback(message) if isinstance(message, str) else None
            if what:
                found.append((common.iso_utc(moment) if moment else "", what))
                break
    if not found:
        return {}
    at, what = max(found)  # a retried stage: the latest rollback
    rolled = {"rollback_by": "validation", "rollback_detail": what}
    if at:
        rolled["rolled_back_at"] = at
    return rolled


@dataclass(frozen=True)
class DeploymentFacts:
    attributes: dict[str, Any]
    reason: str | None = None
    rolled_back: bool = False
    rollback_of: str | None = None


def lookup_deployment(
    deployment_id: str, budget: Budget, region: str | None = None
) -> DeploymentFacts:
    """The deployment's facts, read in `region` (the event's: the deployment's own)."""
    try:
        info = call_with_backoff(
            budget,
            common.client_in("codedeploy", region).get_deployment,
            deploymentId=deployment_id,
        )
        return _deployment_facts(_as_mapping(_as_mapping(info).get("deploymentInfo")))
    except Exception as exc:
        _incomplete("codedeploy:GetDeployment", exc, deployment_id=deployment_id)
        return DeploymentFacts({})


def _deployment_facts(info: Mapping[str, Any]) -> DeploymentFacts:
    attributes: dict[str, Any] = {}
    if _text(info, "deploymentConfigName"):
        attributes["deployment_config"] = _clip(info["deploymentConfigName"])
    attributes.update(_appspec_attributes(info.get("revision")))
    rollback = _as_mapping(info.get("rollbackInfo"))
    rollback_of = _text(rollback, "rollbackTriggeringDeploymentId")
    if rollback_of and _DEPLOYMENT_ID.fullmatch(rollback_of):
        attributes["rollback_of"] = rollback_of
    else:
        rollback_of = None
    reason = _text(_as_mapping(info.get("errorInformation")), "message")
    return DeploymentFacts(
        attributes=attributes,
        reason=_clip(reason) if reason else None,
        rolled_back=bool(_text(rollback, "rollbackDeploymentId")),
        rollback_of=rollback_of,
    )


def _appspec_attributes(revision: object) -> dict[str, Any]:
    content = _as_mapping(_as_mapping(revision).get("appSpecContent")).get("content")
    if not isinstance(content, str):
        return {}
    try:
        appspec = json.loads(content)
    except (ValueError, RecursionError):
        return {}  # YAML appspecs carry the same facts, but the runtime has no YAML parser
    found: dict[str, Any] = {}
    for resource in _as_list(_as_mapping(appspec).get("Resources")):
        for spec in _as_mapping(resource).values():
            props = _as_mapping(_as_mapping(spec).get("Properties"))
            if _text(props, "TargetVersion"):
                found["function_version"] = _clip(props["TargetVersion"])
                if _text(props, "CurrentVersion"):
                    found["previous_function_version"] = _clip(props["CurrentVersion"])
            if _text(props, "TaskDefinition"):
                found["task_definition"] = _clip(props["TaskDefinition"])
    return found


def enrich(parsed: Parsed, config: Config, budget: Budget) -> Parsed:
    observation = parsed.observation
    if observation is None:
        return parsed
    attributes = dict(observation.attributes)
    if "deployment_id" in attributes:
        facts = lookup_deployment(attributes["deployment_id"], budget, attributes.get("region"))
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
    pipeline_facts = lookup_pipeline_execution(
        attributes["pipeline"], attributes["execution_id"], attributes.get("stage"), budget
    )
    attributes.update(pipeline_facts.attributes)
    enriched = replace(observation, attributes=attributes, rolled_back=pipeline_facts.rolled_back)
    marks = ()
    try:
        marks = stage_rollback_marks(config.table, enriched, budget)
    except Exception as exc:
        _incomplete("dynamodb:Query", exc, pipeline=attributes["pipeline"])
    return replace(parsed, observation=enriched, marks=marks)


# --- stage rollbacks (issue 11) ---------------------------------------------------------------
# A stage rollback is an execution of its own: executionType ROLLBACK, triggered by
# ManualRollback (RollbackStage: `conveyor rollback`) or AutomatedRollback (OnFailure or an
# OnSuccess condition with result ROLLBACK), naming the execution it returns to
# (rollbackMetadata.rollbackTargetPipelineExecutionId).
# https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback-view-details.html
# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ExecutionTrigger.html
# When it succeeds in an environment's stage, every release that environment started after the
# target and before the rollback began no longer serves: those records are ROLLED_BACK.
_ROLLBACK_TRIGGERS = frozenset({"ManualRollback", "AutomatedRollback"})
# The table's index of each environment's records in start order (history.records.TIME_INDEX;
# handlers import nothing from the rest of conveyor, a test keeps the two equal).
TIME_INDEX = "by-start"
# How far back a rollback's target is looked for, in records of one environment; past it (the
# target's record expired or was never written) only the release just before the rollback is
# marked, which is the one an automatic rollback undoes.
_ROLLBACK_LOOKBACK = 50


def _is_stage_rollback(attributes: Mapping[str, Any]) -> bool:
    return (
        attributes.get("execution_type") == "ROLLBACK"
        or attributes.get("trigger_type") in _ROLLBACK_TRIGGERS
    )


def stage_rollback_marks(
    table: str, observation: Observation, budget: Budget
) -> tuple[RollbackMark, ...]:
    """The releases a succeeded stage rollback replaced in its environment."""
    attributes = observation.attributes
    if (
        "environment" not in attributes
        or observation.outcome != "SUCCEEDED"
        or not _is_stage_rollback(attributes)
    ):
        return ()
    began = observation.earliest.get("pipeline_started_at", observation.at)
    target = attributes.get("rollback_target_execution_id")
    dynamodb = common.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": TIME_INDEX,
        "KeyConditionExpression": "pk = :pk AND started_at < :began",
        "ExpressionAttributeValues": {
            ":pk": {"S": observation.pk},
            ":began": {"S": common.iso_utc(began)},
        },
        "ProjectionExpression": "sk, execution_type, trigger_type",
        "ScanIndexForward": False,  # newest first: the release the rollback undid comes first
    }
    undone: list[str] = []
    seen = 0
    reached_target = False
    while seen < _ROLLBACK_LOOKBACK and not reached_target:
        page = call_with_backoff(budget, dynamodb.query, **request)
        for item in _as_list(page.get("Items")):
            seen += 1
            sk = _text(_as_mapping(_as_mapping(item).get("sk")), "S")
            if sk is None or not _EXECUTION_ID.fullmatch(sk) or sk == observation.sk:
                continue  # a CodeDeploy deployment's record, or this rollback's own
            if sk == target:
                reached_target = True
                break
            kinds = {
                name: _text(_as_mapping(_as_mapping(item).get(name)), "S")
                for name in ("execution_type", "trigger_type")
            }
            if not _is_stage_rollback(kinds):
                undone.append(sk)
        last = page.get("LastEvaluatedKey")
        if not last:
            break
        request["ExclusiveStartKey"] = last
    if not reached_target:
        undone = undone[:1]
    mark = {
        "rolled_back_by": observation.sk,
        "rollback_by": "stage",
        "rolled_back_at": common.iso_utc(observation.at),
    }
    return tuple(RollbackMark(observation.pk, sk, mark) for sk in undone)


def enrich_or_keep(parsed: Parsed, config: Config, budget: Budget) -> Parsed:
    """Enrichment that cannot cost the record: a bug on some answer shape records the event."""
    try:
        return enrich(parsed, config, budget)
    except Exception as exc:
        logger.exception("enrichment crashed; recording what the event says")
        _incomplete("enrich", exc)
        return parsed


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

    keep_earliest(table, pk, sk, "started_at", moment)
    for attribute, earliest in sorted(observation.earliest.items()):
        keep_earliest(table, pk, sk, attribute, common.iso_utc(earliest))

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


def keep_earliest(table: str, pk: str, sk: str, attribute: str, moment: str) -> None:
    # The minimum over all deliveries, whatever their order.
    update = _Update()
    name, value = update.name(attribute), update.value(moment)
    update.sets.append(f"{name} = {value}")
    _apply(table, pk, sk, update, f"attribute_not_exists({name}) OR {name} > {value}")


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
    parsed = enrich_or_keep(parsed, config, Budget(context))
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
