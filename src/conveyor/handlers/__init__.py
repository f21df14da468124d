"""Lambda handlers that run inside generated pipelines.

Each handler is one folder deployed alone as a Lambda asset (`app.handler`); nothing here may
import from the rest of conveyor, and this module must stay import-light because the CDK
constructs import it to locate the assets.
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
HANDLER_ENTRYPOINT = "app.handler"


def asset_path(name: str) -> Path:
    """Folder to pass to `lambda.Code.from_asset` for the handler called `name`."""
    if name not in HANDLER_NAMES:
        raise ValueError(f"unknown handler {name!r}; expected one of {', '.join(HANDLER_NAMES)}")
    return Path(__file__).parent / name
