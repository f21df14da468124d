"""TLS by default in production (issue 15): a production web service conveyor creates names
its domain, or opts out of TLS in writing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.spec import SpecError, parse_spec
from conveyor.spec.readiness import concerns

CERTIFICATE = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

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
        create: {{port: 8080{staging}}}
  - name: prod
    deploy:
      ecs:
        strategy: {strategy}
        create:
          port: 8080
{prod}
notifications: {{email: [oncall@acme.io]}}
"""


def spec(prod: str, *, staging: str = "", strategy: str = "rolling") -> str:
    return SPEC.format(prod=prod, staging=staging, strategy=strategy)


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_a_production_web_service_without_a_domain_is_refused_at_its_create_key() -> None:
    message = _error(spec(""))
    assert "conveyor.yaml:15: environments[1].deploy.ecs.create: prod is production" in message
    assert "write domain: {name: api.example.com, hosted_zone_id: Z…}" in message
    assert "plain_http: {reason: …}" in message


def test_the_cli_exits_2_with_file_line_and_what_to_write(tmp_path: Path) -> None:
    path = tmp_path / "conveyor.yaml"
    path.write_text(spec(""))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:15: environments[1].deploy.ecs.create:" in result.output
    assert "Traceback" not in result.output


def test_a_production_certificate_without_a_domain_is_told_to_move_into_one() -> None:
    message = _error(spec(f"          certificate_arn: {CERTIFICATE}"))
    assert (
        "move certificate_arn into domain: {name: <the name on the certificate>, "
        "certificate_arn: …}" in message
    )


def test_a_domain_needs_a_zone_or_a_certificate() -> None:
    message = _error(spec("          domain: {name: shop.acme.io}"))
    assert "environments[1].deploy.ecs.create.domain: a domain needs hosted_zone_id" in message


@pytest.mark.parametrize(
    ("prod", "where", "fragment"),
    [
        (
            f"          certificate_arn: {CERTIFICATE}\n"
            "          domain: {name: shop.acme.io, hosted_zone_id: Z0123456789ABCDEFGHIJ}",
            "create.certificate_arn",
            "move it into domain",
        ),
        (
            "          domain: {name: shop.acme.io, hosted_zone_id: Z0123456789ABCDEFGHIJ}\n"
            "          plain_http: {reason: internal demo behind the VPN}",
            "create.plain_http",
            "remove plain_http",
        ),
        ("          domain: {name: shop, hosted_zone_id: Z0123}", "create.domain.name", ""),
        (
            "          domain: {name: shop.acme.io, hosted_zone_id: zone-1}",
            "create.domain.hosted_zone_id",
            "",
        ),
        (
            "          plain_http: {reason: because}",
            "create.plain_http.reason",
            "at least 10 characters",
        ),
    ],
)
def test_contradictions_and_malformed_values_are_refused(
    prod: str, where: str, fragment: str
) -> None:
    message = _error(spec(prod))
    assert f"environments[1].deploy.ecs.{where}" in message
    assert fragment in message


def test_plain_http_outside_production_is_refused() -> None:
    text = spec(
        "          plain_http: {reason: internal demo behind the VPN}",
        staging=", plain_http: {reason: internal demo behind the VPN}",
    )
    message = _error(text)
    assert "environments[0].deploy.ecs.create.plain_http: plain_http is the opt-out" in message


def test_the_production_opt_out_is_valid_and_warned_about_with_its_rule() -> None:
    loaded = parse_spec(spec("          plain_http: {reason: internal demo behind the VPN}"))
    (found,) = [c for c in concerns(loaded) if c.check_rule == "CV105"]
    assert found.path == "environments[1].deploy.ecs.create.plain_http"
    assert "internal demo behind the VPN" in found.message
    assert not found.blocks_deploy


def test_a_domain_is_what_validation_names_and_an_example_domain_blocks_deploy() -> None:
    zone = "          domain: {name: shop.example.com, hosted_zone_id: Z0123456789ABCDEFGHIJ}"
    loaded = parse_spec(spec(zone, strategy="blue-green"))
    check = loaded.environments[1].validation
    assert check is not None and check.server_name == "shop.example.com"
    assert loaded.environments[0].validation is not None
    assert loaded.environments[0].validation.server_name is None
    (example,) = [c for c in concerns(loaded) if c.value == "shop.example.com"]
    assert example.blocks_deploy
    assert example.path == "environments[1].deploy.ecs.create.domain.name"


def test_a_certificate_of_another_region_is_refused_at_its_key() -> None:
    # ACM certificates are regional: a load balancer serves one of its own region only, so the
    # listener would fail on the first deploy (acm-regions.html).
    elsewhere = CERTIFICATE.replace("eu-west-1", "us-east-1")
    domain = f"          domain: {{name: shop.acme.io, certificate_arn: {elsewhere}}}"
    message = _error(spec(domain))
    assert "environments[1].deploy.ecs.create.domain.certificate_arn" in message
    assert "us-east-1" in message and "eu-west-1" in message
    message = _error(
        spec(
            f"          domain: {{name: shop.acme.io, certificate_arn: {CERTIFICATE}}}",
            staging=f", certificate_arn: '{elsewhere}'",
        )
    )
    assert "environments[0].deploy.ecs.create.certificate_arn" in message
    # An environment in another region names a certificate of that region.
    text = spec(domain)
    assert parse_spec(text.replace("  - name: prod\n", "  - name: prod\n    region: us-east-1\n"))
