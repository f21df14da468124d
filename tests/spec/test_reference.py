"""docs/spec.md is generated from the models; a stale copy misleads users."""

from __future__ import annotations

from pathlib import Path

from conveyor.spec.reference import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


def test_reference_is_up_to_date() -> None:
    assert DOC.read_text() == render(), "run: python -m conveyor.spec.reference > docs/spec.md"


def test_reference_lists_every_key_of_the_top_level() -> None:
    text = render()
    for key in ("`app`", "`owner`", "`source`", "`build`", "`environments`", "`notifications`"):
        assert key in text
    assert "`strategy` | `rolling`" in text
