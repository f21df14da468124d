"""A pipeline starts its first execution when it is created and soon runs its builds
(https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-about-starting.html): each
generated pipeline waits for the role policy of every build project it runs (CV056, FM43), and
conveyor names the environments the spec declares not production where CV086's name heuristic
would think otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conveyor.spec import parse_spec
from conveyor.stages.findings import declared_not_production
from tests.synth.conftest import EXAMPLES, Synthesized

ROOT = Path(__file__).resolve().parents[2]


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def _role_policies(template: dict[str, Any], role: str) -> set[str]:
    return {
        lid
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::IAM::Policy"
        and role in {_ref(r) for r in res["Properties"].get("Roles", [])}
    }


def _projects_run(template: dict[str, Any], pipeline: dict[str, Any]) -> set[str]:
    return {
        str(_ref(action["Configuration"]["ProjectName"]))
        for stage in pipeline["Properties"]["Stages"]
        for action in stage["Actions"]
        if action["ActionTypeId"]["Provider"] == "CodeBuild"
        and _ref(action["Configuration"]["ProjectName"]) in template["Resources"]
    }


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_each_pipeline_waits_for_the_policies_of_the_builds_it_runs(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    template = s.template
    pipelines = [s.pipeline(), *([p] if (p := s.pull_request_pipeline()) else [])]
    for pipeline in pipelines:
        projects = _projects_run(template, pipeline)
        assert projects
        waits = set(pipeline.get("DependsOn", []))
        for project in projects:
            role = _ref(template["Resources"][project]["Properties"]["ServiceRole"])
            policies = _role_policies(template, str(role))
            assert policies, project
            assert policies <= waits, (project, policies - waits)


SPEC = (ROOT / "examples" / "web-service.yaml").read_text()


def test_an_environment_declared_not_production_is_named_for_cv086() -> None:
    assert "- name: prod" in SPEC
    assert declared_not_production(parse_spec(SPEC, "c.yaml")) is None
    live = SPEC.replace("- name: prod", "- name: live\n    production: false", 1)
    reason = declared_not_production(parse_spec(live, "c.yaml"))
    assert reason == (
        "live: production: false in conveyor.yaml; every production environment of this "
        "pipeline has a manual approval"
    )
    # A production environment deploying without approval: the suppression would hide its
    # true CV086 finding, so none is computed.
    unapproved = SPEC.replace("- name: prod", "- name: prod\n    approval: false", 1)
    assert declared_not_production(parse_spec(unapproved, "c.yaml")) is None
    both = unapproved.replace(
        "environments:\n",
        "environments:\n  - name: live\n    production: false\n"
        "    deploy: {ecs: {cluster: c, service: s}}\n",
        1,
    )
    assert declared_not_production(parse_spec(both, "c.yaml")) is None
