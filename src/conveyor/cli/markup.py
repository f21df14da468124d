"""rich's console markup without rich: escaping text, and the plain text a markup string shows.

Off a terminal rich prints markup as its plain text; importing rich for that alone was a tenth of
`conveyor validate` (and of every command's error message). These two functions follow rich's
own grammar (rich/markup.py: a tag is `[` then a lowercase letter, `#`, `/` or `@`, up to the
next `]`; a tag preceded by an odd number of backslashes is text), and the tests compare them
with rich on drawn strings.
"""

from __future__ import annotations

import re

# rich.markup.RE_TAGS: a tag and the backslashes before it.
_TAG = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
# rich.markup.escape's pattern: what would read as a tag, and the backslashes before it.
_TAG_LIKE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
# What rich's Text removes or expands (control codes, tabs): such text is left to rich itself.
_NOT_PLAIN = re.compile("[\x00-\x09\x0b-\x1f\x7f]")


def escape(text: str) -> str:
    """`text` as markup that shows it literally (rich.markup.escape): brackets that would read
    as a tag get a backslash, and so does a backslash at the end."""
    escaped = _TAG_LIKE.sub(lambda found: f"{found[1]}{found[1]}\\{found[2]}", text)
    if escaped.endswith("\\") and not escaped.endswith("\\\\"):
        return escaped + "\\"
    return escaped


def shown_as_written(text: str) -> bool:
    """Whether `text`, escaped and put between tags, shows as written: no `[` and no backslash
    (nothing escape() or plain() rewrites) and nothing only rich can print. Most report lines
    are such text; deciding it is two C scans, where escaping and reading back the markup of a
    line of a hundred findings were regular expressions run over every character."""
    return "[" not in text and "\\" not in text and _NOT_PLAIN.search(text) is None


def plain(markup: str) -> str | None:
    """The text rich shows for `markup` (tags dropped, escapes undone), or None when only rich
    can say: a control code or a tab (rich removes or expands them)."""
    if _NOT_PLAIN.search(markup):
        return None
    pieces: list[str] = []
    position = 0
    for found in _TAG.finditer(markup):
        whole, backslashes, _ = found.groups()
        start, end = found.span()
        if start > position:
            pieces.append(_unescaped(markup[position:start]))
        position = end
        if backslashes:
            pairs, escaped = divmod(len(backslashes), 2)
            pieces.append("\\" * pairs)
            if escaped:  # an escaped tag is its text
                pieces.append(_unescaped(whole[len(backslashes) :]))
    if position < len(markup):
        pieces.append(_unescaped(markup[position:]))
    return "".join(pieces)


def _unescaped(text: str) -> str:
    # rich turns `\[` back into `[` in the text between tags (an escaped bracket, not a tag).
    return text.replace("\\[", "[")
