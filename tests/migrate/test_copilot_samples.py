"""Copilot's own sample manifests (tests/fixtures/copilot, SOURCES.md) migrate into specs that
validate and synthesize, and every setting that is not carried over is named with its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.migrate.copilot import Migration, Options, migrate_service
from conveyor.migrate.render import render
from conveyor.migrate.workspace import read_workspace
from conveyor.spec.loader import parse_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "copilot"
MIGRATED = [
    ("webapp", "fe"),
    ("webapp", "frontend"),
    ("domain", "frontend"),
    ("bitbucket", "frontend"),
    ("legacy", "front-end"),
    ("docs", "basic"),
    ("docs", "large"),
    ("docs", "autoscaling"),
    ("docs", "domain"),
]
BACKENDS = [
    ("webapp", "backend"),
    ("backends", "subscribers"),
    ("backends", "http-full-config"),
    ("backends", "http-autoscaling"),
    ("backends", "simple-backend"),
]
WORKERS = [("webapp", "dogworker")]
JOBS = [("webapp", "cuteness-aggregator"), ("jobs", "job")]
MIGRATED += BACKENDS + WORKERS + JOBS
NOT_CARRIED = {
    ("webapp", "frontend-rd"): "not App Runner",
    ("webapp", "static"): "not static sites",
}


def migrated(workspace: str, service: str, **options: Any) -> Migration:
    return migrate_service(read_workspace(FIXTURES / workspace), service, Options(**options))


def env(spec: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [e for e in spec["environments"] if e["name"] == name]
    create: dict[str, Any] = found["deploy"]["ecs"]["create"]
    return create


def notes(migration: Migration) -> list[str]:
    return [note.render() for note in migration.notes]


def test_every_fixture_service_is_covered() -> None:
    services = {
        (workspace.name, service.name)
        for workspace in FIXTURES.iterdir()
        if workspace.is_dir()
        for service in (workspace / "copilot").iterdir()
        if (service / "manifest.yml").is_file() and service.name != "environments"
    }
    assert services == set(MIGRATED) | set(NOT_CARRIED)


@pytest.mark.parametrize(("workspace", "service"), MIGRATED)
def test_a_sample_migrates_into_a_spec_that_validates(workspace: str, service: str) -> None:
    migration = migrated(workspace, service)
    assert migration.spec is not None
    text = render(migration)
    spec = parse_spec(text)
    assert spec.app == migration.spec["app"]
    assert text.startswith("# Migrated from AWS Copilot")
    # Every note is in the file's header (wrapped at 100 columns), as the CLI prints it.
    header = " ".join(
        line.removeprefix("#").strip().removeprefix("- ")
        for line in text.splitlines()
        if line.startswith("#")
    )
    for note in migration.notes:
        assert note.render() in header


@pytest.mark.parametrize(("key", "reason"), NOT_CARRIED.items(), ids=lambda v: str(v))
def test_a_type_without_a_conveyor_kind_is_reported(key: tuple[str, str], reason: str) -> None:
    migration = migrated(*key)
    assert migration.spec is None
    (note,) = [n for n in migration.notes if n.key == "type"]
    assert note.line is not None
    assert reason in note.message


def test_the_load_balanced_web_service_with_overrides() -> None:
    """svc-manifest.yml: count range with cpu_percentage, per-environment overrides, secrets
    (SSM name, Secrets Manager name), sidecars, alias with a hosted zone."""
    migration = migrated("webapp", "fe")
    spec = migration.spec
    assert spec is not None
    assert [e["name"] for e in spec["environments"]] == ["test", "prod"]
    test, prod = env(spec, "test"), env(spec, "prod")
    assert test["port"] == 4000 and test["health_check_path"] == "/"
    assert test["scaling"] == {"min": 2, "max": 10, "cpu": 70}
    assert prod["scaling"] == {"min": 3, "max": 12, "cpu": 70}
    assert test["domain"] == {"name": "example.com", "hosted_zone_id": "Z08230443CW11KE6JBNUA"}
    assert prod["env"] == {
        "LOG_LEVEL": "info",
        "SQL_PASS": "ssm:/SQL_PASS",
        "DB": "secretsmanager:demo/testing/mysql",
    }
    (nginx,) = prod["sidecars"]
    assert nginx["name"] == "nginx" and nginx["port"] == 8080 and nginx["essential"] is True
    assert nginx["secrets"] == {
        "SQL_PASS": "ssm:/SQL_PASS",
        "DB": "secretsmanager:demo/testing/mysql",
    }
    assert "sidecars" not in test
    # Approvals and tests from the pipeline; the last stage is production.
    assert spec["environments"][0]["tests"]["commands"] == [
        "make integ-test",
        'echo "woo! Tests passed"',
    ]
    assert spec["environments"][1]["approval"] is True
    assert spec["source"]["github"]["repo"] == "user/repo"
    # Production without a domain that could be carried over keeps Copilot's plain HTTP, saying so.
    assert "plain_http" in prod and any("plain_http" in i for i in migration.inferred)


def test_unmapped_keys_are_named_with_their_file_and_line() -> None:
    found = notes(migrated("webapp", "fe"))
    for expected in (
        "copilot/fe/manifest.yml:34: storage: volumes",
        "copilot/fe/manifest.yml:38: publish: SNS topics",
        "copilot/fe/manifest.yml:65: environments.test.count.response_time: scaling on",
        "copilot/fe/manifest.yml:96: environments.prod.count.range.spot_from: Fargate Spot",
        "copilot/fe/manifest.yml:101: environments.prod.variables.DB_NAME: a value from a "
        "CloudFormation export",
        "copilot/fe/manifest.yml:109: environments.prod.logging: FireLens",
        "copilot/fe/manifest.yml:164: environments.prod.sidecars.operation: not carried over: "
        "image 'alpine:latest' is not pinned",
        "copilot/fe/manifest.yml:73: environments.staging: no pipeline stage deploys to staging",
        "copilot/pipelines/app-pipeline/manifest.yml:20: stages[0].pre_deployments:",
        "copilot/environments/test/manifest.yml:12: network.vpc.id: the imported VPC mock-vpc-id",
        "copilot/environments/test/manifest.yml:27: observability: Container Insights",
    ):
        assert any(line.startswith(expected) for line in found), (expected, found)


def test_what_is_carried_over_is_not_reported() -> None:
    found = "\n".join(notes(migrated("webapp", "fe")))
    for carried in (
        "image.port",
        "variables.LOG_LEVEL",
        "secrets.SQL_PASS",
        ".cpu:",
        "count.range.min",
    ):
        assert carried not in found, carried


def test_a_domain_with_its_hosted_zone_in_production() -> None:
    migration = migrated("domain", "frontend", email="web@acme.io", connection=CONNECTION)
    spec = migration.spec
    assert spec is not None
    (only,) = spec["environments"]
    assert only["production"] is True  # the pipeline's only (last) stage
    assert only["deploy"]["ecs"]["create"]["domain"] == {
        "name": "frontend.import-certs.copilot-e2e-tests.ecs.aws.dev",
        "hosted_zone_id": "Z05648843OTPZZQRML482",
    }
    assert spec["source"]["github"] == {
        "repo": "aws/phonetool",
        "branch": "mainline",
        "connection": CONNECTION,
    }
    assert spec["notifications"] == {"email": ["web@acme.io"]}
    assert any(
        "'${IMPORTED_CERT_ARN}' is not an ACM certificate ARN" in n for n in notes(migration)
    )


def test_bitbucket_goes_through_a_connection_and_a_misspelt_key_is_named() -> None:
    migration = migrated("bitbucket", "frontend")
    spec = migration.spec
    assert spec is not None
    assert spec["source"]["github"]["repo"] == "user/repo"
    found = notes(migration)
    assert any("stages[1].require_approval: not a Copilot key" in n for n in found), found
    assert any("'frontend.${DOMAINNAME}' is filled in from the environment" in n for n in found)
    assert "approval" not in spec["environments"][1]  # conveyor's production default applies


def test_the_legacy_pipeline_and_yaml_1_1_booleans() -> None:
    spec = migrated("legacy", "front-end").spec
    assert spec is not None
    create = env(spec, "test")
    # Copilot reads `on` as the text "on" (github.com/aws/copilot-cli/issues/1120).
    assert create["env"]["TEST_BOOL_ENV_VAR"] == "on"
    assert spec["build"]["docker"] == {
        "context": "front-end",
        "file": "front-end/Dockerfile",
        "build_args": {"MAGIC_VERB_ARG": "open"},
    }


CONNECTION = (
    "arn:aws:codestar-connections:eu-west-1:111122223333:connection/"
    "5b2f0e7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
)


@pytest.fixture(scope="session")
def synthesized_migrations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The richest web service and the production domain, synthesized once each."""
    from conveyor.synth import synthesize

    templates: dict[str, dict[str, Any]] = {}
    synthesized = [
        ("webapp", "fe"),
        ("domain", "frontend"),
        ("webapp", "dogworker"),
        ("webapp", "backend"),
        ("jobs", "job"),
    ]
    for workspace, service in synthesized:
        spec = parse_spec(render(migrated(workspace, service, connection=CONNECTION)))
        result = synthesize(spec, tmp_path_factory.mktemp(workspace))
        for template in result.templates:
            templates[f"{workspace}/{template.stack}"] = json.loads(template.path.read_text())
    return templates


