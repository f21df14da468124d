"""Buildspec that assumes optional files exist (``package.json``, ``requirements.txt``).

Heuristic over inline buildspecs: a line that runs ``npm``/``yarn`` (needs package.json) or
``pip install -r requirements.txt`` is reported unless the buildspec tests for the file
(``-f package.json``) or the line tolerates failure (``||``). Installing named packages
(``npm install -g aws-cdk``, ``yarn global add ...``) reads no package.json and is not reported.
A project built for exactly one repository that does have the file may suppress this with that
reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

NEEDS = (
    (lazy(r"\b(?:npm\s+(?:ci|install|i|test|run)|yarn(?:\s+install)?)\b"), "package.json"),
    (lazy(r"\bpip3?\s+install\s+(?:[^\n]*\s)?-r\s+requirements\.txt"), "requirements.txt"),
)
# Only a bare `npm install` reads the project's package.json ("npm install (in package
# directory, no arguments): install the dependencies"); `npm install <name>` installs the package
# it names, with -g globally (https://docs.npmjs.com/cli/commands/npm-install), and so does
# `yarn [global] add <name>`. ADF's `npm install aws-cdk@2.136.0 -g` was reported.
_NAMED_INSTALL = lazy(r"\b(?:npm\s+(?:install|i)|yarn\s+(?:global\s+)?add)\s+(?P<args>.*)")
_COMMANDS = lazy(r"&&|;|\|")
# Options whose value is the next word (`npm install --prefix app` reads app/package.json).
_VALUED = frozenset(
    {
        "--prefix",
        "-C",
        "--registry",
        "--cache",
        "--userconfig",
        "--loglevel",
        "--omit",
        "--include",
        "--tag",
        "--workspace",
        "-w",
    }
)


def _names_packages(args: str) -> bool:
    words = args.split()
    return any(
        not word.startswith("-") and (i == 0 or words[i - 1] not in _VALUED)
        for i, word in enumerate(words)
    )


def _needs_file(line: str, pattern: re.Pattern[str], filename: str) -> bool:
    """Whether a command of the line runs a tool that reads filename."""
    for command in _COMMANDS.split(line):
        if not pattern.search(command):
            continue
        named = _NAMED_INSTALL.search(command)
        if filename == "package.json" and named and _names_packages(named.group("args")):
            continue
        return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    spec = inline_buildspec(res)
    if spec is None:
        return
    for pattern, filename in NEEDS:
        if f"-f {filename}" in spec or f"-e {filename}" in spec or f"exists('{filename}')" in spec:
            continue
        for line in spec.splitlines():
            if "||" not in line and _needs_file(line, pattern, filename):
                yield Hit(
                    res.logical_id,
                    "Properties.Source.BuildSpec",
                    f"buildspec runs {line.strip()[:60]!r} but never checks that {filename} "
                    "exists; builds of repositories without it fail",
                    key=filename,
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
