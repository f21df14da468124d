"""`conveyor check` when standard output or error is closed, or its reader leaves early.

Each case once failed silently or with the wrong exit code: a report cut short exited 1 (the
code for findings) instead of 2, and a closed standard error turned a usage error into exit 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "from conveyor.cli.main import run; run()"]
BAD = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
CLEAN = '{"Resources": {}}'


def _many_findings(tmp_path: Path) -> Path:
    # About 250 kB of text report and 900 kB of JSON: several times a pipe's 64 kB buffer.
    path = tmp_path / "buckets.yaml"
    path.write_text(
        "Resources:\n" + "".join(f"  Bucket{n}:\n    Type: AWS::S3::Bucket\n" for n in range(400))
    )
    return path


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["PYTHONUNBUFFERED", "buffered"])
@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_a_reader_that_leaves_early_is_exit_2_not_a_report_cut_short(
    tmp_path: Path, output_format: str, unbuffered: str
) -> None:
    # `conveyor check infra/ | head -1` under pipefail, in a CI image that sets
    # PYTHONUNBUFFERED=1: unbuffered, sys.stdout wrote the report with one os.write and dropped
    # what the pipe did not take, so a report cut short exited 1 without a word.
    template = _many_findings(tmp_path)
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [*CLI, "check", str(template), "--format", output_format],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=_env(PYTHONUNBUFFERED=unbuffered),
        )
        os.close(write_end)
        write_end = -1
        first = os.read(read_end, 100)  # the report has begun, and fills the pipe
        os.close(read_end)
        read_end = -1
        _, err = proc.communicate(timeout=120)
    finally:
        for end in (read_end, write_end):
            if end >= 0:
                os.close(end)
    assert first
    assert proc.returncode == 2, err
    assert err == b"error: cannot write the report to standard output: Broken pipe; " + (
        b"choose a writable file\n"
    )


def _closed(redirections: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`conveyor ARGS` run by a shell with `redirections` (e.g. `>&-`)."""
    return subprocess.run(
        ["sh", "-c", f'exec "$@" {redirections}', "sh", *CLI, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=_env(),
    )


@pytest.mark.parametrize("also", ["", ">/dev/null"], ids=["stdout-open", "stdout-devnull"])
def test_a_closed_standard_error_keeps_the_exit_codes(tmp_path: Path, also: str) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "clean.json").write_text(CLEAN)
    cases = [
        (["check", "clean.json"], 0),
        (["check", "bad.yaml"], 1),
        (["check", "missing.yaml"], 2),
        (["check", "bad.yaml", "--ignore", "CV999"], 2),  # a usage error: its message is lost
        (["check", "bad.yaml", "-o", "no/such/dir/r.txt"], 2),
    ]
    for args, code in cases:
        done = _closed(f"2>&- {also}", args, tmp_path)
        assert done.returncode == code, (args, done.stdout)
        assert "Traceback" not in done.stdout


def test_a_closed_standard_output_is_a_report_not_written_unless_it_goes_to_a_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    done = _closed(">&-", ["check", "bad.yaml"], tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "error: cannot write the report to standard output: Bad file descriptor; "
        "choose a writable file\n"
    )
    # -o FILE needs no standard output: the report is written and the exit code is the check's.
    for redirections in (">&-", ">&- 2>&-"):
        done = _closed(redirections, ["check", "bad.yaml", "-o", "r.txt"], tmp_path)
        assert (done.returncode, done.stderr) == (1, "")
        piped = subprocess.run(
            [*CLI, "check", "bad.yaml"], capture_output=True, text=True, cwd=tmp_path, env=_env()
        )
        report = (tmp_path / "r.txt").read_text()
        assert report.splitlines()[:-1] == piped.stdout.splitlines()[:-1]  # all but the timing
    # Any other command: said, exit 2, not a traceback.
    done = _closed(">&-", ["--version"], tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "error: cannot write the output: Bad file descriptor\n",
    )
