"""The plan: what runs when, and the critical-path estimate users plan releases with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.plan import Stage, plan
from conveyor.spec import load_spec, parse_spec
from conveyor.spec.models import DeploymentWindow

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.mark.xfail(
    strict=True,
    reason="issue 10: the environment's stack update (0.5 min) now precedes CodeDeploy; "
    "staging serves ~5.5 min after the build starts in the estimate, over S3's five",
)
def test_payments_is_serving_in_staging_within_five_minutes_of_the_build() -> None:
    """S3 asked for five minutes: parallel checks and blue/green make it, from the start of the
    build; the pipeline's own update (UpdatePipeline, about 1.8 minutes) comes before it."""
    result = plan(load_spec(ROOT / "examples" / "payments.yaml"))
    before_build = result.minutes_until("UpdatePipeline")
    assert result.minutes_until_serving("staging") - before_build <= 5.0


def test_payments_checks_run_in_parallel_waves() -> None:
    result = plan(load_spec(ROOT / "examples" / "payments.yaml"))
    before_build = result.minutes_until("UpdatePipeline")
    assert before_build == pytest.approx(0.2 + 1.5 + 0.3)
    build = next(s for s in result.stages if s.name == "Build")
    first_wave = {a.name for a in build.waves()[0]}
    assert {"Build", "Test-unit", "Test-integration", "Scan-bandit", "Scan-gitleaks"} <= first_wave
    assert [a.name for a in build.waves()[1]] == ["Scan-trivy"]
    assert [a.name for a in build.waves()[2]] == ["ScanGate"]


def test_waves_add_up_along_the_critical_path() -> None:
    result = plan(load_spec(ROOT / "examples" / "payments.yaml"))
    # source 0.2 + UpdatePipeline (synth 1.5, stack update 0.3)
    # + build wave max(2.0 large build, 2.0 tests, 1.5 scans) + trivy 1.0 + gate 0.2
    assert result.minutes_until("Build") == pytest.approx(5.2)
    # + the environment's stack update (0.5) + blue/green all-at-once until serving (1.5)
    assert result.minutes_until_serving("staging") == pytest.approx(7.2)
    staging = next(s for s in result.stages if s.environment == "staging")
    deploy = next(a for a in staging.actions if a.name == "CodeDeploy")
    assert deploy.minutes == pytest.approx(1.5 + 0 + 5)  # ready + no shift + 5 min bake
    stack = next(a for a in staging.actions if a.name == "Deploy")
    assert (stack.provider, stack.run_order, deploy.run_order) == ("CloudFormation", 1, 2)


def test_estimates_from_the_spec_replace_the_defaults() -> None:
    text = (ROOT / "examples" / "web-service.yaml").read_text() + "estimates: {build: 10}\n"
    result = plan(parse_spec(text))
    build = next(a for s in result.stages for a in s.actions if a.name == "Build")
    assert build.minutes == 10


def test_linear_shifts_count_every_step() -> None:
    result = plan(load_spec(ROOT / "examples" / "native-blue-green.yaml"))
    deploy = next(
        a for s in result.stages for a in s.actions if a.name == "Deploy" and s.environment
    )
    assert deploy.provider == "CloudFormation"  # the stack update is the native deployment
    # 25 % every 2 minutes: three waits before the last step, then a 10 minute bake.
    assert deploy.minutes == pytest.approx(1.5 + 3 * 2 + 10)
    assert deploy.ready_minutes == pytest.approx(1.5)


