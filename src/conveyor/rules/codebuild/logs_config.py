"""CodeBuild logs not sent to a log group created by the template.

Without ``LogsConfig.CloudWatchLogs.GroupName`` CodeBuild creates ``/aws/codebuild/<project>``
itself, with no retention and no key. A group name counts as pre-created when it references an
``AWS::Logs::LogGroup`` of this template or equals one's literal ``LogGroupName`` (or may be
the name one builds with an intrinsic); a parameter or import is trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, intrinsic_name, possible, references, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

# A reference in rendered text (render writes each one as ${Name}).
PLACEHOLDER = lazy(r"\$\{[^}]*\}")


def _may_name(name: object, group: str) -> bool:
    """Whether a log group's LogGroupName may be the literal group: equal, or built by an
    intrinsic whose literal parts fit it (``!Sub '/aws/codebuild/app-${Env}'``)."""
    if name is None or isinstance(name, str):
        return name == group  # no name: CloudFormation makes one up, never the literal
    text = render(name)
    if text is None:
        return True  # built in a way that cannot be read: it may be the group
    pattern = ".+".join(re.escape(part) for part in PLACEHOLDER.split(text))
    return re.fullmatch(pattern, group) is not None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    logs = get(res.properties, "LogsConfig", "CloudWatchLogs")
    if logs is None:
        s3_status = get(res.properties, "LogsConfig", "S3Logs", "Status")
        yield Hit(
            res.logical_id,
            "Properties.LogsConfig" if "LogsConfig" in res.properties else "Properties",
            "build logs go to a log group CodeBuild creates itself (no retention, no key)"
            if s3_status != "ENABLED"
            else "build logs go only to S3; send them to a pre-created CloudWatch log group",
        )
        return
    if (
        "DISABLED" in possible(get(logs, "Status"), ctx.params)
        and len(possible(get(logs, "Status"), ctx.params)) == 1
    ):
        yield Hit(
            res.logical_id,
            "Properties.LogsConfig.CloudWatchLogs.Status",
            "CloudWatch build logs are disabled",
        )
        return
    group = get(logs, "GroupName")
    if group is None:
        yield Hit(
            res.logical_id,
            "Properties.LogsConfig.CloudWatchLogs",
            "no GroupName: CodeBuild creates its own log group (no retention, no key)",
        )
        return
    if intrinsic_name(group) is not None or not isinstance(group, str):
        # References are trusted: a log group, a parameter or an import. Anything else but a
        # name is no log group CloudFormation accepts, and not judged here.
        return
    names = [
        r.properties.get("LogGroupName")
        for r in ctx.template.resources.values()
        if r.type == "AWS::Logs::LogGroup"
    ]
    if not any(_may_name(name, group) for name in names) and not references(group):
        yield Hit(
            res.logical_id,
            "Properties.LogsConfig.CloudWatchLogs.GroupName",
            f"log group {group!r} is not created by this template; builds fail to log or "
            "CodeBuild creates it without retention",
        )


RULE = Rule(
    id="CV033",
    title="Build logs not sent to a pre-created log group",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM23",),
    why="S1, S2 and S5: build logs did not appear because the log group was not pre-created; "
    "builds failed silently.",
    fix_cloudformation="Create an AWS::Logs::LogGroup with RetentionInDays and set "
    "LogsConfig.CloudWatchLogs: {Status: ENABLED, GroupName: !Ref BuildLogGroup}.",
    fix_cdk="codebuild.PipelineProject(..., logging=codebuild.LoggingOptions(cloud_watch="
    "codebuild.CloudWatchLoggingOptions(log_group=log_group)))",
    fix_conveyor="Nothing to write: conveyor creates each project's log group first.",
    check=check,
)
