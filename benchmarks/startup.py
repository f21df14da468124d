"""Start-up time of the commands that must not load the CDK (target: <= 0.3 s each).

Run: .venv/bin/python benchmarks/startup.py
Prints, per command, the median wall time and the median CPU time (user + sys of the child) of N
runs, and the CPU ratio to `python -c pass` and to `cfn-lint --version` measured in the same
shell, so machines of different speed and load compare. On a loaded machine wall time mostly
measures the queue for a core; CPU time is what the command itself costs.

conveyor's own modules are byte-compiled first, as pip does for an installed package: with
PYTHONDONTWRITEBYTECODE set (CI images, some shells) an editable checkout would otherwise
compile every module on every run, about 0.1 s of CPU that no installed conveyor spends.
"""

from __future__ import annotations

import compileall
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
BIN = Path(sys.executable).parent
TARGET_SECONDS = 0.3
# A three-resource template: `check` on it costs start-up (the checker's imports), not rules.
TEMPLATE = str(ROOT / "tests" / "rules" / "fixtures" / "CV008" / "good.yaml")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _medians(command: list[str]) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (user + sys) of RUNS runs of `command`."""
    walls, cpus = [], []
    for _ in range(RUNS):
        cpu_before, started = _children_cpu(), time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, cwd=ROOT)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu_before)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    compileall.compile_dir(ROOT / "src", quiet=1)
    conveyor = str(BIN / "conveyor")
    example = str(ROOT / "examples" / "web-service.yaml")
    _, python_cpu = _medians([sys.executable, "-c", "pass"])
    cfn_lint = shutil.which("cfn-lint", path=str(BIN))
    # Each command, and the cfn-lint run it compares with (start-up, or one small template).
    peer_names = {"--version": "cfn-lint --version", TEMPLATE: "cfn-lint TEMPLATE"}
    commands = {
        "conveyor --help": ([conveyor, "--help"], "--version"),
        "conveyor validate": ([conveyor, "validate", example], "--version"),
        "conveyor check --help": ([conveyor, "check", "--help"], "--version"),
        "conveyor check TEMPLATE": ([conveyor, "check", TEMPLATE], TEMPLATE),
    }
    peers = {arg: _medians([cfn_lint, arg])[1] for arg in ("--version", TEMPLATE) if cfn_lint}
    print(f"median of {RUNS} runs; CPU = user + sys of the child; TEMPLATE = {TEMPLATE}")
    print(f"{'python -c pass (the floor)':28} cpu {python_cpu:.3f} s")
    for arg, seconds in peers.items():
        print(f"{peer_names[arg] + ' (peer)':28} cpu {seconds:.3f} s")
    for name, (command, peer) in commands.items():
        wall, cpu = _medians(command)
        vs_peer = f"  {cpu / peers[peer]:4.2f}x {peer_names[peer]}" if peer in peers else ""
        verdict = "ok" if cpu <= TARGET_SECONDS else f"OVER {TARGET_SECONDS} s"
        print(
            f"{name:28} cpu {cpu:.3f} s  wall {wall:.3f} s  "
            f"{cpu / python_cpu:5.1f}x python{vs_peer}  {verdict}"
        )


if __name__ == "__main__":
    main()
