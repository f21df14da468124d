"""Generator and checker agree (issue 16): any spec the models accept synthesizes templates that
`conveyor check` finds nothing wrong with. A finding here is a bug in one of the two: either
conveyor generates the mistake, or the rule calls a correct template wrong. The one exception is
the findings `conveyor validate` already warns about (a safeguard the spec turns off: no check
after a deploy, CV074; scanning off, CV085). Shrinking is off: every example costs a synth.

Specs are drawn from the models' own ranges (hypothesis), each synthesized once (seconds), so CI
runs a handful of fixed examples (derandomized, no example database). For a longer random run:

    CONVEYOR_AGREE_EXAMPLES=60 .venv/bin/pytest tests/synth/test_generator_agrees.py -q
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conveyor.spec.models import FARGATE_MEMORY, LOG_RETENTION_DAYS, LambdaRuntime, Spec
from conveyor.spec.readiness import concerns

LONG_RUN = "CONVEYOR_AGREE_EXAMPLES" in os.environ
AGREE = settings(
    max_examples=int(os.environ.get("CONVEYOR_AGREE_EXAMPLES", "6")),
    deadline=None,
    # CI: the same specs every run, so a finding is reproducible; a long run explores.
    derandomize=not LONG_RUN,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
REQUIRED_TAGS = ["App", "Environment", "ManagedBy", "Owner"]
CONNECTION = (
    "arn:aws:codestar-connections:{region}:111111111111:connection/"
    "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)
REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2"]
ENV_NAMES = ["dev", "test", "staging", "qa", "prod", "production", "live"]
SHIFTS = ["all-at-once", "canary", "linear"]


def _maybe(draw: st.DrawFn, key: str, values: st.SearchStrategy[Any]) -> dict[str, Any]:
    """`{key: value}` or nothing, so the models' defaults are drawn as often as set values."""
    return {key: draw(values)} if draw(st.booleans()) else {}


@st.composite
def sources(draw: st.DrawFn, region: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["github", "s3", "codecommit"]))
    if kind == "github":
        return {
            "github": {
                "repo": "acme/app",
                "connection": CONNECTION.format(region=region),
                **_maybe(draw, "branch", st.sampled_from(["main", "release"])),
                **_maybe(
                    draw,
                    "pull_requests",
                    st.sampled_from([True, {"branches": ["main"], "events": ["OPEN"]}]),
                ),
            }
        }
    if kind == "s3":
        return {"s3": _maybe(draw, "key", st.sampled_from(["source.zip", "app/source.zip"]))}
    return {"codecommit": {"repository": "app", **_maybe(draw, "branch", st.just("trunk"))}}


@st.composite
def created_services(draw: st.DrawFn) -> dict[str, Any]:
    cpu = draw(st.sampled_from(sorted(FARGATE_MEMORY)))
    return {
        **_maybe(draw, "port", st.sampled_from([80, 3000, 8080])),
        "cpu": cpu,
        "memory": draw(st.sampled_from(FARGATE_MEMORY[cpu])),
        **_maybe(draw, "desired_count", st.integers(1, 4)),
        **_maybe(draw, "health_check_path", st.sampled_from(["/health", "/healthz"])),
        **_maybe(draw, "env", st.just({"LOG_LEVEL": "info"})),
        **_maybe(draw, "placement", st.sampled_from(["private", "public"])),
        **_maybe(draw, "public", st.booleans()),
    }


@st.composite
def workers(draw: st.DrawFn) -> dict[str, Any]:
    """A worker (create.kind: worker): no port, path or load balancer keys; a health command;
    its queue's settings and scaling on the backlog, sometimes."""
    cpu = draw(st.sampled_from(sorted(FARGATE_MEMORY)))
    return {
        "kind": "worker",
        "health_command": ["CMD-SHELL", "test -f /tmp/healthy"],
        "cpu": cpu,
        "memory": draw(st.sampled_from(FARGATE_MEMORY[cpu])),
        **_maybe(draw, "desired_count", st.integers(2, 4)),
        **_maybe(draw, "placement", st.sampled_from(["private", "public"])),
        **_maybe(
            draw,
            "queue",
            st.fixed_dictionaries(
                {
                    "visibility_timeout_seconds": st.integers(0, 900),
                    "max_receive_count": st.integers(1, 10),
                    "retention_days": st.integers(1, 7),
                }
            ),
        ),
    }


