"""`conveyor plan` as a user reads it: what each environment's line says after the stages."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from conveyor.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_plan_says_a_job_s_next_run_starts_the_release() -> None:
    result = runner.invoke(app, ["plan", str(ROOT / "examples" / "scheduled-job.yaml")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "staging's next scheduled run starts the new version; deployed after ~" in text
    assert "serves the new version" not in text
