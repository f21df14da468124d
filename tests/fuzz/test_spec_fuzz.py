"""Fuzzing the spec loader and `conveyor init` (issue 18): whatever a conveyor.yaml or a
repository holds, the answer is a Spec, or `file:line: key: message` lines and exit 2. Never a
traceback, a hang, pydantic's own wording, a flood of output, or a file written outside the
directory it belongs in.

CI runs a few hundred examples per property with a fixed seed (well under a minute). For a
longer, random run:

    CONVEYOR_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/fuzz/test_spec_fuzz.py -q
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.spec import Spec, SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SEEDS = [path.read_text() for path in EXAMPLES]

LONG_RUN = "CONVEYOR_FUZZ_EXAMPLES" in os.environ
EXAMPLES_PER_TEST = int(os.environ.get("CONVEYOR_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    deadline=None,
    derandomize=not LONG_RUN,  # CI: the same examples every run, so a failure is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A report line: `file:line: message` or `file: message` (the file name is what was passed).
REPORT_LINE = re.compile(r"^(?P<file>[^\n]+?\.yaml)(:\d+)?: .")
RAW_PYDANTIC = ("Input should be", "Value error,", "NoneType", "validation error", "[type=")
runner = CliRunner()

# Values people (and mutation fuzzers) put where a string, number or mapping belongs.
HOSTILE_SCALARS = [
    "2001-02-30",
    "2001-13-01",
    "2001-01-01T25:00:00",
    "2001-01-01 10:00:00 +99:99",
    "0x_",
    "0b_",
    "0o_",
    "1" * 4301,
    "-" + "9" * 5000,
    "1e999",
    ".nan",
    "-.inf",
    "!!int abc",
    "!!float x",
    "!!bool",
    "!!bool maybe",
    "!!timestamp x",
    "!!null x",
    "!!str 3",
    "!!binary aGk=",
    "!!omap [a: 1]",
    "!!map [a, b]",
    "!!map x",
    "!!seq {a: 1}",
    "!!seq x",
    "!!set {a}",
    "!!python/object/apply:os.system [echo pwned]",
    "!Ref X",
    "&a [*a]",
    "*nowhere",
    "<<: {a: 1}",
    "~",
    "''",
    "[]",
    "{}",
    "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
    "x" * 5000,
    '"\\x00"',
    '"\\ud800"',
    "'[/b] [bold]'",
    "yes",
    "on",
    "0777",
    "1_000",
    "12:30:00",
]


def _check_report(report: str, file: str = "conveyor.yaml") -> None:
    assert report, "an empty report"
    for raw in RAW_PYDANTIC:
        assert raw not in report, report[:2000]
    for line in report.splitlines():
        match = REPORT_LINE.match(line)
        assert match and match["file"] == file, line[:300]
        assert len(line) <= 2_500, f"{len(line)} characters: {line[:300]}"


def _parses_or_explains(text: str | bytes) -> Spec | None:
    """The property every input must have; returns the Spec when it is valid."""
    try:
        return parse_spec(text, "conveyor.yaml")
    except SpecError as exc:
        _check_report(str(exc))
        return None


# --- specs ---------------------------------------------------------------------------------------


@st.composite
def _line_mutants(draw: st.DrawFn) -> str:
    """An example with one line's value replaced, a line duplicated, cut, or re-indented."""
    lines = draw(st.sampled_from(SEEDS)).splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    how = draw(st.sampled_from(["value", "duplicate", "delete", "indent", "insert", "truncate"]))
    if how == "value" and ":" in line:
        key = line.split(":", 1)[0]
        value = draw(st.sampled_from(HOSTILE_SCALARS) | st.text(max_size=40))
        lines[index] = f"{key}: {value}"
    elif how == "duplicate":
        lines.insert(index, line)
    elif how == "delete":
        del lines[index]
    elif how == "indent":
        lines[index] = draw(st.sampled_from(["", " ", "\t", "   "])) + line.lstrip()
    elif how == "insert":
        at = draw(st.integers(0, len(line)))
        lines[index] = line[:at] + draw(st.text(min_size=1, max_size=5)) + line[at:]
    else:
        return "\n".join(lines)[: draw(st.integers(0, sum(len(x) + 1 for x in lines)))]
    return "\n".join(lines) + "\n"


_json_like: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from([10**400, -(10**200), "x" * 3000, float("nan")]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*path, i))
    return found


@st.composite
def _tree_mutants(draw: st.DrawFn) -> str:
    """An example with one value anywhere in its tree replaced (or a key added) and re-dumped."""
    data = yaml.safe_load(draw(st.sampled_from(SEEDS)))
    path = draw(st.sampled_from(_paths(data)[1:]))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if draw(st.booleans()) or not isinstance(parent, dict):
        parent[path[-1]] = draw(_json_like)
    else:
        parent[draw(st.text(min_size=1, max_size=12))] = draw(_json_like)
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), width=10**6)


@FUZZ
@given(text=_line_mutants())
def test_examples_with_a_broken_line(text: str) -> None:
    _parses_or_explains(text)


@FUZZ
@given(text=_tree_mutants())
def test_examples_with_a_hostile_value_anywhere(text: str) -> None:
    _parses_or_explains(text)


_YAML_ALPHABET = st.sampled_from([*"ab:- []{},&*!|>'\"#%@`?\n\t 019.x_+<\\~", "\x00", "é"])


@FUZZ
@given(text=st.text(_YAML_ALPHABET, max_size=200) | st.binary(max_size=200))
def test_arbitrary_text_and_bytes(text: str | bytes) -> None:
    _parses_or_explains(text)


