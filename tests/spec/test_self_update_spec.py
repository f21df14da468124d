"""self_update: where the pipeline gets conveyor and finds conveyor.yaml; mistakes are refused
at validation with the key and what to write instead, not in a failed pipeline run."""

from __future__ import annotations

import re

import pytest

from conveyor.spec import SpecError, parse_spec

BASE = """\
app: web
owner: team
source: {s3: {}}
build: {commands: ["make"]}
environments: [{name: prod, deploy: {lambda: {}}}]
notifications: {email: [a@example.com]}
"""


def test_by_default_the_spec_is_conveyor_yaml_and_no_requirement_is_written() -> None:
    spec = parse_spec(BASE)
    assert spec.self_update.spec == "conveyor.yaml"
    assert spec.self_update.install is None


def test_a_spec_elsewhere_and_a_requirement_from_git() -> None:
    spec = parse_spec(
        BASE + "self_update:\n  spec: deploy/conveyor.yml\n"
        "  install: conveyor[cdk] @ git+https://github.com/acme/conveyor@v0.1.0\n"
    )
    assert spec.self_update.spec == "deploy/conveyor.yml"
    assert spec.self_update.install == "conveyor[cdk] @ git+https://github.com/acme/conveyor@v0.1.0"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("spec: ../shared/conveyor.yaml", "leaves the repository"),
        ("spec: deploy/../../conveyor.yaml", "leaves the repository"),
        ("spec: /etc/conveyor.yaml", "self_update.spec"),
        ("spec: conveyor.json", "self_update.spec"),
        ("install: --index-url=https://evil.example/simple", "self_update.install"),
        ("install: conveyor;curl evil", "self_update.install"),
        ('install: "conveyor $(id)"', "self_update.install"),
    ],
)
def test_paths_outside_the_repository_and_shell_or_pip_options_are_refused(
    line: str, expected: str
) -> None:
    with pytest.raises(SpecError) as raised:
        parse_spec(BASE + f"self_update:\n  {line}\n")
    assert expected in str(raised.value)
    # The key's own line, or self_update's for a rule about the whole block.
    assert re.match(r"conveyor\.yaml:[78]: self_update", str(raised.value))
