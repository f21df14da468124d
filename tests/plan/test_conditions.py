"""Issue 11's alarm gates in the plan: a before-entry gate reads only alarms that exist before
the stage runs (so the first release can enter), the on-success bake watches the alarms the
stage's stack creates, and the two never share an alarm (so a rollback the bake starts never
meets a gate on the alarm that started it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.plan import Condition, environment_conditions, plan
from conveyor.spec import SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

SPEC = """app: shop
owner: team-shop
region: eu-west-1
source: {s3: {key: shop/source.zip}}
build: {docker: {context: .}}
notifications: {email: [shop@example.com]}
environments:
  - name: staging
    deploy:
      ecs:
        create: {port: 8080, health_check_path: /health}
        alarms: [shop-db-errors]
  - name: prod
    window: {cron: '* * 9-16 ? * MON-FRI *', timezone: Europe/Berlin}
    deploy:
      ecs:
        strategy: blue-green
        create:
          port: 8080
          health_check_path: /health
          domain: {name: shop.example.com, hosted_zone_id: Z0123456789ABCDEFGHIJ}
        alarms: [shop-db-errors, shop-queue-age]
"""


def _alarms(conditions: tuple[Condition, ...], kind: str) -> list[str]:
    return [
        dict(rule.configuration)["AlarmName"]
        for condition in conditions
        if condition.kind == kind
        for rule in condition.rules
        if rule.provider == "CloudWatchAlarm"
    ]


def _conditions(text: str, env_name: str) -> tuple[Condition, ...]:
    spec = parse_spec(text)
    (env,) = [e for e in spec.environments if e.name == env_name]
    return environment_conditions(spec, env)


def test_the_gate_reads_only_alarms_that_exist_before_the_stage() -> None:
    prod = _conditions(SPEC, "prod")
    assert _alarms(prod, "before_entry") == ["shop-db-errors", "shop-queue-age"]
    (entry,) = [c for c in prod if c.kind == "before_entry"]
    assert entry.result == "FAIL"
    assert [r.provider for r in entry.rules][-1] == "DeploymentWindow"
    # The stack's own alarms do not exist before its first release.
    assert not {"shop-5xx-prod", "shop-unhealthy-prod"} & set(_alarms(prod, "before_entry"))


def test_the_bake_watches_the_alarms_the_stack_creates_in_minutes() -> None:
    prod = _conditions(SPEC, "prod")
    (bake,) = [c for c in prod if c.kind == "on_success"]
    assert bake.result == "ROLLBACK"
    assert _alarms(prod, "on_success") == ["shop-5xx-prod", "shop-unhealthy-prod"]
    # WaitTime is minutes in the rule reference; the default production watch is 30.
    assert {dict(r.configuration)["WaitTime"] for r in bake.rules} == {"30"}
    watched = _conditions(
        SPEC.replace("  - name: prod\n", "  - name: prod\n    watch_minutes: 7\n"), "prod"
    )
    (bake,) = [c for c in watched if c.kind == "on_success"]
    assert {dict(r.configuration)["WaitTime"] for r in bake.rules} == {"7"}


def test_an_environment_without_a_bake_gates_on_its_existing_alarms_only() -> None:
    staging = _conditions(SPEC, "staging")
    assert _alarms(staging, "before_entry") == ["shop-db-errors"]
    assert [c.kind for c in staging] == ["before_entry", "on_failure"]


def test_a_created_service_without_named_alarms_has_no_alarm_gate() -> None:
    text = SPEC.replace("        alarms: [shop-db-errors]\n", "", 1)
    assert [c.kind for c in _conditions(text, "staging")] == ["on_failure"]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_no_example_gates_on_an_alarm_its_stack_creates_or_bakes_on_a_gated_alarm(
    path: Path,
) -> None:
    spec = load_spec(path)
    tail = f"-{spec.suffix}" if spec.suffix else ""
    for stage in plan(spec).stages:
        env = next((e for e in spec.environments if e.name == stage.environment), None)
        if env is None:
            continue
        created = {f"{spec.app}-{kind}-{env.name}{tail}" for kind in env.alarm_kinds}
        entry = set(_alarms(stage.conditions, "before_entry"))
        bake = set(_alarms(stage.conditions, "on_success"))
        assert not entry & created, (stage.name, entry & created)
        assert not entry & bake, (stage.name, entry & bake)
        assert bake <= created


def test_watching_a_deploy_that_creates_no_alarm_is_refused_with_what_to_write() -> None:
    text = SPEC.replace(
        "  - name: staging\n", "  - name: staging\n    watch_minutes: 10\n"
    ).replace(
        "        create: {port: 8080, health_check_path: /health}\n",
        "        cluster: c\n        service: s\n",
        1,
    )
    with pytest.raises(SpecError) as raised:
        parse_spec(text)
    message = str(raised.value)
    assert "watch_minutes 10: nothing to watch in staging" in message
    assert "the alarms named in alarms: gate its entry instead" in message
    assert "write watch_minutes: 0" in message


def test_naming_an_alarm_conveyor_creates_in_alarms_is_refused_at_its_key() -> None:
    """`alarms:` gate the stage's entry, so they must exist before it: an alarm conveyor
    creates in the environment's stack does not before the first release."""
    text = SPEC.replace(
        "alarms: [shop-db-errors, shop-queue-age]", "alarms: [shop-db-errors, shop-5xx-prod]"
    )
    with pytest.raises(SpecError) as raised:
        parse_spec(text)
    message = str(raised.value)
    assert "environments[1].deploy.ecs.alarms[1]" in message
    assert "alarm 'shop-5xx-prod' is one conveyor creates in prod's stack" in message
    assert "leave it out" in message
    # A later environment's alarm does not exist before the first release reaches it; an
    # earlier environment's does (its stage created it).
    later = SPEC.replace("alarms: [shop-db-errors]\n", "alarms: [shop-5xx-prod]\n")
    with pytest.raises(SpecError) as raised:
        parse_spec(later)
    assert "environments[0].deploy.ecs.alarms[0]" in str(raised.value)
    assert "before the first release reaches prod, so it cannot gate staging's entry" in str(
        raised.value
    )
    earlier = SPEC.replace("shop-queue-age]", "shop-5xx-staging]")
    prod = parse_spec(earlier).environments[1]
    assert parse_spec(earlier).entry_alarms(prod) == ["shop-db-errors", "shop-5xx-staging"]
