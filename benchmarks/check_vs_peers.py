"""Wall time of `conveyor check` against cfn-lint, checkov and a bare parse of the same files.

    python benchmarks/check_vs_peers.py [CORPUS_DIR] [--jobs 1,2] [--repeat 3] [--peer-files N]

Prints seconds and ratios, of wall time and of CPU time (user + system of the command and its
workers: on a shared, loaded machine wall time mostly measures the wait for a core); asserts
nothing (timings belong in benchmarks, not tests). Peers that are not installed are skipped with
a line saying so. cfn-lint takes about a minute of CPU per thousand templates: ``--peer-files N``
times cfn-lint on every (len/N)th template only, and conveyor on that same subset beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "public"
BARE_PARSE = """
import json, sys, yaml
from pathlib import Path
class L(getattr(yaml, "CSafeLoader", yaml.SafeLoader)): pass
def tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode): return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode): return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}
L.add_multi_constructor("!", tag)
for name in sys.argv[1:]:
    raw = Path(name).read_bytes()
    try:
        json.loads(raw) if name.endswith(".json") else yaml.load(raw, Loader=L)
    except Exception:
        pass
"""


def _time(cmd: list[str]) -> tuple[float, float] | None:
    """Wall and CPU seconds of a command (CPU: it and the children it waited for)."""
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def _median_time(cmd: list[str], repeat: int) -> tuple[float, float] | None:
    """Median wall and CPU seconds of ``repeat`` runs (a shared machine makes one run noisy)."""
    runs = [t for t in (_time(cmd) for _ in range(repeat)) if t is not None]
    if not runs:
        return None
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def _files(corpus: Path) -> list[str]:
    index = json.loads((corpus / "index.json").read_text())
    return [str(corpus / e["path"]) for e in index]


def compile_bytecode() -> None:
    """Write conveyor's .pyc files, as installing a wheel does. Without them (a checkout run
    with PYTHONDONTWRITEBYTECODE=1, as on the shared machines) every run compiles the ~100 rule
    modules from source first: a third of a small check's CPU time, which no user pays."""
    import compileall

    import conveyor

    compileall.compile_dir(Path(conveyor.__file__).parent, quiet=1)


def _tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to time")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of conveyor and of the bare parse; medians"
    )
    parser.add_argument(
        "--peer-files",
        type=int,
        default=0,
        help="time cfn-lint on this many templates (spread over the corpus), and conveyor on "
        "the same ones; 0: all (checkov always reads the whole directory)",
    )
    args = parser.parse_args()
    if not (args.corpus / "index.json").is_file():
        print(f"no corpus at {args.corpus}; pass its path")
        return 2
    compile_bytecode()
    files = _files(args.corpus)
    print(f"{len(files)} templates from {args.corpus}")
    results: dict[str, tuple[float, float]] = {}

    bare = _median_time([sys.executable, "-c", BARE_PARSE, *files], args.repeat)
    if bare is not None:
        results["bare parse"] = bare
    conveyor = _tool("conveyor")
    for jobs in (int(j) for j in args.jobs.split(",")):
        if conveyor:
            took = _median_time(
                [
                    conveyor,
                    "check",
                    "--format",
                    "json",
                    "--jobs",
                    str(jobs),
                    "--fail-on",
                    "critical",
                    "-o",
                    "/dev/null",
                    *files,
                ],
                args.repeat,
            )
            if took is not None:
                results[f"conveyor check --jobs {jobs}"] = took
    peer_files = files
    if 0 < args.peer_files < len(files):
        peer_files = files[:: len(files) // args.peer_files][: args.peer_files]
        print(f"peers timed on {len(peer_files)} of the {len(files)} templates")
        if conveyor:
            took = _median_time(
                [conveyor, "check", "-f", "json", "--jobs", "1", "-o", "/dev/null", *peer_files],
                args.repeat,
            )
            if took is not None:
                results["conveyor, peers' subset"] = took
    cfn_lint = _tool("cfn-lint")
    if cfn_lint:
        took = _time([cfn_lint, "--format", "json", "--", *peer_files])
        if took is not None:
            results["cfn-lint"] = took
    else:
        print("cfn-lint: not installed, skipped")
    checkov = _tool("checkov")
    if checkov:
        took = _time(
            [
                checkov,
                "-d",
                str(args.corpus),
                "--framework",
                "cloudformation",
                "--quiet",
                "--compact",
                "-o",
                "json",
            ]
        )
        if took is not None:
            results["checkov -d"] = took
    else:
        print("checkov: not installed (pip install checkov in a separate venv), skipped")

    base = results.get("conveyor check --jobs 1")
    print(f"{'':28s} {'wall':>10s} {'CPU':>10s}")
    for name, (wall, cpu) in results.items():
        versus = f"{wall / base[0]:6.1f}x / {cpu / base[1]:6.1f}x conveyor --jobs 1" if base else ""
        print(f"{name:28s} {wall:8.2f} s {cpu:8.2f} s  {versus}")

    def ratio(a: tuple[float, float], b: tuple[float, float]) -> str:
        return f"wall {a[0] / b[0]:.2f}x, CPU {a[1] / b[1]:.2f}x"

    if base and "bare parse" in results:
        print(f"conveyor / bare parse: {ratio(base, results['bare parse'])} (target <= 3)")
    against = {"cfn-lint": results.get("conveyor, peers' subset", base), "checkov -d": base}
    for peer, mine in against.items():
        if mine and peer in results:
            print(f"{peer} / conveyor: {ratio(results[peer], mine)} (target >= 50)")
    one, two = results.get("conveyor check --jobs 1"), results.get("conveyor check --jobs 2")
    if one and two:
        print(f"speed-up with --jobs 2: wall {one[0] / two[0]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
