"""rules.deployed's pre-pass over a run's ``*.template.json`` files (what each stack deploys,
read before the files are checked): a file that is no template it can read is left to the main
pass, which reports it; it never stops or stalls the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.rules import check_paths
from conveyor.rules.deployed import deployed_alarms, deployed_watches

GOOD = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n"


def test_a_template_nested_past_the_parser_is_the_main_pass_error(tmp_path: Path) -> None:
    # json.loads raises RecursionError (not a ValueError) on a deep enough nesting: the
    # pre-pass let it out of check_paths, and the run of every file ended in an internal error.
    deep = tmp_path / "deep.template.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    (tmp_path / "good.yaml").write_text(GOOD)
    assert deployed_alarms([str(deep)]) == ()
    assert deployed_watches([str(deep)]) == ()
    result = check_paths([str(deep), str(tmp_path / "good.yaml")])
    assert [e.file for e in result.errors] == [str(deep)]
    assert result.files == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_not_read_by_the_pre_pass(tmp_path: Path) -> None:
    # Opening a named pipe without a writer blocks until one comes (forever), and reading one
    # that has a writer would take its template away from the main pass: only regular files.
    fifo = tmp_path / "stack.template.json"
    os.mkfifo(fifo)
    code = (
        "import sys; from conveyor.rules.deployed import deployed_alarms, deployed_watches; "
        "print(deployed_alarms(sys.argv[1:]), deployed_watches(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(fifo)],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert done.stdout.split() == ["()", "()"]
