"""create.kind: worker (issue 15): a service without a load balancer consuming its queue. What
only a worker has (queue, messages_per_task), what it needs (health_command), and the keys of a
web service it has no use for, each refused at its key with what to write."""

from __future__ import annotations

import pytest

from conveyor.spec import SpecError, parse_spec
from conveyor.spec.models import WorkerQueue

HEALTH = '[CMD-SHELL, "test -f /tmp/healthy"]'
SPEC = """\
app: thumbs
owner: team-media
region: eu-west-1
source: {{s3: {{key: thumbs/source.zip}}}}
build: {{docker: {{context: .}}}}
environments:
  - name: {env}
{env_extra}    deploy:
      ecs:
{ecs_extra}        create:
          kind: worker
{create}
notifications: {{email: [oncall@acme.io]}}
"""


def spec(*create: str, env: str = "staging", env_extra: str = "", ecs_extra: str = "") -> str:
    lines = (
        create
        if any(c.startswith("health_command") for c in create)
        else (
            f"health_command: {HEALTH}",
            *create,
        )
    )
    return SPEC.format(
        env=env,
        env_extra=env_extra,
        ecs_extra=ecs_extra,
        create="\n".join(f"          {line}" for line in lines),
    )


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_a_worker_takes_the_queue_defaults_and_has_no_http_check() -> None:
    loaded = parse_spec(spec())
    env = loaded.environments[0]
    assert env.deploy.ecs is not None and env.deploy.ecs.create is not None
    create = env.deploy.ecs.create
    assert create.kind == "worker" and create.queue is None
    assert WorkerQueue() == WorkerQueue(
        visibility_timeout_seconds=30, max_receive_count=5, retention_days=4, producers=[]
    )
    assert env.is_worker and env.validation is None and env.alarm_kinds == ()


def test_a_web_service_is_still_the_default_kind() -> None:
    text = spec().replace("          kind: worker\n", "")
    env = parse_spec(text).environments[0]
    assert not env.is_worker and env.validation is not None


def test_a_worker_without_a_health_command_is_refused_with_one_to_write() -> None:
    text = spec("desired_count: 1").replace(f"          health_command: {HEALTH}\n", "")
    message = _error(text)
    assert "environments[0].deploy.ecs.create" in message
    assert "a worker needs health_command" in message and "CMD-SHELL" in message


@pytest.mark.parametrize(
    ("line", "key", "says"),
    [
        ("port: 8080", "port", "listens on no port"),
        ("health_check_path: /health", "health_check_path", "remove health_check_path"),
        ("public: false", "public", "remove public"),
        (
            "certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/"
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "certificate_arn",
            "remove certificate_arn",
        ),
        ("domain: {name: jobs.example.com, hosted_zone_id: Z0123456789}", "domain", "domain"),
        ("test_cidrs: [10.0.0.0/16]", "test_cidrs", "remove test_cidrs"),
    ],
)
def test_a_web_key_is_refused_at_the_key_for_a_worker(line: str, key: str, says: str) -> None:
    message = _error(spec(line))
    assert f"environments[0].deploy.ecs.create.{key}" in message
    assert "kind worker" in message and says in message


@pytest.mark.parametrize("strategy", ["blue-green", "native-blue-green"])
def test_a_worker_rolls(strategy: str) -> None:
    message = _error(spec(ecs_extra=f"        strategy: {strategy}\n"))
    assert "environments[0].deploy.ecs.strategy" in message
    assert "a worker has no load balancer" in message and "remove strategy" in message


def test_validate_is_refused_for_a_worker() -> None:
    extra = '    validate: {http: {url: "https://jobs.example.com/health"}}\n'
    message = _error(spec(env_extra=extra))
    assert "environments[0].validate" in message
    assert "a worker serves no HTTP: remove validate" in message


def test_a_worker_scales_on_its_backlog() -> None:
    loaded = parse_spec(spec("scaling: {min: 1, max: 8, messages_per_task: 50, cpu: null}"))
    create = loaded.environments[0].deploy.ecs.create  # type: ignore[union-attr]
    assert create is not None and create.scaling is not None
    assert create.scaling.messages_per_task == 50 and create.scaling.cpu is None


