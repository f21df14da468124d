"""What `conveyor check` reports on real templates nobody tuned for: findings per rule and the
share of templates each rule flags.

    python benchmarks/check_precision.py [CORPUS_DIR] [--origin sample,good,bad-fixture] [--json]

The corpus (default ``../shared/corpus/public``) is read through its ``index.json``. Precision
itself needs a human judgement per finding; this report is what that judgement starts from, and
the before/after table of a precision fix. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from conveyor.rules import check_paths
from conveyor.rules.catalog import BY_ID

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "public"


def _files(corpus: Path, origins: set[str]) -> list[str]:
    index = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    return [str(corpus / e["path"]) for e in index if e.get("origin") in origins]


def report(files: list[str], jobs: int) -> dict[str, object]:
    result = check_paths(files, jobs=jobs)
    per_rule = Counter(f.rule for f in result.findings)
    flagged: dict[str, set[str]] = {}
    for f in result.findings:
        flagged.setdefault(f.rule, set()).add(f.file)
    any_flagged = {f.file for f in result.findings}
    return {
        "templates": result.files,
        "errors": len(result.errors),
        "findings": len(result.findings),
        "templates_flagged": len(any_flagged),
        "rules": {
            rule: {
                "severity": BY_ID[rule].severity.label,
                "findings": count,
                "templates": len(flagged[rule]),
            }
            for rule, count in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))
        },
    }


def _print(data: dict[str, object]) -> None:
    templates = int(str(data["templates"])) or 1
    print(
        f"{data['templates']} templates checked, {data['errors']} not checkable, "
        f"{data['findings']} findings, {data['templates_flagged']} templates flagged "
        f"({100 * int(str(data['templates_flagged'])) / templates:.0f} %)"
    )
    print(f"{'rule':6s} {'severity':8s} {'findings':>8s} {'templates':>9s} {'share':>6s}  title")
    rules = data["rules"]
    assert isinstance(rules, dict)
    for rule, row in rules.items():
        share = 100 * row["templates"] / templates
        print(
            f"{rule:6s} {row['severity']:8s} {row['findings']:8d} {row['templates']:9d} "
            f"{share:5.1f}%  {BY_ID[rule].title}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--origin",
        default="sample",
        help="comma-separated index origins to include (sample = real-world templates; "
        "good/bad-fixture = cfn-lint test fixtures)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if not (args.corpus / "index.json").is_file():
        print(f"no corpus at {args.corpus}; pass its path", file=sys.stderr)
        return 2
    files = _files(args.corpus, set(args.origin.split(",")))
    data = report(files, args.jobs)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
