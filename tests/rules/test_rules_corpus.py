"""Every public template ends in exit 0, 1 or 2, no traceback, no internal rule error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conveyor.rules import check_paths

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "public"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def test_whole_corpus_checks_cleanly() -> None:
    index = json.loads((CORPUS / "index.json").read_text())
    files = [str(CORPUS / entry["path"]) for entry in index]
    result = check_paths(files, jobs=2)
    internal = [e for e in result.errors if e.rule]
    assert internal == []
    for error in result.errors:
        assert "Traceback" not in error.message
        assert error.message.startswith(error.file)
    # Files that parse into a template with resources are checked, not errored.
    parsed = {str(CORPUS / e["path"]) for e in index if e["resources"]}
    errored = {e.file for e in result.errors}
    assert result.files >= len(parsed) - len(errored & parsed)
    assert result.files > 1000
    assert result.exit_code() in (0, 1, 2)
