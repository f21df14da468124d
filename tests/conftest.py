"""Fixtures shared by more than one test folder.

`synthesized` synthesizes every example once per session (each synth costs seconds); tests/synth
and tests/contracts both read it, in the one xdist group "synth" so a single worker pays for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.synth.conftest import EXAMPLES, Synthesized

# CI must not fail on the draw of the day: there the property suites replay the same examples
# every run (derandomize). Locally they stay random, which is how they find new cases. Neither
# fails on a loaded machine's slowness: `make test` on a shared 2-core machine failed
# tests/cli/test_markup.py with "Input generation is slow" (two draws of a 20-piece list in
# 4.6 s, waiting for a core), which says nothing about conveyor.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("local", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "local")

# The day conveyor judges dates by (a Lambda runtime's deprecation: validate's warning and
# refusal, CV076), pinned so that the suite passes on any day it runs; tests about dates pass
# their own. Set in the environment, so the conveyor processes tests start see it too.
PINNED_TODAY = "2026-12-02"
os.environ["CONVEYOR_TODAY"] = PINNED_TODAY


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Synthesized]]:
    from conveyor.spec import load_spec
    from conveyor.synth import synthesize

    results: dict[str, Synthesized] = {}
    for path in EXAMPLES:
        outdir = tmp_path_factory.mktemp(path.stem)
        spec = load_spec(path)
        result = synthesize(spec, outdir, nag=True)
        results[path.stem] = Synthesized(
            name=path.stem,
            spec=spec,
            outdir=result.outdir,
            templates={t.stack: json.loads(t.path.read_text()) for t in result.templates},
            nag_report=json.loads((result.outdir / "validation-report.json").read_text()),
        )
    yield results
