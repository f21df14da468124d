"""The pull-request pipeline as synthesized (issue 11): `{app}-pr`, started by pull requests,
Source then Build, with its own store, projects and roles, and nothing that pushes or
deploys; `conveyor check` would say so if it did (CV116, CV117)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.plan import pull_request_plan
from conveyor.rules import check_paths
from tests.synth.conftest import ROOT, Synthesized


def _pulls(synthesized: dict[str, Synthesized]) -> tuple[Synthesized, dict[str, Any]]:
    s = synthesized["validated-service"]
    pipeline = s.pull_request_pipeline()
    assert pipeline is not None
    return s, pipeline


def _projects(s: Synthesized, pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The CodeBuild projects its actions run, by logical id."""
    refs = {
        action["Configuration"]["ProjectName"]["Ref"]
        for stage in pipeline["Properties"]["Stages"]
        for action in stage["Actions"]
        if action["ActionTypeId"]["Provider"] == "CodeBuild"
    }
    return {lid: s.resource(lid) for lid in refs}


def test_pull_requests_into_main_start_a_pipeline_of_source_and_build(
    synthesized: dict[str, Synthesized],
) -> None:
    _, pipeline = _pulls(synthesized)
    props = pipeline["Properties"]
    assert (props["Name"], props["PipelineType"], props["ExecutionMode"]) == (
        "orders-pr",
        "V2",
        "PARALLEL",
    )
    (trigger,) = props["Triggers"]
    assert "Push" not in trigger["GitConfiguration"]
    assert trigger["GitConfiguration"]["PullRequest"] == [
        {
            "Branches": {"Includes": ["main"]},
            "Events": ["OPEN", "UPDATED"],
            "FilePaths": {
                "Includes": ["services/orders/**", "libs/shared/**", "conveyor.yaml"],
                "Excludes": ["**/*.md"],
            },
        }
    ]
    assert [stage["Name"] for stage in props["Stages"]] == ["Source", "Build"]
    categories = {
        action["ActionTypeId"]["Category"]
        for stage in props["Stages"]
        for action in stage["Actions"]
    }
    assert categories == {"Source", "Build", "Invoke"}


def test_it_matches_its_plan(synthesized: dict[str, Synthesized]) -> None:
    s, pipeline = _pulls(synthesized)
    planned = pull_request_plan(s.spec)
    assert planned is not None
    built = [
        (stage["Name"], sorted((a["Name"], a["RunOrder"]) for a in stage["Actions"]))
        for stage in pipeline["Properties"]["Stages"]
    ]
    assert built == [
        (stage.name, sorted((a.name, a.run_order) for a in stage.actions))
        for stage in planned.stages
    ]


def test_it_has_its_own_store_key_projects_and_roles(synthesized: dict[str, Synthesized]) -> None:
    s, pulls = _pulls(synthesized)
    main = s.pipeline()
    assert pulls["Properties"]["ArtifactStore"] != main["Properties"]["ArtifactStore"]
    assert pulls["Properties"]["RoleArn"] != main["Properties"]["RoleArn"]
    mine, theirs = _projects(s, pulls), _projects(s, main)
    assert mine and not set(mine) & set(theirs)
    roles = {json.dumps(p["Properties"]["ServiceRole"]) for p in mine.values()}
    assert not roles & {json.dumps(p["Properties"]["ServiceRole"]) for p in theirs.values()}
    key = pulls["Properties"]["ArtifactStore"]["EncryptionKey"]["Id"]
    for project in mine.values():
        assert project["Properties"]["EncryptionKey"] == key
        assert project["Properties"]["Name"].startswith("orders-pr-")


def test_its_build_builds_the_image_into_an_archive_and_never_pushes(
    synthesized: dict[str, Synthesized],
) -> None:
    s, pulls = _pulls(synthesized)
    (build,) = [
        p for p in _projects(s, pulls).values() if p["Properties"]["Name"] == "orders-pr-build"
    ]
    spec = build["Properties"]["Source"]["BuildSpec"]
    assert "--output type=docker,dest=image.tar" in spec
    for absent in ("--push", "ecr get-login-password", "docker login", "--cache-to", "ecr:"):
        assert absent not in spec, absent
    variables = build["Properties"]["Environment"].get("EnvironmentVariables", [])
    assert all(v["Type"] == "PLAINTEXT" for v in variables)
    assert "REPOSITORY_URI" not in {v["Name"] for v in variables}
    (trivy,) = [
        p for p in _projects(s, pulls).values() if p["Properties"]["Name"] == "orders-pr-scan-trivy"
    ]
    assert "--input image.tar" in trivy["Properties"]["Source"]["BuildSpec"]


