"""conveyor's markup functions agree with rich's, so text printed off a terminal without rich
is byte for byte what rich printed."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.markup import escape as rich_escape

from conveyor.cli.console import PipeSafeConsole
from conveyor.cli.markup import escape, plain, shown_as_written

# Text full of what markup reads: brackets, backslashes, tag-like words, colons, non-ASCII.
PIECES = [*"ab /\\[]=#@:-✓é\n", "[red]", "[/]", "\\[", "[/bold]", "[link=x]"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=20).map("".join)


def _rich(markup: str) -> str:
    buffer = io.StringIO()
    PipeSafeConsole(file=buffer, highlight=False, emoji=False).print(markup)
    return buffer.getvalue().removesuffix("\n")


@settings(max_examples=300)
@given(TEXT)
def test_escape_is_riches(text: str) -> None:
    assert escape(text) == rich_escape(text)


@settings(max_examples=300)
@given(TEXT)
def test_escaped_text_in_our_markup_shows_as_rich_shows_it(text: str) -> None:
    for markup in (
        escape(text),
        f"[green]✓[/] {escape(text)}",
        f"[bold red]error:[/] {escape(text)}",
    ):
        assert plain(markup) == _rich(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "[bold]a[/bold] [dim]b[/]",
        "\\[not a tag] and \\\\[bold]x[/bold]",
        "a \\\\\\[tag] b",
        "trailing \\",
        "[0] and [A] and [ ] are text",
        "path/:rocket:/x",
    ],
)
def test_hand_picked_markup_shows_as_rich_shows_it(markup: str) -> None:
    assert plain(markup) == _rich(markup)


@pytest.mark.parametrize("text", ["a\tb", "bell\x07", "cr\rlf", "esc\x1b[31m"])
def test_control_codes_and_tabs_are_left_to_rich(text: str) -> None:
    assert plain(text) is None


@settings(max_examples=300)
@given(TEXT, TEXT)
def test_text_shown_as_written_shows_as_written_between_tags(first: str, second: str) -> None:
    # The text report skips escaping and reading back a line that shows as written: only
    # sound if rich shows such a line's markup (tags between its pieces) as the pieces joined.
    markup = f"{escape(first)}[bold red]{escape(second)}[/bold red]"
    if shown_as_written(first + second):
        assert plain(markup) == _rich(markup) == first + second
    else:
        assert "[" in first + second or "\\" in first + second


@pytest.mark.parametrize("text", ["a[b", "a\\b", "tab\tb", "esc\x1b", "del\x7f"])
def test_brackets_backslashes_and_control_codes_are_not_shown_as_written(text: str) -> None:
    assert not shown_as_written(text)
