"""create.kind: job (issue 15): a Fargate task EventBridge Scheduler runs on a schedule. The
schedule and time zone are judged where conveyor.yaml is read; keys of a web service, a
strategy that shifts traffic and an HTTP check are refused at their key, saying what to write."""

from __future__ import annotations

import pytest

from conveyor.cli.validate import describe
from conveyor.plan import plan
from conveyor.spec import SpecError, parse_spec
from conveyor.spec.models import CreateService
from conveyor.spec.readiness import concerns
from conveyor.spec.schedule import runs_per_month, schedule_problem

SPEC = """\
app: reports
owner: team-data
region: eu-west-1
source: {{s3: {{key: reports/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: {name}
    deploy:
      ecs:
{strategy}        create:
          kind: job
          schedule: "{schedule}"
{create}
{extra}
notifications: {{email: [oncall@acme.io]}}
"""


def spec(
    create: str = "",
    *,
    schedule: str = "cron(0 3 * * ? *)",
    name: str = "staging",
    strategy: str = "",
    extra: str = "",
) -> str:
    return SPEC.format(create=create, schedule=schedule, name=name, strategy=strategy, extra=extra)


def created(text: str) -> CreateService:
    ecs = parse_spec(text).environments[0].deploy.ecs
    assert ecs is not None and ecs.create is not None
    return ecs.create


