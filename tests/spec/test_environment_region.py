"""environments[].region (issue 10): the pipeline's region is accepted; another region is refused
at the key, saying what is generated and what to write instead, until conveyor generates the
artifact store, image and Lambda package there (a cross-region action that CodePipeline refuses,
CV121, is never written)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.spec import SpecError, parse_spec

SPEC = """\
app: shop
owner: team-shop
{top}source: {{s3: {{key: shop/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: staging
    deploy: {{ecs: {{cluster: shop, service: api}}}}
  - name: prod
    region: {region}
    deploy: {{ecs: {{cluster: shop, service: api}}}}
notifications: {{email: [oncall@acme.io]}}
"""


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_the_pipelines_own_region_is_accepted() -> None:
    spec = parse_spec(SPEC.format(top="region: eu-west-1\n", region="eu-west-1"))
    assert [env.region for env in spec.environments] == [None, "eu-west-1"]


def test_the_pipeline_region_from_the_connection_counts_as_the_pipelines() -> None:
    text = SPEC.format(top="", region="us-east-2").replace(
        "{s3: {key: shop/source.zip}}",
        "{github: {repo: acme/shop, connection: arn:aws:codestar-connections:us-east-2:"
        "111122223333:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789}}",
    )
    assert parse_spec(text).environments[1].region == "us-east-2"


def test_another_region_is_refused_at_its_key_with_what_to_write() -> None:
    message = _error(SPEC.format(top="region: eu-west-1\n", region="us-west-2"))
    assert message.startswith("conveyor.yaml:10: environments[1].region: us-west-2 is not the ")
    assert "pipeline's region (eu-west-1)" in message
    assert "artifact store, the image and the Lambda package in that region" in message
    assert "write eu-west-1" in message
    assert "(region: us-west-2 at its top)" in message


def test_a_region_with_no_pipeline_region_to_compare_asks_for_one() -> None:
    message = _error(SPEC.format(top="", region="eu-west-1"))
    assert message.startswith("conveyor.yaml:9: environments[1].region: ")
    assert "add region: eu-west-1 at the top" in message


def test_a_malformed_region_is_refused() -> None:
    message = _error(SPEC.format(top="region: eu-west-1\n", region="europe"))
    assert "environments[1].region" in message


def test_the_cli_exits_2_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "conveyor.yaml"
    path.write_text(SPEC.format(top="region: eu-west-1\n", region="ap-south-1"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:10: environments[1].region: ap-south-1 is not the" in result.output
    assert "Traceback" not in result.output
