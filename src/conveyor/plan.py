"""The pipeline as plain data: stages, actions, what runs in parallel, what each action uses.

Derived from the spec alone (no CDK), so `conveyor plan`, `diagram` and `cost` are instant and
agree with each other. `pipeline.py` builds the same shape in CDK; a test keeps the stage and
action names, run orders and providers of both in step.

Durations are estimates for the critical path, documented in docs/commands/plan.md: each
action kind has a default (by CodeBuild compute size where that matters), and a spec may
replace any of them under `estimates:` with what its own pipeline measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from conveyor.constructs.naming import camel
from conveyor.spec.models import (
    PULL_REQUEST_NAME,
    Environment,
    EnvironmentJob,
    Spec,
    WorkerQueue,
    shift_minutes,
)
from conveyor.spec.schedule import runs_per_month

ActionKind = Literal["source", "build", "test", "scan", "gate", "approval", "deploy", "validate"]

# Minutes, typical for a small service with conveyor's defaults: registry layer cache for
# Docker builds, a warm CodeBuild fleet, Fargate tasks that pass two 15-second health checks.
DEFAULT_MINUTES: dict[str, float] = {
    "source": 0.2,
    "build": 3.0,  # medium compute; see BUILD_MINUTES_BY_COMPUTE
    "test": 2.0,
    "scan": 1.5,  # source scans; image scans read a pushed image: IMAGE_SCAN_MINUTES
    "gate": 0.2,
    "approval": 0.0,  # waiting for a person is not pipeline time
    "deploy": 2.5,  # until the new version serves; traffic-shifting time comes on top
    "validate": 0.5,
}
BUILD_MINUTES_BY_COMPUTE = {
    "small": 4.0,
    "medium": 3.0,
    "large": 2.0,
    "xlarge": 1.5,
    "2xlarge": 1.5,
}
IMAGE_SCAN_MINUTES = 1.0
# UpdatePipeline: installing conveyor and synthesizing (small compute), then a stack update that
# usually changes nothing.
SELF_UPDATE_MINUTES = 1.5
PIPELINE_STACK_UPDATE_MINUTES = 0.3
# Blue/green replaces a task set and shifts the listener at once: faster to serve than rolling,
# which drains tasks one batch after another.
BLUE_GREEN_READY_MINUTES = 1.5
LAMBDA_READY_MINUTES = 0.5
# A CloudFormation change set, or a stack update that leaves the service to a later action
# (a new task definition revision at most: tens of seconds).
STACK_MINUTES = 0.5
# A small CodeBuild job (provisioning, then one S3 copy of the package).
MARK_DEPLOYED_MINUTES = 0.5
IMAGE_SCANS = frozenset({"trivy", "syft"})
# CodePipeline lets a Lambda invoke action read five input artifacts; one is the source.
SCANS_PER_GATE = 4


@dataclass(frozen=True)
class Action:
    name: str
    kind: ActionKind
    provider: str  # the CodePipeline action provider, e.g. CodeBuild, ECS, Manual
    run_order: int = 1
    uses: tuple[str, ...] = ()  # AWS resources the action touches, for diagrams
    minutes: float = 0.0
    compute: str | None = None  # CodeBuild compute size, for cost
    # Minutes after which the action's environment serves the new version (the deploy action
    # that changes what serves); the rest (bake time, final traffic steps) runs while it
    # already serves. None: the action does not change what serves (a change set, a tag).
    ready_minutes: float | None = None


ConditionKind = Literal["before_entry", "on_success", "on_failure"]
ConditionResult = Literal["FAIL", "ROLLBACK", "RETRY"]


@dataclass(frozen=True)
class Rule:
    """A CodePipeline V2 condition rule: what it checks, by its provider's configuration.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference.html"""

    name: str  # unique within the pipeline
    provider: Literal["CloudWatchAlarm", "DeploymentWindow"]
    configuration: tuple[tuple[str, str], ...]
    # Where the rule runs when not in the pipeline's region: an environment's alarms are in
    # its stack's region (RuleDeclaration's Region,
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_RuleDeclaration.html).
    region: str | None = None

    def describe(self) -> str:
        config = dict(self.configuration)
        if self.provider == "DeploymentWindow":
            # AWS: an execution outside the window waits at the entry until it opens
            # (rule-reference-DeploymentWindow.html); the FAIL result is the other rules'.
            return (
                f"inside window {config['Cron']} ({config.get('TimeZone', 'UTC')}), "
                "waiting for it to open"
            )
        wait = f" for {config['WaitTime']} min" if "WaitTime" in config else ""
        return f"alarm {config['AlarmName']} not in ALARM{wait}"


