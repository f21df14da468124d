"""Recognising secrets by name and secret stores by reference."""

from __future__ import annotations

import re
from typing import Any

from conveyor.rules.intrinsics import render
from conveyor.rules.patterns import lazy

SECRET_NAME = lazy(
    r"(?:^|[_.-])pass(?:$|[_.-])|password|passwd|secret|token|api_?key|private_?key|credential",
    re.IGNORECASE,
)
# Names that hold a pointer to a secret, not the secret.
POINTER_NAME = lazy(
    r"(_|\b|[a-z])(name|arn|id|path|param|parameter|url|file|ref|location|key_?id)$",
    re.IGNORECASE,
)
DYNAMIC_REFERENCE = lazy(r"\{\{resolve:(secretsmanager|ssm-secure|ssm):")


def secret_like(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not POINTER_NAME.search(name)


def from_store(value: Any) -> bool:
    text = render(value)
    return text is not None and DYNAMIC_REFERENCE.search(text) is not None
