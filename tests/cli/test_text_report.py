"""The text report written without rich (off a terminal, into a file) is what rich writes.

`conveyor check` writes the plain text of the report itself when rich would print no colour
(conveyor.cli.checking._write_text); these tests hold it byte-identical to rich's output on
drawn results with hostile names and messages, in UTF-8 and in encodings that lack characters.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from conveyor.cli.checking import plain_report
from conveyor.cli.console import ReportConsole
from conveyor.rules.model import CheckResult, FileError, Finding, Severity
from conveyor.rules.report import text

ENCODINGS = ["utf-8", "ascii", "cp1252", "latin-1"]
HOSTILE = [
    "[bold]", "[/]", "[/bold]", "[red]x[/red]", "\\[", "\\", "\\\\", "[", "]", "[a]", "[#f00]",
    "[@click]", ":smile:", ":thumbs_up:", ":red_heart-emoji:", "\x1b[31m", "\n", "\r", "\t",
    "\x00", "\x7f", "\x85", "\u200b", "\u202e", "\u2028", "\ud800", "\udcff", "日本", "é",
    "e\u0301", "\U0001f600", "  ", " ", "a", "stack.yaml", ":", "%s", "{}", "\ufeff",
]  # fmt: skip
hostile = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=4), max_size=6).map("".join)


@st.composite
def results(draw: st.DrawFn) -> CheckResult:
    files = draw(st.lists(hostile, min_size=1, max_size=3))
    findings = [
        Finding(
            rule=draw(st.sampled_from(["CV001", "CV022", "CV090"])),
            severity=draw(st.sampled_from(list(Severity))),
            file=draw(st.sampled_from(files)),
            resource=draw(hostile),
            path="",
            line=draw(st.integers(0, 10**6)),
            message=draw(hostile),
            fix="",
            failure_modes=(),
        )
        for _ in range(draw(st.integers(0, 5)))
    ]
    errors = [
        FileError(file=draw(st.sampled_from(files)), message=draw(hostile))
        for _ in range(draw(st.integers(0, 2)))
    ]
    unchecked = {
        draw(hostile): {draw(hostile): draw(st.integers(1, 5))}
        for _ in range(draw(st.integers(0, 2)))
    }
    return CheckResult(
        findings=findings,
        suppressed=findings[: draw(st.integers(0, len(findings)))],
        errors=errors,
        files=draw(st.integers(0, 9)),
        resources=draw(st.integers(0, 9999)),
        seconds=draw(st.floats(0, 1000)),
        unchecked=unchecked,
    )


def _stream(encoding: str) -> io.TextIOWrapper:
    # As run() leaves standard output: unencodable characters escaped, never an error.
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="backslashreplace")


def _bytes(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _no_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(result=results(), encoding=st.sampled_from(ENCODINGS))
def test_plain_text_is_what_rich_prints_through_a_pipe(result: CheckResult, encoding: str) -> None:
    by_rich = _stream(encoding)
    text.write(result, ReportConsole(file=by_rich, highlight=False, emoji=False))
    plain = _stream(encoding)
    report = plain_report(result, encoding)
    assert report is not None
    plain.write(report)
    assert _bytes(plain) == _bytes(by_rich)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(result=results())
def test_plain_text_is_what_rich_writes_into_a_file(result: CheckResult) -> None:
    by_rich = _stream("utf-8")
    text.write(
        result,
        Console(file=by_rich, no_color=True, width=10_000, highlight=False, emoji=False),
    )
    plain = _stream("utf-8")
    report = plain_report(result, "utf-8", width=10_000)
    assert report is not None
    plain.write(report)
    assert _bytes(plain) == _bytes(by_rich)


def test_a_heading_rich_would_break_in_a_file_is_left_to_rich() -> None:
    # The console writing a file (-o) is 10,000 columns wide and breaks a file's heading there;
    # a file name that long (escaped bytes of a name that is not UTF-8) is written by rich.
    long_name = "d" * 6000 + " " + "e" * 6000
    finding = Finding("CV001", Severity.LOW, long_name, "R", "", 1, "m", "", ())
    result = CheckResult(findings=[finding], files=1, resources=1)
    assert plain_report(result, "utf-8", width=10_000) is None
    by_rich = _stream("utf-8")
    text.write(result, Console(file=by_rich, no_color=True, width=10_000, highlight=False))
    assert _bytes(by_rich).decode().splitlines()[0] == "d" * 6000 + " "  # broken by rich
    unbounded = plain_report(result, "utf-8")
    assert unbounded is not None and unbounded.splitlines()[0] == long_name


def test_emoji_codes_in_names_are_printed_as_written() -> None:
    # rich's report consoles took `:thumbs_up:` for an emoji code (emoji=True by default).
    finding = Finding("CV001", Severity.LOW, "a:thumbs_up:.yaml", "R", "", 1, "m", "", ())
    result = CheckResult(findings=[finding], files=1, resources=1)
    report = plain_report(result, "utf-8")
    assert report is not None and report.startswith("a:thumbs_up:.yaml\n")
    old = io.StringIO()
    text.write(result, ReportConsole(file=old, highlight=False))  # emoji=True, as before
    assert old.getvalue().startswith("a\U0001f44d.yaml\n")


BAD = """Resources:
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      ImageTagMutability: MUTABLE
      RepositoryName: app
