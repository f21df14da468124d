"""conveyor: secure AWS delivery pipelines from a short spec, and a checker for the mistakes
hand-written pipelines make.

Inside any CDK app::

    from conveyor import Pipeline, Spec, load_spec

    Pipeline(stack, "Delivery", spec=load_spec("conveyor.yaml"))

Names are imported lazily: `Pipeline` loads aws-cdk-lib (seconds), and the CLI's fast commands
import this package without needing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Pipeline", "Spec", "SpecError", "load_spec", "parse_spec"]

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline
    from conveyor.spec import Spec, SpecError, load_spec, parse_spec


def __getattr__(name: str) -> Any:
    if name == "Pipeline":
        from conveyor.pipeline import Pipeline

        return Pipeline
    if name in {"Spec", "SpecError", "load_spec", "parse_spec"}:
        from conveyor import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'conveyor' has no attribute {name!r}")