def _resources(
    templates: dict[str, dict[str, Any]], prefix: str, kind: str
) -> list[dict[str, Any]]:
    return [
        resource
        for name, template in templates.items()
        if name.startswith(prefix)
        for resource in template["Resources"].values()
        if resource["Type"] == kind
    ]


@pytest.mark.synth
def test_migrated_specs_synthesize(synthesized_migrations: dict[str, dict[str, Any]]) -> None:
    stacks = set(synthesized_migrations)
    assert {"webapp/webapp-fe-pipeline", "webapp/webapp-fe-prod", "webapp/webapp-fe-test"} <= stacks
    targets = _resources(
        synthesized_migrations, "webapp/webapp-fe-", "AWS::ApplicationAutoScaling::ScalableTarget"
    )
    assert sorted(
        (t["Properties"]["MinCapacity"], t["Properties"]["MaxCapacity"]) for t in targets
    ) == [
        (2, 10),
        (3, 12),
    ]
    containers = [
        c["Name"]
        for task in _resources(
            synthesized_migrations, "webapp/webapp-fe-prod", "AWS::ECS::TaskDefinition"
        )
        for c in task["Properties"]["ContainerDefinitions"]
    ]
    assert "nginx" in containers
    # Copilot's Backend Service behind its internal load balancer: an internal one of its own.
    balancers = _resources(
        synthesized_migrations,
        "webapp/webapp-backend-prod",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    )
    assert [b["Properties"]["Scheme"] for b in balancers] == ["internal"]
    (backend,) = _resources(
        synthesized_migrations, "webapp/webapp-backend-prod", "AWS::ECS::Service"
    )
    assert "ServiceConnectConfiguration" not in backend["Properties"]
    assert (
        backend["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"]
        == "DISABLED"
    )
    schedules = _resources(synthesized_migrations, "jobs/", "AWS::Scheduler::Schedule")
    assert [s["Properties"]["ScheduleExpression"] for s in schedules] == ["cron(0 12 ? * MON *)"]
    queues = _resources(synthesized_migrations, "webapp/webapp-dogworker-prod", "AWS::SQS::Queue")
    assert len(queues) == 2  # the queue and its dead-letter queue
    records = _resources(synthesized_migrations, "domain/", "AWS::Route53::RecordSet")
    assert any(
        r["Properties"]["Name"].startswith("frontend.import-certs.copilot-e2e-tests.ecs.aws.dev")
        for r in records
    )


