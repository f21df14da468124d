"""What `conveyor check plan.json` costs a user, start-up included, against loading the same
plan with `json` in a fresh Python: issue 13's "speed on a 1,000-resource plan within 3x of
loading it with json", counted the way issue 18 counted templates (the whole process for both).

    PYTHONPATH=src python benchmarks/count_check_process.py [--resources 1000] [--findings]
        [--format text|json|sarif] [--cpu N]

Runs each command once under ``valgrind --tool=callgrind`` (instruction counts: the same on
every run with ``PYTHONHASHSEED=0``, whatever the machine's load) and prints the counts and the
ratio to ``python -c "import json; json.load(open('plan.json'))"``:

- ``python -c pass``: the interpreter's own start-up, a floor no command goes below;
- ``json.load``: the baseline;
- ``conveyor check``: ``python -m conveyor check plan.json`` through a pipe, as CI and
  pre-commit hooks run it. A file over 1 MB is checked in a forked process (under the memory
  limit); callgrind follows the fork into a file of its own, and the count here is the sum of
  every process's.

With ``--cpu N`` it also prints the best CPU time (user + system, the children included) of N
interleaved runs of each command without valgrind: what a user waits for on an idle machine.
conveyor's modules are byte-compiled first, as pip does for an installed package.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from check_terraform_plan import plan

ROOT = Path(__file__).resolve().parents[1]


def _counted(command: list[str], env: dict[str, str], scratch: Path, label: str) -> int:
    """Instructions `command` executes, summed over every process it forks."""
    out = scratch / label
    out.mkdir()
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            # Counts are zeroed at a fork, so a child does not count its parent's past.
            "--dump-before=fork",
            f"--callgrind-out-file={out}/cg.%p",
            *command,
        ],
        env=env,
        capture_output=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"{label} failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
    total = 0
    for dump in out.iterdir():
        for line in dump.read_text().splitlines():
            if line.startswith("summary:"):
                total += int(line.split()[1])
    return total


def _cpu(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--findings", action="store_true")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument("--cpu", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    compileall.compile_dir(ROOT / "src", quiet=1)
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        plan_file = scratch / "plan.json"
        plan_file.write_text(plan(args.resources, findings=args.findings), encoding="utf-8")
        python = sys.executable
        commands = {
            "python -c pass": [python, "-c", "pass"],
            "json.load": [python, "-c", f"import json; json.load(open({str(plan_file)!r}))"],
            "conveyor check": [
                python,
                "-m",
                "conveyor",
                "check",
                str(plan_file),
                "--format",
                args.format,
            ],
        }
        size = plan_file.stat().st_size
        print(f"plan: {args.resources} resources, {size / 1e6:.2f} MB, format {args.format}")
        counts = {
            label: _counted(c, env, scratch, label.replace(" ", "-"))
            for label, c in commands.items()
        }
        base = counts["json.load"]
        for label, count in counts.items():
            print(f"{label:16s} {count / 1e6:8.1f}M instructions  {count / base:5.2f}x json.load")
        if args.cpu:
            best = {label: float("inf") for label in commands}
            for _ in range(args.cpu):
                for label, command in commands.items():
                    best[label] = min(best[label], _cpu(command, env))
            for label, seconds in best.items():
                ratio = seconds / best["json.load"]
                shown = f"{seconds * 1000:8.1f} ms CPU (best of {args.cpu})"
                print(f"{label:16s} {shown}  {ratio:5.2f}x")


if __name__ == "__main__":
    main()
