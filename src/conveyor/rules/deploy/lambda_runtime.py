"""Deprecated Lambda runtime, or Node.js 18+ inline code that requires AWS SDK v2.

Node.js 18 and later runtimes ship only SDK v3: ``require('aws-sdk')`` fails at run time.
Inline code (``Code.ZipFile``, SAM ``InlineCode``) is the only code visible in a template.

A runtime is reported from the date Lambda deprecates it, judged on the day of the run (UTC's
date, or ``CONVEYOR_TODAY=YYYY-MM-DD`` to see what a day to come brings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.lambda_runtimes import DEPRECATED, DEPRECATION_DATES, is_deprecated, newest
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, possible, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

# The dates live with the runtimes conveyor offers, so that `conveyor validate` (which warns
# and then refuses by the same dates) and this rule never disagree.
__all__ = ["DEPRECATED", "DEPRECATION_DATES", "RULE", "is_deprecated"]
SUPPORTED = f"{newest('nodejs')}, {newest('python')}"


SDK_V2 = lazy(r"""require\(\s*['"]aws-sdk['"]\s*\)|from\s+['"]aws-sdk['"]""")


def _node_major(runtime: str) -> int:
    match = re.match(r"nodejs(\d+)", runtime)
    return int(match.group(1)) if match else 0


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for runtime in possible(res.properties.get("Runtime"), ctx.params):
        if not isinstance(runtime, str):
            continue
        if is_deprecated(runtime, ctx.today):
            yield Hit(
                res.logical_id,
                "Properties.Runtime",
                f"runtime {runtime} is deprecated; move to a supported runtime ({SUPPORTED})",
                key="deprecated",
            )
            # The code's own mismatch is reported too: it stays once the runtime is moved.
        code = get(res.properties, "Code", "ZipFile") or res.properties.get("InlineCode")
        text = render(code) or ""
        if _node_major(runtime) >= 18 and SDK_V2.search(text):
            yield Hit(
                res.logical_id,
                "Properties.Code" if "Code" in res.properties else "Properties.InlineCode",
                f"inline code requires AWS SDK v2 ('aws-sdk'), which {runtime} does not ship; "
                "use @aws-sdk/* v3 clients",
                key="sdk-v2",
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
    fix_cloudformation="Runtime: nodejs24.x or python3.14, and import @aws-sdk/client-* (v3).",
    fix_cdk="lambda_.Runtime.NODEJS_24_X / PYTHON_3_14",
    fix_conveyor="deploy.lambda.function.runtime: python3.14 or nodejs24.x (conveyor validate "
    "warns 180 days before a runtime's deprecation date and refuses it from that date).",
    check=check,
)
