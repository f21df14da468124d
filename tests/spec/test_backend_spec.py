"""create.kind: backend (issue 15): what a backend needs (a health command), what it refuses at
the key (load balancer settings, blue/green, the pipeline's HTTP check, a tests: job), and
create.connect for backends and their web clients."""

from __future__ import annotations

import pytest

from conveyor.spec import SpecError, parse_spec
from conveyor.spec.readiness import concerns

HEALTH = '[CMD-SHELL, "curl -f http://localhost:8080/health || exit 1"]'

SPEC = """\
app: rates
owner: team-rates
region: eu-west-1
source: {{s3: {{key: rates/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: staging
{env}    deploy:
      ecs:
{ecs}        create:
          kind: {kind}
{create}notifications: {{email: [oncall@acme.io]}}
"""


def spec(create: str = "", *, kind: str = "backend", ecs: str = "", env: str = "") -> str:
    return SPEC.format(
        create="".join(f"          {line}\n" for line in create.splitlines()),
        kind=kind,
        ecs="".join(f"        {line}\n" for line in ecs.splitlines()),
        env="".join(f"    {line}\n" for line in env.splitlines()),
    )


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_a_backend_with_a_health_command_loads_without_an_http_check() -> None:
    loaded = parse_spec(spec(f"health_command: {HEALTH}"))
    env = loaded.environments[0]
    assert env.deploy.ecs is not None and env.deploy.ecs.create is not None
    assert env.deploy.ecs.create.kind == "backend"
    assert env.validation is None
    assert env.checked_by_health_command
    assert env.alarm_kinds == ()
    # validate does not warn that nothing checks the release: the health command does.
    assert not [c for c in concerns(loaded) if c.check_rule == "CV074"]


def test_a_backend_without_a_health_command_is_refused_with_what_to_write() -> None:
    message = _error(spec("port: 8080"))
    assert "environments[0].deploy.ecs.create.kind" in message
    assert "health_command: [CMD-SHELL" in message


@pytest.mark.parametrize(
    ("line", "key", "said"),
    [
        (
            "domain: {name: rates.example.com, hosted_zone_id: Z0123456789ABCDEFGHIJ}",
            "domain",
            "remove domain",
        ),
        ("public: false", "public", "remove public"),
        ("health_check_path: /health", "health_check_path", "write health_command"),
        ("test_cidrs: [10.0.0.0/16]", "test_cidrs", "remove test_cidrs"),
        ("plain_http: {reason: an internal service}", "plain_http", "remove plain_http"),
        (
            "certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/"
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "certificate_arn",
            "remove certificate_arn",
        ),
        (
            "scaling: {min: 1, max: 3, requests_per_target: 100}",
            "scaling.requests_per_target",
            "cpu or memory",
        ),
    ],
)
def test_load_balancer_settings_are_refused_at_their_key(line: str, key: str, said: str) -> None:
    message = _error(spec(f"health_command: {HEALTH}\n{line}"))
    assert f"environments[0].deploy.ecs.create.{key}" in message
    assert "kind backend" in message and said in message


@pytest.mark.parametrize("strategy", ["blue-green", "native-blue-green"])
def test_blue_green_is_refused_at_the_strategy(strategy: str) -> None:
    message = _error(spec(f"health_command: {HEALTH}", ecs=f"strategy: {strategy}"))
    assert "environments[0].deploy.ecs.strategy" in message
    assert "write strategy: rolling" in message


def test_the_pipeline_s_http_check_is_refused_at_validate() -> None:
    message = _error(
        spec(f"health_command: {HEALTH}").replace(
            "notifications:",
            "    validate: {http: {url: 'https://rates.example.com/health'}}\nnotifications:",
        )
    )
    assert "environments[0].validate" in message
    assert "Service Connect" in message and "remove validate" in message


def test_a_tests_job_is_refused_at_tests() -> None:
    text = spec(f"health_command: {HEALTH}").replace(
        "notifications:", "    tests: {commands: [pytest -q]}\nnotifications:"
    )
    message = _error(text)
    assert "environments[0].tests" in message and "remove tests" in message


def test_an_existing_vpc_needs_its_range() -> None:
    vpc = (
        "vpc:\n"
        "  id: vpc-0a1b2c3d4e5f67890\n"
        "  availability_zones: [eu-west-1a, eu-west-1b]\n"
        "  public_subnets: [subnet-0a1b2c3d, subnet-4e5f6a7b]\n"
        "  private_subnets: [subnet-8c9d0e1f, subnet-2a3b4c5d]"
    )
    message = _error(spec(f"health_command: {HEALTH}\n{vpc}"))
    assert "environments[0].deploy.ecs.create.vpc" in message and "add cidr:" in message


def test_a_production_backend_needs_no_domain() -> None:
    text = spec(f"health_command: {HEALTH}").replace("name: staging", "name: prod")
    assert parse_spec(text).environments[0].is_production


