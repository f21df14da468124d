"""`source.github.pull_requests` (issue 11): what it accepts, and what it refuses at its key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.spec import SpecError, parse_spec

CONNECTION = (
    "arn:aws:codestar-connections:eu-west-1:111122223333:connection/"
    "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)
SPEC = f"""\
app: shop
owner: team-shop
source:
  github:
    repo: acme/shop
    branch: trunk
    connection: {CONNECTION}
    pull_requests: {{pulls}}
build: {{{{commands: [make], env: {{{{MODE: fast{{env}}}}}}}}}}
environments:
  - name: {{env_name}}
    deploy: {{{{lambda: {{{{function: {{{{runtime: python3.12, handler: app.handler}}}}}}}}}}}}
notifications: {{{{email: [oncall@acme.io]}}}}
"""


def spec(pulls: str, *, env: str = "", env_name: str = "staging") -> str:
    return SPEC.format(pulls=pulls, env=env, env_name=env_name)


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_true_means_pull_requests_into_the_source_branch_opened_or_updated() -> None:
    github = parse_spec(spec("true")).source.github
    assert github is not None and github.pull_requests is not None
    assert list(github.pull_requests.branches) == []
    assert list(github.pull_requests.events) == ["OPEN", "UPDATED"]


def test_false_is_the_same_as_leaving_it_out() -> None:
    github = parse_spec(spec("false")).source.github
    assert github is not None and github.pull_requests is None


def test_branches_and_events_are_kept() -> None:
    github = parse_spec(spec("{branches: [main, 'release/*'], events: [UPDATED]}")).source.github
    assert github is not None and github.pull_requests is not None
    assert list(github.pull_requests.branches) == ["main", "release/*"]
    assert list(github.pull_requests.events) == ["UPDATED"]


def test_closed_is_refused_at_its_list_item() -> None:
    message = _error(spec("{events: [OPEN, CLOSED]}"))
    assert "conveyor.yaml:8: source.github.pull_requests.events[1]: CLOSED would build" in message
    assert "write OPEN and/or UPDATED" in message


def test_an_unknown_event_names_the_allowed_ones() -> None:
    message = _error(spec("{events: [MERGED]}"))
    assert "source.github.pull_requests.events[0]" in message
    assert "'OPEN'" in message and "'UPDATED'" in message


def test_a_repeated_event_is_refused() -> None:
    message = _error(spec("{events: [OPEN, OPEN]}"))
    assert "source.github.pull_requests.events[1]: event 'OPEN' is listed twice" in message


def test_a_build_secret_is_refused_with_pull_requests() -> None:
    message = _error(spec("true", env=", TOKEN: 'ssm:/shop/npm-token'"))
    assert "source.github.pull_requests: build.env.TOKEN is a secret" in message
    assert "leave pull_requests out" in message
    # Without pull requests, the same secret is fine.
    parse_spec(spec("false", env=", TOKEN: 'ssm:/shop/npm-token'"))


def test_an_environment_named_pr_is_refused_with_pull_requests() -> None:
    message = _error(spec("true", env_name="pr"))
    assert "environments[0].name: the environment name 'pr' is the pull-request pipeline's" in (
        message
    )
    parse_spec(spec("false", env_name="pr"))


@pytest.mark.parametrize("source", ["s3: {key: shop.zip", "codecommit: {repository: shop"])
def test_other_sources_say_pull_requests_need_a_connection(tmp_path: Path, source: str) -> None:
    text = spec("true").replace(
        f"  github:\n    repo: acme/shop\n    branch: trunk\n    connection: {CONNECTION}\n"
        "    pull_requests: true\n",
        f"  {source}, pull_requests: true}}\n",
    )
    path = tmp_path / "conveyor.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "pull_requests: unknown key 'pull_requests': pull-request runs need a connection" in (
        result.output
    )
    assert "write it under source.github" in result.output
    assert "Traceback" not in result.output


def test_the_json_schema_offers_the_shorthand_editors_see() -> None:
    """Editors validate against `conveyor schema`: `pull_requests: true` must pass there too."""
    import json

    import jsonschema

    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    for value in (True, False, {"branches": ["main"], "events": ["OPEN"]}):
        document = {
            "app": "shop",
            "owner": "team-shop",
            "source": {
                "github": {"repo": "acme/shop", "connection": CONNECTION, "pull_requests": value}
            },
            "build": {"commands": ["make"]},
            "environments": [
                {
                    "name": "staging",
                    "deploy": {"lambda": {"function": {"runtime": "python3.12", "handler": "a.b"}}},
                }
            ],
            "notifications": {"email": ["oncall@acme.io"]},
        }
        jsonschema.validate(document, schema)