def test_a_worker_scaling_without_messages_per_task_is_refused() -> None:
    message = _error(spec("scaling: {min: 1, max: 8}"))
    assert "environments[0].deploy.ecs.create.scaling" in message
    assert "add messages_per_task" in message


def test_requests_per_target_is_refused_for_a_worker() -> None:
    message = _error(
        spec("scaling: {min: 1, max: 8, messages_per_task: 5, requests_per_target: 9}")
    )
    assert "environments[0].deploy.ecs.create.scaling.requests_per_target" in message
    assert "a worker has none" in message


def test_a_worker_at_zero_tasks_is_refused() -> None:
    message = _error(spec("scaling: {min: 0, max: 8, messages_per_task: 5}"))
    assert "environments[0].deploy.ecs.create.scaling.min" in message


def test_production_keeps_two_workers() -> None:
    message = _error(spec("scaling: {min: 1, max: 8, messages_per_task: 5}", env="prod"))
    assert "environments[0].deploy.ecs.create.scaling.min" in message
    assert "keep at least two tasks" in message


def test_a_production_worker_needs_no_domain() -> None:
    assert parse_spec(spec("scaling: {min: 2, max: 8, messages_per_task: 5}", env="prod"))


@pytest.mark.parametrize("name", ["QUEUE_URL", "QUEUE_ARN"])
def test_the_queue_variables_are_conveyors(name: str) -> None:
    message = _error(spec(f"env: {{{name}: x}}"))
    assert f"environments[0].deploy.ecs.create.env.{name}" in message
    assert "set by conveyor to the worker's queue" in message


def test_a_queue_on_a_web_service_is_refused() -> None:
    text = spec("queue: {max_receive_count: 3}").replace("          kind: worker\n", "")
    message = _error(text)
    assert "environments[0].deploy.ecs.create.queue" in message
    assert "write kind: worker" in message


def test_messages_per_task_on_a_web_service_is_refused() -> None:
    text = spec("scaling: {min: 1, max: 3, messages_per_task: 5}").replace(
        "          kind: worker\n", ""
    )
    message = _error(text)
    assert "environments[0].deploy.ecs.create.scaling.messages_per_task" in message


@pytest.mark.parametrize(
    ("queue", "key"),
    [
        ("{retention_days: 8}", "retention_days"),
        ("{visibility_timeout_seconds: 43201}", "visibility_timeout_seconds"),
        ("{max_receive_count: 0}", "max_receive_count"),
        ("{producers: [arn:aws:iam::123456789012:user/bob]}", "producers"),
    ],
)
def test_queue_settings_outside_what_sqs_allows_are_refused(queue: str, key: str) -> None:
    message = _error(spec(f"queue: {queue}"))
    assert f"environments[0].deploy.ecs.create.queue.{key}" in message


def test_a_producer_listed_twice_is_refused_at_its_index() -> None:
    role = "arn:aws:iam::123456789012:role/uploads"
    message = _error(spec(f"queue: {{producers: [{role}, {role}]}}"))
    assert "environments[0].deploy.ecs.create.queue.producers[1]" in message
    assert "listed twice" in message


def test_watching_a_worker_is_refused_with_why() -> None:
    message = _error(spec(env_extra="    watch_minutes: 10\n"))
    assert "environments[0].watch_minutes" in message
    assert "would roll back every later release, the fix included" in message
    assert "write watch_minutes: 0" in message


def test_validate_does_not_ask_a_worker_for_an_http_check() -> None:
    from conveyor.spec.readiness import concerns

    found = concerns(parse_spec(spec()))
    assert not [c for c in found if c.check_rule == "CV074"]


def test_validate_warns_of_a_public_production_worker_saying_it_admits_nothing() -> None:
    from conveyor.spec.readiness import concerns

    text = spec("placement: public", env="prod")
    (warning,) = [c for c in concerns(parse_spec(text)) if c.path.endswith("create.placement")]
    assert "(a worker's admits nothing)" in warning.message
    assert "load balancer" not in warning.message
