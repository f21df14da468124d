"""Instructions one `conveyor check` of a Terraform plan costs, against `json.loads` of the
same text: the measure of issue 13's "within 3x of loading it with json" that a loaded,
shared machine does not move (CPU times there move by a fifth; ``check_terraform_plan.py``
prints them).

    PYTHONHASHSEED=0 PYTHONPATH=src valgrind --tool=callgrind --dump-before=getppid \\
        --callgrind-out-file=/tmp/cg.out python benchmarks/count_check_instructions.py check
    grep -h '^summary:' /tmp/cg.out.2 /tmp/cg.out.3

The script warms the process (a template and the plan checked once, every rule module
imported), then makes ``--runs`` runs of the measured call, each between two
``os.getppid()`` calls; ``--dump-before=getppid`` writes callgrind's count at each of them, so
``cg.out.2`` onwards hold one run each (``cg.out.1`` is start-up and warming). With
``PYTHONHASHSEED=0`` the runs count the same to a few thousand instructions. Modes:
``check`` (``check_text``, everything `conveyor check plan.json` does for the file after
start-up), ``json`` (``json.loads``, the baseline), ``load`` (the parse that refuses repeated
keys, the reader and the view). ``--findings`` checks the plan whose buckets lack encryption;
``--plan FILE`` any other plan.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from check_terraform_plan import plan

from conveyor.rules import check_text
from conveyor.rules.inputs import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("check", "json", "load"))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--findings", action="store_true")
    parser.add_argument("--plan", type=Path)
    args = parser.parse_args()
    text = (
        args.plan.read_text(encoding="utf-8")
        if args.plan
        else plan(args.resources, findings=args.findings)
    )
    check_text('{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}', name="warm.json")
    check_text(text, name="plan.json")
    json.loads(text)
    for _ in range(args.runs):
        os.getppid()
        # Each result is dropped inside its run: freeing it is part of the cost.
        if args.mode == "check":
            errors = check_text(text, name="plan.json").errors
            if errors:
                raise SystemExit(f"the plan did not check: {errors[0].message}")
        elif args.mode == "json":
            json.loads(text)
        else:
            load(text, name="plan.json", kind="auto")
    os.getppid()


if __name__ == "__main__":
    main()
