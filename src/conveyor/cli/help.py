"""Help, usage lines and usage errors that survive pipes.

typer draws help and usage errors as rich panels. Anywhere but a terminal rich assumes 80
columns (or COLUMNS), so `conveyor check -h | cat` broke help text inside boxes, in the middle of
words (`critica` / `l`) and of sentences, and `grep` found half a sentence. Off a terminal the
help is click's plain layout at an unbounded width: one paragraph, option or command per line,
nothing cut. On a terminal it stays typer's (a person reads it at the terminal's width).

The usage line names arguments as users type them (`PATH...`, `SPEC`, `[DIR]`); typer 0.29
printed the parameter's Python name in braces (`{paths}...`). Options name what they take in
words (`--output DIR`, `--ignore RULES`, `--region REGION`), never a Python type (typer 0.29
printed `<list[str]>`, `<path>`, `<int range>`, `<bool>` after a flag), and a choice's values
are in its help text: a long `<low|medium|high|critical>` was what rich folded mid-word at 80
columns.
"""

from __future__ import annotations

import sys
from typing import Any

from typer import _click
from typer.core import TyperArgument, TyperOption

from conveyor.cli.streams import on_terminal as on_terminal

try:  # typer's own entry point, which takes the markup mode per call (typer >= 0.2x)
    from typer.core import _main
except ImportError:  # pragma: no cover - depends on the installed typer
    _main = None  # type: ignore[assignment]

# Wider than any line conveyor prints: click's formatter then wraps nothing.
UNBOUNDED = 1_000_000


def typed_name(param: Any) -> str:
    """An argument as users type it: its metavar (or its name in capitals), `...` when it
    takes several, in brackets when it may be left out."""
    name = param.metavar or str(param.name or "").upper()
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name if param.required else f"[{name}]"


class _Argument(TyperArgument):
    """An argument whose help shows its name only (typer added its Python type, `<path>`)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _Option(TyperOption):
    """An option whose help shows its metavar (a word) after it, and nothing after a flag; its
    bounds are in its help text (readable), not beside the metavar, where rich's narrow column
    folded `[0.0<=x<=1440.0]` and cut the option's own name at 80 columns."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar

    def _get_number_range_help_str(self) -> str | None:
        return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _bounds(param: Any) -> str | None:
    """An option's bounds in words: `(0 to 1440)`, `(at least 1)`, `(at most 100)`. Not in
    brackets: on a terminal help is rich markup, where `[at least 1]` reads as a style tag."""
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        return f"({_number(low)} to {_number(high)})"
    if low is not None:
        return f"(at least {_number(low)})"
    if high is not None:
        return f"(at most {_number(high)})"
    return None


def readable(param: Any) -> Any:
    """`param` with help that names what it takes in words: an argument its name in capitals,
    an option its metavar or else its long name in capitals (`--region REGION`)."""
    if isinstance(param, TyperArgument) and not isinstance(param, _Argument):
        param.__class__ = _Argument
        param.metavar = param.metavar or str(param.name).upper()
    elif isinstance(param, TyperOption) and not isinstance(param, _Option):
        param.__class__ = _Option
        if param.metavar is None and not (param.is_flag or param.count):
            long = max(param.opts, key=len).lstrip("-")
            param.metavar = long.upper().replace("-", "_")
        bounds = _bounds(param)
        if bounds is not None and not (param.count and param.min == 0 and param.max is None):
            param.help = f"{param.help} {bounds}" if param.help else bounds
    return param


class PipeSafeHelp:
    """Help for typer's command and group classes: plain and unwrapped off a terminal, with
    arguments and option values named as users type them. Put it before the typer class in the
    bases."""

    def get_params(self, ctx: Any) -> list[Any]:
        return [readable(p) for p in super().get_params(ctx)]  # type: ignore[misc]

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                for piece in param.get_usage_pieces(ctx):
                    pieces[pieces.index(piece)] = typed_name(param)
        return pieces

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if on_terminal(sys.stdout):
            super().format_help(ctx, formatter)  # type: ignore[misc]
            return
        formatter.width = UNBOUNDED
        # click's layout: usage, help text, then format_options below, then the epilog.
        _click.Command.format_help(self, ctx, formatter)  # type: ignore[arg-type]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((typed_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows, col_max=UNBOUNDED)
        format_commands = getattr(self, "format_commands", None)
        if format_commands is not None:
            format_commands(ctx, formatter)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Usage errors as plain lines (`Error: ...`) when standard error is not a terminal."""
        if _main is None or on_terminal(sys.stderr):
            return super().main(*args, **kwargs)  # type: ignore[misc]
        names = ("args", "prog_name", "complete_var", "standalone_mode", "windows_expand_args")
        kwargs.update(zip(names, args, strict=False))
        return _main(self, rich_markup_mode=None, **kwargs)  # type: ignore[arg-type]