def test_production_waits_for_approval_by_default() -> None:
    result = plan(load_spec(ROOT / "examples" / "web-service.yaml"))
    approve, deploy = [s for s in result.stages if s.environment == "prod"]
    # Issue 11: the change set, the approval that shows it (the image tag beside the first) in a
    # stage of their own, which a rollback of the deploy stage never runs again.
    assert approve.name == "Approve-prod" and approve.conditions == ()
    assert [(a.name, a.kind, a.run_order) for a in approve.actions] == [
        ("ChangeSet", "deploy", 1),
        ("MarkDeployed", "deploy", 1),
        ("Approve", "approval", 2),
    ]
    assert deploy.name == "Deploy-prod"
    # The change set made again from this execution's template, then executed (the first
    # release's stack exists only as a change set; a rollback's is the last good release's).
    assert [(a.name, a.kind, a.run_order) for a in deploy.actions] == [
        ("ChangeSet", "deploy", 1),
        ("Deploy", "deploy", 2),
        ("Validate", "validate", 3),
    ]
    assert [c.result for c in deploy.conditions if c.kind == "on_failure"] == ["ROLLBACK"]


def test_no_stage_that_rolls_back_waits_for_a_person_runs_a_before_job_or_has_a_gate() -> None:
    """Issue 11: a stage rollback runs the stage's actions again; the approval and the before
    job (a migration) run once per release, in the stages before the deploy stage, and no gate
    sits on the entry of a stage that rolls back (a rollback must never wait at it)."""
    checked = 0
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        spec = load_spec(path)
        for stage in plan(spec).stages:
            rolls_back = any(c.result == "ROLLBACK" for c in stage.conditions)
            names = {a.name for a in stage.actions}
            if rolls_back:
                assert not names & {"Approve", "Before"}, (path.name, stage.name)
                assert not _gate(stage), (path.name, stage.name)
                checked += 1
            if "Approve" in names:
                assert stage.name == f"Approve-{stage.environment}"
            if "Before" in names:
                assert stage.name == f"Release-{stage.environment}"
    assert checked


def _gate(stage: Stage) -> list[str]:
    return [
        rule.provider
        for condition in stage.conditions
        if condition.kind == "before_entry"
        for rule in condition.rules
    ]


def test_the_gate_holds_before_the_approval_and_again_before_the_first_change() -> None:
    """Issue 11 (review defect 5): the window and alarm gate hold the entry of Approve-prod (no
    one approves a release that may not go now) and of Release-prod (after the approval, however
    long it waited, before the image's mark and the migration); never of Deploy-prod, which
    follows its migration (the window must not strand an applied migration without its code)
    and rolls back (a rollback must not wait for the window or a firing alarm: FM124)."""
    result = plan(load_spec(ROOT / "examples" / "payments.yaml"))
    prod = [s for s in result.stages if s.environment == "prod"]
    assert [s.name for s in prod] == ["Approve-prod", "Release-prod", "Deploy-prod"]
    approve, release, deploy = prod
    assert [(a.name, a.run_order) for a in approve.actions] == [("ChangeSet", 1), ("Approve", 2)]
    # The image's mark first: an image expired while the approval waited fails the stage
    # before the migration runs.
    assert [(a.name, a.run_order) for a in release.actions] == [
        ("MarkDeployed", 1),
        ("Before", 2),
    ]
    assert _gate(approve) == _gate(release) == ["CloudWatchAlarm", "DeploymentWindow"]
    assert _gate(deploy) == []
    names = [r.name for s in prod for c in s.conditions for r in c.rules]
    assert len(names) == len(set(names))  # each stage's rules by their own names
    assert "ReleaseWindow-prod" in names
    assert [c.result for c in deploy.conditions] == ["ROLLBACK", "ROLLBACK"]  # bake, failure
    assert not [c for s in (approve, release) for c in s.conditions if c.kind != "before_entry"]
    # The image is tagged once per release, never in the stage that rolls back.
    assert [s.name for s in prod if "MarkDeployed" in {a.name for a in s.actions}] == [
        "Release-prod"
    ]


