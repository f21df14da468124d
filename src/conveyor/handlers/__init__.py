"""Lambda handlers that run inside generated pipelines.

This whole folder is one Lambda asset: every function gets the same code and its own handler
string (`notify.app.handler`), and the shared module `_common.py` sits at the asset root.
Nothing here may import from the rest of conveyor, and this module must stay import-light
because the CDK constructs import it to locate the asset.
"""

from __future__ import annotations

from pathlib import Path

HANDLER_NAMES: tuple[str, ...] = (
    "record_deployment",
    "validate_http",
    "notify",
    "scan_gate",
    "watch_executions",
)
# The aws-lambda-powertools version the handlers are written and tested for: pyproject.toml
# pins it and the functions run with the AWS-managed layer of this version.
POWERTOOLS_VERSION = "3.37.0"
ASSET_ROOT = Path(__file__).parent
# What does not run: sample events, caches, docs and tests. Leaving them out also keeps the
# asset hash (and so every template) identical between checkouts.
ASSET_EXCLUDE: tuple[str, ...] = (
    "events",
    "__pycache__",
    "*.pyc",
    "*.md",
    "tests",
    "test_*.py",
    ".*",
)


def _known(name: str) -> str:
    if name not in HANDLER_NAMES:
        raise ValueError(f"unknown handler {name!r}; expected one of {', '.join(HANDLER_NAMES)}")
    return name


def handler_entrypoint(name: str) -> str:
    """The Lambda handler string of `name` inside the one asset, e.g. `notify.app.handler`."""
    return f"{_known(name)}.app.handler"


def asset_path(name: str) -> Path:
    """The folder of the handler called `name` (its code and sample events)."""
    return ASSET_ROOT / _known(name)
