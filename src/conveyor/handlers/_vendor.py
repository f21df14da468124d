"""Copy `_common.py` into every handler folder as `common.py`.

A Lambda asset is a single folder, so each handler carries its own copy of the shared helpers.
The copies are generated, never edited: change `_common.py` and run
`python -m conveyor.handlers._vendor`; `tests/handlers/test_vendored_common.py` fails on drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conveyor.handlers import HANDLER_NAMES

CANONICAL = Path(__file__).with_name("_common.py")
COPY_NAME = "common.py"


def copies() -> list[Path]:
    return [CANONICAL.parent / name / COPY_NAME for name in HANDLER_NAMES]


def stale_copies() -> list[Path]:
    expected = CANONICAL.read_bytes()
    return [path for path in copies() if not path.is_file() or path.read_bytes() != expected]


def main(argv: list[str]) -> int:
    stale = stale_copies()
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        if not path.parent.is_dir():
            print(f"skipped {path}: no handler folder", file=sys.stderr)
            continue
        path.write_bytes(CANONICAL.read_bytes())
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