@dataclass(frozen=True)
class Condition:
    """A stage condition: its rules, and what happens when they do not all pass (a before-entry
    or on-success condition) or when the stage fails (on-failure, which has no rules here).
    https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html"""

    kind: ConditionKind
    result: ConditionResult
    rules: tuple[Rule, ...] = ()
    # RETRY only: FAILED_ACTIONS re-runs the failed actions, not the whole stage.
    retry_mode: str | None = None

    def describe(self) -> str:
        when = {
            "before_entry": "before entry",
            "on_success": "on success",
            "on_failure": "on failure",
        }[self.kind]
        outcome = {
            "FAIL": "else fail the stage",
            "ROLLBACK": "else roll back to the last successful execution",
            "RETRY": "retry the failed actions",
        }[self.result]
        if self.kind == "on_failure":
            if self.result == "ROLLBACK":
                return f"{when}: roll back to the last successful execution"
            return f"{when}: {outcome}"
        checks = []
        alarms = [dict(r.configuration) for r in self.rules if r.provider == "CloudWatchAlarm"]
        if alarms:
            wait = alarms[0].get("WaitTime")
            quiet = f"alarms quiet for {wait} min" if wait else "alarms quiet"
            named = f"{quiet} ({', '.join(a['AlarmName'] for a in alarms)})"
            if any(r.provider == "DeploymentWindow" for r in self.rules):
                # AWS reads them when the execution arrives and not again when the window
                # opens (rule-reference-CloudWatchAlarm.html, Important); Release-<env>'s
                # first action reads them again before it changes anything
                # (buildspec.gate_alarm_commands).
                named += (
                    " on arrival, and again by Release's first action (MarkDeployed) "
                    "once the window opens"
                )
            checks.append(named)
        checks += [r.describe() for r in self.rules if r.provider != "CloudWatchAlarm"]
        return f"{when}: {'; '.join(checks)}; {outcome}"


@dataclass(frozen=True)
class Stage:
    name: str
    actions: tuple[Action, ...]
    environment: str | None = None
    conditions: tuple[Condition, ...] = ()
    # The environment's account when it is not the pipeline's (its stack is deployed there).
    account: str | None = None
    # The environment's region when it is not the pipeline's (its stack and its region's
    # support stack are there: constructs/regional_support.py).
    region: str | None = None

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
    nat_gateways: int = 0  # a VPC conveyor creates has one NAT gateway (private placement)
    public_tasks: bool = False  # placement: public, a public IPv4 address per task
    domain: str | None = None  # served over HTTPS: an ACM certificate, maybe a Route 53 record
    max_tasks: int | None = None  # auto scaling's maximum; `tasks` is then its minimum
    queue: bool = False  # a worker's SQS queue (and dead-letter queue), KMS-encrypted
    producers: int = 0  # roles queue.producers lets send to the worker's queue
    # A scheduled job (kind: job): its task runs this often, not all month (`tasks` is 1).
    runs_per_month: float | None = None


@dataclass(frozen=True)
class PullRequestPlan:
    """The pull-request pipeline (source.github.pull_requests): what starts it, and its stages,
    which never deploy (stages/pull_request.py: what it is kept apart from, and why)."""

    pipeline: str  # its name, {app}-pr[-{suffix}]
    branches: tuple[str, ...]  # pull requests into these start it
    events: tuple[str, ...]
    stages: tuple[Stage, ...]

    @property
    def minutes(self) -> float:
        return sum(stage.minutes for stage in self.stages)

    def describe(self) -> str:
        events = " or ".join(
            {"OPEN": "opened", "UPDATED": "updated"}.get(e, e) for e in self.events
        )
        return f"pull requests into {', '.join(self.branches)}, {events}"


