"""Readable pipeline notifications (FM70): EventBridge event in, one SNS message out.

Which events arrive is decided by the EventBridge rules (the `notifications.on` setting); this
function formats whatever it is given and ignores shapes it does not know.
"""

# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or (__package__ or "").startswith("conveyor."):
    from .. import _common as common  # noqa: TID252 (the same module in Lambda and tests)
else:  # Lambda: the asset root is the handlers folder, where the shared module is top-level
    import _common as common

logger = common.get_logger("conveyor.notify")

PIPELINE_EXECUTION = "CodePipeline Pipeline Execution State Change"
STAGE_EXECUTION = "CodePipeline Stage Execution State Change"
ACTION_EXECUTION = "CodePipeline Action Execution State Change"
CODEBUILD_BUILD = "CodeBuild Build State Change"
CODEDEPLOY_DEPLOYMENT = "CodeDeploy Deployment State-change Notification"
SCAN_GATE_RESULT = "Conveyor Scan Gate Result"

SUBJECT_MAX = 100  # SNS Subject limit
_CODEDEPLOY_WORDS = {
    "START": "STARTED",
    "SUCCESS": "SUCCEEDED",
    "FAILURE": "FAILED",
    "STOP": "STOPPED",
    "READY": "READY",
}


@dataclass
class Notice:
    """What one event says, before it is rendered for people."""

    headline: str  # e.g. "FAILED: stage Deploy-prod"
    outcome: str  # machine-readable, becomes a message attribute for subscription filters
    kind: str
    app: str | None = None
    environment: str | None = None
    pipeline: str | None = None
    execution_id: str | None = None
    stage: str | None = None
    action: str | None = None
    commit: str | None = None
    reason: str | None = None
    link: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    topic_arn: str
    app: str | None
    stage_environments: dict[str, str]
    group_environments: dict[str, str]
    # `Approve-<env>` -> the environment's stack (and its region when not the function's):
    # the approval notice summarizes that execution's change set of it.
    change_set_stacks: dict[str, str] = field(default_factory=dict)
    change_set_regions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            topic_arn=common.require_env("TOPIC_ARN"),
            app=os.environ.get("APP_NAME") or None,
            stage_environments=common.env_mapping("STAGE_ENVIRONMENTS"),
            group_environments=common.env_mapping("DEPLOYMENT_GROUP_ENVIRONMENTS"),
            change_set_stacks=common.env_mapping("CHANGE_SET_STACKS"),
            change_set_regions=common.env_mapping("CHANGE_SET_REGIONS"),
        )


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


# ---------------------------------------------------------------------------------------------
# Links.


def pipeline_link(region: str | None, pipeline: str | None, execution_id: str | None) -> str | None:
    if not region or not pipeline:
        return None
    base = f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines"
    path = f"{base}/{urllib.parse.quote(pipeline, safe='')}"
    if execution_id:
        path += f"/executions/{urllib.parse.quote(execution_id, safe='')}/timeline"
    else:
        path += "/view"
    return f"{path}?region={region}"


def build_link(region: str | None, build_id: str | None) -> str | None:
    # build ids look like arn:aws:codebuild:<region>:<acct>:build/<project>:<uuid>
    if not region or not build_id or ":build/" not in build_id:
        return None
    name = build_id.split(":build/", 1)[1]
    project = name.split(":", 1)[0]
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codebuild/projects/"
        f"{urllib.parse.quote(project, safe='')}/build/{urllib.parse.quote(name, safe='')}/"
        f"?region={region}"
    )


def deployment_link(region: str | None, deployment_id: str | None) -> str | None:
    if not region or not deployment_id:
        return None
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/"
        f"{urllib.parse.quote(deployment_id, safe='')}?region={region}"
    )


# ---------------------------------------------------------------------------------------------
# Events to notices.


def describe(event: object, config: Config) -> Notice | None:
    """What `event` says, or None when it is not an EventBridge event this handler knows."""
    envelope = common.eventbridge_event(event)
    if envelope is None:
        return None
    detail, detail_type, region = envelope.detail, envelope.detail_type, envelope.region
    if detail_type in (PIPELINE_EXECUTION, STAGE_EXECUTION, ACTION_EXECUTION):
        return _pipeline_notice(str(detail_type), detail, region, config)
    if detail_type == CODEBUILD_BUILD:
        return _build_notice(detail, region, config)
    if detail_type == CODEDEPLOY_DEPLOYMENT:
        return _deployment_notice(detail, region, config)
    if detail_type == SCAN_GATE_RESULT:
        return _scan_notice(detail, region, config)
    return None