def test_the_plan_says_a_gate_with_a_window_reads_its_alarms_on_arrival() -> None:
    """Issue 11 review: AWS reads a CloudWatchAlarm rule that shares an entry condition with a
    DeploymentWindow rule when the execution arrives, and not again when the window opens
    (rule-reference-CloudWatchAlarm.html, Important); Release-<env>'s first action reads them
    again (buildspec.gate_alarm_commands). The plan says both, so nobody believes the rule
    itself reads them after a wait for the window."""
    result = plan(load_spec(ROOT / "examples" / "payments.yaml"))
    release = next(s for s in result.stages if s.name == "Release-prod")
    (gate,) = [c.describe() for c in release.conditions if c.kind == "before_entry"]
    assert (
        "alarms quiet (payments-ledger-errors) on arrival, and again by Release's first "
        "action (MarkDeployed) once the window opens"
    ) in gate
    # Alarms with no window in their condition (the bake) are read as they are: no remark.
    (bake,) = [
        c.describe()
        for s in result.stages
        if s.name == "Deploy-prod"
        for c in s.conditions
        if c.kind == "on_success"
    ]
    assert "on arrival" not in bake


@pytest.mark.parametrize(
    ("approval", "before", "gate", "stages", "gated"),
    [
        (True, True, True, ["Approve", "Release", "Deploy"], ["Approve", "Release"]),
        (True, False, True, ["Approve", "Release", "Deploy"], ["Approve", "Release"]),
        (False, True, True, ["Release", "Deploy"], ["Release"]),
        (False, False, True, ["Release", "Deploy"], ["Release"]),
        # No gate: no stage added for nothing; a before job still has its own.
        (True, True, False, ["Approve", "Release", "Deploy"], []),
        (True, False, False, ["Approve", "Deploy"], []),
        (False, True, False, ["Release", "Deploy"], []),
        (False, False, False, ["Deploy"], []),
    ],
)
def test_which_stages_the_gate_holds(
    approval: bool, before: bool, gate: bool, stages: list[str], gated: list[str]
) -> None:
    spec = load_spec(ROOT / "examples" / "payments.yaml")
    prod = spec.environments[-1]
    assert prod.deploy.ecs is not None
    env = prod.model_copy(
        update={
            "approval": approval,
            "before": prod.before if before else None,
            "window": prod.window if gate else None,
            "deploy": prod.deploy.model_copy(
                update={
                    "ecs": prod.deploy.ecs.model_copy(
                        update={"alarms": prod.deploy.ecs.alarms if gate else ()}
                    )
                }
            ),
        }
    )
    spec = spec.model_copy(update={"environments": (*spec.environments[:-1], env)})
    found = [s for s in plan(spec).stages if s.environment == "prod"]
    assert [s.name for s in found] == [f"{name}-prod" for name in stages]
    assert [s.name for s in found if _gate(s)] == [f"{name}-prod" for name in gated]
    # Every stage has work (CodePipeline needs an action per stage); the image is marked once.
    assert all(s.actions for s in found)
    marks = [s.name for s in found if "MarkDeployed" in {a.name for a in s.actions}]
    assert len(marks) == 1
    assert marks[0].startswith(stages[-2] if len(stages) > 1 else "Deploy")


def test_a_gated_lambda_environment_copies_its_package_in_release_and_again_in_deploy() -> None:
    """A Lambda environment's stack deploys the copy its deploy stage exports, so a rollback of
    that stage makes its own copy; Release-<env> copies first (the gate holds real work, and an
    expired package fails before anything changes); the copy is idempotent."""
    spec = load_spec(ROOT / "examples" / "lambda-canary.yaml")
    first = spec.environments[0].model_copy(
        update={"window": DeploymentWindow(cron="* * 9-16 ? * MON-FRI *", timezone="UTC")}
    )
    spec = spec.model_copy(update={"environments": (first, *spec.environments[1:])})
    found = [s for s in plan(spec).stages if s.environment == first.name]
    assert [s.name for s in found] == [f"Release-{first.name}", f"Deploy-{first.name}"]
    release, deploy = found
    assert [a.name for a in release.actions] == ["MarkDeployed"]
    assert [a.name for a in deploy.actions][:2] == ["MarkDeployed", "Deploy"]
    assert _gate(release) == ["DeploymentWindow"] and _gate(deploy) == []


