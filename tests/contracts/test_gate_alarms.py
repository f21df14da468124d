"""Issue 11 review: `Release-<env>`'s before-entry condition holds the gate's alarm rules and its
window, and AWS does not read the alarms again when the window opens
(https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html).
The stage's first action, MarkDeployed, reads them itself before it changes anything
(buildspec.gate_alarm_commands): an alarm in ALARM fails it before the image's tag or the
package's copy, and its role may read exactly those alarms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conveyor.constructs import buildspec
from tests.contracts.buildspecs import aws_requests, environment, install_stubs, run, script
from tests.contracts.model import Example, Located
from tests.contracts.obligations import project_obligations
from tests.contracts.test_buildspecs import projects

WRITES = {("ecr", "put-image"), ("s3api", "copy-object")}


def _release_mark(example: Example, stage: str) -> tuple[dict[str, Any], Located]:
    (action,) = [
        a for name, a in example.actions() if name == stage and a["Name"] == "MarkDeployed"
    ]
    (project,) = [
        p for p in projects(example) if p.value("Name") == action["Configuration"]["ProjectName"]
    ]
    return action, project


def _variables(action: dict[str, Any]) -> dict[str, str]:
    config = action["Configuration"]
    return {v["name"]: v["value"] for v in json.loads(config["EnvironmentVariables"])}


@pytest.mark.parametrize("example", ["payments"], indirect=True)
def test_release_mark_fails_on_a_gate_alarm_in_alarm_before_it_tags(
    example: Example, tmp_path: Path
) -> None:
    action, project = _release_mark(example, "Release-prod")
    assert _variables(action)[buildspec.GATE_ALARMS] == "payments-ledger-errors"
    firing = run(
        example,
        project,
        tmp_path / "firing",
        action=action,
        stub_env={"STUB_ALARMS_IN_ALARM": "payments-ledger-errors"},
    )
    assert firing.returncode != 0
    assert "gate alarms in ALARM: payments-ledger-errors" in firing.output
    # The alarm read is the first call, and nothing is written after it.
    assert firing.calls[0][:3] == ["aws", "cloudwatch", "describe-alarms"]
    assert [c for c in firing.calls if tuple(c[1:3]) in WRITES] == []

    quiet = run(example, project, tmp_path / "quiet", action=action)
    assert quiet.returncode == 0, quiet.output
    read = quiet.calls[0]
    assert read[:3] == ["aws", "cloudwatch", "describe-alarms"]
    # Every named alarm's state, so an alarm the answer lacks is told from a quiet one.
    assert "--state-value" not in read
    assert read[read.index("--query") + 1] == "MetricAlarms[].[AlarmName,StateValue]"
    assert [c[1:3] for c in quiet.calls if tuple(c[1:3]) in WRITES] == [["ecr", "put-image"]]

    # Its role may read the gate's alarm (and the evaluator refuses one it does not name).
    role = example.role(project.value("ServiceRole"))
    region, account = project.resolver.region, project.resolver.account
    env = environment(example, project, quiet.workdir, tmp_path)
    requests = [
        (a, r)
        for _, a, r in aws_requests(quiet, env, region, account)
        if a.startswith("cloudwatch")
    ]
    assert requests == [
        (
            "cloudwatch:DescribeAlarms",
            f"arn:aws:cloudwatch:{region}:{account}:alarm:payments-ledger-errors",
        )
    ]
    assert [
        example.allows(role, a, r).why for a, r in requests if not example.allows(role, a, r)
    ] == []
    other = f"arn:aws:cloudwatch:{region}:{account}:alarm:someone-elses-alarm"
    assert not example.allows(role, "cloudwatch:DescribeAlarms", other)


@pytest.mark.parametrize("example", ["payments"], indirect=True)
def test_the_role_contract_has_the_mark_read_the_gate_alarms(example: Example) -> None:
    """The runtime contracts' table (cloudwatch-describe-gate-alarms) obliges the mark's role
    to read the gate's alarm, which test_iam_sufficiency then judges for every example."""
    _, project = _release_mark(example, "Release-prod")
    role = example.role(project.value("ServiceRole"))
    reads = [
        o
        for o in project_obligations(example)
        if o.role == role and o.action == "cloudwatch:DescribeAlarms"
    ]
    assert [o.resource.rsplit(":", 1)[-1] for o in reads] == ["payments-ledger-errors"]
    assert [o for o in reads if not example.allows(o.role, o.action, o.resource)] == []