def _pipeline_notice(
    detail_type: str, detail: Mapping[str, Any], region: str | None, config: Config
) -> Notice | None:
    pipeline, state = _text(detail, "pipeline"), _text(detail, "state")
    if not pipeline or not state:
        return None
    execution_id, stage, action = (
        _text(detail, "execution-id"),
        _text(detail, "stage"),
        _text(detail, "action"),
    )
    notice = Notice(
        headline=f"{state}: pipeline {pipeline}",
        outcome=state,
        kind="pipeline",
        app=config.app or pipeline,
        environment=config.stage_environments.get(stage or ""),
        pipeline=pipeline,
        execution_id=execution_id,
        stage=stage,
        action=action,
        link=pipeline_link(region, pipeline, execution_id),
    )
    if detail_type == STAGE_EXECUTION and stage:
        notice.kind, notice.headline = "stage", f"{state}: stage {stage}"
    elif detail_type == ACTION_EXECUTION and stage and action:
        action_type = _map(detail.get("type"))
        notice.kind, notice.headline = "action", f"{state}: {stage} / {action}"
        provider = _text(action_type, "provider")
        if provider:
            notice.extra["Action type"] = f"{_text(action_type, 'category')}/{provider}"
        if _text(action_type, "category") == "Approval" and state == "STARTED":
            notice.kind, notice.outcome = "approval", "APPROVAL_NEEDED"
            notice.headline = f"Approval needed: {stage} / {action}"
            notice.extra["To approve"] = "open the link, choose Review on the approval action"
            if execution_id and stage in config.change_set_stacks:
                _summarize_change_set(notice, stage, execution_id, config)
        result = _map(detail.get("execution-result"))
        notice.reason = _text(result, "external-execution-summary")
        if _text(result, "error-code"):
            notice.extra["Error code"] = str(result["error-code"])
        if _text(result, "external-execution-url"):
            notice.extra["Details"] = str(result["external-execution-url"])
    elif detail_type != PIPELINE_EXECUTION:
        return None
    trigger = _map(detail.get("execution-trigger"))
    if _text(trigger, "trigger-type"):
        by = _text(trigger, "trigger-detail")
        notice.extra["Triggered by"] = f"{trigger['trigger-type']}" + (f" ({by})" if by else "")
    if execution_id:
        _enrich_from_execution(notice, pipeline, execution_id)
    return notice


def _enrich_from_execution(notice: Notice, pipeline: str, execution_id: str) -> None:
    try:
        execution = common.client("codepipeline").get_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
    except Exception as exc:
        logger.warning(
            "lookup failed; sending without commit",
            extra={"lookup": "codepipeline:GetPipelineExecution", "error": common.error_code(exc)},
        )
        return
    for revision in execution.get("artifactRevisions", ()):
        revision_id = _text(revision, "revisionId")
        if revision_id:
            notice.commit = _commit_line(revision_id, revision.get("revisionSummary"))
            break
    summary = _text(execution, "statusSummary")
    if summary and not notice.reason and notice.outcome in {"FAILED", "STOPPED"}:
        notice.reason = summary


# What the approver reads of the change set: at most this many resource lines.
CHANGE_LINES = 10


def change_set_name(env_stage: str, execution_id: str) -> str:
    """The name the pipeline's ChangeSet action gave this execution's change set
    (conveyor.stages.environment.change_set_name, its execution-id variable resolved)."""
    return f"conveyor-{env_stage.removeprefix('Approve-')}-{execution_id}"


def _summarize_change_set(notice: Notice, stage: str, execution_id: str, config: Config) -> None:
    """The change set the approval is about, summarized under "Change set" and one
    "Change N" row per resource (issue 10). A failed lookup sends the notice without it.
    DescribeChangeSet's Changes are ResourceChange structures (Action Add, Modify, Remove,
    Import, Dynamic, SyncWithActual; Replacement True, False or Conditional), its Status ends
    CREATE_COMPLETE or FAILED with a StatusReason (such as "The submitted information didn't
    contain changes"):
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html"""
    stack = config.change_set_stacks[stage]
    name = change_set_name(stage, execution_id)
    try:
        cloudformation = common.client_in("cloudformation", config.change_set_regions.get(stage))
        found = cloudformation.describe_change_set(StackName=stack, ChangeSetName=name)
        changes = list(_map(found).get("Changes") or ())
        # One page is up to 1 MB of changes; the counts take every page.
        token = _text(_map(found), "NextToken")
        while token:
            page = cloudformation.describe_change_set(
                StackName=stack, ChangeSetName=name, NextToken=token
            )
            changes += list(_map(page).get("Changes") or ())
            token = _text(_map(page), "NextToken")
    except Exception as exc:
        logger.warning(
            "lookup failed; sending without the change set",
            extra={"lookup": "cloudformation:DescribeChangeSet", "error": common.error_code(exc)},
        )
        return
    resources = [_map(_map(change).get("ResourceChange")) for change in changes]
    counts: dict[str, int] = {}
    for resource in resources:
        action = _text(resource, "Action") or "?"
        counts[action] = counts.get(action, 0) + 1
    summary = ", ".join(f"{counts.pop(a, 0)} {a}" for a in ("Add", "Modify", "Remove"))
    summary += "".join(f", {n} {a}" for a, n in sorted(counts.items()))
    status = _text(_map(found), "Status")
    if status and status != "CREATE_COMPLETE":
        reason = _text(_map(found), "StatusReason")
        summary += f"; status {status}" + (f": {reason}" if reason else "")
    notice.extra["Change set"] = f"{name} ({summary})"
    for index, resource in enumerate(resources[:CHANGE_LINES], start=1):
        notice.extra[f"Change {index}"] = _change_line(resource)
    if len(resources) > CHANGE_LINES:
        notice.extra[f"Change {CHANGE_LINES + 1}"] = f"... and {len(resources) - CHANGE_LINES} more"