def test_plan_command_prints_waves_and_estimates() -> None:
    outcome = runner.invoke(app, ["plan", str(ROOT / "examples" / "payments.yaml")])
    assert outcome.exit_code == 0, outcome.output
    assert "6 actions in parallel" in outcome.output
    assert "staging serves the new version after ~7.2 min" in outcome.output


def test_plan_command_json_is_a_contract() -> None:
    outcome = runner.invoke(
        app, ["plan", str(ROOT / "examples" / "payments.yaml"), "--format", "json"]
    )
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.output)
    assert data["app"] == "payments"
    assert data["minutes_until_serving"]["staging"] == pytest.approx(7.2)
    assert [s["name"] for s in data["stages"]] == [
        "Source",
        "UpdatePipeline",
        "Build",
        "Deploy-staging",
        "Approve-prod",
        "Release-prod",
        "Deploy-prod",
    ]


def test_plan_command_rejects_a_bad_spec(tmp_path: Path) -> None:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text("app: x\n")
    outcome = runner.invoke(app, ["plan", str(spec)])
    assert outcome.exit_code == 2
    assert "required key 'owner' is missing" in outcome.output


def test_plan_command_shows_each_stages_conditions() -> None:
    outcome = runner.invoke(app, ["plan", str(ROOT / "examples" / "payments.yaml")])
    assert outcome.exit_code == 0, outcome.output
    assert "on failure: retry the failed actions" in outcome.output
    assert outcome.output.count("on failure: roll back to the last successful execution") == 2


def test_plan_command_json_lists_conditions_with_their_rules() -> None:
    outcome = runner.invoke(
        app, ["plan", str(ROOT / "examples" / "payments.yaml"), "--format", "json"]
    )
    stages = {s["name"]: s for s in json.loads(outcome.output)["stages"]}
    assert stages["Source"]["conditions"] == []
    (retry,) = stages["Build"]["conditions"]
    assert (retry["kind"], retry["result"], retry["retry_mode"]) == (
        "on_failure",
        "RETRY",
        "FAILED_ACTIONS",
    )
    failure = [c for c in stages["Deploy-prod"]["conditions"] if c["kind"] == "on_failure"]
    assert [(c["result"], c["rules"]) for c in failure] == [("ROLLBACK", [])]


def test_the_plan_says_where_created_services_run_and_cost_counts_it() -> None:
    """Issue 15: validated-service's staging runs NAT-free (placement: public), production in
    private subnets behind its NAT gateway; plan shows both, cost drops staging's NAT lines."""
    spec = load_spec(ROOT / "examples" / "validated-service.yaml")
    result = plan(spec)
    uses = {
        stage.name: [use for action in stage.actions for use in action.uses]
        for stage in result.stages
    }
    assert (
        "tasks in public subnets of its own VPC, a public IPv4 address each; no NAT gateway"
        in uses["Deploy-staging"]
    )
    assert "tasks in private subnets of its own VPC, one NAT gateway" in uses["Deploy-prod"]
    staging, prod = result.services
    assert (staging.nat_gateways, staging.public_tasks) == (0, True)
    assert (prod.nat_gateways, prod.public_tasks) == (1, False)
    outcome = runner.invoke(
        app, ["cost", str(ROOT / "examples" / "validated-service.yaml"), "--format", "json"]
    )
    assert outcome.exit_code == 0, outcome.output
    items = [line["item"] for line in json.loads(outcome.output)["lines"]]
    assert "NAT gateway hours (prod)" in items
    assert "NAT gateway hours (staging)" not in items
    assert "public IPv4 addresses (staging: 3)" in items  # the ALB's two and the one task's