@st.composite
def created_backends(draw: st.DrawFn) -> dict[str, Any]:
    """kind: backend: no load balancer, a health command, Service Connect."""
    cpu = draw(st.sampled_from(sorted(FARGATE_MEMORY)))
    return {
        "kind": "backend",
        "cpu": cpu,
        "memory": draw(st.sampled_from(FARGATE_MEMORY[cpu])),
        "health_command": draw(
            st.sampled_from(
                [
                    ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
                    ["CMD", "/healthz"],
                ]
            )
        ),
        **_maybe(draw, "port", st.sampled_from([3000, 8080])),
        **_maybe(draw, "desired_count", st.integers(1, 4)),
        **_maybe(draw, "placement", st.sampled_from(["private", "public"])),
        **_maybe(
            draw,
            "connect",
            st.sampled_from(
                [{"namespace": "platform"}, {"name": "rates"}, {"client_cidrs": ["10.9.0.0/16"]}]
            ),
        ),
    }


@st.composite
def created_jobs(draw: st.DrawFn) -> dict[str, Any]:
    """kind: job: a schedule (cron or rate, maybe a time zone), maybe a command; no port, no
    load balancer keys, no task count."""
    cpu = draw(st.sampled_from(sorted(FARGATE_MEMORY)))
    return {
        "kind": "job",
        "schedule": draw(
            st.sampled_from(["cron(0 3 * * ? *)", "rate(6 hours)", "cron(0/15 8-18 ? * MON-FRI *)"])
        ),
        "cpu": cpu,
        "memory": draw(st.sampled_from(FARGATE_MEMORY[cpu])),
        **_maybe(draw, "timezone", st.sampled_from(["Europe/Berlin", "UTC"])),
        **_maybe(draw, "command", st.just(["python", "-m", "app.nightly"])),
        **_maybe(draw, "placement", st.sampled_from(["private", "public"])),
    }


@st.composite
def ecs_deploys(draw: st.DrawFn) -> dict[str, Any]:
    strategy = draw(st.sampled_from(["rolling", "blue-green", "native-blue-green"]))
    deploy: dict[str, Any] = {"strategy": strategy}
    if strategy == "rolling" and draw(st.booleans()):
        return {**deploy, "cluster": "apps", "service": "api"}
    if strategy == "rolling" and draw(st.integers(0, 3)) == 0:
        return {**deploy, "create": draw(workers())}
    if strategy == "rolling" and draw(st.booleans()):
        return {**deploy, "create": draw(created_backends())}
    if strategy == "rolling" and draw(st.integers(0, 3)) == 0:
        return {**deploy, "create": draw(created_jobs())}
    deploy["create"] = draw(created_services())
    if strategy != "rolling":
        deploy["traffic"] = draw(st.sampled_from(SHIFTS))
        deploy["percent"] = draw(st.sampled_from([10, 25, 50]))
        deploy["minutes"] = draw(st.integers(1, 5))
        deploy["bake_minutes"] = draw(st.integers(0, 10))
    return deploy


@st.composite
def lambda_deploys(draw: st.DrawFn, runtime: str, architecture: str) -> dict[str, Any]:
    return {
        "strategy": draw(st.sampled_from(SHIFTS)),
        "percent": draw(st.sampled_from([10, 25, 50])),
        "minutes": draw(st.integers(1, 10)),
        "function": {
            "runtime": runtime,
            "architecture": architecture,
            **_maybe(draw, "memory", st.sampled_from([128, 256, 1024])),
            **_maybe(draw, "timeout_seconds", st.integers(1, 900)),
        },
        **_maybe(draw, "alias", st.sampled_from(["live", "prod"])),
    }