def _change_line(resource: Mapping[str, Any]) -> str:
    line = (
        f"{_text(resource, 'Action') or '?'} {_text(resource, 'LogicalResourceId') or '?'} "
        f"({_text(resource, 'ResourceType') or '?'})"
    )
    replacement = _text(resource, "Replacement")
    return line + (f" replacement: {replacement}" if replacement else "")


def _commit_line(revision_id: str, summary: object) -> str:
    short = revision_id[:12] if re.fullmatch(r"[0-9a-f]{40}", revision_id) else revision_id
    message = common.first_line(common.commit_message(summary))
    return f'{short} "{message}"' if message else short


# The statuses of a phase that did not succeed. BuildPhase.phaseStatus is one of SUCCEEDED,
# FAILED, FAULT, TIMED_OUT, IN_PROGRESS or STOPPED
# (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_BuildPhase.html). CLIENT_ERROR
# is no phase status: it is a phase context's status code
# (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_PhaseContext.html), as in
# "CLIENT_ERROR: no matching artifact paths found" of a FAILED UPLOAD_ARTIFACTS phase.
_FAILED_PHASE_STATUSES = frozenset({"FAILED", "FAULT", "TIMED_OUT"})


def _context_text(context: object) -> str:
    """A phase context of the event: "STATUS_CODE: message", or ": " when it has neither
    (https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications-ref.html)."""
    return str(context).strip(" :") if context else ""


def _build_notice(detail: Mapping[str, Any], region: str | None, config: Config) -> Notice | None:
    project, status = _text(detail, "project-name"), _text(detail, "build-status")
    if not project or not status:
        return None
    info = _map(detail.get("additional-information"))
    initiator = _text(info, "initiator") or ""
    pipeline = initiator.split("/", 1)[1] if initiator.startswith("codepipeline/") else None
    notice = Notice(
        headline=f"Build {status}: {project}",
        outcome=status,
        kind="build",
        app=config.app or pipeline or project,
        pipeline=pipeline,
        link=build_link(region, _text(detail, "build-id")),
    )
    for phase in info.get("phases", ()) if isinstance(info.get("phases"), list) else ():
        phase = _map(phase)
        if _text(phase, "phase-status") in _FAILED_PHASE_STATUSES:
            context = phase.get("phase-context")
            messages = [_context_text(m) for m in context] if isinstance(context, list) else []
            messages = [m for m in messages if m]
            notice.reason = f"{phase.get('phase-type')} phase {phase.get('phase-status')}" + (
                f": {'; '.join(messages)}" if messages else ""
            )
            break
    logs = _text(_map(info.get("logs")), "deep-link")
    if logs:
        notice.extra["Logs"] = logs
    return notice


def _deployment_notice(
    detail: Mapping[str, Any], region: str | None, config: Config
) -> Notice | None:
    deployment_id, state = _text(detail, "deploymentId"), _text(detail, "state")
    group = _text(detail, "deploymentGroup")
    if not deployment_id or not state:
        return None
    word = _CODEDEPLOY_WORDS.get(state, state)
    notice = Notice(
        headline=f"Deployment {word}: {group or deployment_id}",
        outcome=word,
        kind="deployment",
        app=config.app or _text(detail, "application"),
        environment=config.group_environments.get(group or ""),
        link=deployment_link(region, deployment_id),
        extra={"Deployment": deployment_id},
    )
    if word in {"FAILED", "STOPPED"}:
        # In the deployment's own region (an environment in another region forwards its
        # events here): the detail's, else the event's.
        _enrich_from_deployment(notice, deployment_id, _text(detail, "region") or region)
    return notice


