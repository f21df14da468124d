"""The catalog's index and the rules a check imports: only those its template's types call for,
with the same findings as every rule loaded at once (issue 18: importing every rule was a tenth
of checking a 0.8 MB template)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.rules import catalog, check_text
from conveyor.rules.catalog import RULE_MODULES, CatalogRules, current_index
from conveyor.rules.engine import Options, RuleSet, check_template
from conveyor.rules.index import INDEX
from conveyor.rules.template import parse

TOPICS = json.dumps(
    {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {}}},
        }
    }
)


def test_committed_index_matches_the_rules() -> None:
    assert current_index() == INDEX, "run: python -m conveyor.rules.catalog"
    index_file = Path(catalog.__file__).with_name("index.py")
    assert index_file.read_text(encoding="utf-8") == catalog.index_source()


def test_committed_sarif_descriptors_match_the_rules() -> None:
    from conveyor.rules.report import sarif

    listed = sarif.DESCRIPTORS.read_text(encoding="utf-8")
    assert listed == sarif.descriptors_source(catalog.RULES), (
        "run: python -m conveyor.rules.catalog"
    )


def test_a_check_imports_only_the_rules_its_types_call_for() -> None:
    script = (
        "import sys\n"
        "from conveyor.rules import check_text\n"
        "from conveyor.rules.catalog import RULE_MODULES\n"
        f"check_text({TOPICS!r}, name='t.json')\n"
        "print('\\n'.join(m for m in RULE_MODULES if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    expected = [
        module
        for module, (_, types) in INDEX.items()
        if not types or {"*", "AWS::SNS::Topic", "AWS::KMS::Key"} & set(types)
    ]
    assert done.stdout.split() == expected
    assert 10 < len(expected) < len(RULE_MODULES) / 2


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).parent / "fixtures").glob("CV0[0-4]*/bad.yaml")),
    ids=lambda p: p.parent.name,
)
def test_lazy_rules_find_what_every_rule_loaded_at_once_finds(path: Path) -> None:
    template = parse(path.read_text(encoding="utf-8"), name=str(path), suffix=".yaml")
    options = Options()
    everything = RuleSet(catalog.RULES)
    assert check_template(template, CatalogRules(), options) == check_template(
        template, everything, options
    )


def test_a_rule_missing_from_a_stale_index_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    encryption = "conveyor.rules.sns.topic_encryption"
    monkeypatch.setattr(catalog, "INDEX", {m: e for m, e in INDEX.items() if m != encryption})
    template = parse(TOPICS, name="t.json", suffix=".json")
    result = check_template(template, CatalogRules(), Options())
    assert [f.resource for f in result.findings if f.rule == "CV012"] == ["Topic"]
    assert encryption in RULE_MODULES


def test_the_public_api_reports_every_rule_on_a_template() -> None:
    result = check_text(TOPICS, name="t.json")
    assert {f.rule for f in result.findings} >= {"CV012", "CV081"}


@pytest.mark.parametrize(("argv", "code"), [(["--help"], 0), (["--out"], 2)])
def test_the_index_writer_takes_no_option(
    argv: list[str], code: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(catalog, "__file__", str(tmp_path / "catalog.py"))
    assert catalog.main(argv) == code
    assert list(tmp_path.iterdir()) == []


def test_every_rule_is_there_when_asked_for() -> None:
    # What a run with --jobs imports before forking, and what SARIF lists.
    ids = [rule.id for rule in CatalogRules().rules]
    assert ids == sorted(catalog.RULE_IDS)
    assert list(catalog.BY_ID) == ids