@dataclass(frozen=True)
class Plan:
    app: str
    stages: tuple[Stage, ...]
    resources: tuple[str, ...] = field(default=())
    services: tuple[RunningService, ...] = field(default=())
    pull_requests: PullRequestPlan | None = None
    # Regions other than the pipeline's with environments: each has a support stack (an
    # artifact bucket and key, and a copy of the image repository).
    other_regions: tuple[str, ...] = ()

    def minutes_until(self, stage_name: str) -> float:
        """Critical path (sum of each stage's slowest waves) up to and including a stage."""
        total = 0.0
        for stage in self.stages:
            total += stage.minutes
            if stage.name == stage_name:
                return total
        raise KeyError(stage_name)

    def minutes_until_serving(self, environment: str) -> float:
        """Critical path until `environment` serves the new version: every earlier stage, then
        this stage's waves up to its deploy action's ready point (approvals count zero)."""
        total = 0.0
        for stage in self.stages:
            if stage.environment != environment:
                total += stage.minutes
                continue
            for wave in stage.waves():
                ready = [a.ready_minutes for a in wave if a.ready_minutes is not None]
                if ready:
                    return total + max(ready)
                total += max(a.minutes for a in wave)
        raise KeyError(environment)

    @property
    def minutes(self) -> float:
        return sum(stage.minutes for stage in self.stages)


def plan(spec: Spec) -> Plan:
    estimate = _Estimates(spec)
    stages = [
        _source_stage(spec, estimate),
        _self_update_stage(spec),
        _build_stage(spec, estimate),
    ]
    for env in spec.environments:
        stages += _environment_stages(spec, env, estimate)
    resources = [
        "S3 artifact bucket",
        "KMS keys",
        "SNS topics",
        "EventBridge rules",
        "DynamoDB deployment history",
        "CloudWatch alarms",
    ]
    if spec.build.docker:
        resources.append("ECR repository")
    for region in spec.other_regions:
        # Its support stack (constructs/regional_support.py), which conveyor deploy creates.
        copy = ", ECR repository" if spec.build.docker else ""
        resources.append(f"{region}: S3 artifact bucket, KMS key{copy}")
    pull_requests = pull_request_plan(spec)
    if pull_requests is not None:
        resources.append("pull-request artifact bucket and KMS key (nothing shared)")
    return Plan(
        app=spec.app,
        stages=tuple(stages),
        resources=tuple(resources),
        services=tuple(_running_services(spec)),
        pull_requests=pull_requests,
        other_regions=tuple(spec.other_regions),
    )


def pull_request_plan(spec: Spec) -> PullRequestPlan | None:
    """Source, then the main Build stage's build, tests and scans with nothing pushed: the
    image scans read the image archive the build wrote. No UpdatePipeline, no environment."""
    github = spec.source.github
    if github is None or github.pull_requests is None:
        return None
    estimate = _Estimates(spec)
    suffix = f"-{spec.suffix}" if spec.suffix else ""
    return PullRequestPlan(
        pipeline=f"{spec.app}-{PULL_REQUEST_NAME}{suffix}",
        branches=tuple(github.pull_requests.branches) or (github.branch,),
        events=tuple(github.pull_requests.events),
        stages=(
            _source_stage(spec, estimate),
            _build_stage(spec, estimate, pull_request=True),
        ),
    )


class _Estimates:
    def __init__(self, spec: Spec) -> None:
        self.overrides = dict(spec.estimates)

    def __call__(self, kind: ActionKind, default: float | None = None) -> float:
        if kind in self.overrides:
            return float(self.overrides[kind])
        return DEFAULT_MINUTES[kind] if default is None else default


def _source_stage(spec: Spec, estimate: _Estimates) -> Stage:
    source = spec.source
    provider, uses = {
        "github": (
            "CodeStarSourceConnection",
            f"GitHub {source.github.repo}" if source.github else "",
        ),
        "s3": ("S3", "S3 source bucket (EventBridge trigger)"),
        "codecommit": (
            "CodeCommit",
            f"CodeCommit {source.codecommit.repository}" if source.codecommit else "",
        ),
    }[source.kind]
    return Stage(
        "Source", (Action("Source", "source", provider, uses=(uses,), minutes=estimate("source")),)
    )