"""


def _conveyor(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    code = "from conveyor.cli.main import run; run()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, check=False, env=env
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env.pop("TTY_INTERACTIVE", None)
    return {**env, **extra}


def test_forced_colours_through_a_pipe_are_still_rich(tmp_path: Path) -> None:
    # FORCE_COLOR (CI logs that show colours) makes rich treat the pipe as a terminal.
    path = tmp_path / "[bad]:smile:.yaml"
    path.write_text(BAD)
    coloured = _conveyor(["check", str(path)], _env(FORCE_COLOR="1"))
    plain = _conveyor(["check", str(path)], _env())
    assert coloured.returncode == plain.returncode == 1
    assert b"\x1b[" in coloured.stdout
    assert b"[bad]:smile:.yaml" in coloured.stdout  # no emoji code read in it, rich or not
    assert b"\x1b" not in plain.stdout
    assert plain.stdout.splitlines()[0] == str(path).encode()
    assert b"\n  " + str(path).encode() + b":5 CV022 medium Repo: " in plain.stdout


def test_the_report_file_is_the_report_on_standard_output(tmp_path: Path) -> None:
    path = tmp_path / "[bad]\\:smile:.yaml"
    path.write_text(BAD)
    report = tmp_path / "report.txt"
    to_file = _conveyor(["check", str(path), "-o", str(report)], _env())
    to_stdout = _conveyor(["check", str(path)], _env())
    assert to_file.returncode == to_stdout.returncode == 1
    assert to_file.stdout == b""
    written, shown = report.read_bytes().splitlines(), to_stdout.stdout.splitlines()
    assert written[0] == str(path).encode()
    assert written[:-1] == shown[:-1]
    # The summary's time differs from run to run.
    assert written[-1].rsplit(b", ", 1)[0] == shown[-1].rsplit(b", ", 1)[0]


def test_forced_colours_put_no_escape_codes_in_the_report_file(tmp_path: Path) -> None:
    # FORCE_COLOR (set in CI for coloured logs) made rich's file console a terminal: the report
    # file (-o) had bold codes around each heading until the text report was written without
    # rich (ae82718). A file is read by tools, not shown on a terminal.
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    report = tmp_path / "report.txt"
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        done = _conveyor(["check", str(path), "-o", str(report)], _env(**{name: "1"}))
        assert done.returncode == 1
        assert b"\x1b" not in report.read_bytes()
        assert report.read_bytes().splitlines()[0] == str(path).encode()
