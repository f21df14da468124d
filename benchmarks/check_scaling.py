"""Time and peak memory of `conveyor check` on one template of 1k / 10k / 100k resources, and on
the pathological shapes of issue 18, next to a bare parse of the same file.

    python benchmarks/check_scaling.py [--sizes 1000,10000,100000] [--no-pathological]
        [--repeat 3] [--instructions]

Each run is a fresh process (start-up counts, as it does for users); memory is the child's peak
resident set (with any worker process it starts). Cost should grow linearly: the "us/resource"
column stays flat, or nearly: at 100k resources the check's working set (about 270 MB) outgrows
the processor's caches and each instruction waits longer for memory, while the instructions
themselves grow linearly (``--instructions`` counts them, and the bare parse's, under valgrind).
Wall time and CPU time (user + system, the process and its workers) are both printed: on a
shared, loaded machine wall time mostly measures the wait for a core, and the CPU ratio is the
one to compare. Prints numbers, asserts nothing (timings belong in benchmarks).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check_vs_peers import BARE_PARSE, _tool, compile_bytecode  # noqa: E402

Template = dict[str, object]


def mixed(count: int) -> Template:
    """A realistic mix, as compact as possible so 100k resources fit under the 10 MiB cap: a
    role per ten resources with a managed policy attached, functions running as it, topics,
    queues and log groups that reference one another."""
    resources: dict[str, object] = {}
    for i in range(count):
        group, kind = divmod(i, 10)
        role = f"Role{group}"
        if kind == 0:
            resources[role] = {
                "Type": "AWS::IAM::Role",
                "Properties": {"ManagedPolicyArns": [{"Ref": f"Pol{group}"}]},
            }
        elif kind == 1:
            resources[f"Pol{group}"] = {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sqs:SendMessage",
                                "Resource": {"Fn::GetAtt": [f"Q{group}", "Arn"]},
                            }
                        ]
                    }
                },
            }
        elif kind == 2:
            resources[f"Q{group}"] = {"Type": "AWS::SQS::Queue"}
        elif kind == 3:
            resources[f"Fn{group}"] = {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Role": {"Fn::GetAtt": [role, "Arn"]},
                    "Runtime": "python3.12",
                    "Handler": "a.h",
                    "Code": {"ZipFile": "x"},
                },
            }
        elif kind == 4:
            resources[f"Lg{group}"] = {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"RetentionInDays": 30},
            }
        else:
            resources[f"T{i}"] = {"Type": "AWS::SNS::Topic", "DependsOn": f"Q{group}"}
    return {"Resources": resources}


def roles_by_policies(count: int) -> Template:
    """Issue 18: roles x managed policies (was 9 million calls for 3,000 of each)."""
    resources: dict[str, object] = {}
    for i in range(count):
        resources[f"Role{i}"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {"ManagedPolicyArns": [{"Ref": f"Pol{i}"}]},
        }
        resources[f"Pol{i}"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
                }
            },
        }
    return {"Resources": resources}


def depends_on_ring(count: int) -> Template:
    return {
        "Resources": {
            f"T{i}": {"Type": "AWS::SNS::Topic", "DependsOn": f"T{(i + 1) % count}"}
            for i in range(count)
        }
    }


def anchors_yaml(count: int) -> str:
    lines = ["Resources:"]
    for i in range(count):
        lines.append(
            f"  T{i}:\n    Type: AWS::SNS::Topic\n    Properties: &p{i}\n"
            f"      TopicName: t{i}\n      Tags: [{{Key: a, Value: b}}]"
        )
        if i:
            lines.append(f"  U{i}:\n    Type: AWS::SNS::Topic\n    Properties: *p{i - 1}")
    return "\n".join(lines) + "\n"


def nested_conditions(depth: int, width: int) -> Template:
    """Many conditions, each a deep Fn::And/Fn::Or tree, used by many resources."""
    conditions: dict[str, object] = {"Base": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    for i in range(width):
        node: object = {"Condition": "Base"}
        for d in range(depth):
            node = {"Fn::And" if d % 2 else "Fn::Or": [node, {"Condition": "Base"}]}
        conditions[f"C{i}"] = node
    resources = {
        f"T{i}": {"Type": "AWS::SNS::Topic", "Condition": f"C{i % width}"} for i in range(width * 4)
    }
    return {
        "Parameters": {"Env": {"Type": "String"}},
        "Conditions": conditions,
        "Resources": resources,
    }


def _compact(build: Callable[[int], Template], count: int) -> str:
    return json.dumps(build(count), separators=(",", ":"))


def _as_yaml(data: Template) -> str:
    import yaml

    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def _run(cmd: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB, exit code of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return took, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def _median_run(cmd: list[str], repeat: int) -> tuple[float, float, float, int]:
    """The median wall, CPU and peak memory of ``repeat`` runs (neighbours on a shared machine
    make single runs noisy), and the last exit code."""
    runs = [_run(cmd) for _ in range(repeat)]
    wall, cpu, peak = (statistics.median(r[i] for r in runs) for i in range(3))
    return wall, cpu, peak, runs[-1][3]


def _instructions(cmd: list[str]) -> int | None:
    """Instructions the whole process executes, counted by ``valgrind --tool=callgrind``: what
    a loaded machine does not disturb (it slows the run fifty-fold; None without valgrind)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    run = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    return int(found.group(1)) if found else None