@FUZZ
@given(depth=st.integers(1, 3000), style=st.sampled_from(["[", "{a: ", "- ", "  "]))
def test_deep_nesting(depth: int, style: str) -> None:
    if style == "  ":
        text = "".join("  " * i + f"k{i}:\n" for i in range(min(depth, 400)))
    elif style == "- ":
        text = "a:\n" + "".join("  " * i + "-\n" for i in range(min(depth, 400)))
    else:
        close = "]" if style == "[" else "}"
        inner = "" if style == "[" else "1"
        text = "a: " + style * depth + inner + close * depth + "\n"
    _parses_or_explains(text)


# --- files a spec path can name ------------------------------------------------------------------

_ENTRY_KINDS = ["fifo", "directory", "dev-zero", "dangling", "loop", "bytes", "empty"]


def _make(path: Path, kind: str, content: bytes) -> None:
    makers: dict[str, Callable[[], object]] = {
        "fifo": lambda: os.mkfifo(path),
        "directory": lambda: path.mkdir(),
        "dev-zero": lambda: path.symlink_to("/dev/zero"),
        "dangling": lambda: path.symlink_to(path.with_name("missing")),
        "loop": lambda: path.symlink_to(path.name),
        "bytes": lambda: path.write_bytes(content),
        "empty": lambda: path.write_bytes(b""),
    }
    makers[kind]()


@FUZZ
@given(kind=st.sampled_from(_ENTRY_KINDS), content=st.binary(max_size=100))
def test_whatever_the_spec_path_is(kind: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conveyor.yaml"
        _make(path, kind, content)
        try:
            load_spec(path)
        except SpecError as exc:
            _check_report(str(exc), file=str(path))


# --- conveyor init on hostile repositories -------------------------------------------------------

_REPO_FILES = ["package.json", "pyproject.toml", "requirements.txt", "Dockerfile", "app.py"]
_REPO_KINDS = ["absent", "text", "fifo", "directory", "outside", "dangling", "loop", "dev-zero"]


def _package_json() -> st.SearchStrategy[str]:
    nested = st.integers(1, 5000).map(lambda n: '{"a": ' + "[" * n + "]" * n + "}")
    hostile = st.fixed_dictionaries(
        {"name": _json_like, "engines": _json_like | st.fixed_dictionaries({"node": _json_like})},
        optional={"scripts": _json_like},
    ).map(lambda d: json.dumps(d, allow_nan=True))
    return nested | hostile | st.just('{"v": ' + "1" * 5000 + "}") | st.text(max_size=50)


def _pyproject() -> st.SearchStrategy[str]:
    return (
        st.integers(1, 5000).map(lambda n: "x = " + "[" * n + "]" * n + "\n")
        | st.just("[project]\nname = 'a'\nreleased = 2024-01-01\n")
        | st.just("[project]\nname = 'a'\nx = " + "1" * 5000 + "\n")
        | st.text(max_size=60).map(lambda t: f"[project]\nname = {json.dumps(t)}\n")
    )


def _dockerfile() -> st.SearchStrategy[str]:
    port = st.sampled_from(["8000", "0", "99999", "9" * 5000, "3000/tcp", "-1", "x"])
    return port.map(lambda p: f"FROM python:3.12\nEXPOSE {p}\n") | st.text(max_size=60)


_CONTENTS: dict[str, st.SearchStrategy[str]] = {
    "package.json": _package_json(),
    "pyproject.toml": _pyproject(),
    "requirements.txt": st.text(max_size=60),
    "Dockerfile": _dockerfile(),
    "app.py": st.just("def handler(event, context):\n    return {}\n") | st.text(max_size=40),
}


@st.composite
def _repositories(draw: st.DrawFn) -> dict[str, tuple[str, str]]:
    return {
        name: (draw(st.sampled_from(_REPO_KINDS)), draw(_CONTENTS[name])) for name in _REPO_FILES
    }


def _plant(repo: Path, outside: Path, name: str, kind: str, content: str) -> None:
    path = repo / name
    if kind == "text":
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    elif kind == "outside":
        (outside / name).write_text(content, encoding="utf-8", errors="surrogatepass")
        path.symlink_to(outside / name)
    elif kind != "absent":
        _make(path, kind, b"")


# Each example runs the whole command in a fresh directory: a third fewer of them.
@settings(FUZZ, max_examples=max(1, EXAMPLES_PER_TEST * 2 // 3))
@given(
    files=_repositories(),
    target=st.sampled_from(["absent", "file", "dangling", "outside", "fifo"]),
    force=st.booleans(),
)
def test_init_on_a_hostile_repository(
    files: dict[str, tuple[str, str]], target: str, force: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        repo, outside = Path(folder) / "repo", Path(folder) / "outside"
        repo.mkdir()
        outside.mkdir()
        for name, (kind, content) in files.items():
            _plant(repo, outside, name, kind, content)
        spec = repo / "conveyor.yaml"
        if target == "file":
            spec.write_text("# mine\n")
        elif target == "outside":
            (outside / "precious").write_text("keep\n")
            spec.symlink_to(outside / "precious")
        elif target != "absent":
            _make(spec, target, b"")
        before = {p.name: p.read_bytes() for p in outside.iterdir() if p.is_file()}

        result = runner.invoke(app, ["init", str(repo), "--yes", *(["--force"] * force)])

        assert result.exit_code in {0, 2}, result.output
        assert "Traceback" not in result.output
        after = {p.name: p.read_bytes() for p in outside.iterdir() if p.is_file()}
        assert after == before, "init wrote outside the repository"
        if result.exit_code == 0:
            # Written only where nothing was, or over a file (not a link) with --force.
            assert target == "absent" or (target in {"file", "fifo"} and force)
            assert not spec.is_symlink()
            load_spec(spec)
        else:
            assert result.output.startswith("error: ")
