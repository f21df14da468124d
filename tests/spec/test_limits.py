"""Specs that pass the models' field checks but would fail at synthesis or deploy time: each
is refused by `validate` with what to change (found by a review that tried to break conveyor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.spec import SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "examples" / "web-service.yaml").read_text()


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("replace", "with_", "fragment"),
    [
        # Derived names over AWS limits (load balancer names: 32 characters).
        ("app: web", "app: abcdefghijklmnopqrstuvwx\nsuffix: feature-1234", "AWS allows 32"),
        # Environment names: no trailing or doubled hyphen (they become construct ids).
        ("- name: prod", "- name: prod-", "'prod-'"),
        ("- name: prod", "- name: a--b", "'a--b'"),
        # Fargate has fixed cpu/memory pairs.
        (
            "desired_count: 2\n",
            "desired_count: 2\n          cpu: 256\n          memory: 30720\n",
            "memory is 512, 1024, 2048",
        ),
        (
            "desired_count: 2\n",
            "desired_count: 2\n          cpu: 1024\n          memory: 1024\n",
            "with cpu 1024",
        ),
        # Tags: AWS's characters and lengths.
        (
            "owner: team-web",
            "owner: team (web) & ops!",
            "owner: 'team (web) & ops!' is not a valid tag value",
        ),
        (
            "owner: team-web",
            "owner: team-web\ntags: {CostCenter: ''}",
            "tags.CostCenter: '' is not a valid",
        ),
        ("owner: team-web", "owner: team-web\ntags: {'" + "k" * 129 + "': v}", "1 to 128"),
    ],
    ids=[
        "long-names",
        "trailing-hyphen",
        "double-hyphen",
        "fargate-memory",
        "fargate-pair",
        "owner-chars",
        "empty-tag",
        "long-tag-key",
    ],
)
def test_refused_before_synthesis(replace: str, with_: str, fragment: str) -> None:
    assert replace in BASE
    report = _error(BASE.replace(replace, with_, 1))
    assert fragment in report, report


def test_deprecated_runtime_is_refused() -> None:
    text = (ROOT / "examples" / "lambda-canary.yaml").read_text()
    report = _error(
        text.replace(
            "runtime: python3.12, handler: app.handler, package: function.zip}",
            "runtime: nodejs20.x, handler: app.handler, package: function.zip}",
            1,
        )
    )
    assert "'nodejs20.x' is not allowed" in report


def test_image_scans_need_an_image() -> None:
    text = (
        ROOT / "examples" / "lambda-canary.yaml"
    ).read_text() + "checks: {scans: {tools: [gitleaks, trivy]}}\n"
    assert "trivy scan a container image" in _error(text)


def test_other_accounts_need_the_pipeline_account() -> None:
    text = (
        (ROOT / "examples" / "multi-account.yaml")
        .read_text()
        .replace('account: "111111111111"\n', "", 1)
    )
    assert "add account:" in _error(text)


@pytest.mark.parametrize("example", ["multi-account", "lambda-other-account"])
def test_codedeploy_deploys_into_another_account(example: str) -> None:
    """Issue 10: CodeDeploy blue/green and Lambda canary in another account are accepted (they
    were refused while their hooks could not run there)."""
    spec = load_spec(ROOT / "examples" / f"{example}.yaml")
    (foreign,) = spec.foreign_environments
    assert foreign.deploy.lambda_ is not None or (
        foreign.deploy.ecs is not None and foreign.deploy.ecs.strategy == "blue-green"
    )


def test_every_example_is_within_the_limits() -> None:
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        load_spec(path)


def test_lambda_shift_must_fit_the_cloudformation_action_timeout() -> None:
    """The stack update waits for CodeDeploy's shift; CodePipeline gives a CloudFormation
    deploy action 3 days, fixed (limits.html)."""
    text = (ROOT / "examples" / "lambda-canary.yaml").read_text()
    canary = "strategy: canary\n        percent: 10\n        minutes: 5"
    assert canary in text
    report = _error(
        text.replace(canary, "strategy: linear\n        percent: 10\n        minutes: 600")
    )
    assert "the linear shift takes 5400 minutes, longer than the 3 days (4320 minutes)" in report
    assert "shorten minutes or raise percent" in report
    # Two days of canary fit.
    parse_spec(
        text.replace(canary, "strategy: canary\n        percent: 10\n        minutes: 2880"),
        "c.yaml",
    )


def test_a_lambda_deploy_timeout_from_an_old_spec_is_refused_with_what_to_do() -> None:
    """timeout_minutes was accepted and changed nothing (issue 16 review): an old spec that sets
    it is told why and to delete the line, not left believing it bounds the deploy."""
    text = (ROOT / "examples" / "lambda-canary.yaml").read_text()
    old = text.replace(
        "        minutes: 5\n", "        minutes: 5\n        timeout_minutes: 120\n", 1
    )
    report = _error(old)
    assert "environments[1].deploy.lambda: timeout_minutes is not a setting of a Lambda deploy" in (
        report
    )
    assert "delete the line" in report


@pytest.mark.parametrize("example", ["worker-service", "scheduled-job", "backend-service"])
def test_a_service_without_a_load_balancer_is_not_held_to_its_name_limit(example: str) -> None:
    """A worker, a job and a backend have no load balancer: a name that only a load balancer
    (32 characters) could not take is no reason to refuse them (issue 15 review). Their other
    names still are checked (64 characters)."""
    path = ROOT / "examples" / f"{example}.yaml"
    if not path.exists():
        pytest.skip(f"no {example} example")
    text = path.read_text()
    app = parse_spec(text, "conveyor.yaml").app
    longer = text.replace(f"app: {app}\n", "app: thumbnail-render-queue\n", 1)
    spec = parse_spec(longer, "conveyor.yaml")
    assert spec.app == "thumbnail-render-queue"
    suffixed = "app: thumbnail-render-queue\nsuffix: feature-1234\n"
    too_long = longer.replace("app: thumbnail-render-queue\n", suffixed, 1).replace(
        "- name: staging\n", "- name: staging-eu\n", 1
    )
    assert "AWS allows 64" in _error(too_long)
