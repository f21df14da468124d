"""`conveyor plan`, `diagram` and `cost` describe the pipeline `synth` builds: same stages, same
actions, same run orders, same providers."""

from __future__ import annotations

import pytest

from conveyor.plan import plan
from tests.synth.conftest import EXAMPLES, Synthesized


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_plan_matches_the_synthesized_pipeline(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    (pipeline,) = s.resources("AWS::CodePipeline::Pipeline").values()
    built = [
        (
            stage["Name"],
            sorted(
                (a["Name"], a["RunOrder"], a["ActionTypeId"]["Provider"]) for a in stage["Actions"]
            ),
        )
        for stage in pipeline["Properties"]["Stages"]
    ]
    planned = [
        (stage.name, sorted((a.name, a.run_order, a.provider) for a in stage.actions))
        for stage in plan(s.spec).stages
    ]
    assert planned == built
