"""Fuzzing `conveyor check` (issue 18): whatever a template or a directory holds, the answer is
findings, or errors that name the file (exit 2). Never a traceback, an internal error, a hang,
output that cannot be written, or a file's result lost.

Seeds: the rule fixtures (always), and the public templates in ../shared/corpus/public when that
corpus is present (the corpus tests skip cleanly without it; nothing from it is copied here).
CI runs a fixed set of examples per property (well under a minute). For a longer random run:

    CONVEYOR_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/fuzz/test_check_fuzz.py -q
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from conveyor.rules import check_paths, check_text
from conveyor.rules.catalog import RULES
from conveyor.rules.model import CheckResult
from conveyor.rules.report import json as json_report
from conveyor.rules.report import sarif
from conveyor.rules.report import text as text_report

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "public"
FIXTURE_SEEDS = sorted((ROOT / "tests" / "rules" / "fixtures").glob("*/*.yaml"))


def _corpus_files() -> list[Path]:
    index = CORPUS / "index.json"
    if not index.is_file():
        return []
    entries = json.loads(index.read_text())
    # Small templates mutate and check fastest; the large ones are covered by the corpus test.
    return [CORPUS / e["path"] for e in entries if e.get("bytes", 0) <= 20_000]


CORPUS_SEEDS = _corpus_files()
LONG_RUN = "CONVEYOR_FUZZ_EXAMPLES" in os.environ
EXAMPLES_PER_TEST = int(os.environ.get("CONVEYOR_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    deadline=None,
    derandomize=not LONG_RUN,  # CI: the same examples every run, so a failure is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RESOURCE_TYPES = sorted({t for rule in RULES for t in rule.resource_types if t != "*"})
# Fragments that broke the parser, the reader or the reporters before (issue 18), and their
# relatives: spliced into seeds and generated templates alike.
HOSTILE = [
    "0x_",
    "0b_",
    "0o_",
    "!!int abc",
    "!!float x",
    "!!bool maybe",
    "!!omap [a: 1]",
    "!!map [a, b]",
    "!!map x",
    "!!seq {a: 1}",
    "!!seq x",
    "!!binary aGk=",
    "!!set {a}",
    "!!timestamp [1]",
    "!!python/object/apply:os.system ['true']",
    "9" * 4301,
    "-" + "9" * 5000,
    "1e999",
    ".nan",
    "&a [*a]",
    "*undefined",
    "<<: *a",
    "!Ref",
    "!GetAtt [",
    "!Sub [x, 3]",
    "!If {a: b}",
    "'\\ud800'",
    '"\\ud800"',
    "\t",
    "\x00",
    "\ufeff",
    "[" * 200,
    "{" * 200,
    "? [a]\n: b",
    "%YAML 1.1\n---",
    "--- !!map\n...",
]
HOSTILE_BYTES = [h.encode("utf-8", "surrogatepass") for h in HOSTILE] + [
    b"\xff",
    b"\xe9",
    b"\xed\xa0\x80",  # an encoded surrogate: not UTF-8
    b"\xff\xfe",
    b"\r\n",
]


def _assert_sane(result: CheckResult, name: str) -> None:
    """What must hold for any input whatsoever."""
    for error in result.errors:
        assert "internal error" not in error.message, error.message
        assert error.message.startswith(name), error.message
        assert len(error.message) < 2_000
    for finding in result.findings:
        assert finding.file == name
        assert finding.line >= 1
    assert result.exit_code() == (2 if result.errors else result.exit_code())
    assert result.exit_code() in (0, 1, 2)
    _assert_renders(result)


def _assert_renders(result: CheckResult) -> None:
    """Every format renders; the text report can be written to a UTF-8 pipe and to an output
    that is not UTF-8 (an ASCII locale, a Windows redirect)."""
    buffer = io.StringIO()
    text_report.write(result, Console(file=buffer, width=120, no_color=True))
    buffer.getvalue().encode("utf-8")
    narrow = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    text_report.write(result, Console(file=narrow, width=120, no_color=True))
    narrow.flush()
    json.loads(json_report.render(result))
    json.loads(sarif.render(result, RULES))


# ---- mutated seeds ----------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Path]) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(seeds))
    data = bytearray(seed.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "bytes"]))
        if kind == "insert":
            data[at:at] = draw(st.sampled_from(HOSTILE_BYTES))
        elif kind == "delete":
            data[at : at + draw(st.integers(1, 64))] = b""
        elif kind == "replace":
            span = draw(st.integers(1, 16))
            data[at : at + span] = draw(st.sampled_from(HOSTILE_BYTES))
        elif kind == "duplicate":
            span = draw(st.integers(1, 256))
            data[at:at] = data[max(0, at - span) : at]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return seed.suffix, bytes(data)


@FUZZ
@given(mutated(FIXTURE_SEEDS))
def test_mutated_rule_fixtures(case: tuple[str, bytes]) -> None:
    suffix, raw = case
    name = f"fuzz{suffix}"
    _assert_sane(check_text(raw, name=name), name)


@pytest.mark.skipif(not CORPUS_SEEDS, reason="shared corpus not present")
@FUZZ
@given(mutated(CORPUS_SEEDS or FIXTURE_SEEDS))
def test_mutated_public_templates(case: tuple[str, bytes]) -> None:
    suffix, raw = case
    name = f"fuzz{suffix}"
    _assert_sane(check_text(raw, name=name), name)


# ---- generated templates ----------------------------------------------------------------

KEYS = st.sampled_from(
    [
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::If",
        "Fn::Join",
        "Condition",
        "Properties",
        "Type",
        "Statement",
        "Effect",
        "Action",
        "Resource",
        "Principal",
        "Key",
        "Value",
        "Tags",
        "PolicyDocument",
        "ManagedPolicyArns",
        "Roles",
        "RoleName",
        "DependsOn",
        "Metadata",
    ]
) | st.text(max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["*", "Allow", "Deny", "R0", "R1", "${R0.Arn}", "${AWS::Region}", "R0.Arn"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


@st.composite
def templates(draw: st.DrawFn) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for index in range(draw(st.integers(0, 6))):
        body: dict[str, Any] = {"Type": draw(st.sampled_from(RESOURCE_TYPES) | SCALARS)}
        if draw(st.booleans()):
            body["Properties"] = draw(VALUES)
        if draw(st.booleans()):
            body["DependsOn"] = draw(st.sampled_from(["R0", "R1", ["R0", "R1"], 3, None]))
        if draw(st.booleans()):
            body["Metadata"] = draw(VALUES)
        resources[f"R{index}"] = draw(st.sampled_from([body, body, body, VALUES.example]))
        if callable(resources[f"R{index}"]):
            resources[f"R{index}"] = draw(VALUES)
    template: dict[str, Any] = {"Resources": resources}
    for section in ("Parameters", "Conditions", "Outputs", "Metadata", "Transform", "Globals"):
        if draw(st.integers(0, 3)) == 0:
            template[section] = draw(VALUES)
    return template


@FUZZ
@given(templates(), st.sampled_from(["json", "yaml"]))
def test_generated_templates(template: dict[str, Any], form: str) -> None:
    text = json.dumps(template) if form == "json" else yaml.safe_dump(template, allow_unicode=True)
    name = f"fuzz.{form}"
    _assert_sane(check_text(text, name=name), name)


# ---- directories ------------------------------------------------------------------------

GOOD = {
    ".json": '{"Resources": {"Repo": {"Type": "AWS::ECR::Repository"}}}',
    ".yaml": "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n",
}
ENTRY_KINDS = [
    "template",
    "broken",
    "empty",
    "binary",
    "not-template",
    "dir",
    "fifo",
    "link-to-template",
    "dangling-link",
    "link-loop",
    "link-to-dev-zero",
    "link-to-parent",
]
ENTRIES = st.lists(
    st.tuples(st.sampled_from(ENTRY_KINDS), st.sampled_from([".yaml", ".json", ".txt", ""])),
    max_size=8,
)


# Entry names a scan meets in real trees: plain, non-ASCII, not UTF-8 (an old archive's Latin-1),
# with a newline, with characters a URI or a terminal treats specially.
NAMES = ["e", "\u00e9\u65e5", os.fsdecode(b"caf\xe9"), "new\nline", "a b#%:", "-dash"]


def _make(root: Path, index: int, kind: str, suffix: str, name: str = "e") -> bool:
    """Create one entry; True when it is a template the scan must check."""
    path = root / f"{name}{index}{suffix}"
    good = GOOD.get(suffix, GOOD[".yaml"])
    if kind == "template":
        path.write_text(good)
        return suffix in (".yaml", ".json")
    if kind == "broken":
        path.write_text("Resources:\n  R: {Type: AWS::SNS::Topic, X: 0x_}\n")
    elif kind == "empty":
        path.write_text("")
    elif kind == "binary":
        path.write_bytes(b"\x00\x01Resources")
    elif kind == "not-template":
        path.write_text('{"name": "package"}')
    elif kind == "dir":
        path.mkdir()
        (path / "inner.yaml").write_text(GOOD[".yaml"])
        return True
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link-to-template":
        (root / f"t{index}.txt").write_text(good)
        path.symlink_to(f"t{index}.txt")
        return suffix in (".yaml", ".json")
    elif kind == "dangling-link":
        path.symlink_to("nowhere")
    elif kind == "link-loop":
        path.symlink_to(path.name)
    elif kind == "link-to-dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.symlink_to("..")
    return False


@FUZZ
@given(ENTRIES, st.sampled_from([1, 2]), st.sampled_from(NAMES))
def test_directories_of_anything(entries: list[tuple[str, str]], jobs: int, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        expected = sum(
            _make(root, i, kind, suffix, name) for i, (kind, suffix) in enumerate(entries)
        )
        # Named as users name it, relative: SARIF percent-encodes a relative path itself.
        scanned = os.path.relpath(root)
        result = check_paths([scanned], jobs=jobs)
        _assert_renders(result)
        # Every template is checked, whatever sits beside it.
        assert result.files == expected
        for error in result.errors:
            assert "internal error" not in error.message, error.message
            assert error.file.startswith(scanned)
            assert error.message.startswith(error.file)
        broken = {kind for kind, suffix in entries if suffix in (".yaml", ".json")} & {
            "broken",
            "dangling-link",
            "link-loop",
        }
        assert bool(result.errors) == bool(broken)
