"""Wall time of `conveyor check` against cfn-lint, checkov and a bare parse of the same files.

    python benchmarks/check_vs_peers.py [CORPUS_DIR] [--jobs 1,2]

Prints seconds and ratios; asserts nothing (timings belong in benchmarks, not tests). Peers that
are not installed are skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import json
import shutil
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


def _time(cmd: list[str]) -> float | None:
    started = time.perf_counter()
    try:
        subprocess.run(cmd, capture_output=True, check=False, timeout=3600)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return time.perf_counter() - started


def _files(corpus: Path) -> list[str]:
    index = json.loads((corpus / "index.json").read_text())
    return [str(corpus / e["path"]) for e in index]


def _tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to time")
    args = parser.parse_args()
    if not (args.corpus / "index.json").is_file():
        print(f"no corpus at {args.corpus}; pass its path")
        return 2
    files = _files(args.corpus)
    print(f"{len(files)} templates from {args.corpus}")
    results: dict[str, float] = {}

    bare = _time([sys.executable, "-c", BARE_PARSE, *files])
    if bare is not None:
        results["bare parse"] = bare
    conveyor = _tool("conveyor")
    for jobs in (int(j) for j in args.jobs.split(",")):
        if conveyor:
            took = _time(
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
                ]
            )
            if took is not None:
                results[f"conveyor check --jobs {jobs}"] = took
    cfn_lint = _tool("cfn-lint")
    if cfn_lint:
        took = _time([cfn_lint, "--format", "json", "--", *files])
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
    for name, seconds in results.items():
        ratio = f"{seconds / base:6.1f}x conveyor --jobs 1" if base else ""
        print(f"{name:28s} {seconds:8.2f} s  {ratio}")
    if base and "bare parse" in results:
        print(f"conveyor / bare parse: {base / results['bare parse']:.2f}x (target <= 3)")
    for peer in ("cfn-lint", "checkov -d"):
        if base and peer in results:
            print(f"{peer} / conveyor: {results[peer] / base:.1f}x (target >= 20)")
    one, two = results.get("conveyor check --jobs 1"), results.get("conveyor check --jobs 2")
    if one and two:
        print(f"speed-up with --jobs 2: {one / two:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
