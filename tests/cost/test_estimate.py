"""Cost arithmetic on known plans, usage and prices: numbers a reader can check by hand."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from conveyor.cost.estimate import HOURS_PER_MONTH, Usage, estimate
from conveyor.cost.prices import Prices, PricesError
from conveyor.plan import Plan, RunningService
from tests.diagram.plans import payments_plan

PRICES = Prices.parse(
    {
        "as_of": "2026-01-01",
        "services": {
            name: {"prices": values}
            for name, values in {
                "codepipeline": {"v2_action_minute": 0.002},
                "codebuild": {"minute.small": 0.005, "minute.large": 0.02},
                "s3": {"gb_month": 0.02, "put_1000": 0.005, "get_1000": 0.0004},
                "kms": {"key_month": 1.0, "requests_10000": 0.03},
                "logs": {"ingest_gb": 0.5, "stored_gb_month": 0.03},
                "dynamodb": {"write_million": 0.625, "read_million": 0.125, "gb_month": 0.25},
                "lambda": {"request_million": 0.2, "gb_second": 0.0000166667},
                "ecr": {"gb_month": 0.1},
                "alb": {"hour": 0.02, "lcu_hour": 0.008},
                "fargate": {"vcpu_hour": 0.04, "gb_hour": 0.004},
                "vpc": {"nat_gateway_hour": 0.045, "nat_gb": 0.045, "public_ipv4_hour": 0.005},
                "sqs": {"request_million": 0.4},
            }.items()
        },
        "regions": {
            "eu-test-1": {"multiplier": 2.0, "overrides": {"fargate.vcpu_hour": 0.05}},
        },
    },
    origin="test",
)
USAGE = Usage(deploys_per_day=10, days_per_month=30)  # 300 executions


def test_codepipeline_rounds_each_action_up_and_skips_approvals() -> None:
    result = estimate(payments_plan(), USAGE, PRICES, "us-east-1")
    # source 0.5->1, build 4, unit 3, trivy 2, gate 0.5->1, approval free, deploy 5 = 16
    assert result.by_service()["CodePipeline"] == pytest.approx(16 * 300 * 0.002)


def test_codebuild_minutes_by_compute_type() -> None:
    result = estimate(payments_plan(), USAGE, PRICES, "us-east-1")
    lines = {line.item.split(":")[0]: line for line in result.lines if line.service == "CodeBuild"}
    assert lines["large"].quantity == 4 * 300
    assert lines["small"].quantity == (3 + 2) * 300
    assert result.by_service()["CodeBuild"] == pytest.approx(1200 * 0.02 + 1500 * 0.005)


def test_build_minutes_option_replaces_the_typical_build_duration() -> None:
    result = estimate(payments_plan(), replace(USAGE, build_minutes=10), PRICES, "us-east-1")
    large = next(line for line in result.lines if line.item.startswith("large"))
    assert large.quantity == 10 * 300


def test_fargate_alb_and_vpc_only_for_services_conveyor_creates() -> None:
    bare = estimate(payments_plan(), USAGE, PRICES, "us-east-1")
    assert not {"Fargate", "Load balancer", "VPC"} & set(bare.by_service())
    assert any("existing services" in note for note in bare.notes)

    service = RunningService("prod", cpu=512, memory_mib=1024, tasks=2, nat_gateways=1)
    created = estimate(replace(payments_plan(), services=(service,)), USAGE, PRICES, "us-east-1")
    by_service = created.by_service()
    assert by_service["Fargate"] == pytest.approx(HOURS_PER_MONTH * 2 * (0.5 * 0.04 + 1 * 0.004))
    assert by_service["Load balancer"] == pytest.approx(HOURS_PER_MONTH * (0.02 + 0.008))
    # NAT gateway hours + 10 GB through it + 3 public addresses (2 for the ALB, 1 NAT)
    assert by_service["VPC"] == pytest.approx(
        HOURS_PER_MONTH * 0.045 + 10 * 0.045 + 3 * HOURS_PER_MONTH * 0.005
    )
    assert by_service["KMS"] > bare.by_service()["KMS"]  # one more key for the environment

    existing_vpc = replace(service, nat_gateways=0)
    no_nat = estimate(replace(payments_plan(), services=(existing_vpc,)), USAGE, PRICES, "x")
    assert not any("NAT" in line.item for line in no_nat.lines)


def test_region_overrides_win_over_multipliers() -> None:
    service = RunningService("prod", cpu=1024, memory_mib=2048, tasks=1)
    plan = replace(payments_plan(), services=(service,))
    base = estimate(plan, USAGE, PRICES, "us-east-1").by_service()
    there = estimate(plan, USAGE, PRICES, "eu-test-1").by_service()
    assert there["CodeBuild"] == pytest.approx(2 * base["CodeBuild"])
    vcpu = next(
        line
        for line in estimate(plan, USAGE, PRICES, "eu-test-1").lines
        if line.item.startswith("vCPU")
    )
    assert vcpu.unit_price == 0.05


def test_unknown_region_uses_base_prices_and_says_so() -> None:
    result = estimate(payments_plan(), USAGE, PRICES, "mars-north-1")
    assert result.by_service() == estimate(payments_plan(), USAGE, PRICES, "us-east-1").by_service()
    assert "no prices for mars-north-1" in result.notes[0]


def test_total_is_the_sum_of_services_and_json_agrees() -> None:
    result = estimate(payments_plan(), USAGE, PRICES, "us-east-1")
    assert result.total == pytest.approx(sum(result.by_service().values()))
    data = json.loads(json.dumps(result.to_json()))
    assert data["usage"]["executions_per_month"] == 300
    assert data["total_monthly"] == round(result.total, 2)


def test_missing_price_is_a_clear_error() -> None:
    sparse = Prices.parse({"services": {"codepipeline": {"prices": {}}}}, origin="mine.json")
    with pytest.raises(PricesError, match=r"no price for codepipeline\.v2_action_minute"):
        estimate(payments_plan(), USAGE, sparse, "us-east-1")


@pytest.mark.parametrize(
    "data", [[], {"services": []}, {"services": {"s3": {"gb": 1}}}, {"services": {}, "regions": 1}]
)
def test_malformed_price_files_are_rejected(data: object) -> None:
    with pytest.raises(PricesError, match=r"mine\.json"):
        Prices.parse(data, origin="mine.json")


def test_bundled_prices_are_dated_sourced_and_complete() -> None:
    raw = json.loads(resources.files("conveyor.cost").joinpath("prices.json").read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["as_of"])
    for name, service in raw["services"].items():
        assert service["source"].startswith("https://aws.amazon.com/"), name
    bundled = Prices.bundled()
    service = RunningService("prod", cpu=256, memory_mib=512, tasks=1, nat_gateways=1)
    worker = RunningService(
        "jobs", cpu=256, memory_mib=512, tasks=1, load_balancer=False, queue=True
    )
    plan = Plan(
        app="x",
        stages=payments_plan().stages,
        resources=("ECR repository",),
        services=(service, worker),
    )
    for region in [*raw["regions"], "us-east-1"]:
        for compute in ("small", "medium", "large", "xlarge", "2xlarge"):
            assert bundled.resolver(region)("codebuild", f"minute.{compute}") > 0
        assert estimate(plan, Usage(), bundled, region).total > 0


def test_a_scaling_service_is_counted_at_its_minimum_and_shown_at_its_maximum() -> None:
    service = RunningService(environment="prod", cpu=1024, memory_mib=2048, tasks=3, max_tasks=10)
    plan = replace(payments_plan(), services=(service,))
    result = estimate(plan, USAGE, PRICES, "us-east-1")
    per_task = (1 * 0.04 + 2 * 0.004) * HOURS_PER_MONTH
    fargate = result.by_service()["Fargate"]
    assert fargate == pytest.approx(3 * per_task)
    assert result.total_at_max == pytest.approx(result.total + 7 * per_task)
    assert f"prod scales 3-10 tasks: Fargate {3 * per_task:,.2f} a month at 3" in "\n".join(
        result.notes
    )
    assert result.to_json()["total_monthly_at_max_tasks"] == round(result.total + 7 * per_task, 2)
    fixed = estimate(
        replace(plan, services=(replace(service, max_tasks=None),)), USAGE, PRICES, "us-east-1"
    )
    assert fixed.total_at_max is None
    assert fixed.to_json()["total_monthly_at_max_tasks"] is None


def test_public_tasks_pay_an_address_each_instead_of_the_nat_gateway() -> None:
    """placement: public (issue 15): no NAT gateway line; a public IPv4 address per task beside
    the load balancer's two, also per task at the scaling maximum."""
    private = RunningService("staging", cpu=256, memory_mib=512, tasks=2, nat_gateways=1)
    public = replace(private, nat_gateways=0, public_tasks=True)
    before = estimate(replace(payments_plan(), services=(private,)), USAGE, PRICES, "us-east-1")
    after = estimate(replace(payments_plan(), services=(public,)), USAGE, PRICES, "us-east-1")
    assert not any("NAT" in line.item for line in after.lines)
    (addresses,) = [line for line in after.lines if "public IPv4" in line.item]
    assert addresses.item == "public IPv4 addresses (staging: 4)"
    assert after.by_service()["VPC"] == pytest.approx(4 * HOURS_PER_MONTH * 0.005)
    saved = HOURS_PER_MONTH * 0.045 + 10 * 0.045 - HOURS_PER_MONTH * 0.005
    assert before.total - after.total == pytest.approx(saved)

    scaling = replace(public, max_tasks=5)
    result = estimate(replace(payments_plan(), services=(scaling,)), USAGE, PRICES, "us-east-1")
    per_task = (0.25 * 0.04 + 0.5 * 0.004 + 0.005) * HOURS_PER_MONTH
    assert result.total_at_max == pytest.approx(result.total + 3 * per_task)
    assert "Fargate and task addresses" in "\n".join(result.notes)


