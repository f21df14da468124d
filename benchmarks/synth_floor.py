"""`conveyor synth` of each example against the floor: a one-bucket CDK app synthesized in the
same venv (same aws-cdk-lib, same Node, same jsii start-up). Issue 12's target: the slowest
example within 2x of the floor.

Run: .venv/bin/python benchmarks/synth_floor.py [--runs N] [EXAMPLE ...]
Prints, per command, the median CPU time (user + sys of the child and its Node process) and
wall time of N runs, and the CPU ratio to the floor. On a loaded machine wall time mostly
measures the queue for a core; CPU time is what the synth itself costs. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_RATIO = 2.0

# The floor: what any CDK app pays to synthesize one resource (Python and jsii start-up, the
# aws-cdk-lib load in Node, one synth).
FLOOR_APP = """
import sys
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App(outdir=sys.argv[1], analytics_reporting=False)
stack = cdk.Stack(app, "Floor")
s3.Bucket(stack, "Bucket")
app.synth()
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], runs: int) -> tuple[float, float]:
    """Median CPU seconds and median wall seconds of `runs` runs, each into a fresh outdir."""
    cpus, walls = [], []
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            argv = [part.replace("{out}", out) for part in command]
            cpu_before, started = _children_cpu(), time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True, cwd=ROOT, env=env)
            walls.append(time.perf_counter() - started)
            cpus.append(_children_cpu() - cpu_before)
    return statistics.median(cpus), statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("examples", nargs="*", help="example names (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    names = args.examples or sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
    floor_cpu, floor_wall = _run([sys.executable, "-c", FLOOR_APP, "{out}"], args.runs)
    print(f"median of {args.runs} runs; CPU = user + sys of the child and its Node process")
    print(f"{'one-bucket CDK app (floor)':32} cpu {floor_cpu:6.2f} s  wall {floor_wall:6.2f} s")
    worst = 0.0
    specs = []
    for name in names:
        # An example's name (payments) or a spec's path (examples/payments.yaml) both work.
        is_path = name.endswith((".yaml", ".yml"))
        path = Path(name) if is_path else ROOT / "examples" / f"{name}.yaml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in (ROOT / "examples").glob("*.yaml")))
            parser.error(f"{name}: no such example or spec file (examples: {known})")
        specs.append((path.stem, str(path)))
    for name, spec in specs:
        cpu, wall = _run([str(BIN / "conveyor"), "synth", spec, "-o", "{out}"], args.runs)
        ratio = cpu / floor_cpu
        worst = max(worst, ratio)
        print(f"{'conveyor synth ' + name:32} cpu {cpu:6.2f} s  wall {wall:6.2f} s  {ratio:4.2f}x")
    verdict = "ok" if worst <= TARGET_RATIO else f"OVER {TARGET_RATIO}x"
    print(f"slowest example: {worst:.2f}x the floor ({verdict})")


if __name__ == "__main__":
    main()