def test_check_finds_nothing_and_would_find_a_release_role_on_it(
    synthesized: dict[str, Synthesized], tmp_path: Path
) -> None:
    s, pulls = _pulls(synthesized)
    result = check_paths(s.template_paths())
    assert [f for f in result.findings if f.rule in ("CV116", "CV117")] == []
    # The same pipeline running its build with the release build's role (which pushes) is
    # what CV117 reports, on the generated template itself.
    template = json.loads(json.dumps(s.template))
    _, release = s.build_project()
    (build_id,) = [
        lid
        for lid, p in _projects(s, pulls).items()
        if p["Properties"]["Name"] == "orders-pr-build"
    ]
    template["Resources"][build_id]["Properties"]["ServiceRole"] = release["Properties"][
        "ServiceRole"
    ]
    mutated = tmp_path / "orders-pipeline.template.json"
    mutated.write_text(json.dumps(template))
    found = check_paths([mutated]).findings
    assert [f.rule for f in found if f.rule in ("CV116", "CV117")] == ["CV117"]
    assert "ecr:PutImage" in next(f.message for f in found if f.rule == "CV117")


@pytest.fixture(scope="module")
def lambda_pulls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """lambda-canary.yaml with pull_requests, its notices to a Slack channel only (no email
    formatter to route pull-request failures through)."""
    from conveyor.spec import parse_spec
    from conveyor.synth import synthesize

    spec = parse_spec((ROOT / "examples" / "lambda-canary.yaml").read_text())
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    data["source"]["github"]["pull_requests"] = True
    data["notifications"] = {
        "slack": {"workspace": "T0123ABCDE", "channel": "C0123ABCDE"},
        "on": ["failed"],
    }
    result = synthesize(type(spec).model_validate(data), tmp_path_factory.mktemp("lambda-pr"))
    return {t.stack: json.loads(t.path.read_text()) for t in result.templates}


def test_a_lambda_pull_request_builds_the_package_and_uploads_nothing(
    lambda_pulls: dict[str, dict[str, Any]],
) -> None:
    (template,) = [t for stack, t in lambda_pulls.items() if stack.endswith("-pipeline")]
    resources = template["Resources"].values()
    (pulls,) = [
        r
        for r in resources
        if r["Type"] == "AWS::CodePipeline::Pipeline" and r["Properties"]["Name"].endswith("-pr")
    ]
    assert [s["Name"] for s in pulls["Properties"]["Stages"]] == ["Source", "Build"]
    (build,) = [
        r
        for r in resources
        if r["Type"] == "AWS::CodeBuild::Project" and r["Properties"]["Name"].endswith("-pr-build")
    ]
    spec = build["Properties"]["Source"]["BuildSpec"]
    assert "put-object" not in spec and "exported-variables" not in spec
    assert "base-directory" in spec  # the package's contents, checked and unzipped
    names = {v["Name"] for v in build["Properties"]["Environment"].get("EnvironmentVariables", [])}
    assert not names & {"PACKAGE_BUCKET", "PACKAGE_KEY"}
    # No email audience: no pull-request notice rule, and nothing failed to synthesize.
    rules = [r for r in resources if r["Type"] == "AWS::Events::Rule"]
    assert not any("-pr-" in r["Properties"].get("Name", "") for r in rules)


def test_failed_pull_request_runs_and_builds_reach_the_failure_audience(
    synthesized: dict[str, Synthesized],
) -> None:
    """CodePipeline reports nothing back to the pull request: the notice is how its author
    hears. Only failures: other states of pull-request runs are not announced."""
    s, pulls = _pulls(synthesized)
    rules = [
        r["Properties"]
        for r in s.resources("AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]  # not the scheduled rules
    ]
    (pipeline_id,) = [
        lid
        for lid, r in s.resources("AWS::CodePipeline::Pipeline").items()
        if r["Properties"]["Name"] == "orders-pr"
    ]
    runs = [
        r
        for r in rules
        if r["EventPattern"].get("detail", {}).get("pipeline") == [{"Ref": pipeline_id}]
    ]
    assert [r["EventPattern"]["detail"]["state"] for r in runs] == [["FAILED"]]
    projects = [{"Ref": lid} for lid in sorted(_projects(s, pulls))]
    (builds,) = [
        r
        for r in rules
        if sorted(r["EventPattern"].get("detail", {}).get("project-name", []), key=lambda x: str(x))
        == sorted(projects, key=lambda x: str(x))
    ]
    assert builds["EventPattern"]["detail"]["build-status"] == ["FAILED", "FAULT", "TIMED_OUT"]
    # Both go to the formatter that words the delivery pipeline's notices.
    (target,) = runs[0]["Targets"]
    assert target["Arn"] == builds["Targets"][0]["Arn"]
