"""docs/check.md's rule x input table is the one the mapping tables give (regenerate:
python -m conveyor.rules.inputs.coverage)."""

from __future__ import annotations

from pathlib import Path

from conveyor.rules.catalog import RULES
from conveyor.rules.inputs.coverage import joins, table, terraform_types

DOC = Path(__file__).resolve().parents[3] / "docs" / "check.md"


def test_the_table_in_the_docs_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = text.split("<!-- coverage:start -->\n", 1)[1].split("<!-- coverage:end -->", 1)[0]
    assert documented == table() + "\n" + joins()


def test_every_rule_runs_on_terraform_unless_it_reads_what_only_cloudformation_has() -> None:
    # Stack attributes (CV007, CV072, CV095), parameters (CV045, CV063: Terraform variables and
    # Pulumi config arrive resolved), rain directives (CV089): none can fire on these inputs.
    unmapped = {r.id for r in RULES if not terraform_types(r)}
    assert unmapped == {"CV007", "CV045", "CV063", "CV072", "CV089", "CV095"}
