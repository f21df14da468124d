"""The committed rule pages match the rules (regenerate: python -m conveyor.rules.docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules.catalog import RULES
from conveyor.rules.docs import NOT_VISIBLE, pages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"
FAILURE_MODES = [
    f"FM{n:02d}"
    for n in (
        *range(1, 9),
        10,
        11,
        *range(20, 31),
        *range(40, 44),
        *range(50, 54),
        *range(60, 67),
        *range(70, 77),
        80,
        81,
        82,
        *range(100, 113),
    )
]


def test_committed_docs_are_up_to_date() -> None:
    stale = [
        name
        for name, text in pages().items()
        if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run: python -m conveyor.rules.docs"


def test_every_failure_mode_is_covered_or_explained() -> None:
    covered = {fm for rule in RULES for fm in rule.failure_modes}
    assert [fm for fm in FAILURE_MODES if fm not in covered and fm not in NOT_VISIBLE] == []


def test_every_rule_declares_its_metadata() -> None:
    for rule in RULES:
        assert rule.id.startswith("CV") and len(rule.id) == 5
        assert rule.title and rule.why and rule.fix_cloudformation and rule.fix_cdk
        assert rule.doc, f"{rule.id} needs a module docstring"
        assert (rule.check is None) != (rule.check_template is None)
        assert rule.id in ("CV000", "CV089") or rule.failure_modes  # meta rules


def test_catalog_lists_every_rule_module() -> None:
    import conveyor.rules as package
    from conveyor.rules.catalog import RULE_MODULES

    root = Path(package.__file__).parent
    modules = {
        "conveyor.rules." + ".".join(p.relative_to(root).with_suffix("").parts)
        for p in root.glob("*/*.py")
        if p.name != "__init__.py" and "RULE = Rule(" in p.read_text(encoding="utf-8")
    }
    assert modules == set(RULE_MODULES)


def test_every_rule_page_states_its_precision_evidence() -> None:
    """Issue 16: a reviewed judgement, or the rule's counts on the corpus, or (no finding
    there) where its true and false cases are."""
    from conveyor.rules.catalog import RULES
    from conveyor.rules.docs import CORPUS_COUNTS, PRECISION, precision

    assert set(CORPUS_COUNTS) <= {r.id for r in RULES}
    for rule in RULES:
        text = precision(rule.id)
        if rule.id in PRECISION:
            assert text == PRECISION[rule.id]
        elif rule.id in CORPUS_COUNTS:
            findings, templates = CORPUS_COUNTS[rule.id]
            assert text.startswith(f"{findings} finding"), rule.id
            assert f" in {templates} template" in text, rule.id
        else:
            assert text.startswith("No finding on the corpus"), rule.id
            assert f"tests/rules/fixtures/{rule.id}" in text


@pytest.mark.parametrize(("flag", "code"), [("--help", 0), ("-h", 0), ("--out", 2)])
def test_the_generator_takes_an_option_for_no_folder(
    flag: str, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conveyor.rules.docs import main

    monkeypatch.chdir(tmp_path)
    assert main([flag]) == code
    assert list(tmp_path.iterdir()) == []