def test_the_plan_shows_a_worker_its_queue_and_its_backlog_scaling() -> None:
    """Issue 15: a worker has no load balancer and no entry point but its queue; production
    scales on the backlog per task; cost counts no load balancer and the queue."""
    spec = load_spec(ROOT / "examples" / "worker-service.yaml")
    result = plan(spec)
    uses = {
        stage.name: [use for action in stage.actions for use in action.uses]
        for stage in result.stages
    }
    prod = uses["Deploy-prod"]
    assert "Fargate worker, no load balancer (prod)" in prod
    assert any(u.startswith("SQS queue (KMS, TLS only") for u in prod)
    assert "auto scaling 2-10 tasks (queue backlog 50 messages per task)" in prod
    assert not any("HTTP" in u for u in prod)
    assert all(not s.load_balancer and s.queue for s in result.services)
    outcome = runner.invoke(
        app, ["cost", str(ROOT / "examples" / "worker-service.yaml"), "--format", "json"]
    )
    assert outcome.exit_code == 0, outcome.output
    items = [line["item"] for line in json.loads(outcome.output)["lines"]]
    assert not any(item.startswith("ALB hours") for item in items)
    assert any(item.startswith("queue requests (prod") for item in items)


def test_one_task_is_one_task_in_the_plan_and_the_diagram() -> None:
    """desired_count: 1 reads "1 task" (the plan, and the diagram drawn from it), 2 "2 tasks"."""
    from conveyor.diagram.mermaid import to_mermaid

    single = plan(load_spec(ROOT / "examples" / "internal-service.yaml"))
    uses = [use for stage in single.stages for action in stage.actions for use in action.uses]
    assert "1 task" in uses
    assert not any("1 tasks" in use for use in uses)
    drawn = to_mermaid(single)
    assert "1 task" in drawn and "1 tasks" not in drawn
    two = plan(load_spec(ROOT / "examples" / "web-service.yaml"))
    assert "2 tasks" in [u for s in two.stages for a in s.actions for u in a.uses]


def test_a_backend_deploy_shows_its_service_connect_endpoint_and_no_load_balancer() -> None:
    """kind: backend: no ALB, the name clients call in which namespace, and what judges the
    release (no Validate action follows the deploy)."""
    spec = load_spec(ROOT / "examples" / "backend-service.yaml")
    stages = {s.name: s for s in plan(spec).stages}
    staging = {a.name: a for a in stages["Deploy-staging"].actions}
    assert "Validate" not in staging
    uses = staging["Deploy"].uses
    assert "Fargate service, no load balancer (staging)" in uses
    assert (
        "Service Connect http://rates:8080 in namespace rates-staging (created; output "
        "ConnectNamespace)"
    ) in uses
    assert "health command + circuit breaker judge each release" in uses
    prod = {a.name: a for a in stages["Deploy-prod"].actions}["Deploy"].uses
    assert "Service Connect http://rates:8080 in namespace platform-prod" in prod
    assert not any("load balancer" in use and "no load balancer" not in use for use in prod)


def test_an_environment_in_another_region_says_where_in_plan_and_diagram() -> None:
    """examples/multi-region.yaml: production's stages name us-east-1 (text, JSON, Mermaid), and
    the resources name that region's support stack; staging's name no region."""
    from conveyor.diagram.mermaid import to_mermaid

    spec = load_spec(ROOT / "examples" / "multi-region.yaml")
    result = plan(spec)
    regions = {stage.name: stage.region for stage in result.stages if stage.environment}
    assert regions == {
        "Deploy-staging": None,
        "Approve-prod": "us-east-1",
        "Deploy-prod": "us-east-1",
    }
    assert result.other_regions == ("us-east-1",)
    assert "us-east-1: S3 artifact bucket, KMS key, ECR repository" in result.resources
    assert "· region us-east-1" in to_mermaid(result)
    out = CliRunner().invoke(app, ["plan", str(ROOT / "examples" / "multi-region.yaml")])
    assert "Deploy-prod  ~" in out.output and "(in us-east-1)" in out.output
    as_json = CliRunner().invoke(
        app, ["plan", str(ROOT / "examples" / "multi-region.yaml"), "--format", "json"]
    )
    stages = {s["name"]: s for s in json.loads(as_json.output)["stages"]}
    assert stages["Deploy-prod"]["region"] == "us-east-1"
    assert "region" not in stages["Deploy-staging"]
