"""environments[].region (issue 10): the pipeline's region is accepted; another region is accepted
for what conveyor generates there (a Lambda function, or a service it creates, rolling or native
blue/green, in the pipeline's account: regional_support.py) and refused at the key for the
rest, saying what is missing and what to write instead (a cross-region action that CodePipeline
refuses, CV121, is never written)."""

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


def test_an_existing_service_in_another_region_is_refused_at_its_key_with_what_to_write() -> None:
    message = _error(SPEC.format(top="region: eu-west-1\n", region="us-west-2"))
    assert message.startswith("conveyor.yaml:10: environments[1].region: us-west-2 is not the ")
    assert "pipeline's region (eu-west-1)" in message
    assert "an existing service is deployed by a deploy role not generated there" in message
    assert "write eu-west-1" in message
    assert "(region: us-west-2 at its top)" in message


CREATED = """\
app: shop
owner: team-shop
region: eu-west-1
{account}source: {{s3: {{key: shop/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: staging
    deploy: {{ecs: {{create: {{port: 8080}}}}}}
  - name: qa
    region: us-west-2
{env_account}    deploy: {{ecs: {{strategy: {strategy}, create: {{port: 8080}}{alarms}}}}}
notifications: {{email: [oncall@acme.io]}}
"""


def _created(
    strategy: str = "rolling", alarms: str = "", account: str = "", env_account: str = ""
) -> str:
    return CREATED.format(
        strategy=strategy, alarms=alarms, account=account, env_account=env_account
    )


@pytest.mark.parametrize("strategy", ["rolling", "native-blue-green"])
def test_a_created_service_in_another_region_is_accepted(strategy: str) -> None:
    spec = parse_spec(_created(strategy))
    assert spec.other_regions == ["us-west-2"]
    assert spec.environment_region(spec.environments[0]) == "eu-west-1"
    assert spec.environment_region(spec.environments[1]) == "us-west-2"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (_created("blue-green"), "write strategy: native-blue-green"),
        (_created(alarms=", alarms: [shop-errors]"), "remove deploy.ecs.alarms"),
        (
            _created().replace(
                "strategy: rolling, create: {port: 8080}",
                "strategy: rolling, create: {port: 8080, public: false}",
            ),
            "write create.public: true",
        ),
        (
            _created(
                account='account: "111111111111"\n',
                env_account='    account: "222222222222"\n'
                "    validate: {http: {url: 'https://qa.example.com/health'}}\n",
            ),
            "another account in another region is not generated yet",
        ),
    ],
    ids=["codedeploy", "gate-alarms", "internal", "other-account"],
)
def test_what_is_not_generated_in_another_region_is_refused_at_the_key(text: str, why: str) -> None:
    message = _error(text)
    assert "environments[1].region: us-west-2 is not the pipeline's region" in message
    assert why in message
    assert "write eu-west-1" in message


def _lambda(prod: str = "") -> str:
    return (
        _created()
        .replace("build: {docker: {context: .}}", "build: {commands: [make]}")
        .replace(
            "deploy: {ecs: {create: {port: 8080}}}",
            "deploy: {lambda: {function: {runtime: python3.12, handler: app.handler}}}",
        )
        .replace(
            "deploy: {ecs: {strategy: rolling, create: {port: 8080}}}",
            "deploy: {lambda: {function: {runtime: python3.12, handler: app.handler}" + prod + "}}",
        )
    )


def test_a_lambda_in_another_region_of_the_pipelines_account_is_accepted() -> None:
    """Its package is copied to that region's package store (regional_support.py)."""
    spec = parse_spec(_lambda(", strategy: canary, percent: 10, minutes: 5"))
    assert spec.environments[1].region == "us-west-2"
    assert spec.other_regions == ["us-west-2"]


def test_a_lambda_in_another_region_with_gate_alarms_is_refused_at_the_key() -> None:
    message = _error(_lambda(", alarms: [shop-errors]"))
    assert "environments[1].region: us-west-2 is not the pipeline's region" in message
    assert "remove deploy.lambda.alarms" in message
    assert "write eu-west-1" in message


def test_a_lambda_in_another_account_and_region_is_refused_at_the_key() -> None:
    text = _lambda().replace("app: shop\n", 'app: shop\naccount: "111111111111"\n')
    text = text.replace(
        "    region: us-west-2\n", '    region: us-west-2\n    account: "222222222222"\n'
    )
    message = _error(text)
    assert "environments[1].region: us-west-2" in message
    assert "another account in another region is not generated yet" in message


def test_a_long_app_name_is_refused_for_the_regional_bucket() -> None:
    text = (
        _created()
        .replace("app: shop", "app: " + "s" * 24 + "\nsuffix: pr1")
        .replace("us-west-2", "ap-southeast-2")
    )
    message = _error(text)
    assert "-artifacts-<account>-ap-southeast-2, 66 characters" in message
    assert "S3 allows 63" in message


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


def test_a_scheduled_job_in_another_region_is_refused_at_the_key() -> None:
    text = _created().replace(
        "deploy: {ecs: {strategy: rolling, create: {port: 8080}}}",
        'deploy: {ecs: {create: {kind: job, schedule: "cron(0 3 * * ? *)"}}}',
    )
    message = _error(text)
    assert "environments[1].region: us-west-2 is not the pipeline's region" in message
    assert "keep the job in the pipeline's region" in message
