"""The pipeline as plain data: stages, actions, what runs in parallel, what each action uses.

Derived from the spec alone (no CDK), so `conveyor plan`, `diagram` and `cost` are instant and
agree with each other. `pipeline.py` builds the same shape in CDK; a test keeps the stage and
action names of both in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from conveyor.spec.models import Environment, Spec

ActionKind = Literal["source", "build", "test", "scan", "gate", "approval", "deploy", "validate"]

# Typical durations in minutes, used for the critical-path estimate. Documented in
# docs/plan.md; a spec may override each kind under `estimates:`.
DEFAULT_MINUTES: dict[ActionKind, float] = {
    "source": 0.5,
    "build": 4.0,
    "test": 3.0,
    "scan": 2.0,
    "gate": 0.5,
    "approval": 0.0,  # waiting for a person is not pipeline time
    "deploy": 5.0,
    "validate": 1.0,
}


@dataclass(frozen=True)
class Action:
    name: str
    kind: ActionKind
    provider: str  # the CodePipeline action provider, e.g. CodeBuild, ECS, Manual
    run_order: int = 1
    uses: tuple[str, ...] = ()  # AWS resources the action touches, for diagrams
    minutes: float = 0.0
    compute: str | None = None  # CodeBuild compute size, for cost


@dataclass(frozen=True)
class Stage:
    name: str
    actions: tuple[Action, ...]
    environment: str | None = None

    def waves(self) -> list[list[Action]]:
        """Actions grouped by run order: each wave runs in parallel, waves in sequence."""
        orders = sorted({a.run_order for a in self.actions})
        return [[a for a in self.actions if a.run_order == o] for o in orders]

    @property
    def minutes(self) -> float:
        return sum(max(a.minutes for a in wave) for wave in self.waves())


@dataclass(frozen=True)
class RunningService:
    """A service conveyor creates that runs all month once deployed (for `conveyor cost`)."""

    environment: str
    cpu: int  # Fargate CPU units, 1024 = 1 vCPU
    memory_mib: int
    tasks: int
    load_balancer: bool = True
    nat_gateways: int = 0  # a VPC conveyor creates has one NAT gateway


@dataclass(frozen=True)
class Plan:
    app: str
    stages: tuple[Stage, ...]
    resources: tuple[str, ...] = field(default=())
    services: tuple[RunningService, ...] = field(default=())

    def minutes_until(self, stage_name: str) -> float:
        """Critical path (sum of each stage's slowest waves) up to and including a stage."""
        total = 0.0
        for stage in self.stages:
            total += stage.minutes
            if stage.name == stage_name:
                return total
        raise KeyError(stage_name)

    @property
    def minutes(self) -> float:
        return sum(stage.minutes for stage in self.stages)


def _minutes(kind: ActionKind) -> float:
    return DEFAULT_MINUTES[kind]


def plan(spec: Spec) -> Plan:
    source_kind = spec.source.kind
    source_provider = {
        "github": "CodeStarSourceConnection",
        "s3": "S3",
        "codecommit": "CodeCommit",
    }[source_kind]
    source_uses = {
        "github": (f"connection {spec.source.github.repo}" if spec.source.github else "",),
        "s3": ("S3 source bucket",),
        "codecommit": (
            f"CodeCommit {spec.source.codecommit.repository}" if spec.source.codecommit else "",
        ),
    }[source_kind]
    stages = [
        Stage(
            "Source",
            (
                Action(
                    "Source",
                    "source",
                    source_provider,
                    uses=source_uses,
                    minutes=_minutes("source"),
                ),
            ),
        ),
        Stage(
            "Build",
            (
                Action(
                    "Build",
                    "build",
                    "CodeBuild",
                    uses=("CodeBuild project", "ECR repository")
                    if spec.build.docker
                    else ("CodeBuild project",),
                    minutes=min(_minutes("build"), float(spec.build.timeout_minutes)),
                    compute=spec.build.compute,
                ),
            ),
        ),
    ]
    for env in spec.environments:
        stages.append(_environment_stage(env))
    resources = ["S3 artifact bucket", "KMS key", "SNS topic", "EventBridge rules"]
    if spec.build.docker:
        resources.append("ECR repository")
    return Plan(
        app=spec.app,
        stages=tuple(stages),
        resources=tuple(resources),
        services=tuple(_running_services(spec)),
    )


def _running_services(spec: Spec) -> list[RunningService]:
    services = []
    for env in spec.environments:
        create = env.deploy.ecs.create if env.deploy.ecs is not None else None
        if create is not None:
            services.append(
                RunningService(
                    environment=env.name,
                    cpu=create.cpu,
                    memory_mib=create.memory,
                    tasks=create.desired_count,
                    nat_gateways=0 if create.vpc is not None else 1,
                )
            )
    return services


def _environment_stage(env: Environment) -> Stage:
    actions: list[Action] = []
    order = 1
    if env.needs_approval:
        actions.append(
            Action("Approve", "approval", "Manual", run_order=order, uses=("SNS topic",))
        )
        order += 1
    ecs = env.deploy.ecs
    assert ecs is not None
    target = (
        f"ECS service {ecs.cluster}/{ecs.service}"
        if ecs.create is None
        else f"Fargate service + ALB ({env.name})"
    )
    actions.append(
        Action(
            "Deploy", "deploy", "ECS", run_order=order, uses=(target,), minutes=_minutes("deploy")
        )
    )
    return Stage(f"Deploy-{env.name}", tuple(actions), environment=env.name)
