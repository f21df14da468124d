"""The runtime contracts read the session's synthesized examples (tests/conftest.py): they run in
the synth tests' xdist group so the worker that already paid for the synths runs them too."""

from __future__ import annotations

import pytest

from tests.contracts.model import Example
from tests.synth.conftest import EXAMPLES, Synthesized

EXAMPLE_NAMES = [path.stem for path in EXAMPLES]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/contracts/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("synth"))
            item.add_marker(pytest.mark.synth)


_examples: dict[str, Example] = {}


@pytest.fixture
def example(request: pytest.FixtureRequest, synthesized: dict[str, Synthesized]) -> Example:
    """The parametrized example, resolved once per session."""
    name: str = request.param
    if name not in _examples:
        _examples[name] = Example(synthesized[name])
    return _examples[name]
