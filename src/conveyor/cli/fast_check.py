"""`conveyor check`'s ordinary command lines, parsed without typer or click.

Importing typer (and the click inside it) and building the command was a quarter of
`conveyor check plan.json` as CI and pre-commit hooks run it. This parser reads the command lines
people write (`check PATH... [--format json] [-o FILE] [--ignore CV001,CV002] [-j 2]
[--input terraform] ...`, values after the option, after `=` or glued to a short option) and
gives conveyor.cli.checking.run_check exactly the values typer's parse would give it. Anything
else it declines (None), and typer parses the command line as before, so help and every usage
error stay typer's own: `-h`/`--help`, an unknown option, a value it cannot prove click would
take alike, `--`, a value starting with `-`, short options run together, no PATH, options before
`check` (`--version`), another command, shell completion, and Windows (click expands wildcards
there).

tests/cli/test_fast_check.py holds it to click's parse on drawn command lines.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from conveyor.cli.checking import FailOn, InputKind, OutputFormat


def _choice(kind: type[OutputFormat] | type[FailOn] | type[InputKind]) -> Callable[[str], Any]:
    # typer's choices are case-sensitive by default (conveyor.cli.coercion._choice matches
    # the member's value exactly): `--format JSON` is an error there, so it is declined here.
    members = {member.value: member for member in kind}
    return members.get


def _whole(text: str) -> int | None:
    # typer converts with int(text.strip()): it also reads " 2", "+2", "2_0" and other scripts'
    # digits. Plain ASCII digits, short enough to stay clear of int()'s digit limit, read the
    # same in both; anything else is left to typer (and its message).
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _decimal(text: str) -> float | None:
    # float() also reads "1e3", "inf", "nan", "1_0" and " 1"; digits with at most one point
    # between digits read the same as typer's float(text.strip()), and are finite.
    whole, point, fraction = text.partition(".")
    if _whole(whole) is None or (point and _whole(fraction) is None):
        return None
    return float(text)


def _text(text: str) -> str:
    return text


# Each option's names, the parameter of run_check it sets, and how its value is read (None:
# declined). --ignore and --require-tags may be repeated; the others keep the last value given,
# as click does.
_OPTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--format": ("output_format", _choice(OutputFormat)),
    "-f": ("output_format", _choice(OutputFormat)),
    "--fail-on": ("fail_on", _choice(FailOn)),
    "--ignore": ("ignore", _text),
    "--require-tags": ("require_tags", _text),
    "--jobs": ("jobs", _whole),
    "-j": ("jobs", _whole),
    "--output": ("output", _text),
    "-o": ("output", _text),
    "--time-limit": ("time_limit", _decimal),
    "--memory-limit": ("memory_limit", _whole),
    "--input": ("input_kind", _choice(InputKind)),
}
_REPEATED = ("ignore", "require_tags")


def parsed(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> dict[str, Any] | None:
    """run_check's keyword arguments for `argv` (the command line after the program's name),
    or None when typer must parse it."""
    if os.name == "nt" or not argv or argv[0] != "check":
        return None
    # click's shell completion answers `_<PROG>_COMPLETE=...` before parsing anything.
    if any(
        name.startswith("_") and name.endswith("_COMPLETE") and environ[name] for name in environ
    ):
        return None
    values: dict[str, Any] = {}
    paths: list[str] = []
    words = iter(argv[1:])
    for word in words:
        if word[:1] != "-" or word == "-":  # a PATH ('-' is standard input), even ""
            paths.append(word)
            continue
        value: str | None
        if word.startswith("--"):
            name, equals, value = word.partition("=")
            if not equals:
                value = next(words, None)
        elif word[2:3] == "=":  # click reads `-o=x` as "=x": declined, not guessed
            return None
        else:
            name, value = word[:2], word[2:] or next(words, None)
        option = _OPTIONS.get(name)
        # An option click does not know (or -h, --help, --, short flags run together), a missing
        # value, or one that looks like an option ('-' alone is standard output for -o).
        if option is None or value is None or (value[:1] == "-" and value != "-"):
            return None
        parameter, read = option
        converted = read(value)
        if converted is None:
            return None
        if parameter in _REPEATED:
            values.setdefault(parameter, []).append(converted)
        else:
            values[parameter] = converted
    if not paths:
        return None
    return {"paths": paths, **values}
