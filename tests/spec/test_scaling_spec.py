"""create.scaling (issue 15): target tracking between min and max tasks."""

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
  - name: {name}
    deploy:
      ecs:
        strategy: {strategy}
        create:
          port: 8080
          domain: {{name: shop.acme.io, hosted_zone_id: Z0123456789ABCDEFGHIJ}}
{create}
notifications: {{email: [oncall@acme.io]}}
"""


def spec(create: str, *, name: str = "prod", strategy: str = "rolling") -> str:
    return SPEC.format(create=create, name=name, strategy=strategy)


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_defaults_track_cpu_between_two_and_four_tasks() -> None:
    loaded = parse_spec(spec("          scaling: {}"))
    ecs = loaded.environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None and ecs.create.scaling is not None
    scaling = ecs.create.scaling
    assert (scaling.min, scaling.max, scaling.cpu, scaling.memory) == (2, 4, 60, None)


@pytest.mark.parametrize(
    ("create", "where", "fragment"),
    [
        ("          scaling: {min: 1}", "create.scaling.min", "keep at least two tasks"),
        ("          scaling: {min: 5, max: 3}", "create.scaling.max", "write max: 5 or more"),
        ("          scaling: {cpu: null}", "create.scaling", "needs a metric to track"),
        (
            "          desired_count: 3\n          scaling: {min: 2}",
            "create.desired_count",
            "remove desired_count",
        ),
        ("          scaling: {cpu: 0}", "create.scaling.cpu", ""),
    ],
)
def test_refused_with_the_key_and_what_to_write(create: str, where: str, fragment: str) -> None:
    message = _error(spec(create))
    assert f"environments[0].deploy.ecs.{where}" in message
    assert fragment in message


def test_requests_per_target_needs_a_rolling_service() -> None:
    text = spec("          scaling: {requests_per_target: 500}", strategy="blue-green")
    message = _error(text)
    assert "environments[0].deploy.ecs.create.scaling.requests_per_target" in message
    assert "needs strategy: rolling" in message
    assert parse_spec(spec("          scaling: {requests_per_target: 500}"))


def test_one_task_is_allowed_outside_production() -> None:
    text = spec("          scaling: {min: 1, max: 2}", name="staging")
    assert parse_spec(text).environments[0].deploy.ecs is not None
