"""create.placement (issue 15): tasks in private subnets behind a NAT gateway (the default), or
in public subnets with public addresses and no NAT gateway."""

from __future__ import annotations

import pytest

from conveyor.spec import SpecError, parse_spec
from conveyor.spec.models import CreateService
from conveyor.spec.readiness import concerns

SPEC = """\
app: shop
owner: team-shop
region: eu-west-1
source: {{s3: {{key: shop/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: {name}
    deploy:
      ecs:
        strategy: {strategy}
        create:
          port: 8080
          domain: {{name: shop.acme.io, hosted_zone_id: Z0123456789ABCDEFGHIJ}}
{create}
{validate}
notifications: {{email: [oncall@acme.io]}}
"""
EXISTING_VPC = """\
          vpc:
            id: vpc-0a1b2c3d4e5f67890
            availability_zones: [eu-west-1a, eu-west-1b]
            public_subnets: [subnet-0a1b2c3d, subnet-4e5f6a7b]
            private_subnets: [subnet-8c9d0e1f, subnet-2a3b4c5d]
          test_cidrs: [203.0.113.10/32]"""


def spec(
    create: str = "", *, name: str = "staging", strategy: str = "rolling", validate: str = ""
) -> str:
    return SPEC.format(create=create, name=name, strategy=strategy, validate=validate)


def created(text: str) -> CreateService:
    ecs = parse_spec(text).environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None
    return ecs.create


def test_tasks_run_in_private_subnets_behind_one_nat_gateway_by_default() -> None:
    create = created(spec())
    assert (create.placement, create.nat_gateways, create.hook_in_vpc) == ("private", 1, True)


def test_public_placement_in_a_created_vpc_has_no_nat_gateway_and_no_hook() -> None:
    create = created(spec("          placement: public"))
    assert (create.placement, create.nat_gateways, create.hook_in_vpc) == ("public", 0, False)


def test_an_existing_vpc_keeps_its_own_network_and_the_hook() -> None:
    create = created(spec(f"          placement: public\n{EXISTING_VPC}", strategy="blue-green"))
    # The hook runs in the given private subnets; conveyor creates no NAT gateway there.
    assert (create.nat_gateways, create.hook_in_vpc) == (0, True)


def test_an_unknown_placement_is_refused_at_its_key() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec("          placement: isolated"), "conveyor.yaml")
    message = str(caught.value)
    assert "environments[0].deploy.ecs.create.placement" in message
    assert "'private'" in message and "'public'" in message


SLOW_CHECK = "    validate: {http: {path: /health, retries: 30, timeout_seconds: 30}}"


def test_a_check_too_long_for_the_codedeploy_hook_is_refused_only_where_the_hook_runs() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec(strategy="blue-green", validate=SLOW_CHECK), "conveyor.yaml")
    assert "CodeDeploy traffic hook" in str(caught.value)
    # NAT-free: no hook; the pipeline's Lambda action validates after the shift (no 10-minute
    # limit: CodePipeline's Lambda action continues across invocations).
    loaded = parse_spec(
        spec("          placement: public", strategy="blue-green", validate=SLOW_CHECK)
    )
    assert loaded.environments[0].validation is not None


def test_validate_warns_about_public_tasks_in_production_only() -> None:
    production = parse_spec(spec("          placement: public", name="prod"))
    (concern,) = [c for c in concerns(production) if c.path.endswith(".placement")]
    assert concern.path == "environments[0].deploy.ecs.create.placement"
    assert "write placement: private" in concern.message
    assert "without a NAT gateway" in concern.message
    assert not concern.blocks_deploy
    staging = parse_spec(spec("          placement: public"))
    assert [c for c in concerns(staging) if c.path.endswith(".placement")] == []


def test_validate_says_nat_free_blue_green_validates_after_the_shift() -> None:
    loaded = parse_spec(spec("          placement: public", strategy="blue-green"))
    (concern,) = [c for c in concerns(loaded) if c.path.endswith(".placement")]
    assert "no validation hook before traffic moves" in concern.message
    assert "write placement: private" in concern.message
    rolling = parse_spec(spec("          placement: public"))
    assert [c for c in concerns(rolling) if c.path.endswith(".placement")] == []


@pytest.mark.parametrize(
    ("public", "private", "where", "fragment"),
    [
        (
            "[subnet-0a1b2c3d, subnet-XYZ]",
            "[subnet-8c9d0e1f, subnet-2a3b4c5d]",
            "public_subnets[1]",
            "not a subnet id",
        ),
        (
            "[subnet-0a1b2c3d, subnet-4e5f6a7b]",
            "[subnet-8c9d0e1f, subnet-2a3b4c5d, subnet-6e7f8a9b]",
            "private_subnets",
            "one subnet per",
        ),
        (
            "[subnet-0a1b2c3d, subnet-0a1b2c3d]",
            "[subnet-8c9d0e1f, subnet-2a3b4c5d]",
            "public_subnets[1]",
            "listed twice",
        ),
        (
            "[subnet-0a1b2c3d, subnet-4e5f6a7b]",
            "[subnet-8c9d0e1f, subnet-4e5f6a7b]",
            "private_subnets[1]",
            "public and as private",
        ),
    ],
)
def test_existing_subnet_ids_are_checked_at_their_index(
    public: str, private: str, where: str, fragment: str
) -> None:
    vpc = (
        "          vpc:\n"
        "            id: vpc-0a1b2c3d4e5f67890\n"
        "            availability_zones: [eu-west-1a, eu-west-1b]\n"
        f"            public_subnets: {public}\n"
        f"            private_subnets: {private}"
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(spec(vpc), "conveyor.yaml")
    message = str(caught.value)
    assert f"environments[0].deploy.ecs.create.vpc.{where}" in message
    assert fragment in message