def _self_update_stage(spec: Spec) -> Stage:
    """Synthesize the source revision's conveyor.yaml, update each other region's support stack
    there, then the pipeline's own stack (stages/self_update.py); an unchanged stack is a no-op
    update."""
    regions = tuple(
        Action(
            f"UpdateRegion{camel(region)}",
            "deploy",
            "CloudFormation",
            run_order=2,
            uses=(f"CloudFormation region stack ({region})",),
            minutes=PIPELINE_STACK_UPDATE_MINUTES,
        )
        for region in spec.other_regions
    )
    return Stage(
        "UpdatePipeline",
        (
            Action(
                "Synth",
                "build",
                "CodeBuild",
                run_order=1,
                uses=("CodeBuild project",),
                minutes=SELF_UPDATE_MINUTES,
                compute="small",
            ),
            *regions,
            Action(
                "UpdatePipeline",
                "deploy",
                "CloudFormation",
                run_order=3 if regions else 2,
                uses=("CloudFormation pipeline stack",),
                minutes=PIPELINE_STACK_UPDATE_MINUTES,
            ),
        ),
    )


def _build_stage(spec: Spec, estimate: _Estimates, *, pull_request: bool = False) -> Stage:
    """Build, tests and source scans in parallel (FM29); image scans once the image is pushed;
    then the scan gate (FM75). A pull request's build pushes nothing: its image scans read
    the image archive in the build's artifact."""
    build = spec.build
    if not build.docker:
        built: tuple[str, ...] = ("CodeBuild project",)
    elif pull_request:
        built = ("CodeBuild project", "image archive (never pushed)")
    else:
        built = ("CodeBuild project", "ECR repository")
    actions = [
        Action(
            "Build",
            "build",
            "CodeBuild",
            run_order=1,
            uses=built,
            minutes=min(
                estimate("build", BUILD_MINUTES_BY_COMPUTE[build.compute]),
                float(build.timeout_minutes),
            ),
            compute=build.compute,
        )
    ]
    for suite in spec.checks.tests:
        actions.append(
            Action(
                f"Test-{suite.name}",
                "test",
                "CodeBuild",
                run_order=1,
                uses=("CodeBuild project", "CodeBuild test reports"),
                minutes=estimate("test"),
                compute=suite.compute,
            )
        )
    scans = spec.scans
    image_scans = [t for t in scans.tools if t in IMAGE_SCANS]
    for tool in scans.tools:
        image = tool in IMAGE_SCANS
        actions.append(
            Action(
                f"Scan-{tool}",
                "scan",
                "CodeBuild",
                run_order=2 if image else 1,
                uses=(
                    ("CodeBuild project", "image archive" if pull_request else "ECR image")
                    if image
                    else ("CodeBuild project",)
                ),
                minutes=estimate("scan", IMAGE_SCAN_MINUTES if image else None),
                compute="small",
            )
        )
    gate_order = 3 if image_scans else 2
    for index in range(0, len(scans.tools), SCANS_PER_GATE):
        actions.append(
            Action(
                gate_name(index),
                "gate",
                "Lambda",
                run_order=gate_order,
                uses=("scan_gate function", "SARIF reports"),
                minutes=estimate("gate"),
            )
        )
    # A build or scan that failed on a flaky network is re-run once by CodePipeline itself;
    # AWS allows no retry beside a rollback in one stage, and this stage deploys nothing.
    # https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-retry.html
    retry = Condition("on_failure", "RETRY", retry_mode="FAILED_ACTIONS")
    return Stage("Build", tuple(actions), conditions=(retry,))


def gate_name(index: int) -> str:
    return "ScanGate" if index == 0 else f"ScanGate{index // SCANS_PER_GATE + 1}"


def is_gated(spec: Spec, env: Environment) -> bool:
    """Whether the environment has a gate: alarms its entry waits for, or a window."""
    return bool(spec.entry_alarms(env)) or env.window is not None


def prepare_stage_names(spec: Spec, env: Environment) -> tuple[str, ...]:
    """The stages before `Deploy-<env>` whose actions run once per release and never again in
    a rollback of it, in order: `Approve-<env>` (an approval: the change set and the approval)
    and `Release-<env>` (a gate or a `before` job: the image's mark, then the job). An
    environment with neither has `Deploy-<env>` alone: no stage is added for nothing."""
    names = []
    if env.needs_approval:
        names.append(f"Approve-{env.name}")
    if env.before is not None or is_gated(spec, env):
        names.append(f"Release-{env.name}")
    return tuple(names)


