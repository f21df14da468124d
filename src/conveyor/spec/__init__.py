"""The conveyor.yaml format: pydantic models, a YAML loader with line numbers, JSON Schema.

Nothing here imports AWS or CDK code: `conveyor validate` and editors rely on it being fast.
"""

from conveyor.spec.loader import SpecError, load_spec, parse_spec
from conveyor.spec.models import Spec

__all__ = ["Spec", "SpecError", "load_spec", "parse_spec"]
