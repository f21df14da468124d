"""create.sidecars (issue 15): extra containers, pinned, uniquely named, within the task."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.spec import SpecError, parse_spec
from conveyor.spec.models import MAX_SIDECARS

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
          cpu: 256
          memory: 512
          sidecars:
{sidecars}
notifications: {{email: [oncall@acme.io]}}
"""

OTEL = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"


def spec(*sidecars: str) -> str:
    return SPEC.format(sidecars="\n".join(f"            - {s}" for s in sidecars))


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_a_pinned_sidecar_is_accepted_with_its_defaults() -> None:
    loaded = parse_spec(spec(f"{{name: otel, image: {OTEL}}}"))
    ecs = loaded.environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None
    (otel,) = ecs.create.sidecars
    assert (otel.name, otel.image, otel.essential, otel.port) == ("otel", OTEL, False, None)
    assert otel.environment == {} and otel.secrets == {} and otel.command is None


@pytest.mark.parametrize(
    "image",
    [
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
        "localhost:5000/collector:1.2",
        "amazon/aws-for-fluent-bit@sha256:" + "0" * 64,
    ],
)
def test_a_tag_or_a_digest_pins_the_image(image: str) -> None:
    assert parse_spec(spec(f"{{name: side, image: '{image}'}}"))


@pytest.mark.parametrize(
    ("image", "write"),
    [
        ("public.ecr.aws/aws-observability/aws-otel-collector", "aws-otel-collector:<version>"),
        ("amazon/aws-for-fluent-bit:latest", "amazon/aws-for-fluent-bit@sha256:<digest>"),
        ("localhost:5000/collector", "localhost:5000/collector:<version>"),
    ],
)
def test_latest_or_untagged_is_refused_at_the_image_with_what_to_write(
    image: str, write: str
) -> None:
    message = _error(spec(f"{{name: side, image: '{image}'}}"))
    assert "environments[0].deploy.ecs.create.sidecars[0].image" in message
    assert "is not pinned" in message and write in message


@pytest.mark.parametrize(
    ("sidecars", "where", "fragment"),
    [
        (
            (f"{{name: otel, image: {OTEL}}}", f"{{name: otel, image: {OTEL}}}"),
            "create.sidecars[1]",
            "'otel' is listed twice",
        ),
        ((f"{{name: app, image: {OTEL}}}",), "create.sidecars[0].name", "is the service's"),
        (
            (f"{{name: otel, image: {OTEL}, cpu: 128}}", f"{{name: b, image: {OTEL}, cpu: 128}}"),
            "create.sidecars",
            "reserve 256 of the task's 256 cpu",
        ),
        ((f"{{name: otel, image: {OTEL}, port: 8080}}",), "create.sidecars[0].port", "taken"),
        (
            (f"{{name: a, image: {OTEL}, port: 4317}}", f"{{name: b, image: {OTEL}, port: 4317}}"),
            "create.sidecars[1].port",
            "port 4317 is already taken",
        ),
        (
            (f"{{name: otel, image: {OTEL}, memory: 512}}",),
            "create.sidecars",
            "reserve 512 of the task's 512 memory",
        ),
        (
            (f"{{name: otel, image: {OTEL}, secrets: {{TOKEN: hunter2}}}}",),
            "create.sidecars[0].secrets.TOKEN",
            "plain-text secrets are not accepted",
        ),
        (
            (f"{{name: otel, image: {OTEL}, environment: {{API_TOKEN: x}}}}",),
            "create.sidecars[0]",
            "looks like a secret in plain text",
        ),
    ],
)
def test_refused_with_the_key_and_what_to_write(
    sidecars: tuple[str, ...], where: str, fragment: str
) -> None:
    message = _error(spec(*sidecars))
    assert f"environments[0].deploy.ecs.{where}" in message
    assert fragment in message


def test_ten_containers_is_the_task_definitions_limit() -> None:
    allowed = [f"{{name: s{i}, image: {OTEL}}}" for i in range(MAX_SIDECARS)]
    assert parse_spec(spec(*allowed))
    message = _error(spec(*allowed, f"{{name: extra, image: {OTEL}}}"))
    assert "environments[0].deploy.ecs.create.sidecars" in message
    assert f"at most {MAX_SIDECARS}" in message


def test_validate_exits_2_naming_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "conveyor.yaml"
    path.write_text(spec("{name: otel, image: 'otel/collector:latest'}"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "conveyor.yaml" in result.output
    assert "sidecars[0].image" in result.output and "otel/collector:<version>" in result.output