def refusal(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_a_job_runs_on_its_schedule_in_its_time_zone_with_its_command() -> None:
    create = created(
        spec("          timezone: Europe/Berlin\n          command: [python, -m, app.nightly]")
    )
    assert (create.kind, create.schedule, create.timezone) == (
        "job",
        "cron(0 3 * * ? *)",
        "Europe/Berlin",
    )
    assert create.command == ["python", "-m", "app.nightly"]
    assert create.kind != "web"


def test_a_job_has_no_http_check_and_its_alarm_is_its_dead_letter_queue() -> None:
    env = parse_spec(spec(name="prod")).environments[0]
    assert env.validation is None and env.is_job
    # Its one alarm (runs that could not start) stays in ALARM until the dead letters are
    # deleted: no bake watches it, or every later release would roll back.
    assert env.alarm_kinds == ()
    # Production needs no domain: a job serves nothing (the web service's HTTPS rule).
    assert env.is_production and env.domain is None


@pytest.mark.parametrize(
    "key",
    [
        "port: 8080",
        "health_command: [CMD-SHELL, 'exit 0']",
        "desired_count: 2",
        "scaling: {min: 1, max: 2}",
        "health_check_path: /health",
        "public: false",
        "domain: {name: jobs.acme.io, hosted_zone_id: Z0123456789ABCDEFGHIJ}",
        "test_cidrs: [10.0.0.0/16]",
    ],
)
def test_a_web_service_key_is_refused_at_the_key(key: str) -> None:
    name = key.split(":", 1)[0]
    message = refusal(spec(f"          {key}"))
    # The line of the key itself (line 13 of the spec), then its path.
    assert message.startswith(f"conveyor.yaml:13: environments[0].deploy.ecs.create.{name}:")
    assert f"remove {name}" in message
    assert "kind job " in message


def test_a_job_key_on_a_web_service_is_refused_at_the_key() -> None:
    text = spec().replace("          kind: job\n", "")
    message = refusal(text)
    assert "environments[0].deploy.ecs.create.schedule" in message
    assert "write kind: job" in message


def test_a_job_needs_a_schedule() -> None:
    text = spec().replace('          schedule: "cron(0 3 * * ? *)"\n', "")
    message = refusal(text)
    assert "environments[0].deploy.ecs.create.kind" in message
    assert "needs schedule: cron(0 3 * * ? *)" in message


@pytest.mark.parametrize(
    ("schedule", "fragment"),
    [
        ("cron(0 3 * * *)", "has 5 fields; EventBridge Scheduler's has 6"),
        ("cron(0 3 * * * *)", "'?' in exactly one of day-of-month and day-of-week"),
        ("cron(61 3 * * ? *)", "minutes field '61' is not valid"),
        ("cron(0 3 ? * FUNDAY *)", "day-of-week field 'FUNDAY'"),
        ("rate(1 hours)", "write rate(1 hour)"),
        ("rate(5 hour)", "write rate(5 hours)"),
        ("rate(0 minutes)", "not a positive whole number"),
        ("rate(2 weeks)", "not minute(s), hour(s) or day(s)"),
        ("at(2027-01-01T00:00:00)", "at(...) runs once"),
        ("0 3 * * *", "is not a schedule"),
        # A year field whose years have all passed: the schedule never runs again, and nothing
        # (no failed start, no task event) would ever tell (issue 15 review).
        ("cron(0 3 * * ? 2019)", "the year field '2019' names no year from 20"),
        ("cron(0 3 * * ? 2018-2020,2022)", "never runs again"),
    ],
)
def test_a_bad_schedule_is_refused_at_its_key_with_what_to_write(
    schedule: str, fragment: str
) -> None:
    message = refusal(spec(schedule=schedule))
    assert message.startswith("conveyor.yaml:12: environments[0].deploy.ecs.create.schedule:")
    assert fragment in message


@pytest.mark.parametrize(
    "schedule",
    [
        "cron(0 3 * * ? *)",
        "cron(0/15 8-18 ? * MON-FRI *)",
        "cron(0 9 L * ? *)",
        "cron(30 2 ? JAN-MAR 2#1 2027-2199)",
        "cron(0 3 * * ? 2019/2)",
        "cron(0 0 1,15 * ? *)",
        "rate(1 minute)",
        "rate(6 hours)",
        "rate(1 day)",
    ],
)
def test_schedules_eventbridge_scheduler_takes_are_taken(schedule: str) -> None:
    assert schedule_problem(schedule) is None
    assert created(spec(schedule=schedule)).schedule == schedule


def test_an_unknown_time_zone_is_refused_with_the_closest_name() -> None:
    message = refusal(spec("          timezone: Europe/Berln"))
    assert "environments[0].deploy.ecs.create.timezone" in message
    assert "did you mean Europe/Berlin?" in message


def test_a_job_has_no_traffic_to_shift() -> None:
    message = refusal(spec(strategy="        strategy: blue-green\n"))
    assert "environments[0].deploy.ecs.strategy" in message
    assert "remove strategy" in message


def test_a_job_has_nothing_for_validate_http_to_call() -> None:
    message = refusal(spec(extra="    validate: {http: {path: /health}}"))
    assert "environments[0].validate" in message
    assert "remove validate" in message


def test_validate_says_what_judges_a_release_of_a_job() -> None:
    unchecked = parse_spec(spec())
    (concern,) = [c for c in concerns(unchecked) if c.check_rule == "CV074"]
    assert "next scheduled run" in concern.message and "add tests:" in concern.message
    tested = parse_spec(spec(extra='    tests: {commands: ["make job-test"]}'))
    assert [c for c in concerns(tested) if c.check_rule == "CV074"] == []
    # Production too: no bake watches a job (its one alarm would hold every later release).
    assert [c.path for c in concerns(parse_spec(spec(name="prod"))) if c.check_rule == "CV074"] == [
        "environments[0]"
    ]
    assert describe(unchecked) == ("app reports from s3; staging: ecs job on cron(0 3 * * ? *)")


@pytest.mark.parametrize(
    ("schedule", "runs"),
    [
        ("rate(6 hours)", 120.0),
        ("rate(15 minutes)", 2880.0),
        ("rate(1 day)", 30.0),
        ("cron(0 3 * * ? *)", 30.0),
        ("cron(0 9,17 * * ? *)", 60.0),
        ("cron(0 3 ? * MON-FRI *)", 5 * 30 / 7),
        ("cron(0 3 1 * ? *)", 1.0),
        ("cron(30 2 ? JAN-MAR 2#1 *)", 0.25),
    ],
)
def test_runs_a_month_for_cost(schedule: str, runs: float) -> None:
    assert runs_per_month(schedule) == pytest.approx(runs)


def test_plan_shows_a_job_without_a_load_balancer() -> None:
    planned = plan(parse_spec(spec("          placement: public")))
    (service,) = planned.services
    assert (service.load_balancer, service.tasks, service.runs_per_month) == (False, 1, 30.0)
    (deploy,) = [a for s in planned.stages for a in s.actions if a.name == "Deploy"]
    assert "Fargate task on EventBridge Scheduler cron(0 3 * * ? *) (staging)" in deploy.uses
    assert not any("ALB" in use for use in deploy.uses)


def test_validate_says_a_public_production_job_admits_nothing() -> None:
    loaded = parse_spec(spec("          placement: public", name="prod"))
    (concern,) = [c for c in concerns(loaded) if c.path.endswith(".placement")]
    assert "(a job's admits nothing)" in concern.message
    assert "load balancer" not in concern.message


@pytest.mark.parametrize("key", ["timeout_minutes: 60", "timeout: 1h"])
def test_a_run_time_limit_is_refused_with_what_bounds_a_run(key: str) -> None:
    message = refusal(spec(f"          {key}"))
    name = key.split(":", 1)[0]
    assert message.startswith(f"conveyor.yaml:13: environments[0].deploy.ecs.create.{name}:")
    assert "ECS has no time limit for a task" in message
    assert "command: [timeout, '3600'" in message
