"""create.public: false (issue 15): an internal load balancer, validated from inside the VPC."""

from __future__ import annotations

import pytest

from conveyor.spec import SpecError, parse_spec

SPEC = """\
app: ledger
owner: team-ledger
region: eu-west-1
{account}
source: {{s3: {{key: ledger/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: staging
{env_account}
    deploy:
      ecs:
        strategy: rolling
        create:
          port: 8080
{create}
{extra}
notifications: {{email: [oncall@acme.io]}}
"""
EXISTING_VPC = """\
          vpc:
            id: vpc-0a1b2c3d4e5f67890
            availability_zones: [eu-west-1a, eu-west-1b]
            public_subnets: [subnet-0a1b2c3d, subnet-4e5f6a7b]
            private_subnets: [subnet-8c9d0e1f, subnet-2a3b4c5d]"""


def spec(create: str, *, extra: str = "", foreign: bool = False) -> str:
    return SPEC.format(
        create=create,
        extra=extra,
        account="account: '111111111111'" if foreign else "",
        env_account="    account: '222222222222'" if foreign else "",
    )


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_services_are_public_unless_told() -> None:
    ecs = parse_spec(spec("          desired_count: 1")).environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None and ecs.create.public


def test_an_internal_service_in_a_created_vpc_loads() -> None:
    ecs = parse_spec(spec("          public: false")).environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None
    assert (ecs.create.public, ecs.create.placement) == (False, "private")


@pytest.mark.parametrize(
    ("create", "extra", "foreign", "where", "fragment"),
    [
        (
            "          public: false\n          placement: public",
            "",
            False,
            "deploy.ecs.create.public",
            "remove placement: public",
        ),
        (
            f"          public: false\n{EXISTING_VPC}",
            "",
            False,
            "deploy.ecs.create.vpc",
            "add cidr:",
        ),
        (
            "          public: false",
            "    tests: {commands: [make smoke]}",
            False,
            "tests",
            "remove tests",
        ),
        (
            "          public: false",
            "    validate: {http: {url: 'https://ledger.acme.io/health'}}",
            True,
            "deploy.ecs.create.public",
            "write public: true",
        ),
    ],
)
def test_refused_at_the_key_with_what_to_write(
    create: str, extra: str, foreign: bool, where: str, fragment: str
) -> None:
    message = _error(spec(create, extra=extra, foreign=foreign))
    assert f"environments[0].{where}" in message
    assert fragment in message


def test_an_existing_vpc_with_its_range_loads() -> None:
    text = spec(f"          public: false\n{EXISTING_VPC}\n            cidr: 10.20.0.0/16")
    ecs = parse_spec(text).environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None and ecs.create.vpc is not None
    assert ecs.create.vpc.cidr == "10.20.0.0/16"