def gated_stage_names(spec: Spec, env: Environment) -> tuple[str, ...]:
    """The stages whose entry the environment's gate (alarms quiet, inside the window) holds:
    every stage before `Deploy-<env>`, never `Deploy-<env>` itself.

    `Approve-<env>`, so nobody is asked to approve a release that may not go now; then
    `Release-<env>`, so the gate holds again right before the first change, however long the
    approval waited. Once `Release-<env>`'s job (a migration) ran inside the window, its
    release deploys too: a deploy held back would leave the migration applied without its code
    (issue 11, review defect 5). And the deploy stage rolls back: a gate on its entry could
    hold its own rollback (issue 11, FM124). A stage rollback is a new execution of the stage
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html) and AWS
    does not document whether that execution passes the stage's before-entry condition
    (stage-conditions.html, stage-rollback-auto.html and the API's Condition and
    StageDeclaration pages are silent): if it does, a bake that fails at 17:10 on Friday
    waits for Monday's window, and the errors of a bad release that make the gate's alarm fire
    block the rollback away from it. So the gate sits on a stage of its own with real work
    (`Release-<env>`; a stage needs at least one action), which a rollback of the deploy stage
    never runs."""
    return prepare_stage_names(spec, env) if is_gated(spec, env) else ()


def _environment_stages(spec: Spec, env: Environment, estimate: _Estimates) -> list[Stage]:
    """`Approve-<env>`: the change set and the approval; `Release-<env>`: the image's mark (or
    a copy of the package) and the `before` job; then `Deploy-<env>`: the environment's stack
    deployed by CloudFormation, the service deploy where the stack update does not do it
    (CodeDeploy blue/green, an existing service), the validation and the tests. A rollback of
    the deploy stage runs its actions again with the last good release; none of the earlier
    stages' (stages/environment.py: why). The gate (gated_stage_names) sits on the entry of
    the stages before the deploy stage, never on the one that rolls back."""
    ecs, function = env.deploy.ecs, env.deploy.lambda_
    ready, total, uses = _deploy_minutes(env, estimate, spec)
    stage_names = prepare_stage_names(spec, env)
    release = f"Release-{env.name}" in stage_names
    service_action: tuple[str, str] | None = None
    if ecs is not None and ecs.create is None:
        service_action = ("DeployService", "ECS")
    elif ecs is not None and ecs.strategy == "blue-green":
        service_action = ("CodeDeploy", "CodeDeployToECS")
    # The stack update is the deploy unless a service action follows it.
    stack_minutes = STACK_MINUTES if service_action else total
    stack_ready = None if service_action else ready
    stack_uses = (f"CloudFormation stack {env.name}",) + (() if service_action else uses)

    def image_mark(run_order: int) -> Action:
        # Tags the deployed image so the registry keeps it: first in Release-<env> where there
        # is one, else beside the change set (an image waiting for the approval), else beside
        # the deploy; never longer than the deploy.
        return Action(
            "MarkDeployed",
            "deploy",
            "CodeBuild",
            run_order=run_order,
            uses=("ECR tag deployed-<env>-<digest>",),
            minutes=min(0.5, total),
            compute="small",
        )

    def package_mark(run_order: int) -> Action:
        # Copies the release's package to the environment's own key, which the stack deploys
        # and the package store keeps (constructs/artifact_store.PackageStore); before the
        # change set or the deploy, which name the copy's version. Idempotent: a copy already
        # current is reused, so Release-<env>'s copy and the deploy stage's run both.
        return Action(
            "MarkDeployed",
            "deploy",
            "CodeBuild",
            run_order=run_order,
            uses=(f"S3 package deployed/{env.name}/",),
            minutes=MARK_DEPLOYED_MINUTES,
            compute="small",
        )

    def change_set(run_order: int) -> Action:
        # The approver's, in Approve-<env>, and the one Deploy-<env> makes again and executes.
        return Action(
            "ChangeSet",
            "deploy",
            "CloudFormation",
            run_order=run_order,
            uses=(f"CloudFormation change set of {env.name}",),
            minutes=STACK_MINUTES,
        )

    marks_image = ecs is not None
    approval: list[Action] = []
    order = 1
    if env.needs_approval:
        if function is not None:
            approval.append(package_mark(order))
            order += 1
        approval.append(change_set(order))
        if marks_image and not release:
            approval.append(image_mark(order))
        approval.append(
            Action("Approve", "approval", "Manual", run_order=order + 1, uses=("SNS topic",))
        )
    # After the approval, behind the gate again, before the stack changes: the release's mark
    # (so the job never runs for an image or package that is gone), then the migrations the
    # release needs.
    released: list[Action] = []
    if release:
        released.append(image_mark(1) if marks_image else package_mark(1))
        if env.before is not None:
            released.append(_job_action("Before", env.before, 2, estimate))
    actions: list[Action] = []
    order = 1
    if function is not None and not env.needs_approval:
        actions.append(package_mark(order))
        order += 1
    if env.needs_approval:
        # Made again from this execution's template and parameters, then executed (the first
        # release's stack exists only as a change set; a rollback's is the last good one's).
        actions.append(change_set(order))
        order += 1
    actions.append(
        Action(
            "Deploy",
            "deploy",
            "CloudFormation",
            run_order=order,
            uses=stack_uses,
            minutes=stack_minutes,
            ready_minutes=stack_ready,
        )
    )
    if marks_image and not env.needs_approval and not release:
        actions.append(image_mark(1))
    if service_action is not None:
        order += 1
        name, provider = service_action
        actions.append(
            Action(
                name,
                "deploy",
                provider,
                run_order=order,
                uses=uses,
                minutes=total,
                ready_minutes=ready,
            )
        )
    check = env.validation
    if check is not None:
        order += 1
        actions.append(
            Action(
                "Validate",
                "validate",
                "Lambda",
                run_order=order,
                uses=("validate_http function", check.url or f"load balancer {check.path}"),
                minutes=estimate("validate"),
            )
        )
    if env.tests is not None:
        actions.append(_job_action("Tests", env.tests, order + 1, estimate))
    deploy_name = f"Deploy-{env.name}"
    gated = gated_stage_names(spec, env)
    staged = {
        f"Approve-{env.name}": tuple(approval),
        f"Release-{env.name}": tuple(released),
        deploy_name: tuple(actions),
    }
    return [
        Stage(
            name,
            staged[name],
            environment=env.name,
            conditions=(
                (entry_conditions(spec, env, name) if name in gated else ())
                + (deploy_conditions(spec, env) if name == deploy_name else ())
            ),
            account=env.account if env in spec.foreign_environments else None,
            region=env.region if env.region in spec.other_regions else None,
        )
        for name in (*stage_names, deploy_name)
    ]


