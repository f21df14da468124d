"""Start-up time of the commands that must not load the CDK (target: <= 0.3 s each).

Run: .venv/bin/python benchmarks/startup.py
Prints the median wall time of N runs per command, and the ratio to `python -c pass` and to
`cfn-lint --version` measured in the same shell, so machines of different speed compare.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
BIN = Path(sys.executable).parent


def _median(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    conveyor = str(BIN / "conveyor")
    example = str(ROOT / "examples" / "web-service.yaml")
    baseline = _median([sys.executable, "-c", "pass"])
    commands = {
        "conveyor --help": [conveyor, "--help"],
        "conveyor validate": [conveyor, "validate", example],
        "conveyor check --help": [conveyor, "check", "--help"],
    }
    cfn_lint = shutil.which("cfn-lint", path=str(BIN))
    if cfn_lint:
        commands["cfn-lint --version (peer)"] = [cfn_lint, "--version"]
    print(f"python -c pass: {baseline:.3f} s (median of {RUNS})")
    for name, command in commands.items():
        seconds = _median(command)
        verdict = "" if "peer" in name else ("  ok" if seconds <= 0.3 else "  OVER 0.3 s")
        print(f"{name:28} {seconds:.3f} s  {seconds / baseline:5.1f}x python{verdict}")


if __name__ == "__main__":
    main()
