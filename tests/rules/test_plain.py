"""conveyor.rules.plain: the checker's records behave as the dataclasses they replace did."""

from __future__ import annotations

import pickle
from datetime import date
from typing import ClassVar

import pytest

from conveyor.rules.engine import Options
from conveyor.rules.model import CheckResult, FileError, FileResult, Finding, Severity
from conveyor.rules.runner import Target
from conveyor.rules.suppression import Suppression


def test_equal_by_fields_and_only_to_the_same_class() -> None:
    assert Target("a.yaml", True) == Target("a.yaml", True, None, None, None)
    assert Target("a.yaml", True) != Target("a.yaml", False)
    assert Suppression("CV001", "why", 0) != ("CV001", "why", 0)
    assert FileResult(file="f") == FileResult("f", False, 0, [], [], [], {})
    assert FileResult(file="f") != FileResult(file="f", checked=True)


def test_frozen_records_refuse_assignment_and_hash_by_their_fields() -> None:
    target = Target("a.yaml", True, size=3)
    with pytest.raises(AttributeError, match="cannot assign to field 'size'"):
        target.size = 4
    with pytest.raises(AttributeError, match="cannot delete field 'path'"):
        del target.path
    assert target.size == 3
    assert hash(target) == hash(Target("a.yaml", True, size=3))
    assert len({Suppression("CV001", "why", 0), Suppression("CV001", "why", 0)}) == 1


def test_mutable_records_are_unhashable_and_their_lists_their_own() -> None:
    first, second = FileResult(file="f"), FileResult(file="f")
    first.findings.append(Finding("CV001", Severity.LOW, "f", "R", "", 1, "m", "x", ()))
    assert second.findings == []
    with pytest.raises(TypeError, match="unhashable"):
        hash(first)
    assert CheckResult().errors is not CheckResult().errors


def test_repr_is_the_dataclass_one() -> None:
    assert repr(Target("a.yaml", True)) == (
        "Target(path='a.yaml', explicit=True, text=None, raw=None, size=None)"
    )
    assert (
        repr(Suppression("CV001", "why", 2)) == "Suppression(rule='CV001', reason='why', index=2)"
    )


def test_records_survive_pickling() -> None:
    # A file over 1 MB is checked in a forked child, which sends its FileResult back pickled.
    finding = Finding("CV001", Severity.HIGH, "f", "R", "P", 3, "m", "fix", ("FM1",), "", "k")
    result = FileResult(
        file="f", checked=True, resources=2, findings=[finding], errors=[FileError("f", "e")]
    )
    copy = pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301
    assert copy == result
    assert copy.findings[0] == finding
    options = Options(ignore=frozenset({"CV001"}), today=date(2026, 1, 2))
    assert pickle.loads(pickle.dumps(options)) == options  # noqa: S301
    target = Target("a.yaml", True, raw=b"x")
    assert pickle.loads(pickle.dumps(target)) == target  # noqa: S301


def test_options_replace_and_today() -> None:
    options = Options(require_tags=("App",), today=date(2026, 1, 2))
    changed = options.replace(ignore=frozenset({"CV005"}))
    assert changed.ignore == frozenset({"CV005"})
    assert changed.require_tags == ("App",)
    assert changed.today == date(2026, 1, 2)
    assert options.ignore == frozenset()
    assert isinstance(Options().today, date)  # the run's day when not given


def test_dataclasses_functions_read_the_records_as_before() -> None:
    # Tests and tools read findings with dataclasses.asdict/fields/replace; a check itself
    # never imports dataclasses (conveyor.rules.plain).
    import dataclasses

    finding = Finding("CV001", Severity.HIGH, "f", "R", "P", 3, "m", "fix", ("FM1",), "", "k")
    assert dataclasses.is_dataclass(finding)
    assert [f.name for f in dataclasses.fields(finding)][:3] == ["rule", "severity", "file"]
    assert dataclasses.asdict(finding) == {
        "rule": "CV001",
        "severity": Severity.HIGH,
        "file": "f",
        "resource": "R",
        "path": "P",
        "line": 3,
        "message": "m",
        "fix": "fix",
        "failure_modes": ("FM1",),
        "reason": "",
        "key": "k",
    }
    assert dataclasses.replace(finding, reason="why") == finding.replace(reason="why")
    assert dataclasses.replace(finding, reason="why").reason == "why"
    assert dataclasses.asdict(FileError("f", "e")) == {"file": "f", "message": "e", "rule": ""}
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.line = 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        del finding.rule


def test_dataclasses_fields_of_each_class_its_own() -> None:
    # Asking dataclasses about the bases (a tool's is_dataclass(FrozenPlain)) or about a class
    # before its subclass must not hand every class made later the base's (empty) fields:
    # asdict of a finding was {} and dataclasses.replace raised TypeError.
    import dataclasses

    from conveyor.rules.plain import FrozenPlain, Plain

    class Pair(FrozenPlain):
        _FIELDS: ClassVar[tuple[str, ...]] = ("left", "right")
        __slots__ = _FIELDS
        left: int
        right: int

        def __init__(self, left: int, right: int) -> None:
            object.__setattr__(self, "left", left)
            object.__setattr__(self, "right", right)

    class Triple(Pair):
        _FIELDS = (*Pair._FIELDS, "third")
        __slots__ = ("third",)
        third: str

        def __init__(self, left: int, right: int, third: str) -> None:
            super().__init__(left, right)
            object.__setattr__(self, "third", third)

    assert not dataclasses.is_dataclass(Plain)
    assert not dataclasses.is_dataclass(FrozenPlain)
    assert dataclasses.asdict(Pair(1, 2)) == {"left": 1, "right": 2}
    assert dataclasses.asdict(Triple(1, 2, "x")) == {"left": 1, "right": 2, "third": "x"}
    assert [f.type for f in dataclasses.fields(Triple)] == ["int", "int", "str"]
    assert dataclasses.replace(Triple(1, 2, "x"), third="y") == Triple(1, 2, "y")
    assert dataclasses.asdict(FileError("f", "e")) == {"file": "f", "message": "e", "rule": ""}
