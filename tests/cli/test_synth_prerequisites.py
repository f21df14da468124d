"""Issue 12: `conveyor synth` without Node on PATH, or without the cdk extra, exits 2 saying
what to install, instead of ending in a Python traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "minimal.yaml")


def test_without_node_synth_exits_2_naming_node(tmp_path: Path) -> None:
    """A fresh process: jsii starts Node when aws_cdk is first imported."""
    env = {**os.environ, "PATH": str(tmp_path)}  # no node, no npx
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from conveyor.cli.main import run; run()",
            "synth",
            EXAMPLE,
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert "Node.js is not installed (no `node` on PATH)" in completed.stderr
    assert "https://nodejs.org" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_without_the_cdk_extra_synth_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "aws_cdk" or m.startswith("conveyor.synth")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "aws_cdk", None)  # `import aws_cdk` raises ImportError
    result = CliRunner().invoke(app, ["synth", EXAMPLE, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "pip install 'conveyor[cdk]'" in result.output