@pytest.mark.parametrize("example", ["payments"], indirect=True)
def test_only_release_marks_read_the_gate_alarms(example: Example) -> None:
    """Staging has no gate alarms; a mark in another stage has nothing to re-read."""
    marks = [
        (stage, _variables(a)) for stage, a in example.actions() if a["Name"] == "MarkDeployed"
    ]
    assert [s for s, v in marks if buildspec.GATE_ALARMS in v] == ["Release-prod"]


def _package_copy(root: Path, firing: str) -> tuple[int, str, list[list[str]]]:
    """The Lambda environment's mark (the package copy) as CodeBuild runs it, with a gate."""
    workdir, bin_dir = root / "src", root / "bin"
    workdir.mkdir(parents=True)
    install_stubs(bin_dir)
    (root / "calls.jsonl").touch()
    state = root / "s3.json"
    state.write_text(json.dumps({"store/build.zip": [{"VersionId": "v1", "Metadata": {}}]}))
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "STUB_CALLS": str(root / "calls.jsonl"),
        "STUB_REAL_PYTHON": sys.executable,
        "STUB_S3": str(state),
        "STUB_ALARMS_IN_ALARM": firing,
        buildspec.PACKAGE_BUCKET: "store",
        buildspec.PACKAGE_KEY: "build.zip",
        buildspec.PACKAGE_VERSION: "v1",
        buildspec.DEPLOYED_KEY: "deployed/prod.zip",
        buildspec.GATE_ALARMS: "orders-errors\norders latency",
    }
    done = subprocess.run(
        ["bash", "-c", script(buildspec.mark_deployed_package_buildspec())],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = [json.loads(line) for line in (root / "calls.jsonl").read_text().splitlines()]
    return done.returncode, done.stdout + done.stderr, calls


def test_the_package_copy_fails_on_a_gate_alarm_in_alarm_before_it_copies(tmp_path: Path) -> None:
    code, output, calls = _package_copy(tmp_path / "firing", "orders-errors")
    assert code != 0
    assert "gate alarms in ALARM: orders-errors" in output
    assert [c[1:3] for c in calls] == [["cloudwatch", "describe-alarms"]]
    # Each name one argument, a name with a space included.
    assert calls[0][calls[0].index("--alarm-names") + 1 :][:2] == [
        "orders-errors",
        "orders latency",
    ]

    code, output, calls = _package_copy(tmp_path / "quiet", "")
    assert code == 0, output
    assert calls[0][1:3] == ["cloudwatch", "describe-alarms"]
    assert ["s3api", "copy-object"] in [c[1:3] for c in calls]


@pytest.mark.parametrize("example", ["payments"], indirect=True)
@pytest.mark.parametrize(
    "error",
    [
        "An error occurred (AccessDenied) when calling the DescribeAlarms operation",
        "An error occurred (Throttling) when calling the DescribeAlarms operation: Rate exceeded",
    ],
)
def test_release_mark_fails_closed_when_the_alarm_read_fails(
    example: Example, tmp_path: Path, error: str
) -> None:
    """A denied or throttled DescribeAlarms prints nothing on stdout, which must not read as
    "no alarm in ALARM": the mark fails, says so, and tags nothing."""
    action, project = _release_mark(example, "Release-prod")
    failed = run(
        example,
        project,
        tmp_path / "failed",
        action=action,
        stub_env={"STUB_DESCRIBE_ALARMS_ERROR": error},
    )
    assert failed.returncode != 0
    assert "could not read the gate alarms payments-ledger-errors" in failed.output
    assert error in failed.output
    assert "not in ALARM" not in failed.output
    assert [c for c in failed.calls if tuple(c[1:3]) in WRITES] == []


@pytest.mark.parametrize("example", ["payments"], indirect=True)
def test_release_mark_fails_when_a_gate_alarm_no_longer_exists(
    example: Example, tmp_path: Path
) -> None:
    """DescribeAlarms leaves out an alarm deleted since the stage's entry read it; an absent
    answer is no answer, so the mark fails, naming the alarm, and tags nothing."""
    action, project = _release_mark(example, "Release-prod")
    gone = run(
        example,
        project,
        tmp_path / "gone",
        action=action,
        stub_env={"STUB_ALARMS_MISSING": "payments-ledger-errors"},
    )
    assert gone.returncode != 0
    assert "gate alarms not found: payments-ledger-errors" in gone.output
    assert "not in ALARM" not in gone.output
    assert [c for c in gone.calls if tuple(c[1:3]) in WRITES] == []