def test_the_manifest_reference_samples() -> None:
    """The samples of Copilot's Load Balanced Web Service reference: no pipeline and no
    environment manifests, so the environments come from the overrides (or one prod)."""
    basic = migrated("docs", "basic").spec
    assert basic is not None
    (prod,) = basic["environments"]
    assert prod["name"] == "prod" and prod["deploy"]["ecs"]["create"]["health_check_path"] == (
        "/_healthcheck"
    )
    assert prod["deploy"]["ecs"]["create"]["env"]["DB_SECRET"] == "secretsmanager:mysql"
    large = migrated("docs", "large")
    create = env(large.spec or {}, "prod")
    assert (create["cpu"], create["memory"], create["placement"]) == (2048, 4096, "private")
    assert create["health_check_path"] == "/_deephealthcheck"
    grouped = [n for n in notes(large) if "http.healthcheck.{port, success_codes" in n]
    assert grouped == [
        "copilot/large/manifest.yml:14: http.healthcheck.{port, success_codes, healthy_threshold, "
        "unhealthy_threshold, interval, timeout, grace_period}: only the health check's path is "
        "configurable (create.health_check_path); its port, codes, thresholds and times are "
        "conveyor's"
    ]
    autoscaling = migrated("docs", "autoscaling")
    scaling = env(autoscaling.spec or {}, "prod")["scaling"]
    assert scaling == {"min": 2, "max": 10, "cpu": 70, "requests_per_target": 30}
    assert any(
        n.startswith("copilot/autoscaling/manifest.yml:7: image.location:")
        for n in notes(autoscaling)
    )
    domain = migrated("docs", "domain").spec
    assert domain is not None
    (qa,) = domain["environments"]
    assert qa["name"] == "qa" and qa["production"] is True
    assert qa["deploy"]["ecs"]["create"]["domain"] == {
        "name": "qa.example.com",
        "hosted_zone_id": "Z0873220N255IR3MTNR4",
    }