def _row(
    label: str, path: Path, resources: int, conveyor: str, repeat: int, instructions: bool
) -> None:
    # No time limit: on a loaded machine 100k resources can take more than the default 60 s
    # of wall time, and the point here is to measure, not to bound.
    command = [conveyor, "check", "-f", "json", "-o", "/dev/null", "--time-limit", "3600"]
    wall, cpu, peak, code = _median_run([*command, str(path)], repeat)
    parse_wall, parse_cpu, _, _ = _median_run([sys.executable, "-c", BARE_PARSE, str(path)], repeat)
    size = path.stat().st_size / 1e6
    per = cpu / max(resources, 1) * 1e6
    counted = ""
    if instructions:
        mine = _instructions([*command, str(path)])
        bare = _instructions([sys.executable, "-c", BARE_PARSE, str(path)])
        if mine and bare:
            counted = f"  {mine / 1e6:8,.0f}M instr ({mine / bare:.2f}x parse)"
    print(
        f"{label:34s} {resources:>8,} {size:7.2f} MB {wall:8.2f} s {cpu:8.2f} s {peak:8.0f} MB "
        f"{per:9.1f} {wall / parse_wall:7.1f}x {cpu / max(parse_cpu, 1e-3):7.1f}x  exit {code}"
        f"{counted}",
        flush=True,
    )


def _write_apart(build: Callable[[], str], path: Path) -> None:
    """Build the template in a forked child: this process stays small, so the peak memory of
    the commands it starts is theirs (a child forked from a large process showed its size)."""
    writer = multiprocessing.get_context("fork").Process(target=lambda: path.write_text(build()))
    writer.start()
    writer.join()
    if writer.exitcode != 0:
        raise SystemExit(f"could not write {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--no-pathological", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; medians shown")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each case's instructions, and its bare parse's, under valgrind "
        "(load-independent; about a minute per 10,000 resources)",
    )
    args = parser.parse_args()
    conveyor = _tool("conveyor")
    if conveyor is None:
        print("conveyor is not installed in this environment")
        return 2
    compile_bytecode()
    print("goal (issue 18): CPU/parse <= 3x for real templates and the nested-conditions one")
    print(
        f"{'template':34s} {'resources':>8s} {'size':>10s} {'wall':>10s} {'CPU':>10s} "
        f"{'peak RSS':>11s} {'CPU us/res':>9s} {'wall/parse':>8s} {'CPU/parse':>8s}"
    )
    with tempfile.TemporaryDirectory(prefix="conveyor-scaling-") as tmp:
        out = Path(tmp)
        cases: list[tuple[str, Callable[[], str], int]] = []
        for size in (int(s) for s in args.sizes.split(",")):
            cases.append((f"mixed {size:,} (JSON)", partial(_compact, mixed, size), size))
        if not args.no_pathological:
            cases += [
                ("3,000 roles x 3,000 policies", lambda: json.dumps(roles_by_policies(3000)), 6000),
                ("DependsOn ring of 20,000", lambda: json.dumps(depends_on_ring(20_000)), 20_000),
                ("50,000 anchors (YAML)", lambda: anchors_yaml(50_000), 99_999),
                (
                    "130k resources (YAML)",
                    lambda: _as_yaml(
                        {
                            "Resources": {
                                f"T{i}": {"Type": "AWS::SNS::Topic"} for i in range(130_000)
                            }
                        }
                    ),
                    130_000,
                ),
                (
                    # Issue 18's 0.8 MB template of nested conditions (8.5x its parse then).
                    "nested conditions 460 x 40 deep",
                    lambda: json.dumps(nested_conditions(40, 460)),
                    1840,
                ),
            ]
        for index, (label, build, resources) in enumerate(cases):
            suffix = ".yaml" if "YAML" in label else ".json"
            path = out / f"case{index}{suffix}"
            _write_apart(build, path)
            _row(label, path, resources, conveyor, args.repeat, args.instructions)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
