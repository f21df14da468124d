"""Start-up time of the commands that must not load the CDK (target: <= 0.3 s each).

Run: .venv/bin/python benchmarks/startup.py [--runs N] [--baseline SRC_DIR]

Prints, per command, the median wall time and the median CPU time (user + sys of the child) of
N fresh processes, and the CPU time as a multiple of two floors measured in the same shell:
`python -c pass` (an interpreter that does nothing) and `python -c "import yaml"` (the least a
YAML tool loads), and of cfn-lint's start-up, so machines of different speed and load compare.
On a loaded machine wall time mostly measures the queue for a core; CPU time is what the
command itself costs.

Each command runs through a pipe (as scripts and pre-commit hooks run it) and, for `--help` and
`validate`, on a pseudo-terminal too (as a person runs it: help is drawn with rich there).

With --baseline, another checkout's `src` (e.g. a `git worktree` of the previous release) is
timed in the same runs, alternating process by process with this one, so load that comes and
goes during the run weighs on both alike.

conveyor's own modules are byte-compiled first, as pip does for an installed package: with
PYTHONDONTWRITEBYTECODE set (CI images, some shells) an editable checkout would otherwise
compile every module on every run, about 0.1 s of CPU that no installed conveyor spends.
"""

from __future__ import annotations

import argparse
import compileall
import os
import pty
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_SECONDS = 0.3
# A three-resource template: `check` on it costs start-up (the checker's imports), not rules.
TEMPLATE = str(ROOT / "tests" / "rules" / "fixtures" / "CV008" / "good.yaml")
EXAMPLE = str(ROOT / "examples" / "web-service.yaml")
# The console script's own code, run by the interpreter with the source tree of our choice.
CONVEYOR = "import sys; from conveyor.cli.main import run; sys.argv[0] = 'conveyor'; run()"

Runner = Callable[[list[str], dict[str, str]], None]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _through_a_pipe(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, capture_output=True, check=False, cwd=ROOT, env=env)


def _on_a_terminal(command: list[str], env: dict[str, str]) -> None:
    """Run `command` with a pseudo-terminal (120 columns) as its standard streams."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec, or leave without running the parent's cleanup
        try:
            os.chdir(ROOT)
            os.execve(command[0], command, {**env, "COLUMNS": "120", "LINES": "40"})  # noqa: S606
        finally:
            os._exit(127)
    try:
        while os.read(fd, 65536):
            pass
    except OSError:  # EIO: the child closed the terminal
        pass
    os.waitpid(pid, 0)
    os.close(fd)


def _one(run: Runner, command: list[str], env: dict[str, str]) -> tuple[float, float]:
    cpu_before, started = _children_cpu(), time.perf_counter()
    run(command, env)
    return time.perf_counter() - started, _children_cpu() - cpu_before


def _medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def _environment(src: Path) -> dict[str, str]:
    compileall.compile_dir(src, quiet=1)
    return {**os.environ, "PYTHONPATH": str(src)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per command")
    parser.add_argument("--baseline", type=Path, help="another checkout's src directory")
    options = parser.parse_args()
    runs: int = options.runs
    trees = {"this": _environment(ROOT / "src")}
    if options.baseline is not None:
        trees["baseline"] = _environment(options.baseline.resolve())
    plain = dict(os.environ)
    python = sys.executable

    def floor(code: str) -> float:
        return _medians([_one(_through_a_pipe, [python, "-c", code], plain) for _ in range(runs)])[
            1
        ]

    floors = {"python -c pass": floor("pass"), 'python -c "import yaml"': floor("import yaml")}
    cfn_lint = shutil.which("cfn-lint", path=str(BIN))
    peer = (
        _medians([_one(_through_a_pipe, [cfn_lint, "--version"], plain) for _ in range(runs)])[1]
        if cfn_lint
        else None
    )
    commands: dict[str, tuple[Runner, list[str]]] = {
        "--help": (_through_a_pipe, ["--help"]),
        "--help (terminal)": (_on_a_terminal, ["--help"]),
        "validate": (_through_a_pipe, ["validate", EXAMPLE]),
        "validate (terminal)": (_on_a_terminal, ["validate", EXAMPLE]),
        "check --help": (_through_a_pipe, ["check", "--help"]),
        "check TEMPLATE": (_through_a_pipe, ["check", TEMPLATE]),
    }
    print(f"median of {runs} fresh processes; CPU = user + sys of the child")
    print(f"TEMPLATE = {TEMPLATE}")
    for name, seconds in floors.items():
        print(f"{name + ' (floor)':34} cpu {seconds:.3f} s")
    if peer is not None:
        print(f"{'cfn-lint --version (peer)':34} cpu {peer:.3f} s")
    print(f"{'':34} {'tree':8} {'cpu':>7} {'wall':>7}  {'x pass':>8}  {'x yaml':>8}  x cfn-lint")
    for name, (run, args) in commands.items():
        samples: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
        for _ in range(runs):
            for tree, env in trees.items():  # alternating: load weighs on both alike
                samples[tree].append(_one(run, [python, "-c", CONVEYOR, *args], env))
        for tree in trees:
            wall, cpu = _medians(samples[tree])
            ratios = "  ".join(f"{cpu / seconds:7.1f}x" for seconds in floors.values())
            versus = f"{cpu / peer:9.2f}x" if peer else ""
            verdict = "ok" if cpu <= TARGET_SECONDS else f"OVER {TARGET_SECONDS} s"
            print(
                f"{'conveyor ' + name:34} {tree:8} {cpu:6.3f}s {wall:6.3f}s  {ratios}  {versus}"
                f"  {verdict}"
            )


if __name__ == "__main__":
    main()
