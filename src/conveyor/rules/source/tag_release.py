"""A pipeline that deploys and starts on pushed Git tags.

A V2 pipeline's push trigger can filter on tags, or on branches (with file paths), never both
in one filter ("Valid combinations are: tags, branches, branches + file paths":
https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html), and a tag may
name any commit of any branch. So a pushed tag matching the filter releases whatever commit it
names, one that no pull request reviewed included: anyone who may push such a tag can release
unreviewed code. The template cannot show what limits that; the repository can: a rule that
restricts who may create the tags (a GitHub ruleset targeting tags with "Restrict creations":
https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/available-rules-for-rulesets,
GitLab's protected tags). Low severity: a finding says to check that rule, and to record it in
a suppression's reason.

Reported, once per pipeline, at the first push filter with tags, when the pipeline has an
action that deploys (category Deploy, other than a change set it only makes or the pipeline's
own stack). Not judged: a tag filter that only excludes (it starts nothing by itself).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource


def _tag_filter(pipeline: Resource) -> tuple[str, list[str]] | None:
    """The path and patterns of the first push filter that starts the pipeline on tags."""
    for t_index, trigger in enumerate(as_list(pipeline.properties.get("Triggers"))):
        for p_index, push in enumerate(as_list(get(trigger, "GitConfiguration", "Push"))):
            included = [str(tag) for tag in as_list(get(push, "Tags", "Includes"))]
            if included:
                path = f"Properties.Triggers.{t_index}.GitConfiguration.Push.{p_index}.Tags"
                return path, included
    return None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    found = _tag_filter(res)
    if found is None:
        return
    deploys = [
        a for a in actions(res) if a.is_deploy and not a.changes_nothing and not a.updates_own_stack
    ]
    if not deploys:
        return
    path, patterns = found
    stages = ", ".join(dict.fromkeys(a.stage for a in deploys))
    yield Hit(
        res.logical_id,
        path,
        f"a pushed tag matching {', '.join(patterns)} starts this pipeline, which deploys "
        f"({stages}): a tag filter cannot be limited to a branch, so a tag on any commit, "
        "reviewed or not, releases it, and anyone who may push such a tag releases unreviewed "
        "code. Restrict who may create these tags with a repository rule (a GitHub ruleset on "
        "tags with Restrict creations) and name it in this finding's suppression reason",
    )


RULE = Rule(
    id="CV119",
    title="Pushed tags release a pipeline that deploys",
    severity=Severity.LOW,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM116",),
    why="Issue 11: release on tag (source.github.tags) starts the delivery pipeline for any "
    "commit a matching tag names, on any branch: branch protection and review on the release "
    "branch do not cover it.",
    fix_cloudformation="Keep the tag filter only where the repository restricts who may create "
    "matching tags (a ruleset), and record that in a Metadata suppression reason; otherwise "
    "release from a branch filter.",
    fix_cdk="codepipeline.GitPushFilter(tags_includes=['v*']) only with a repository ruleset "
    "restricting tag creation; say so in the pipeline's conveyor suppression metadata.",
    fix_conveyor="source.github.tag_creation: how the repository restricts who may create the "
    "tags (conveyor records it as the suppression's reason), or drop tags:.",
    check=check,
)
