"""Deprecated Lambda runtime, or Node.js 18+ inline code that requires AWS SDK v2.

Node.js 18 and later runtimes ship only SDK v3: ``require('aws-sdk')`` fails at run time.
Inline code (``Code.ZipFile``, SAM ``InlineCode``) is the only code visible in a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, possible, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

# Runtimes Lambda deprecated before conveyor's first release (no date needed: long past).
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
# Runtimes deprecated since, by the date Lambda deprecates them (the "Deprecation date" column
# of https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, as cfn-lint 1.58's
# LmbdRuntimeLifecycle.json records it; tests/rules compare the two). A runtime is reported from
# its date on: Lambda stops security patches then, and blocks creates and updates months later
# (https://docs.aws.amazon.com/lambda/latest/dg/runtime-support-policy.html).
DEPRECATION_DATES: dict[str, date] = {
    "nodejs20.x": date(2026, 4, 30),
    "provided.al2": date(2026, 7, 31),
    "python3.10": date(2026, 10, 31),
    "dotnet8": date(2026, 11, 10),
    "ruby3.3": date(2027, 3, 31),
    "nodejs22.x": date(2027, 4, 30),
    "java8.al2": date(2027, 6, 30),
    "java11": date(2027, 6, 30),
    "java17": date(2027, 6, 30),
    "python3.11": date(2027, 6, 30),
}


def is_deprecated(runtime: str, today: date | None = None) -> bool:
    """Whether Lambda has deprecated `runtime` by `today` (UTC's date when not given)."""
    if runtime in DEPRECATED:
        return True
    when = DEPRECATION_DATES.get(runtime)
    return when is not None and when <= (today or datetime.now(UTC).date())


SDK_V2 = re.compile(r"""require\(\s*['"]aws-sdk['"]\s*\)|from\s+['"]aws-sdk['"]""")


def _node_major(runtime: str) -> int:
    match = re.match(r"nodejs(\d+)", runtime)
    return int(match.group(1)) if match else 0


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for runtime in possible(res.properties.get("Runtime"), ctx.params):
        if not isinstance(runtime, str):
            continue
        if is_deprecated(runtime):
            yield Hit(
                res.logical_id,
                "Properties.Runtime",
                f"runtime {runtime} is deprecated; move to a supported runtime "
                "(nodejs24.x, python3.13)",
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
    fix_cloudformation="Runtime: nodejs24.x or python3.13, and import @aws-sdk/client-* (v3).",
    fix_cdk="lambda_.Runtime.NODEJS_24_X / PYTHON_3_13",
    fix_conveyor="Nothing to write: conveyor's handlers run on a current Python runtime.",
    check=check,
)
