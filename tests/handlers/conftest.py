from __future__ import annotations

from collections.abc import Iterator

import pytest

from conveyor.handlers import _common

from .support import FakeContext


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a fixed region so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    _clear_client_caches()
    yield
    _clear_client_caches()


def _clear_client_caches() -> None:
    # Clients are cached; a client made under one moto mock must not leak into the next test.
    _common.client.cache_clear()
    _common._regional_client.cache_clear()
    _common.idempotency_store.cache_clear()


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()
