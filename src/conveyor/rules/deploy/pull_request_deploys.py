"""Pull requests start a pipeline that deploys or publishes.

A pipeline whose trigger has a pull-request filter (``Triggers[].GitConfiguration.PullRequest``)
runs the commit of the pull request's source branch: code anyone who can open a pull request
chose, before anyone reviewed it (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html).
Reported when such a pipeline has a deploy action (category ``Deploy``: CloudFormation, ECS,
CodeDeploy, Elastic Beanstalk, S3, ...), or a CodeBuild action whose project (in this template)
pushes an image (``docker push``/``buildx --push`` in its inline buildspec, or an image build
whose role may ``ecr:PutImage``): either way unreviewed code reaches an environment or the
registry a release deploys from. A pipeline that both deploys and runs pull requests is best
split in two: the release pipeline on pushes, a pull-request pipeline that builds, tests and
scans without deploying.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.iam.build_role_ecr_push import pushes
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions, project_of, pull_request_trigger
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    trigger = pull_request_trigger(res)
    if trigger is None:
        return
    pushing: set[str] = set()
    for action in actions(res):
        if action.is_deploy:
            yield Hit(
                res.logical_id,
                action.path,
                f"pull requests start this pipeline (its trigger's PullRequest filter), and "
                f"action {action.name!r} in stage {action.stage!r} deploys ({action.provider}): "
                "unreviewed code reaches an environment; run pull requests in a pipeline of "
                "their own that builds, tests and scans only",
            )
            continue
        project = project_of(action, ctx.template)
        if project is not None and project.logical_id not in pushing and pushes(project, ctx):
            pushing.add(project.logical_id)  # once per project, at its first action
            yield Hit(
                res.logical_id,
                action.path,
                f"pull requests start this pipeline (its trigger's PullRequest filter), and "
                f"action {action.name!r} runs project {project.logical_id}, which pushes an image:"
                " unreviewed code lands in the registry releases deploy from; build the image "
                "without pushing it (an archive for the image scans)",
            )


RULE = Rule(
    id="CV116",
    title="Pull requests start a pipeline that deploys",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM116",),
    why="Issue 11: a pull request's run must build, test and scan, never deploy: its code is "
    "whatever anyone who can open a pull request wrote, unreviewed.",
    fix_cloudformation="Keep the PullRequest filter on a pipeline of Source and Build only, "
    "whose build does not push; deploy from a pipeline triggered by pushes (Push filter).",
    fix_cdk="A second codepipeline.Pipeline with GitConfiguration(pull_request_filter=[...]) "
    "and no deploy action; the release pipeline keeps push_filter only.",
    fix_conveyor="Nothing to write: source.github.pull_requests makes a separate {app}-pr "
    "pipeline that never deploys or pushes.",
    check=check,
)
