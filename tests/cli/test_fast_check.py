"""`conveyor check` parsed without typer (conveyor.cli.fast_check) against typer's own parse.

The fast parser either declines a command line (typer parses it, so help and errors stay
typer's) or gives run_check exactly the values typer's `check` would give it. Both sides are
asked here: typer through the app with run_check replaced by a recorder.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conveyor.cli import check as check_command
from conveyor.cli import checking
from conveyor.cli.app import build_app
from conveyor.cli.fast_check import parsed

TEMPLATE = str(Path(__file__).resolve().parents[1] / "rules" / "fixtures" / "CV008" / "good.yaml")
SIGNATURE = inspect.signature(checking.run_check)
runner = CliRunner()
APP = build_app(["check"])


def _bound(*args: Any, **kwargs: Any) -> dict[str, Any]:
    bound = SIGNATURE.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _typers(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any] | None:
    """What typer's `check` passes to run_check for `argv`, or None if it never calls it."""
    calls: list[dict[str, Any]] = []

    def record(*args: Any, **kwargs: Any) -> int:
        calls.append(_bound(*args, **kwargs))
        return 0

    with monkeypatch.context() as patch:
        patch.setattr(check_command, "run_check", record)
        result = runner.invoke(APP, argv)
    assert len(calls) <= 1
    if calls:
        assert result.exit_code == 0, result.output
        return calls[0]
    return None


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """Values with their types, so that 2 and 2.0, or a str and an enum member, differ."""
    return {
        name: [(type(v), v) for v in value] if isinstance(value, list) else (type(value), value)
        for name, value in values.items()
    }