def _bundled_with(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(
        resources.files("conveyor.cost").joinpath("prices.json").read_text()
    )
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"x": ' + "9" * 5000 + "}", r"mine\.json: a number of 5,000 digits"),
        ("[" * 100_000 + "]" * 100_000, r"mine\.json: nested too deeply"),
        ('{"a": "caf\xe9"}', r"mine\.json: not UTF-8"),
    ],
    ids=["digits", "deep", "latin-1"],
)
def test_a_hostile_price_file_is_an_error_not_a_traceback(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "mine.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(PricesError, match=expected):
        Prices.from_file(path)


def test_an_endless_price_file_is_read_only_up_to_a_limit() -> None:
    with pytest.raises(PricesError, match=r"/dev/zero: larger than 1,000,000 bytes"):
        Prices.from_file(Path("/dev/zero"))


@pytest.mark.parametrize("value", ["free", [1], True, float("nan"), float("inf"), -1])
def test_a_price_that_is_no_finite_amount_is_named(value: object) -> None:
    raw = _bundled_with()
    raw["services"]["codepipeline"]["prices"]["v2_action_minute"] = value
    prices = Prices.parse(raw, origin="mine.json")
    with pytest.raises(PricesError, match=r"mine\.json: codepipeline\.v2_action_minute"):
        estimate(payments_plan(), USAGE, prices, "us-east-1")


@pytest.mark.parametrize(
    "region", [{"multiplier": "x"}, {"overrides": {"codepipeline.v2_action_minute": "x"}}]
)
def test_a_region_multiplier_or_override_that_is_no_amount_is_named(
    region: dict[str, Any],
) -> None:
    prices = Prices.parse(_bundled_with(regions={"eu-west-1": region}), origin="mine.json")
    with pytest.raises(PricesError, match=r"mine\.json: regions\.eu-west-1"):
        estimate(payments_plan(), USAGE, prices, "eu-west-1")


def test_a_worker_pays_for_its_queue_and_no_load_balancer() -> None:
    """kind: worker (issue 15): no ALB lines or addresses; SQS requests (three per message and
    each task's empty long polls) and the queue's KMS data-key calls, by hand."""
    worker = RunningService(
        "prod", cpu=256, memory_mib=512, tasks=2, load_balancer=False, queue=True
    )
    usage = replace(USAGE, queue_messages_per_day=100_000)
    result = estimate(replace(payments_plan(), services=(worker,)), usage, PRICES, "us-east-1")
    assert "Load balancer" not in result.by_service()
    assert not any("public IPv4" in line.item for line in result.lines)
    (requests,) = [line for line in result.lines if line.item.startswith("queue requests")]
    messages = 100_000 * 30
    empty = 2 * 3 * 60 * HOURS_PER_MONTH
    assert requests.quantity == pytest.approx((messages * 3 + empty) / 1e6)
    assert result.by_service()["SQS"] == pytest.approx((messages * 3 + empty) / 1e6 * 0.4)
    # The two tasks call KMS; no producer role is listed, so none is counted or named.
    (keys,) = [line for line in result.lines if line.item.startswith("queue data keys")]
    assert keys.quantity == pytest.approx(2 * 12 * HOURS_PER_MONTH / 10_000)
    assert "2 tasks, no producer listed" in keys.item
    with_producers = estimate(
        replace(payments_plan(), services=(replace(worker, tasks=1, producers=2),)),
        usage,
        PRICES,
        "us-east-1",
    )
    (keys,) = [line for line in with_producers.lines if line.item.startswith("queue data keys")]
    assert keys.quantity == pytest.approx(3 * 12 * HOURS_PER_MONTH / 10_000)
    assert "1 task and 2 producers" in keys.item
    web = estimate(
        replace(payments_plan(), services=(replace(worker, load_balancer=True, queue=False),)),
        usage,
        PRICES,
        "us-east-1",
    )
    assert "SQS" not in web.by_service() and "Load balancer" in web.by_service()


def test_a_backend_pays_for_fargate_and_no_load_balancer() -> None:
    """kind: backend runs its tasks behind no load balancer: `cost` counts no ALB for it."""
    from conveyor.plan import plan as plan_of
    from conveyor.spec import load_spec

    root = Path(__file__).resolve().parents[2]
    plan = plan_of(load_spec(root / "examples" / "backend-service.yaml"))
    assert [s.load_balancer for s in plan.services] == [False, False]
    result = estimate(plan, USAGE, Prices.bundled(), "eu-west-1").by_service()
    assert "Load balancer" not in result and result["Fargate"] > 0


def test_another_region_adds_its_artifact_key_and_a_copy_of_the_images() -> None:
    """An environment in another region deploys from that region's support stack: its artifact
    store's key, and the images the build pushes there too (regional_support.py)."""
    home = payments_plan()
    plan = replace(home, other_regions=("us-west-2",))
    before, after = (estimate(p, USAGE, PRICES, "us-east-1") for p in (home, plan))
    assert after.by_service()["KMS"] == pytest.approx(before.by_service()["KMS"] + 1.0)
    assert after.by_service()["ECR"] == pytest.approx(2 * before.by_service()["ECR"])
    (copy,) = [line for line in after.lines if line.item.endswith("kept in us-west-2")]
    assert copy.service == "ECR"


def test_a_scheduled_job_pays_for_its_runs_only() -> None:
    """kind: job: Fargate (and a public task's address) while a run lasts, runs a month times
    --job-run-minutes; no load balancer, no task kept running; Scheduler's invocations noted."""
    job = RunningService(
        environment="staging",
        cpu=512,
        memory_mib=1024,
        tasks=1,
        load_balancer=False,
        public_tasks=True,
        runs_per_month=120.0,
    )
    base = payments_plan()
    plan = replace(base, services=(job,))
    result = estimate(plan, Usage(job_run_minutes=15.0), PRICES, "us-east-1")
    hours = 120 * 15 / 60  # 30 task-hours a month
    by_item = {line.item: line for line in result.lines}
    vcpu = by_item["vCPU (staging: 120 runs x 15 min x 0.5 vCPU)"]
    assert vcpu.quantity == pytest.approx(0.5 * hours)
    memory = by_item["memory (staging: 120 runs x 15 min x 1 GB)"]
    assert memory.quantity == pytest.approx(1.0 * hours)
    address = by_item["public IPv4 address of each run (staging)"]
    assert address.quantity == pytest.approx(hours)
    assert not any(line.service == "Load balancer" for line in result.lines)
    assert not any("NAT" in line.item for line in result.lines)
    assert any("Scheduled jobs run staging ~120 times a month" in n for n in result.notes)
    # A run shorter than Fargate's one-minute minimum is billed the minute.
    short = estimate(plan, Usage(job_run_minutes=0.2), PRICES, "us-east-1")
    (short_vcpu,) = [line for line in short.lines if line.item.startswith("vCPU (staging")]
    assert short_vcpu.quantity == pytest.approx(0.5 * 120 / 60)