def test_connect_names_the_backend_and_its_clients() -> None:
    loaded = parse_spec(
        spec(
            f"health_command: {HEALTH}\n"
            "connect: {namespace: platform-prod, name: rates, client_cidrs: [10.30.0.0/16]}"
        )
    )
    create = loaded.environments[0].deploy.ecs.create  # type: ignore[union-attr]
    assert create is not None and create.connect is not None
    assert (create.connect.namespace, create.connect.name) == ("platform-prod", "rates")


@pytest.mark.parametrize(
    ("connect", "key", "said"),
    [
        ("{client_cidrs: [0.0.0.0/0]}", "connect.client_cidrs", "list the client vpcs"),
        ("{name: Rates.Api}", "connect.name", "does not have the expected form"),
        ("{namespace: 'ns with space'}", "connect.namespace", "does not have the expected form"),
    ],
)
def test_connect_values_are_refused_at_their_key(connect: str, key: str, said: str) -> None:
    message = _error(spec(f"health_command: {HEALTH}\nconnect: {connect}"))
    assert f"environments[0].deploy.ecs.create.{key}" in message
    assert said in message.lower()


def test_a_web_client_names_the_namespace_and_no_endpoint() -> None:
    assert parse_spec(spec("connect: {namespace: platform-prod}", kind="web"))
    message = _error(spec("connect: {name: rates}", kind="web"))
    assert "environments[0].deploy.ecs.create.connect" in message
    assert "write namespace:" in message
    message = _error(spec("connect: {namespace: platform-prod, name: rates}", kind="web"))
    assert "environments[0].deploy.ecs.create.connect.name" in message
    assert "remove name" in message


def test_a_web_client_under_codedeploy_is_refused_at_the_strategy() -> None:
    message = _error(
        spec("connect: {namespace: platform-prod}", kind="web", ecs="strategy: blue-green")
    )
    assert "environments[0].deploy.ecs.strategy" in message
    assert "write strategy: native-blue-green" in message
    assert parse_spec(
        spec("connect: {namespace: platform-prod}", kind="web", ecs="strategy: native-blue-green")
    )


NAMESPACE_ARN = "arn:aws:servicediscovery:{region}:123456789012:namespace/ns-0123456789abcdef"


@pytest.mark.parametrize("kind", ["backend", "web"])
def test_a_namespace_in_another_region_is_refused_at_the_key(kind: str) -> None:
    # ECS joins a namespace of the service's own region only (API_ServiceConnectConfiguration):
    # CreateService would fail on the first deploy.
    create = f"health_command: {HEALTH}\n" if kind == "backend" else ""
    arn = NAMESPACE_ARN.format(region="us-east-1")
    message = _error(spec(create + f"connect: {{namespace: '{arn}'}}", kind=kind))
    assert "environments[0].deploy.ecs.create.connect.namespace" in message
    assert "us-east-1" in message and "eu-west-1" in message
    arn = NAMESPACE_ARN.format(region="eu-west-1")
    assert parse_spec(spec(create + f"connect: {{namespace: '{arn}'}}", kind=kind))


def _two_backends(staging: str, prod: str, *, prod_env: str = "") -> str:
    text = spec(f"health_command: {HEALTH}\n{staging}")
    return text.replace(
        "notifications:",
        "  - name: prod\n"
        f"{prod_env}"
        "    deploy:\n"
        "      ecs:\n"
        "        create:\n"
        "          kind: backend\n"
        f"          health_command: {HEALTH}\n"
        "          scaling: {min: 2, max: 4}\n"
        f"          {prod}\n"
        "notifications:",
    )


def test_two_environments_publishing_one_name_in_one_namespace_are_refused() -> None:
    # A Cloud Map service name is unique in its namespace (API_ServiceConnectService): staging
    # and production publishing `rates` in one shared namespace would collide.
    message = _error(_two_backends("connect: {namespace: shared}", "connect: {namespace: shared}"))
    assert "environments[1].deploy.ecs.create.connect" in message
    assert "staging" in message and "write name:" in message
    message = _error(
        _two_backends(
            "connect: {namespace: shared, name: api}", "connect: {namespace: shared, name: api}"
        )
    )
    assert "environments[1].deploy.ecs.create.connect.name" in message
    # Another name, another namespace, or another account: no collision.
    assert parse_spec(
        _two_backends("connect: {namespace: shared}", "connect: {namespace: shared, name: x}")
    )
    assert parse_spec(_two_backends("connect: {namespace: a}", "connect: {namespace: b}"))
    assert parse_spec(
        _two_backends(
            "connect: {namespace: shared}",
            "connect: {namespace: shared}",
            prod_env="    account: '210987654321'\n",
        ).replace("region: eu-west-1", "region: eu-west-1\naccount: '123456789012'")
    )


def test_validate_warns_of_a_public_production_backend_saying_whom_it_admits() -> None:
    # A backend has no load balancer: its security group admits its Service Connect clients
    # (the VPC's range and connect.client_cidrs) on its port.
    text = spec(f"health_command: {HEALTH}\nplacement: public").replace(
        "name: staging", "name: prod"
    )
    (warning,) = [c for c in concerns(parse_spec(text)) if c.path.endswith("create.placement")]
    assert "(a backend's admits its Service Connect clients on its port" in warning.message
    assert "load balancer" not in warning.message