def test_the_worker_service() -> None:
    """worker-manifest.yml: queue_delay scaling becomes a backlog per task, the queue's
    dead-letter tries its max_receive_count; SNS subscriptions and the missing health check
    are said out loud."""
    migration = migrated("webapp", "dogworker")
    spec = migration.spec
    assert spec is not None
    test, prod = env(spec, "test"), env(spec, "prod")
    assert test["kind"] == "worker" and "port" not in test
    # acceptable_latency 15m / msg_processing_time 1s (the manifest's comment: 900 messages).
    assert test["scaling"] == {"min": 1, "max": 10, "messages_per_task": 900, "cpu": None}
    assert prod["scaling"]["min"] == 2  # production keeps two tasks
    assert test["queue"] == {"max_receive_count": 5}
    assert test["health_command"] == ["CMD-SHELL", "test -f /tmp/healthy || exit 1"]
    assert any("health_command: [CMD-SHELL" in i and "placeholder" in i for i in migration.inferred)
    assert any("COPILOT_QUEUE_URI" in i for i in migration.inferred)
    found = notes(migration)
    assert any(
        n.startswith("copilot/dogworker/manifest.yml:46: subscribe.topics: conveyor's worker queue")
        for n in found
    ), found
    assert any(
        n.startswith("copilot/dogworker/manifest.yml:43: subscribe.queue.delay:") for n in found
    )


def test_the_scheduled_jobs() -> None:
    """Copilot's standard cron becomes Scheduler's; an unpinned sidecar image, retries and the
    timeout are reported."""
    aggregator = migrated("webapp", "cuteness-aggregator").spec
    assert aggregator is not None
    assert env(aggregator, "test")["schedule"] == "cron(0 */2 * * ? *)"
    migration = migrated("jobs", "job")
    create = env(migration.spec or {}, "test")  # its only environment: its override's
    assert create["kind"] == "job" and create["schedule"] == "cron(0 12 ? * MON *)"
    assert "port" not in create and "desired_count" not in create
    assert create["env"]["SQL_PASS"] == "ssm:/SQL_PASS"
    found = notes(migration)
    for expected in (
        "copilot/job/manifest.yml:27: retries: a failed run is not retried",
        "copilot/job/manifest.yml:29: timeout:",
        "copilot/job/manifest.yml:51: sidecars.nginx: not carried over: image "
        "'public.ecr.aws/nginx/nginx' is not pinned",
    ):
        assert any(n.startswith(expected) for n in found), (expected, found)


def test_the_backend_services() -> None:
    """A Backend Service with an http section sat behind Copilot's internal load balancer
    (docs/developing/internal-albs): it becomes a web service with an internal load balancer
    (public: false, private subnets), its http health check path the load balancer's. Without
    http, a backend: its Service Connect name is its service name, and without any check
    conveyor's placeholder that fails closed."""
    full = migrated("backends", "http-full-config")
    create = env(full.spec or {}, "prod")
    assert "kind" not in create  # kind: web
    assert (create["public"], create["placement"], create["health_check_path"]) == (
        False,
        "private",
        "/healthz",
    )
    assert "connect" not in create and "health_command" not in create
    found = notes(full)
    assert not any(": http:" in n for n in found), found
    for expected in (
        "copilot/http-full-config/manifest.yml:5: http.path: conveyor gives each service its "
        "own load balancer",
        "copilot/http-full-config/manifest.yml:8: http.allowed_source_ips: the internal load "
        "balancer admits the VPC's range",
        "copilot/http-full-config/manifest.yml:11: http.healthcheck.{port, success_codes",
        "copilot/http-full-config/manifest.yml:19: http.target_port:",
    ):
        assert any(n.startswith(expected) for n in found), (expected, found)
    # network.connect: false is what conveyor's web service does anyway.
    assert not any("network.connect" in n for n in found), found
    assert any(i.startswith("placement: private, where Copilot's default") for i in full.inferred)
    assert any(i.startswith("public: false: Copilot's Backend Service") for i in full.inferred)
    scaled = env(migrated("backends", "http-autoscaling").spec or {}, "prod")
    assert scaled["public"] is False
    assert scaled["scaling"] == {"min": 2, "max": 3, "cpu": None, "requests_per_target": 256}
    internal = migrated("webapp", "backend")  # placement: private, written by Copilot too
    create = env(internal.spec or {}, "prod")
    assert (create["public"], create["placement"]) == (False, "private")
    assert not any(i.startswith("placement: private") for i in internal.inferred)
    simple = migrated("backends", "simple-backend")
    create = env(simple.spec or {}, "prod")
    assert create["kind"] == "backend" and create["connect"] == {"name": "simple-backend"}
    assert create["health_command"] == ["CMD-SHELL", "test -f /tmp/healthy || exit 1"]
    assert any("placeholder" in i for i in simple.inferred)
    subscribers = env(migrated("backends", "subscribers").spec or {}, "prod")
    assert subscribers["kind"] == "backend"
    assert subscribers["health_command"] == [
        "CMD-SHELL",
        "curl -f http://localhost:8080 || exit 1",
    ]
