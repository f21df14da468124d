"""create.health_command (issue 15): the service container's ECS health check, in ECS's own
CMD / CMD-SHELL forms, refused at the key with what to write when ECS would not run it."""

from __future__ import annotations

import pytest

from conveyor.spec import SpecError, parse_spec

SPEC = """\
app: shop
owner: team-shop
region: eu-west-1
source: {{s3: {{key: shop/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: staging
    deploy:
      ecs:
        create:
          health_command: {command}
notifications: {{email: [oncall@acme.io]}}
"""


def _command(text: str) -> list[str] | None:
    ecs = parse_spec(SPEC.format(command=text)).environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None
    return ecs.create.health_command


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(SPEC.format(command=text), "conveyor.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[CMD-SHELL, "curl -f http://localhost:8080/health || exit 1"]',
            ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
        ),
        ("[CMD, /bin/healthcheck, --quiet]", ["CMD", "/bin/healthcheck", "--quiet"]),
    ],
)
def test_both_ecs_forms_are_accepted_as_written(text: str, expected: list[str]) -> None:
    assert _command(text) == expected


def test_no_health_command_is_the_default() -> None:
    spec = SPEC.replace("          health_command: {command}\n", "          port: 8080\n")
    ecs = parse_spec(spec.format()).environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None
    assert ecs.create.health_command is None
    assert ecs.create.kind == "web"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[curl, -f, "http://localhost:8080/health"]', "starts with CMD-SHELL"),
        ('[CMD-SHELL, curl -f http://localhost/, "|| exit 1"]', "CMD-SHELL takes one command line"),
        ("[CMD-SHELL]", "this one runs nothing"),
        ("[]", "this one runs nothing"),
        ('[CMD, ""]', "must not be empty"),
    ],
)
def test_a_command_ecs_would_not_run_is_refused_at_the_key(text: str, said: str) -> None:
    message = _error(text)
    assert "conveyor.yaml:" in message
    assert "environments[0].deploy.ecs.create.health_command" in message
    assert said in message


def test_the_refusal_says_what_to_write() -> None:
    message = _error("[wget, -q, localhost]")
    assert "CMD-SHELL" in message and "curl -f http://localhost:8080/health || exit 1" in message