def _enrich_from_deployment(notice: Notice, deployment_id: str, region: str | None = None) -> None:
    try:
        info = common.client_in("codedeploy", region).get_deployment(deploymentId=deployment_id)
    except Exception as exc:
        logger.warning(
            "lookup failed; sending without reason",
            extra={"lookup": "codedeploy:GetDeployment", "error": common.error_code(exc)},
        )
        return
    info = _map(_map(info).get("deploymentInfo"))
    error = _map(info.get("errorInformation"))
    if _text(error, "message"):
        code = _text(error, "code")
        notice.reason = f"{code}: {error['message']}" if code else str(error["message"])
    rollback = _text(_map(info.get("rollbackInfo")), "rollbackDeploymentId")
    if rollback:
        notice.outcome = "ROLLED_BACK"
        notice.headline = notice.headline.replace(" FAILED:", " ROLLED BACK:").replace(
            " STOPPED:", " ROLLED BACK:"
        )
        notice.extra["Rollback deployment"] = rollback


def _scan_notice(detail: Mapping[str, Any], region: str | None, config: Config) -> Notice | None:
    summary = _text(detail, "summary")
    passed = detail.get("passed")
    if not summary or not isinstance(passed, bool):
        return None
    pipeline, execution_id = _text(detail, "pipeline"), _text(detail, "execution_id")
    outcome = "PASSED" if passed else "BLOCKED"
    return Notice(
        headline=f"Security scan {outcome}" + (f": {pipeline}" if pipeline else ""),
        outcome=outcome,
        kind="scan",
        app=config.app or _text(detail, "app") or pipeline,
        pipeline=pipeline,
        execution_id=execution_id,
        stage=_text(detail, "stage"),
        action=_text(detail, "action"),
        reason=summary,
        link=pipeline_link(region, pipeline, execution_id),
    )


# ---------------------------------------------------------------------------------------------
# Rendering.


def subject(notice: Notice) -> str:
    scope = "/".join(part for part in (notice.app, notice.environment) if part)
    text = f"[{scope}] {notice.headline}" if scope else notice.headline
    # SNS subjects: printable ASCII, one line, at most 100 characters.
    text = re.sub(r"[^\x20-\x7e]", "?", " ".join(text.split()))
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3] + "..."


def body(notice: Notice) -> str:
    rows: list[tuple[str, str | None]] = [
        ("App", notice.app),
        ("Environment", notice.environment),
        ("Pipeline", notice.pipeline),
        ("Execution", notice.execution_id),
        ("Stage", notice.stage),
        ("Action", notice.action),
        ("Commit", notice.commit),
        ("Reason", notice.reason),
        *notice.extra.items(),
        ("Console", notice.link),
    ]
    width = max(len(label) for label, value in rows if value) if any(v for _, v in rows) else 0
    lines = [common.one_line(notice.headline), ""]
    for label, value in rows:
        if value:
            # One line per row, whatever the value holds: a multi-line summary or commit message
            # must not add a line of its own, such as a fake "Console:" link (issue 17/9).
            lines.append(f"{label + ':':<{width + 1}} {common.one_line(value)}")
    return "\n".join(lines) + "\n"


# EventBridge retries delivery for up to 24 hours and Lambda retries async invokes for up to
# 6 hours; a record must outlive both so a late duplicate is still recognised.
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
DUPLICATE_WINDOW_SECONDS = 2 * 24 * 3600


def publish(notice: Notice, config: Config) -> dict[str, Any]:
    attributes = {
        name: {"DataType": "String", "StringValue": value[:256]}
        for name, value in (
            ("app", notice.app),
            ("environment", notice.environment),
            ("kind", notice.kind),
            ("outcome", notice.outcome),
        )
        if value
    }
    response = common.client("sns").publish(
        TopicArn=config.topic_arn,
        Subject=subject(notice),
        Message=body(notice),
        MessageAttributes=attributes,
    )
    logger.info(
        "published",
        extra={"subject": subject(notice), "message_id": response.get("MessageId")},
    )
    return {"status": "published", "subject": subject(notice)}


def handler(event: object, context: object) -> dict[str, Any]:
    common.bind_request(context)
    config = Config.from_env()
    envelope = common.eventbridge_event(event)
    notice = describe(event, config)
    if envelope is None or notice is None:
        detail_type = _map(event).get("detail-type")
        logger.info("ignored", extra={"detail_type": str(detail_type)[:200]})
        return {"status": "ignored"}
    # EventBridge delivers at least once: a second delivery of the same event (same id) to the
    # same topic gets the first result instead of a second email (issue 17/9). The topic is part
    # of the key: one event matched by two rules (developers', security's) reaches two notify
    # functions with the same id, and they share the pipeline's idempotency table.
    # https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
    return common.run_once(
        lambda: publish(notice, config),
        scope="notify",
        key=f"{config.topic_arn}#{envelope.get_id}",
        context=context,
        expires_after_seconds=DUPLICATE_WINDOW_SECONDS,
    )