def _job_action(name: str, job: EnvironmentJob, order: int, estimate: _Estimates) -> Action:
    uses: tuple[str, ...] = ("CodeBuild project", "source revision")
    if job.junit:
        uses += ("CodeBuild test reports",)
    return Action(
        name,
        "test",
        "CodeBuild",
        run_order=order,
        uses=uses,
        minutes=min(estimate("test"), float(job.timeout_minutes)),
        compute=job.compute,
    )


def environment_conditions(spec: Spec, env: Environment) -> tuple[Condition, ...]:
    """The environment's conditions: the entry gate (which every gated stage holds, each with
    its own rule names: gated_stage_names), then the deploy stage's bake and rollback."""
    gated = gated_stage_names(spec, env)
    entry = entry_conditions(spec, env, gated[0]) if gated else ()
    return entry + deploy_conditions(spec, env)


def entry_conditions(spec: Spec, env: Environment, stage: str) -> tuple[Condition, ...]:
    """Before entry of one gated stage: the alarms that exist before the stage (those the
    deploy names) are quiet and the time is inside the window, or the stage fails without
    running. AWS: the DeploymentWindow rule holds the execution until the window opens, and
    an alarm rule in the same condition is not read again when it opens
    (rule-reference-DeploymentWindow.html, its Important note): the gate again at the next
    gated stage reads the alarms when the execution moves on, and after a wait at the last
    gated stage, Release-<env> (an approval given outside the window), its first action
    (MarkDeployed) reads them again and fails while one is in ALARM, before anything changes
    (buildspec.gate_alarm_commands; docs/pipelines.md, Where the gate sits).
    https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-DeploymentWindow.html
    https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html

    Rule names carry the stage's role (Approve, Release), one set per gated stage, so each
    stage's rules stay apart in the pipeline's definition and its history."""
    prefix = stage.split("-", 1)[0]
    entry = [
        Rule(f"{prefix}AlarmGate-{env.name}-{i}", "CloudWatchAlarm", (("AlarmName", alarm),))
        for i, alarm in enumerate(spec.entry_alarms(env), 1)
    ]
    if env.window is not None:
        window = (("Cron", env.window.cron), ("TimeZone", env.window.timezone))
        entry.append(Rule(f"{prefix}Window-{env.name}", "DeploymentWindow", window))
    return (Condition("before_entry", "FAIL", tuple(entry)),) if entry else ()


