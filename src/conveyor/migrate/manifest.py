"""One manifest another tool wrote, read as safely as a conveyor.yaml, with each key's line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conveyor.files import read_bounded
from conveyor.spec.loader import MAX_SPEC_BYTES, SpecError, parse_yaml

# The last segment of a dotted key path: `.name` or a list index `[3]`.
_PARENT = re.compile(r"(\.[^.\[]*|\[\d+\])$")


class MigrateError(Exception):
    """A workspace `conveyor migrate` cannot read: the message names the file, the key and
    what to do instead."""


@dataclass(frozen=True)
class Note:
    """A setting not carried over (or carried over differently): where it was written, and
    why, with what to write instead."""

    file: str
    line: int | None
    key: str
    message: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True)
class Manifest:
    """A YAML mapping, its path as shown to users (relative to the workspace), and the line of
    each dotted key path (`environments.prod.count.range`)."""

    file: str
    data: dict[str, Any]
    lines: dict[str, int]
    text: tuple[str, ...] = ()  # the file's lines

    def written(self, key: str) -> str | None:
        """The plain scalar written after `key:` on its line, as written (`on`, not True)."""
        line = self.lines.get(key)
        if line is None or line > len(self.text):
            return None
        found = re.match(r"\s*[^:#]+:\s*([^\s#'\"{\[][^#]*?)\s*(#.*)?$", self.text[line - 1])
        return found[1] if found else None

    def line(self, key: str) -> int | None:
        """The line `key` was written on, or that of its nearest written parent."""
        while key:
            if key in self.lines:
                return self.lines[key]
            parent = _PARENT.sub("", key)
            key = "" if parent == key else parent  # a top-level key that was not written
        return None

    def note(self, key: str, message: str) -> Note:
        return Note(self.file, self.line(key), key, message)


_KINDS = {list: "a list", str: "text", int: "a number", float: "a number", bool: "a boolean"}


def read_manifest(path: Path, shown: str) -> Manifest:
    """`path` as a Manifest, or MigrateError naming `shown` (its path in the workspace).

    Read through the spec loader: bounded size, UTF-8, one document, no object-building tags,
    node and depth limits (alias bombs), duplicate keys refused."""
    try:
        raw = read_bounded(path, MAX_SPEC_BYTES)
    except IsADirectoryError:
        raise MigrateError(f"{shown}: is a directory; a manifest is a YAML file") from None
    except OSError as exc:
        raise MigrateError(f"{shown}: cannot read it: {exc.strerror or exc}") from None
    try:
        data, lines = parse_yaml(raw, shown)
    except SpecError as exc:
        raise MigrateError(
            f"{exc}\n(conveyor migrate reads Copilot's manifests; fix this one or move it away)"
        ) from None
    if not isinstance(data, dict):
        what = "nothing" if data is None else _KINDS.get(type(data), "a single value")
        raise MigrateError(
            f"{shown}:1: expected a mapping of manifest keys (name: …, type: …), got {what}"
        )
    return Manifest(shown, data, lines, tuple(raw.decode("utf-8").splitlines()))
