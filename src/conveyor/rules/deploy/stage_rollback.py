"""A deploy stage of a V2 pipeline that does not roll back when it fails.

CodePipeline V2 rolls a failed stage back to its last successful execution when the stage
declares ``OnFailure: {Result: ROLLBACK}``
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback-auto.html). Every
stage of a ``PipelineType: V2`` pipeline with a Deploy action that changes something is
expected to: a failed deploy, validation or test action then puts the previous release back
instead of leaving the environment on a half-deployed one. Not judged: V1 pipelines (no
conditions there), stages with a Source action (AWS cannot roll a source stage back), and
stages whose only Deploy actions create a change set or update the pipeline's own stack, and
an ``OnFailure`` result chosen at deploy time (a parameter, a Terraform value known after apply).
In the stage that updates the pipeline's own stack, the CloudFormation actions that run before
that update (another region's support stack, whose artifact store the pipeline's definition
names) belong to the pipeline's definition, not to a release: a failed stack update is rolled
back by CloudFormation itself, and a stage rollback would re-run the previous definition's
self-update. Only those deploying what that stage made (its synth) or the source: a stack
deployed there from an earlier stage's build output is a release and is judged as one.
In PARALLEL mode there is no stage rollback at all
(https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html); the finding
says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import UNKNOWN, get, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions, stages, with_self_update
from conveyor.rules.template import Resource


def _changes_an_environment(action: Action) -> bool:
    return action.is_deploy and not action.changes_nothing and not action.updates_own_stack


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    types = possible(res.properties.get("PipelineType"), ctx.params)
    if not types or any(kind != "V2" for kind in types):
        return
    parallel = res.properties.get("ExecutionMode") == "PARALLEL"
    by_stage: dict[int, list[Action]] = {}
    definition = with_self_update(list(actions(res)))
    for action in actions(res):
        by_stage.setdefault(action.stage_index, []).append(action)
    for stage in stages(res):
        found = by_stage.get(stage.index, [])
        if any(a.category == "Source" for a in found):
            continue
        deploys = [
            a.name
            for a in found
            if _changes_an_environment(a) and (a.stage_index, a.index) not in definition
        ]
        result = get(stage.data, "OnFailure", "Result")
        results = possible(result, ctx.params) if result is not None else [None]
        if not deploys or any(r == "ROLLBACK" or r is UNKNOWN for r in results):
            continue  # a result chosen at deploy time (parameter, Terraform unknown) is not judged
        instead = f" (it has OnFailure Result {result})" if isinstance(result, str) else ""
        fix = (
            "switch the pipeline to ExecutionMode QUEUED, since PARALLEL mode has no stage "
            "rollback, and add OnFailure: {Result: ROLLBACK}"
            if parallel
            else "add OnFailure: {Result: ROLLBACK}"
        )
        yield Hit(
            res.logical_id,
            stage.path,
            f"stage {stage.name!r} deploys ({', '.join(deploys)}) but does not roll back to the "
            f"last good release when it fails{instead}: {fix}",
        )


RULE = Rule(
    id="CV102",
    title="Deploy stage without automatic rollback",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM63",),
    why="Issue 11 and S2/S3: a failed deploy or post-deploy check left the environment on the "
    "broken release until someone redeployed by hand; CodePipeline V2 can put the last good "
    "release back itself.",
    fix_cloudformation="On each deploy stage: OnFailure: {Result: ROLLBACK} (PipelineType V2, "
    "ExecutionMode QUEUED or SUPERSEDED).",
    fix_cdk="pipeline.add_stage(stage_name=..., actions=[...], on_failure=codepipeline."
    "FailureConditions(result=codepipeline.Result.ROLLBACK))",
    fix_conveyor="Nothing to write: every environment stage rolls back on failure.",
    check=check,
)