@st.composite
def environments(draw: st.DrawFn, kind: str) -> list[dict[str, Any]]:
    names = draw(st.lists(st.sampled_from(ENV_NAMES), min_size=1, max_size=3, unique=True))
    runtime = draw(st.sampled_from(get_args(LambdaRuntime)))
    architecture = draw(st.sampled_from(["arm64", "x86_64"]))
    result = []
    for name in names:
        if kind == "ecs":
            deploy: dict[str, Any] = {"ecs": draw(ecs_deploys())}
        else:
            deploy = {"lambda": draw(lambda_deploys(runtime, architecture))}
        env: dict[str, Any] = {"name": name, "deploy": deploy}
        env |= _maybe(draw, "approval", st.booleans())
        env |= _maybe(draw, "production", st.booleans())
        creates = kind == "ecs" and "create" in deploy["ecs"]
        if creates and deploy["ecs"]["create"].get("kind") in ("worker", "backend"):
            pass  # nothing calls them over HTTP: the health command judges the deployment
        elif creates and deploy["ecs"]["create"].get("kind") == "job":
            pass  # a job serves nothing: its runs' exit codes judge it
        elif creates and draw(st.booleans()):
            env["validate"] = {"http": {"path": "/health"}}
        elif draw(st.booleans()):
            env["validate"] = {"http": {"url": f"https://{name}.example.com/health"}}
        result.append(env)
    return result


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from(["ecs", "lambda"]))
    build: dict[str, Any] = {
        "compute": draw(st.sampled_from(["small", "medium", "large", "xlarge", "2xlarge"])),
        "timeout_minutes": draw(st.integers(5, 120)),
        **_maybe(draw, "env", st.just({"TOKEN": "ssm:/app/token", "STAGE": "ci"})),
        **_maybe(draw, "runtimes", st.just({"python": "3.12", "nodejs": 22})),
    }
    if kind == "ecs":
        build["docker"] = {
            **_maybe(draw, "platform", st.sampled_from(["linux/amd64", "linux/arm64"])),
            **_maybe(draw, "build_args", st.just({"VERSION": "1"})),
        }
        build |= _maybe(draw, "commands", st.just(["make generate"]))
    else:
        build["commands"] = ["make package"]
    tools = ["bandit", "semgrep", "pip-audit", "npm-audit", "gitleaks"]
    if kind == "ecs":
        tools += ["trivy", "syft"]
    raw: dict[str, Any] = {
        "app": draw(st.sampled_from(["web", "payments", "shop-api"])),
        "owner": "team-x",
        "source": draw(sources(region)),
        "build": build,
        "environments": draw(environments(kind)),
        "notifications": draw(notifications()),
        "checks": {
            "tests": draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "name": st.sampled_from(["unit", "integration", "lint"]),
                            "commands": st.just(["make test"]),
                            "timeout_minutes": st.integers(5, 120),
                        }
                    ),
                    max_size=2,
                    unique_by=lambda suite: suite["name"],
                )
            ),
            **_maybe(
                draw,
                "scans",
                st.fixed_dictionaries(
                    {
                        "tools": st.lists(st.sampled_from(tools), max_size=3, unique=True),
                        "fail_on": st.sampled_from(["critical", "high", "medium", "low"]),
                    }
                ),
            ),
        },
        **_maybe(draw, "suffix", st.sampled_from(["pr42", "b"])),
        **_maybe(draw, "alarms", st.builds(dict, stuck_minutes=st.integers(10, 1440))),
        **_maybe(
            draw,
            "retention",
            st.builds(
                dict,
                log_days=st.sampled_from(LOG_RETENTION_DAYS),
                artifact_days=st.integers(1, 3650),
                images=st.integers(1, 1000),
            ),
        ),
        **_maybe(draw, "tags", st.just({"CostCenter": "1234"})),
    }
    if "github" not in raw["source"] or draw(st.booleans()):
        raw["region"] = region
    try:
        return Spec.model_validate(raw)
    except ValidationError:
        # Combinations the models refuse (a shift longer than its timeout, a name too long)
        # are the loader's business, tested elsewhere.
        assume(False)
        raise


@st.composite
def notifications(draw: st.DrawFn) -> dict[str, Any]:
    events = ["failed", "succeeded", "started", "approval-needed", "rollback", "scan-findings"]
    team: dict[str, Any] = {"email": ["team@example.com"]}
    team |= _maybe(draw, "slack", st.just({"workspace": "T0123ABCDE", "channel": "C0123ABCDE"}))
    team["on"] = ["failed", *draw(st.lists(st.sampled_from(events[1:]), max_size=3, unique=True))]
    if draw(st.booleans()):
        team["audiences"] = {
            "security": {"email": ["sec@example.com"], "on": ["scan-findings"]},
        }
    return team


@pytest.mark.xdist_group("synth")
@AGREE
@given(spec=specs())
def test_every_valid_spec_synthesizes_templates_check_accepts(spec: Spec) -> None:
    from conveyor.rules import check_paths
    from conveyor.synth import synthesize

    with tempfile.TemporaryDirectory() as outdir:
        result = synthesize(spec, Path(outdir))
        checked = check_paths([t.path for t in result.templates], require_tags=REQUIRED_TAGS)
    assert checked.errors == []
    # The findings a valid spec may still earn are those `conveyor validate` warned about: a
    # safeguard the spec turned off (readiness.py), such as scans: {tools: []}.
    warned = {c.check_rule for c in concerns(spec)}
    assert [
        f"{f.rule} {f.resource}: {f.message}" for f in checked.findings if f.rule not in warned
    ] == []