def _assert_fast_agrees(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> bool:
    """The fast parse of `argv` is typer's, or declined; whether it was taken."""
    fast = parsed(argv, environ={})
    if fast is None:
        return False
    typers = _typers(argv, monkeypatch)
    assert typers is not None, f"typer refuses {argv} but the fast parser took it: {fast}"
    assert _typed(_bound(**fast)) == _typed(typers), argv
    return True


OPTIONS = [
    "--format", "-f", "--fail-on", "--ignore", "--require-tags", "--jobs", "-j", "--output",
    "-o", "--time-limit", "--memory-limit", "--input",
]  # fmt: skip
NOT_OPTIONS = ["-h", "--help", "--", "-", "--form", "--formats", "-x", "--version", "-V", "---"]
VALUES = [
    "text", "json", "sarif", "JSON", "Json", "low", "medium", "high", "critical", "HIGH",
    "auto", "terraform", "pulumi", "cloudformation", "Terraform", "0", "1", "2", "007", "128",
    "129", "+1", " 2", "2 ", "2_0", "1.5", ".5", "1.", "1e3", "nan", "inf", "-1", "-0",
    "\u0662", "\u00b2", "9" * 25, "1." + "0" * 40, "CV001", "CV001,CV002", ",,", "", "r.sarif",
    "-", "=", "a=b", "x y", "[a]", "é", "--", "-h",
]  # fmt: skip
PATHS = ["t.json", "", "-", "a b.yaml", "[x].yaml", "é.json", "=", "a=b"]


# Options with values they accept, so that many drawn command lines are parsed fast.
GOOD = {
    "--format": ["text", "json", "sarif"], "-f": ["json"], "--fail-on": ["low", "critical"],
    "--ignore": ["CV001", "CV001,CV002", ",,", ""], "--require-tags": ["Owner", " ,"],
    "--jobs": ["0", "2", "129", "007"], "-j": ["1"], "--output": ["r.sarif", "-", "", "="],
    "-o": ["r.txt", "-"], "--time-limit": ["0", "2.5", "3600.0", "0.000"],
    "--memory-limit": ["0", "512"], "--input": ["terraform", "auto"],
}  # fmt: skip


@st.composite
def _words(draw: st.DrawFn) -> list[str]:
    """One or two words of a command line: mostly an option and a value it takes, or a PATH."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return [draw(_word())]
    if kind == 1:
        return [draw(st.sampled_from(PATHS))]
    option = draw(st.sampled_from(sorted(GOOD)))
    value = draw(st.sampled_from(GOOD[option]))
    if option.startswith("--"):  # `--name value` or `--name=value`
        return [f"{option}={value}"] if draw(st.booleans()) else [option, value]
    return [option + value] if draw(st.booleans()) else [option, value]  # `-j2` or `-j 2`


@st.composite
def _word(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.sampled_from(OPTIONS + NOT_OPTIONS))
    if kind == 1:
        return draw(st.sampled_from(VALUES))
    if kind == 2:
        return draw(st.sampled_from(PATHS))
    option = draw(st.sampled_from(OPTIONS + NOT_OPTIONS))
    value = draw(st.sampled_from(VALUES))
    if kind == 3:
        return f"{option}={value}"
    if kind == 4:
        return f"{option}{value}"  # -fjson, -j2, --formatjson, -fj (flags run together)
    return draw(st.text(min_size=0, max_size=6))


@settings(
    max_examples=700,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    words=st.lists(_words(), max_size=8),
    head=st.sampled_from([["check"]] * 6 + [["--version", "check"], ["chek"], []]),
)
def test_the_fast_parse_is_typers_or_declined(
    words: list[list[str]], head: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _assert_fast_agrees([*head, *[w for word in words for w in word]], monkeypatch)
    event("taken" if taken else "declined")


COMMON = [
    ["check", "f"],
    ["check", "f", "g", "-"],
    [
        "check", "f", "--format", "json", "-o", "r.sarif", "--fail-on", "high", "--ignore",
        "CV001,CV002", "-j", "2", "--input", "terraform",
    ],
    [
        "check", "--format=sarif", "--output=r.sarif", "--fail-on=low", "--ignore=CV090",
        "--ignore", "CV091", "--require-tags=Owner", "--jobs=0", "--time-limit=2.5",
        "--memory-limit=512", "--input=pulumi", "infra/",
    ],
    ["check", "-fjson", "-j2", "-or.json", "f"],
    ["check", "f", "-o", "-", "--time-limit", "30"],
    ["check", "f", "--format", "text", "--format", "json"],
]  # fmt: skip


@pytest.mark.parametrize("argv", COMMON, ids=lambda argv: " ".join(argv))
def test_the_common_forms_are_parsed_fast(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # A parser that declined everything would pass the drawn test and make nothing faster.
    assert _assert_fast_agrees(argv, monkeypatch)


@pytest.mark.parametrize(
    "argv",
    [
        ["check"],
        ["check", "-h"],
        ["check", "f", "--help"],
        ["check", "--", "f"],
        ["check", "f", "-o", "-x"],
        ["check", "f", "--format", "JSON"],
        ["check", "f", "-j", "+1"],
        ["check", "f", "-o=x"],
        ["check", "f", "--jobs"],
        ["--version", "check", "f"],
        ["validate", "f"],
        ["check", "f", "--time-limit", "1e3"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_what_typer_must_answer_is_declined(argv: list[str]) -> None:
    assert parsed(argv, environ={}) is None


def test_shell_completion_is_left_to_typer() -> None:
    assert parsed(["check", "f"], environ={"_CONVEYOR_COMPLETE": "bash_complete"}) is None
    assert parsed(["check", "f"], environ={"_CONVEYOR_COMPLETE": ""}) is not None


def _modules_of(command: list[str], env: dict[str, str]) -> tuple[int, int, set[str]]:
    """Exit code, objects frozen at exit and modules loaded by `command` (a console-script or
    `-m` run of conveyor)."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert "Traceback" not in done.stderr, done.stderr
    frozen, *modules = json.loads(done.stderr.splitlines()[-1])
    return done.returncode, frozen, set(modules)


# The modules held at exit and the objects frozen (gc.freeze), written last on standard error
# by an atexit hook installed before conveyor runs (sitecustomize, read at start-up from
# PYTHONPATH): it runs only if the process exits as usual (atexit handlers run).
SITECUSTOMIZE = (
    "import atexit, gc, json, sys\n"
    "atexit.register(lambda: print(json.dumps([gc.get_freeze_count(), *sorted(sys.modules)]),"
    " file=sys.stderr))\n"
)


@pytest.mark.parametrize("how", ["python -m conveyor", "console script"])
@pytest.mark.parametrize(
    "options",
    [[], ["--format", "json", "-j", "1", "--fail-on", "high", "--ignore", "CV001"]],
    ids=["text", "json"],
)
def test_check_of_a_file_imports_no_typer_click_or_rich(
    how: str, options: list[str], tmp_path: Path
) -> None:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    src = Path(checking.__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(src)]))
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    if how == "python -m conveyor":
        command = [sys.executable, "-m", "conveyor"]
    else:  # what the console script runs (pyproject: conveyor.cli.main:run)
        command = [sys.executable, "-c", "from conveyor.cli.main import run; run()"]
    code, frozen, modules = _modules_of([*command, "check", TEMPLATE, *options], env)
    assert code == (1 if not options else 0)
    # Frozen before exit, so the final collection does not walk them; atexit still ran.
    assert frozen > 10_000
    assert "conveyor.rules.engine" in modules  # it did check
    # Through a pipe the text report is written without rich (conveyor.cli.checking).
    loaded = sorted(m for m in modules if m.split(".")[0] in ("typer", "click", "rich"))
    assert loaded == []
