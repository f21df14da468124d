"""Buildspec that assumes optional files exist (``package.json``, ``requirements.txt``).

Heuristic over inline buildspecs: a line that runs ``npm``/``yarn`` (needs package.json) or
``pip install -r requirements.txt`` is reported unless the buildspec tests for the file
(``-f package.json``) or the line tolerates failure (``||``). A project built for exactly one
repository that does have the file may suppress this with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

NEEDS = (
    (re.compile(r"\b(?:npm\s+(?:ci|install|i|test|run)|yarn(?:\s+install)?)\b"), "package.json"),
    (re.compile(r"\bpip3?\s+install\s+(?:[^\n]*\s)?-r\s+requirements\.txt"), "requirements.txt"),
)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    spec = inline_buildspec(res)
    if spec is None:
        return
    for pattern, filename in NEEDS:
        if f"-f {filename}" in spec or f"-e {filename}" in spec or f"exists('{filename}')" in spec:
            continue
        for line in spec.splitlines():
            if pattern.search(line) and "||" not in line:
                yield Hit(
                    res.logical_id,
                    "Properties.Source.BuildSpec",
                    f"buildspec runs {line.strip()[:60]!r} but never checks that {filename} "
                    "exists; builds of repositories without it fail",
                )
                break


RULE = Rule(
    id="CV039",
    title="Buildspec assumes optional files exist",
    severity=Severity.LOW,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM28",),
    why="S4: the build spec assumed every repository had a package.json and failed on "
    "repositories without one.",
    fix_cloudformation="Guard the commands: 'if [ -f package.json ]; then npm ci; fi'.",
    fix_cdk="Same guard in codebuild.BuildSpec.from_object({...}).",
    fix_conveyor="Nothing to write: checks.tests[].commands run as written, and conveyor adds no "
    "commands that assume files.",
    check=check,
)
