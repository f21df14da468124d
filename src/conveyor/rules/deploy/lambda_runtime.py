"""Deprecated Lambda runtime, or Node.js 18+ inline code that requires AWS SDK v2.

Node.js 18 and later runtimes ship only SDK v3: ``require('aws-sdk')`` fails at run time.
Inline code (``Code.ZipFile``, SAM ``InlineCode``) is the only code visible in a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, possible, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

DEPRECATED = frozenset(
    {
        "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x",
        "nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x",
        "python2.7", "python3.6", "python3.7", "python3.8", "python3.9",
        "ruby2.5", "ruby2.7", "ruby3.2",
        "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
        "dotnet5.0", "dotnet6", "go1.x", "provided",
    }
)  # fmt: skip
SDK_V2 = re.compile(r"""require\(\s*['"]aws-sdk['"]\s*\)|from\s+['"]aws-sdk['"]""")


def _node_major(runtime: str) -> int:
    match = re.match(r"nodejs(\d+)", runtime)
    return int(match.group(1)) if match else 0


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for runtime in possible(res.properties.get("Runtime"), ctx.params):
        if not isinstance(runtime, str):
            continue
        if runtime in DEPRECATED:
            yield Hit(
                res.logical_id,
                "Properties.Runtime",
                f"runtime {runtime} is deprecated; move to a supported runtime "
                "(nodejs22.x, python3.13)",
            )
            return
        code = get(res.properties, "Code", "ZipFile") or res.properties.get("InlineCode")
        text = render(code) or ""
        if _node_major(runtime) >= 18 and SDK_V2.search(text):
            yield Hit(
                res.logical_id,
                "Properties.Code" if "Code" in res.properties else "Properties.InlineCode",
                f"inline code requires AWS SDK v2 ('aws-sdk'), which {runtime} does not ship; "
                "use @aws-sdk/* v3 clients",
            )
            return


RULE = Rule(
    id="CV076",
    title="Deprecated Lambda runtime or SDK mismatch",
    severity=Severity.HIGH,
    resource_types=("AWS::Lambda::Function", "AWS::Serverless::Function"),
    failure_modes=("FM65",),
    why="S4: the Lambda functions used SDK v2 syntax on Node.js 18, which ships only SDK v3; "
    "they failed at run time.",
    fix_cloudformation="Runtime: nodejs22.x or python3.13, and import @aws-sdk/client-* (v3).",
    fix_cdk="lambda_.Runtime.NODEJS_22_X / PYTHON_3_13",
    fix_conveyor="Nothing to write: conveyor's handlers run on a current Python runtime.",
    check=check,
)