def deploy_conditions(spec: Spec, env: Environment) -> tuple[Condition, ...]:
    """On success of `Deploy-<env>`: the alarms the stage's stack created stay quiet for the
    bake, or the stage rolls back. On failure: roll back to the last execution that succeeded
    in it (the stack deploy runs again with that execution's image or package, its artifacts
    and variables).
    https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html

    No before-entry condition here (gated_stage_names: a rollback must never meet the gate).
    The gate's and the bake's alarm sets never overlap either (Spec.entry_alarms,
    Spec.bake_alarms): a stack's own alarms do not exist before its first release, so they
    cannot gate entry; and the gate's alarms measure more than this release."""
    conditions: list[Condition] = []
    baked = spec.bake_alarms(env)
    if baked:
        # WaitTime is in minutes ("The wait time in minutes to allow for a state change before
        # running the rule result"), as bake_minutes is; CDK's LambdaInvoke example that
        # writes '300' for 5 minutes is about another rule. AWS's own use case for it is this
        # bake: "roll back the changes if a CloudWatch alarm goes into ALARM state within 60
        # minutes" (a wait time of 60).
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html
        wait = ("WaitTime", str(env.bake_minutes))
        region = env.region if env.region != spec.pipeline_region else None
        bake = tuple(
            Rule(
                f"AlarmBake-{env.name}-{i}",
                "CloudWatchAlarm",
                (("AlarmName", alarm), wait),
                region=region,
            )
            for i, alarm in enumerate(baked, 1)
        )
        conditions.append(Condition("on_success", "ROLLBACK", bake))
    conditions.append(Condition("on_failure", "ROLLBACK"))
    return tuple(conditions)


def _deploy_minutes(
    env: Environment, estimate: _Estimates, spec: Spec
) -> tuple[float, float, tuple[str, ...]]:
    """Minutes until the new version serves, until the deploy is done, and what it uses."""
    ecs, function = env.deploy.ecs, env.deploy.lambda_
    if ecs is not None:
        if ecs.create is None:
            target = f"ECS service {ecs.cluster}/{ecs.service}"
        elif ecs.create.kind == "job":
            # The stack update points the schedule at the new revision: the next run starts it.
            create = ecs.create
            zone = f" ({create.timezone})" if create.timezone else ""
            ready = estimate("deploy")
            return (
                ready,
                ready,
                (
                    f"Fargate task on EventBridge Scheduler {create.schedule}{zone} ({env.name})",
                    "no service or load balancer: the next scheduled run starts the release",
                    "failed runs and runs that cannot start notify the alarm topic",
                    *_network(env),
                ),
            )
        elif env.is_worker:
            target = f"Fargate worker, no load balancer ({env.name})"
        elif ecs.create.kind == "backend":
            target = f"Fargate service, no load balancer ({env.name})"
        else:
            target = f"Fargate service + ALB ({env.name})"
        entry = (*_entry_point(env, spec), *_task_count(env), *_network(env))
        if ecs.strategy == "rolling":
            ready = estimate("deploy")
            return ready, ready, (target, *entry)
        shift = shift_minutes(ecs.traffic, ecs.percent, ecs.minutes)
        # Serving once the first traffic reaches the new version; done after the shift
        # and the bake time during which the old version stays ready to return to.
        ready = estimate("deploy", BLUE_GREEN_READY_MINUTES)
        detail = "CodeDeploy" if ecs.strategy == "blue-green" else "ECS native blue/green"
        return (
            ready,
            ready + shift + ecs.bake_minutes,
            (target, *entry, f"{detail}: {ecs.traffic}, two target groups"),
        )
    assert function is not None
    shift = shift_minutes(function.strategy, function.percent, function.minutes)
    ready = estimate("deploy", LAMBDA_READY_MINUTES)
    return (
        ready,
        ready + shift,
        (f"Lambda alias {function.alias}", f"CodeDeploy: {function.strategy}"),
    )


