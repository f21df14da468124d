"""Command-line values of plain types are converted by conveyor.cli.coercion, not pydantic:
the same values reach the command and a bad value gets typer's own message and exit 2."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer.testing import CliRunner

from conveyor.cli import coercion
from conveyor.cli.coercion import PlainCommand
from conveyor.cli.main import app

runner = CliRunner()
GOOD = str(Path(__file__).resolve().parents[1] / "rules" / "fixtures" / "CV008" / "good.yaml")


class Colour(enum.StrEnum):
    red = "red"
    blue = "blue"


def _probe() -> tuple[typer.Typer, dict[str, Any]]:
    seen: dict[str, Any] = {}
    probe = typer.Typer()

    @probe.command(cls=PlainCommand)
    def show(
        names: Annotated[list[str], typer.Argument()],
        count: Annotated[int, typer.Option(min=0, max=9)] = 1,
        ratio: Annotated[float, typer.Option(min=0.5)] = 1.0,
        colour: Annotated[Colour, typer.Option(case_sensitive=False)] = Colour.red,
        out: Annotated[Path | None, typer.Option()] = None,
        tags: Annotated[list[str] | None, typer.Option()] = None,
        loud: Annotated[bool, typer.Option()] = False,
    ) -> None:
        seen.update(
            names=names, count=count, ratio=ratio, colour=colour, out=out, tags=tags, loud=loud
        )

    @probe.command(cls=PlainCommand)
    def other() -> None:  # two commands: typer then needs the command's name
        pass

    return probe, seen


def test_plain_values_reach_the_command_converted() -> None:
    probe, seen = _probe()
    args = ["show", "a", "b", "--count", "3", "--ratio", "2.5", "--colour", "BLUE"]
    args += ["--out", "o.txt", "--tags", "x", "--tags", "y", "--loud"]
    result = runner.invoke(probe, args)
    assert result.exit_code == 0, result.output
    assert seen == {
        "names": ["a", "b"],
        "count": 3,
        "ratio": 2.5,
        "colour": Colour.blue,
        "out": Path("o.txt"),
        "tags": ["x", "y"],
        "loud": True,
    }
    assert type(seen["count"]) is int and type(seen["ratio"]) is float


def test_defaults_reach_the_command_unchanged() -> None:
    probe, seen = _probe()
    assert runner.invoke(probe, ["show", "a"]).exit_code == 0
    assert seen["count"] == 1 and seen["colour"] is Colour.red and seen["out"] is None
    assert seen["loud"] is False and not seen["tags"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "-1"], "-1 is below the least value, 0"),
        (["--count", "10"], "10 is above the greatest value, 9"),
        (["--count", "x"], "'x' is not a whole number; give a whole number"),
        (["--count", "1.5"], "'1.5' is not a whole number"),
        (["--ratio", "0.1"], "0.1 is below the least value, 0.5"),
        (["--ratio", "abc"], "'abc' is not a number; give a number"),
        (["--ratio", "nan"], "'nan' is not a finite number; give a finite number"),
        (["--ratio", "inf"], "'inf' is not a finite number"),
        (["--ratio", "-Infinity"], "'-Infinity' is not a finite number"),
        (["--colour", "green"], "'green' is not one of 'red', 'blue'."),
    ],
)
def test_a_bad_value_is_a_usage_error_in_plain_words(args: list[str], message: str) -> None:
    probe, seen = _probe()
    result = runner.invoke(probe, ["show", "a", *args])
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())
    assert message in text
    # Issue 12: no pydantic wording ("Value error, ...", "Input should be ...") reaches users.
    assert "Value error" not in text and "Input should" not in text
    assert seen == {}


def test_a_case_sensitive_choice_takes_only_its_exact_spelling() -> None:
    result = runner.invoke(app, ["check", "--format", "JSON", GOOD])
    assert result.exit_code == 2
    assert "'JSON' is not one of 'text', 'json', 'sarif'" in " ".join(
        result.output.replace("│", " ").split()
    )


def test_check_converts_its_options_without_pydantic() -> None:
    result = runner.invoke(
        app, ["check", "-f", "json", "-j", "1", "--time-limit", "30", "--fail-on", "high", GOOD]
    )
    assert result.exit_code == 0, result.output
    assert '"version": 1' in result.output


def test_types_it_does_not_know_are_left_to_typer() -> None:
    class Info:
        parser = None
        click_type = None
        clamp = False
        exists = False
        resolve_path = False
        file_okay = True
        dir_okay = True

    class Descriptor:
        parameter_info = Info()
        annotation: Any = tuple[int, int]

    assert coercion.plain_conversion(Descriptor()) is None
    Descriptor.annotation = Path
    assert coercion.plain_conversion(Descriptor()) is not None
    Info.exists = True  # typer checks the path on the disk: its conversion does that
    assert coercion.plain_conversion(Descriptor()) is None
    Info.exists = False
    Descriptor.annotation = int
    Info.clamp = True
    assert coercion.plain_conversion(Descriptor()) is None
    Info.clamp = False
    Info.parser = int  # type: ignore[assignment]
    assert coercion.plain_conversion(Descriptor()) is None
