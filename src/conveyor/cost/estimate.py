"""A monthly cost estimate of a pipeline plan: list prices times usage assumptions.

Pure arithmetic over `Plan`, `Usage` and `Prices`: no AWS calls, no CDK. Each line says what
was counted so a reader can check it by hand; the assumptions are the `Usage` defaults, which
docs/commands/cost.md lists, and which a future `usage:` block in conveyor.yaml will fill.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from conveyor.cost.prices import Prices
from conveyor.plan import Action, Plan

HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates (24 x 365 / 12)
# Memory and duration the conveyor handlers typically use per invocation (see handlers/).
LAMBDA_GB = 0.25
LAMBDA_SECONDS = 1.0
HISTORY_ITEM_KB = 2.0

SERVICE_ORDER = (
    "CodePipeline",
    "CodeBuild",
    "S3",
    "KMS",
    "CloudWatch Logs",
    "DynamoDB",
    "Lambda",
    "ECR",
    "Load balancer",
    "Fargate",
    "SQS",
    "VPC",
)
# A worker's queue: each message is sent, received and deleted (three requests of one 64 KB
# chunk each); each task long-polls (20 s, the queue's ReceiveMessageWaitTimeSeconds) when the
# queue is empty, at most three empty receives a minute. KMS: the queue reuses a data key for
# 5 minutes per principal (each task and each producer role the queue lists).
# https://aws.amazon.com/sqs/pricing/
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
REQUESTS_PER_MESSAGE = 3
EMPTY_RECEIVES_PER_TASK_HOUR = 3 * 60
DATA_KEY_CALLS_PER_PRINCIPAL_HOUR = 12


@dataclass(frozen=True)
class Usage:
    """What one month of this pipeline looks like. Every field has a documented default."""

    deploys_per_day: float = 5.0  # pipeline executions that run every stage
    days_per_month: float = 30.0
    build_minutes: float | None = None  # per build run; None: the plan's typical duration
    artifact_mb: float = 100.0  # pipeline artifacts written per execution
    artifact_days: int = 30  # spec retention.artifact_days
    image_mb: float = 250.0  # compressed size of one image in ECR
    images_kept: int = 10  # spec retention.images
    build_log_mb: float = 2.0  # log output of one CodeBuild run
    service_log_gb_per_day: float = 0.05  # application logs of one running service
    log_days: int = 30  # spec retention.log_days
    lcu_per_hour: float = 1.0  # load balancer capacity units; 1 is light traffic
    queue_messages_per_day: float = 10_000.0  # messages through each worker's queue
    nat_gb: float = 10.0  # data through each NAT gateway per month (image pulls, APIs)
    job_run_minutes: float = 10.0  # how long one run of a scheduled job's task lasts
    kms_requests_per_execution: int = 200
    history_writes_per_execution: int = 30  # recorder writes: events x conditional updates
    lambda_invocations_per_execution: int = 20  # recorder, notifier, gate, validation
    # Runs of the pull-request pipeline (source.github.pull_requests): one per pull request
    # opened and one per push to it.
    pull_request_runs_per_day: float = 10.0

    @property
    def pull_request_runs(self) -> float:
        return self.pull_request_runs_per_day * self.days_per_month

    @property
    def executions(self) -> float:
        return self.deploys_per_day * self.days_per_month


@dataclass(frozen=True)
class CostLine:
    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly: float


@dataclass(frozen=True)
class Estimate:
    app: str
    region: str
    as_of: str
    currency: str
    usage: Usage
    lines: tuple[CostLine, ...]
    notes: tuple[str, ...] = field(default=())
    # The total with every auto-scaling service at its maximum task count (None: none scales).
    total_at_max: float | None = None

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for line in self.lines:
            totals[line.service] += line.monthly
        return {name: totals[name] for name in SERVICE_ORDER if name in totals}

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "region": self.region,
            "currency": self.currency,
            "prices_as_of": self.as_of,
            "usage": {**asdict(self.usage), "executions_per_month": self.usage.executions},
            "total_monthly": round(self.total, 2),
            "total_monthly_at_max_tasks": (
                round(self.total_at_max, 2) if self.total_at_max is not None else None
            ),
            "services": {name: round(cost, 2) for name, cost in self.by_service().items()},
            "lines": [{**asdict(line), "monthly": round(line.monthly, 4)} for line in self.lines],
            "notes": list(self.notes),
        }


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _principals(tasks: int, producers: int) -> str:
    """Who calls KMS for a worker's queue: its tasks, and the producer roles queue.producers
    lists (none listed: only senders of the environment's own account, not counted)."""
    if not producers:
        return f"{_counted(tasks, 'task')}, no producer listed"
    return f"{_counted(tasks, 'task')} and {_counted(producers, 'producer')}"


def _action_minutes(action: Action, usage: Usage) -> float:
    if action.kind == "build" and usage.build_minutes is not None:
        return usage.build_minutes
    return action.minutes


def estimate(plan: Plan, usage: Usage, prices: Prices, region: str) -> Estimate:
    price = prices.resolver(region)
    runs = usage.executions
    lines: list[CostLine] = []

    def add(service: str, item: str, quantity: float, unit: str, unit_price: float) -> None:
        lines.append(CostLine(service, item, quantity, unit, unit_price, quantity * unit_price))

    def pipeline_minutes(
        actions: list[Action],
        runs: float,
        per: str,
        pipeline_label: str = "",
        build_label: str = "",
    ) -> None:
        # CodePipeline V2: each action's minutes are rounded up; approvals are free. Then the
        # build minutes, per compute size. https://aws.amazon.com/codepipeline/pricing/
        billed = sum(math.ceil(_action_minutes(a, usage)) for a in actions if a.kind != "approval")
        add(
            "CodePipeline",
            f"{pipeline_label}V2 action minutes ({billed} per {per} x {runs:g})",
            billed * runs,
            "action-minute",
            price("codepipeline", "v2_action_minute"),
        )
        minutes_by_compute: dict[str, float] = defaultdict(float)
        for action in actions:
            if action.provider == "CodeBuild":
                minutes_by_compute[action.compute or "medium"] += _action_minutes(action, usage)
        for compute, minutes in sorted(minutes_by_compute.items()):
            add(
                "CodeBuild",
                f"{build_label}{compute}: {minutes:g} min per {per} x {runs:g}",
                minutes * runs,
                "build-minute",
                price("codebuild", f"minute.{compute}"),
            )

    actions = [a for stage in plan.stages for a in stage.actions]
    pipeline_minutes(actions, runs, "execution")
    builds = [a for a in actions if a.provider == "CodeBuild"]

    pull_requests = plan.pull_requests
    if pull_requests is not None:
        # Its own pipeline, billed the same way: V2 action minutes and build minutes per run.
        # https://aws.amazon.com/codepipeline/pricing/
        # (It has no approval, so the one rule for free approvals changes nothing there.)
        pipeline_minutes(
            [a for stage in pull_requests.stages for a in stage.actions],
            usage.pull_request_runs,
            "run",
            pipeline_label="pull requests: ",
            build_label="pull requests, ",
        )

    stored_gb = usage.artifact_mb / 1024 * usage.deploys_per_day * usage.artifact_days
    add(
        "S3",
        f"artifacts kept {usage.artifact_days} days",
        stored_gb,
        "GB-month",
        price("s3", "gb_month"),
    )
    if pull_requests is not None:
        # Each run's artifacts, the image archive above all: buildx's docker exporter writes
        # gzip-compressed layers by default, about the pushed image's size (image_mb).
        # https://docs.docker.com/build/exporters/oci-docker/
        per_run_mb = usage.artifact_mb + (
            usage.image_mb if "ECR repository" in plan.resources else 0
        )
        add(
            "S3",
            f"pull-request artifacts kept {usage.artifact_days} days",
            per_run_mb / 1024 * usage.pull_request_runs_per_day * usage.artifact_days,
            "GB-month",
            price("s3", "gb_month"),
        )
    writes, reads = len(actions) * 2 * runs / 1000, len(actions) * 3 * runs / 1000
    add("S3", "artifact writes", writes, "thousand PUT", price("s3", "put_1000"))
    add("S3", "artifact reads", reads, "thousand GET", price("s3", "get_1000"))

    # One key for the pipeline, one per environment conveyor creates a service in (FM76).
    # The pull-request pipeline has a key of its own (stages/pull_request.py: why).
    keys = 1 + len(plan.services) + (1 if pull_requests is not None else 0)
    # Each other region's support stack has its own artifact key (regional_support.py).
    keys += len(plan.other_regions)
    add("KMS", "customer managed keys", keys, "key-month", price("kms", "key_month"))
    add(
        "KMS",
        "requests",
        usage.kms_requests_per_execution * runs / 10_000,
        "10,000 requests",
        price("kms", "requests_10000"),
    )

    build_logs_gb = len(builds) * runs * usage.build_log_mb / 1024
    service_logs_gb = len(plan.services) * usage.service_log_gb_per_day * usage.days_per_month
    ingest = build_logs_gb + service_logs_gb
    add(
        "CloudWatch Logs",
        "ingested (builds and services)",
        ingest,
        "GB",
        price("logs", "ingest_gb"),
    )
    # Steady state: what is kept is `log_days` worth of ingestion.
    stored_logs = ingest / usage.days_per_month * usage.log_days
    add(
        "CloudWatch Logs",
        f"stored {usage.log_days} days",
        stored_logs,
        "GB-month",
        price("logs", "stored_gb_month"),
    )

    writes = usage.history_writes_per_execution * runs
    add(
        "DynamoDB",
        "deployment history writes",
        writes / 1e6,
        "million WRU",
        price("dynamodb", "write_million"),
    )
    history_gb = runs * (1 + len(plan.services)) * HISTORY_ITEM_KB / 1024 / 1024
    add(
        "DynamoDB",
        "history stored (one month's records)",
        history_gb,
        "GB-month",
        price("dynamodb", "gb_month"),
    )

    invocations = usage.lambda_invocations_per_execution * runs
    add(
        "Lambda",
        "handler invocations",
        invocations / 1e6,
        "million requests",
        price("lambda", "request_million"),
    )
    add(
        "Lambda",
        f"handler compute ({LAMBDA_GB:g} GB x {LAMBDA_SECONDS:g} s each)",
        invocations * LAMBDA_GB * LAMBDA_SECONDS,
        "GB-second",
        price("lambda", "gb_second"),
    )

    if (
        any("ECR repository" in use for a in actions for use in a.uses)
        or "ECR repository" in plan.resources
    ):
        images_gb = usage.images_kept * usage.image_mb / 1024
        add(
            "ECR",
            f"{usage.images_kept} images kept",
            images_gb,
            "GB-month",
            price("ecr", "gb_month"),
        )
        # The same images in each other region's repository (the build pushes them there).
        if plan.other_regions:
            add(
                "ECR",
                f"{usage.images_kept} images kept in {', '.join(plan.other_regions)}",
                images_gb * len(plan.other_regions),
                "GB-month",
                price("ecr", "gb_month"),
            )

    for service in plan.services:
        env = service.environment
        if service.load_balancer:
            add(
                "Load balancer", f"ALB hours ({env})", HOURS_PER_MONTH, "hour", price("alb", "hour")
            )
            add(
                "Load balancer",
                f"LCU hours ({env}, {usage.lcu_per_hour:g} LCU)",
                usage.lcu_per_hour * HOURS_PER_MONTH,
                "LCU-hour",
                price("alb", "lcu_hour"),
            )
        # A service's tasks run all month; a scheduled job's task only while a run lasts
        # (Fargate bills per second, one minute at least: https://aws.amazon.com/fargate/pricing/).
        if service.runs_per_month is not None:
            task_hours = service.runs_per_month * max(usage.job_run_minutes, 1) / 60
            count = f"{service.runs_per_month:.0f} runs x {usage.job_run_minutes:g} min"
        else:
            task_hours = service.tasks * HOURS_PER_MONTH
            count = str(service.tasks)
        add(
            "Fargate",
            f"vCPU ({env}: {count} x {service.cpu / 1024:g} vCPU)",
            service.cpu / 1024 * task_hours,
            "vCPU-hour",
            price("fargate", "vcpu_hour"),
        )
        add(
            "Fargate",
            f"memory ({env}: {count} x {service.memory_mib / 1024:g} GB)",
            service.memory_mib / 1024 * task_hours,
            "GB-hour",
            price("fargate", "gb_hour"),
        )
        if service.queue:
            messages = usage.queue_messages_per_day * usage.days_per_month
            empty = service.tasks * EMPTY_RECEIVES_PER_TASK_HOUR * HOURS_PER_MONTH
            add(
                "SQS",
                f"queue requests ({env}: {messages:,.0f} messages x {REQUESTS_PER_MESSAGE}, "
                f"up to {empty:,.0f} empty long polls)",
                (messages * REQUESTS_PER_MESSAGE + empty) / 1e6,
                "million requests",
                price("sqs", "request_million"),
            )
            principals = service.tasks + service.producers
            add(
                "KMS",
                f"queue data keys ({env}: {_principals(service.tasks, service.producers)}, one "
                "call each per 5 minutes)",
                principals * DATA_KEY_CALLS_PER_PRINCIPAL_HOUR * HOURS_PER_MONTH / 10_000,
                "10,000 requests",
                price("kms", "requests_10000"),
            )
        if service.nat_gateways:
            add(
                "VPC",
                f"NAT gateway hours ({env})",
                service.nat_gateways * HOURS_PER_MONTH,
                "hour",
                price("vpc", "nat_gateway_hour"),
            )
            add(
                "VPC",
                f"NAT data ({env})",
                service.nat_gateways * usage.nat_gb,
                "GB",
                price("vpc", "nat_gb"),
            )
        # The load balancer has a public address in each of its two zones; the NAT gateway one;
        # a task in a public subnet one (at the service's minimum count).
        # https://aws.amazon.com/vpc/pricing/ (public IPv4 addresses, hourly, since 2024-02-01)
        addresses = (
            (2 if service.load_balancer else 0)
            + service.nat_gateways
            + (service.tasks if service.public_tasks and service.runs_per_month is None else 0)
        )
        if addresses:
            add(
                "VPC",
                f"public IPv4 addresses ({env}: {addresses})",
                addresses * HOURS_PER_MONTH,
                "address-hour",
                price("vpc", "public_ipv4_hour"),
            )
        if service.public_tasks and service.runs_per_month is not None:
            add(
                "VPC",
                f"public IPv4 address of each run ({env})",
                task_hours,
                "address-hour",
                price("vpc", "public_ipv4_hour"),
            )

    notes = [
        f"List prices for {prices.region_label(region)} as of {prices.as_of}, without free tiers, "
        "discounts, taxes or data transfer; sources in docs/commands/cost.md.",
        f"{runs:g} pipeline executions a month ({usage.deploys_per_day:g} a day x "
        f"{usage.days_per_month:g} days), each through every stage.",
        "CodePipeline gives each account 100 free V2 action minutes a month, shared by all "
        "its pipelines; not subtracted.",
    ]
    if pull_requests is not None:
        notes.append(
            f"{usage.pull_request_runs:g} pull-request runs a month "
            f"({usage.pull_request_runs_per_day:g} a day) of {pull_requests.pipeline}: build, "
            "tests and scans only; their artifacts (with the image archive) are counted, their "
            "logs are not."
        )
    # Auto scaling: the lines above count each service at its minimum; at the maximum the same
    # task size runs max_tasks times (everything else is unchanged).
    extra_at_max = 0.0
    for service in plan.services:
        if service.max_tasks is None:
            continue
        per_task = (
            service.cpu / 1024 * price("fargate", "vcpu_hour")
            + service.memory_mib / 1024 * price("fargate", "gb_hour")
            + (price("vpc", "public_ipv4_hour") if service.public_tasks else 0.0)
        ) * HOURS_PER_MONTH
        extra_at_max += per_task * (service.max_tasks - service.tasks)
        notes.append(
            f"{service.environment} scales {service.tasks}-{service.max_tasks} tasks: Fargate"
            f"{' and task addresses' if service.public_tasks else ''} "
            f"{per_task * service.tasks:,.2f} a month at {service.tasks} (counted), "
            f"{per_task * service.max_tasks:,.2f} at {service.max_tasks}."
        )
    at_max = None
    if extra_at_max:
        at_max = sum(line.monthly for line in lines) + extra_at_max
        notes.append(f"Every scaling service at its maximum: {at_max:,.2f} a month in total.")
    domains = [s.domain for s in plan.services if s.domain is not None]
    if domains:
        # https://aws.amazon.com/certificate-manager/pricing/ (public certificates: no charge)
        # https://aws.amazon.com/route53/pricing/ (alias queries to a load balancer: no charge)
        notes.append(
            f"HTTPS for {', '.join(domains)}: public ACM certificates and Route 53 alias "
            "queries to a load balancer cost nothing; the hosted zone ($0.50 a month) is "
            "yours already and not counted."
        )
    jobs = [s for s in plan.services if s.runs_per_month is not None]
    if jobs:
        # https://aws.amazon.com/eventbridge/pricing/ (Scheduler: 14 million invocations a
        # month free, then $1.00 per million)
        job_runs = ", ".join(f"{s.environment} ~{s.runs_per_month:.0f}" for s in jobs)
        notes.append(
            f"Scheduled jobs run {job_runs} times a month, each {usage.job_run_minutes:g} min "
            "(--job-run-minutes); EventBridge Scheduler's invocations are free up to 14 "
            "million a month, then $1.00 per million: not counted."
        )
    if not plan.services:
        notes.append(
            "Deploys to existing services: their own compute and load balancers are not counted."
        )
    return Estimate(
        app=plan.app,
        region=region,
        as_of=prices.as_of,
        currency=prices.currency,
        usage=usage,
        lines=tuple(lines),
        notes=tuple(notes),
        total_at_max=at_max,
    )