def _entry_point(env: Environment, spec: Spec) -> tuple[str, ...]:
    """How users reach a created web service: HTTPS on its domain, or plain HTTP."""
    create = env.deploy.ecs.create if env.deploy.ecs is not None else None
    if create is None:
        return ()
    if create.kind == "backend":
        connect = create.connect
        name = connect.name if connect is not None and connect.name else spec.app
        tail = f"-{spec.suffix}" if spec.suffix else ""
        namespace = (
            f"namespace {connect.namespace}"
            if connect is not None and connect.namespace
            else f"namespace {spec.app}-{env.name}{tail} (created; output ConnectNamespace)"
        )
        return (
            f"Service Connect http://{name}:{create.port} in {namespace}",
            "health command + circuit breaker judge each release",
        )
    if create.kind == "worker":
        queue = create.queue or WorkerQueue()
        return (
            "SQS queue (KMS, TLS only; QUEUE_URL, QUEUE_ARN), dead-letter queue after "
            f"{queue.max_receive_count} receives, kept 14 days, alarmed to the alarm topic",
            "deploy judged by health_command (circuit breaker rolls back)",
        )
    domain = create.domain
    if domain is not None:
        certificate = "ACM certificate" if domain.certificate_arn else "ACM certificate (created)"
        record = ", Route 53 alias" if domain.hosted_zone_id else ""
        return (f"HTTPS https://{domain.name} ({certificate}{record}; port 80 redirects)",)
    if create.certificate_arn is not None:
        return ("HTTPS on the load balancer's name (ACM certificate; port 80 redirects)",)
    if create.plain_http is not None:
        return (f"plain HTTP on port 80 (opted out: {create.plain_http.reason})",)
    return ("plain HTTP on port 80",)


def _network(env: Environment) -> tuple[str, ...]:
    """Where a created service's tasks run and how they reach AWS's services."""
    create = env.deploy.ecs.create if env.deploy.ecs is not None else None
    if create is None:
        return ()
    where = f"VPC {create.vpc.id}" if create.vpc is not None else "its own VPC"
    if create.kind == "job":
        if create.placement == "public":
            return (f"tasks in public subnets of {where}, a public IPv4 address each, no inbound",)
        nat = ", one NAT gateway" if create.nat_gateways else ""
        return (f"tasks in private subnets of {where}{nat}, no inbound",)
    if create.placement == "public":
        hook = "" if create.hook_in_vpc else "; no NAT gateway"
        return (f"tasks in public subnets of {where}, a public IPv4 address each{hook}",)
    nat = ", one NAT gateway" if create.nat_gateways else ""
    internal = (
        ("internal load balancer: reachable from the VPC only",)
        if create.kind == "web" and not create.public
        else ()
    )
    return (f"tasks in private subnets of {where}{nat}", *internal)


def _task_count(env: Environment) -> tuple[str, ...]:
    """How many tasks a created service runs: fixed, or scaled between min and max."""
    create = env.deploy.ecs.create if env.deploy.ecs is not None else None
    if create is None:
        return ()
    scaling = create.scaling
    if scaling is None:
        count = create.desired_count
        return (f"{count} task" if count == 1 else f"{count} tasks",)
    targets = [
        f"{label} {value}{unit}"
        for label, value, unit in (
            ("CPU", scaling.cpu, "%"),
            ("memory", scaling.memory, "%"),
            ("requests", scaling.requests_per_target, " per task a minute"),
            ("queue backlog", scaling.messages_per_task, " messages per task"),
        )
        if value is not None
    ]
    return (f"auto scaling {scaling.min}-{scaling.max} tasks ({', '.join(targets)})",)


def _running_services(spec: Spec) -> list[RunningService]:
    services = []
    for env in spec.environments:
        create = env.deploy.ecs.create if env.deploy.ecs is not None else None
        if create is not None and create.kind == "job":
            assert create.schedule is not None
            services.append(
                RunningService(
                    environment=env.name,
                    cpu=create.cpu,
                    memory_mib=create.memory,
                    tasks=1,
                    load_balancer=False,
                    nat_gateways=create.nat_gateways,
                    public_tasks=create.placement == "public",
                    runs_per_month=runs_per_month(create.schedule),
                )
            )
        elif create is not None:
            services.append(
                RunningService(
                    environment=env.name,
                    cpu=create.cpu,
                    memory_mib=create.memory,
                    tasks=create.scaling.min if create.scaling else create.desired_count,
                    max_tasks=create.scaling.max if create.scaling else None,
                    load_balancer=create.kind == "web",
                    queue=env.is_worker,
                    producers=len(create.queue.producers) if create.queue is not None else 0,
                    nat_gateways=create.nat_gateways,
                    public_tasks=create.placement == "public",
                    domain=create.domain.name if create.domain is not None else None,
                )
            )
    return services
