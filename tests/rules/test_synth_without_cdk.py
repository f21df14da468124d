"""CV132: a job that runs `conveyor synth` after installing conveyor without its cdk extra is
reported on its buildspec; the extra, aws-cdk-lib in the same job, or no install of conveyor at
all (an image that has it) is not. The Synth jobs conveyor writes pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.constructs.synth_job import synth_buildspec
from conveyor.rules import check_paths
from conveyor.stages.self_update import self_update_buildspec


def _findings(tmp_path: Path, buildspec: Any, variables: dict[str, str] | None = None) -> list[str]:
    project = {
        "Type": "AWS::CodeBuild::Project",
        "Properties": {
            "Source": {
                "Type": "CODEPIPELINE",
                "BuildSpec": buildspec if isinstance(buildspec, str) else json.dumps(buildspec),
            },
            "Environment": {
                "EnvironmentVariables": [
                    {"Name": k, "Type": "PLAINTEXT", "Value": v}
                    for k, v in (variables or {}).items()
                ]
            },
        },
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Resources": {"Synth": project}}), encoding="utf-8")
    result = check_paths([path])
    assert result.errors == []
    return [f.resource for f in result.findings if f.rule == "CV132"]


def _spec(install: str, synth: str = "conveyor synth conveyor.yaml -o out") -> dict[str, Any]:
    return {
        "version": "0.2",
        "phases": {"install": {"commands": [install]}, "build": {"commands": [synth]}},
    }


@pytest.mark.parametrize(
    "install",
    [
        "pip install --quiet 'conveyor==0.1.0'",
        "pip install conveyor",
        "python -m pip install -U conveyor>=0.1",
        'pip3 install "conveyor @ git+https://github.com/acme/conveyor@v0.1.0"',
        "pip install 'conveyor[dev-tools]==0.1.0'",
    ],
)
def test_conveyor_without_the_cdk_extra_is_reported(tmp_path: Path, install: str) -> None:
    assert _findings(tmp_path, _spec(install)) == ["Synth"]


def test_the_requirement_read_from_a_plaintext_variable(tmp_path: Path) -> None:
    spec = _spec('pip install --quiet "$CONVEYOR_REQUIREMENT"')
    assert _findings(tmp_path, spec, {"CONVEYOR_REQUIREMENT": "conveyor==0.1.0"}) == ["Synth"]
    assert _findings(tmp_path, spec, {"CONVEYOR_REQUIREMENT": "conveyor[cdk]==0.1.0"}) == []


@pytest.mark.parametrize(
    "install",
    [
        "pip install --quiet 'conveyor[cdk]==0.1.0'",
        "pip install 'conveyor[cdk,dev]'",
        "pip install conveyor==0.1.0 aws-cdk-lib==2.275.0 constructs",
        # Another distribution whose name only starts with conveyor's.
        "pip install conveyor-tools && pip install 'conveyor[cdk]'",
        # No conveyor installed here: the image has it, and this rule cannot tell how.
        "pip install requests",
        'pip install --quiet "$UNKNOWN_REQUIREMENT"',
    ],
)
def test_the_extra_or_the_cdk_libraries_pass(tmp_path: Path, install: str) -> None:
    assert _findings(tmp_path, _spec(install)) == []


def test_a_job_that_does_not_synthesize_is_not_judged(tmp_path: Path) -> None:
    assert _findings(tmp_path, _spec("pip install conveyor", "conveyor check cdk.out")) == []


def test_conveyors_own_synth_jobs_pass(tmp_path: Path) -> None:
    assert _findings(tmp_path, synth_buildspec("conveyor[cdk]==0.1.0")) == []
    assert (
        _findings(tmp_path, self_update_buildspec(), {"CONVEYOR_REQUIREMENT": "conveyor[cdk]==1"})
        == []
    )
    # The job as it was before the issue 10 review (conveyor==X): reported.
    assert _findings(tmp_path, synth_buildspec("conveyor==0.1.0")) == ["Synth"]
