"""Pipeline in PARALLEL execution mode with a stage that expects to roll back.

AWS: "For pipelines in PARALLEL mode, stage rollback is not available. Similarly, failure
conditions with a rollback result type cannot be added to a PARALLEL mode pipeline."
(https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html). A stage whose
``OnFailure`` has ``Result: ROLLBACK``, or an ``OnSuccess``/``OnFailure`` condition with
``Result: ROLLBACK``, is reported on a pipeline whose ``ExecutionMode`` is ``PARALLEL`` in every
branch (a parameter or ``Fn::If`` that may pick another mode is not judged).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import rolls_back, stages
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    modes = possible(res.properties.get("ExecutionMode"), ctx.params)
    if not modes or any(mode != "PARALLEL" for mode in modes):
        return
    for stage in stages(res):
        if rolls_back(stage):
            yield Hit(
                res.logical_id,
                stage.path,
                f"stage {stage.name!r} rolls back, but the pipeline runs in PARALLEL mode, where "
                "CodePipeline has no stage rollback and refuses rollback conditions: use "
                "ExecutionMode QUEUED (or SUPERSEDED)",
            )


RULE = Rule(
    id="CV100",
    title="Rollback expected in a PARALLEL-mode pipeline",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM111",),
    why="Issue 11: PARALLEL mode turns stage rollback off; a pipeline that counts on rolling a "
    "failed deployment back either cannot be created or updated (rollback conditions are refused) "
    "or leaves the failed release running.",
    fix_cloudformation="ExecutionMode: QUEUED (or SUPERSEDED) on the pipeline; keep OnFailure: "
    "{Result: ROLLBACK} on the deploy stages.",
    fix_cdk="codepipeline.Pipeline(..., execution_mode=codepipeline.ExecutionMode.QUEUED)",
    fix_conveyor="Nothing to write: conveyor's pipelines run QUEUED (pipeline.execution_mode: "
    "superseded may be chosen; parallel is refused because it disables rollback).",
    check=check,
)
