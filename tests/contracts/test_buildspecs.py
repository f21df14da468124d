"""Every generated buildspec runs to the end against stub CLIs, leaves the files the next
pipeline action reads, and every AWS call it makes is allowed by its project's role."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
import yaml

from conveyor.constructs.check_buildspecs import scan_buildspec
from conveyor.spec.models import ScanTool
from tests.contracts.buildspecs import (
    Run,
    aws_requests,
    environment,
    fake_checkout,
    install_stubs,
    run,
    script,
)
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located
from tests.contracts.obligations import buildspec

# What a deploy action reads from the build's output artifact.
# https://docs.aws.amazon.com/codepipeline/latest/userguide/file-reference.html
LAMBDA_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def projects(example: Example) -> list[Located]:
    """The projects of the example's pipeline (the pull-request pipeline's run on their own
    pipeline's artifacts: test_pull_request_contract.py)."""
    others = example.projects_of_other_pipelines()
    return [p for p in example.of_type("AWS::CodeBuild::Project") if p.value("Name") not in others]


def build_project(example: Example) -> Located:
    (found,) = [
        p for p in projects(example) if p.value("Name") == f"{example.synthesized.spec.app}-build"
    ]
    return found


def output_files(run: Run, project: Located) -> list[str]:
    """The artifact's files, relative to its base-directory (the artifact's root)."""
    artifacts = buildspec(project).get("artifacts", {})
    base = run.workdir / artifacts.get("base-directory", ".")
    return sorted(
        str(path.relative_to(base))
        for pattern in artifacts.get("files", [])
        for path in base.glob(pattern)
        if path.is_file()
    )


def _base(run: Run, project: Located) -> Path:
    base: str = buildspec(project).get("artifacts", {}).get("base-directory", ".")
    return run.workdir / base


def build_output(example: Example, tmp_path: Path) -> tuple[Run, dict[str, bytes]]:
    project = build_project(example)
    result = run(example, project, tmp_path / "build")
    assert result.returncode == 0, result.output
    return result, {
        name: (_base(result, project) / name).read_bytes() for name in output_files(result, project)
    }


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_every_buildspec_runs_and_leaves_its_artifacts(example: Example, tmp_path: Path) -> None:
    _, built = build_output(example, tmp_path)
    for project in projects(example):
        result = run(example, project, tmp_path / project.lid, inputs=built)
        assert result.returncode == 0, f"{result.project} failed:\n{result.output}"
        patterns = buildspec(project).get("artifacts", {}).get("files", [])
        assert not patterns or output_files(result, project), f"{result.project} left no artifact"
        exported = buildspec(project).get("env", {}).get("exported-variables", [])
        assert [name for name in exported if not result.exported.get(name)] == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_every_aws_call_of_a_buildspec_is_allowed_by_its_role(
    example: Example, tmp_path: Path
) -> None:
    _, built = build_output(example, tmp_path)
    refused = []
    calls = 0
    for project in projects(example):
        result = run(example, project, tmp_path / project.lid, inputs=built)
        role = example.role(project.value("ServiceRole"))
        env = environment(example, project, result.workdir, tmp_path)
        for command, action, resource in aws_requests(
            result,
            env,
            project.resolver.region,
            project.resolver.account,
            example.synthesized.spec.other_regions,
        ):
            calls += 1
            verdict = example.allows(role, action, resource)
            if not verdict:
                refused.append(
                    f"{result.project}: `{command}` needs {action} on {resource}: {verdict.why}"
                )
    # A container build logs in to ECR; a Lambda build calls nothing (CloudFormation deploys
    # its package).
    if example.synthesized.spec.build.docker is not None:
        assert calls, f"{example.name}: no buildspec called AWS; the stubs recorded nothing"
    assert refused == []


def deploy_actions(example: Example, provider: str) -> list[dict[str, object]]:
    return [a for _, a in example.actions() if a["ActionTypeId"]["Provider"] == provider]


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_build_leaves_what_each_deploy_action_reads(example: Example, tmp_path: Path) -> None:
    result, built = build_output(example, tmp_path)
    checked = 0
    for _ in deploy_actions(example, "ECS"):
        # imagedefinitions.json: [{"name": container, "imageUri": image}]
        definitions = json.loads(built["imagedefinitions.json"])
        assert [set(d) for d in definitions] == [{"name", "imageUri"}]
        assert "@sha256:" in definitions[0]["imageUri"]
        checked += 1
    for action in deploy_actions(example, "CodeDeployToECS"):
        config = action["Configuration"]
        assert isinstance(config, dict)
        # imageDetail.json: {"ImageURI": image}; taskdef.json names the image placeholder.
        assert "@sha256:" in json.loads(built["imageDetail.json"])["ImageURI"]
        taskdef = json.loads(built[config["TaskDefinitionTemplatePath"]])
        images = [c["image"] for c in taskdef["containerDefinitions"]]
        assert f"<{config['Image1ContainerName']}>" in images
        appspec = yaml.safe_load(built[config["AppSpecTemplatePath"]])
        assert (
            appspec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"]
            == "<TASK_DEFINITION>"
        )
        checked += 1
    for stage, stack_action in example.actions():
        if stack_action["ActionTypeId"]["Provider"] != "CloudFormation":
            continue
        config = stack_action["Configuration"]
        assert isinstance(config, dict)
        if config["StackName"] not in example.synthesized.templates:
            continue  # UpdatePipeline: the pipeline's own stack (AWS::StackName), no release
        overrides = json.loads(str(config.get("ParameterOverrides", "{}")))
        template = example.synthesized.templates[config["StackName"]]
        if "ImageUri" in overrides:
            # The stack's parameter takes the image the build exported, pinned by digest; in
            # another region, the same digest in that region's repository, which the build
            # pushed (its REPLICA_REPOSITORY_URIS).
            pattern = template["Parameters"]["ImageUri"]["AllowedPattern"]
            if "Region" in stack_action:
                repository, _, digest = str(overrides["ImageUri"]).partition("@")
                assert digest == "#{Build.IMAGE_DIGEST}"
                replicas = project_environment_value(
                    build_project(example), "REPLICA_REPOSITORY_URIS"
                )
                assert replicas is not None and repository in replicas.split()
                image = f"{repository}@{result.exported['IMAGE_DIGEST']}"
            else:
                assert overrides["ImageUri"] == "#{Build.IMAGE_URI}"
                image = result.exported["IMAGE_URI"]
            assert re.fullmatch(pattern, image), f"{image} does not match {pattern}"
            checked += 1
        if "CodeKey" in overrides:
            # The environment's copy of the package the build uploaded (PackageStore): the
            # stage's MarkDeployed job, earlier in the stage, copies the version the build
            # exported to CodeKey and exports the copy's version, which the stack deploys.
            assert result.exported["PACKAGE_VERSION"]
            copied = _marked_package(example, stage, stack_action, overrides, built, tmp_path)
            assert copied["Metadata"] == {"conveyor-package-version": "stub-package_version"}
            (function,) = [
                r
                for r in template["Resources"].values()
                if r["Type"] == "AWS::Lambda::Function"
                and "CodeBucket" in json.dumps(r["Properties"]["Code"])
            ]
            (architecture,) = function["Properties"].get("Architectures", ["x86_64"])
            assert "app.py" in built
            platform = built["stub_dependency/PLATFORM"].decode()
            assert platform == LAMBDA_PLATFORMS[architecture], (
                f"wheels for {platform}, function runs on {architecture}"
            )
            checked += 1
    assert checked, f"{example.name}: no deploy action reads the build's output"
    assert result.returncode == 0


def _marked_package(
    example: Example,
    stage: str,
    deploy: dict[str, object],
    overrides: dict[str, str],
    built: dict[str, bytes],
    tmp_path: Path,
) -> dict[str, object]:
    """Runs the MarkDeployed job that exports the deploy's CodeVersion; returns the
    package store's version of CodeKey that the exported version names."""
    match = re.fullmatch(r"#\{(\w+)\.(\w+)\}", overrides["CodeVersion"])
    assert match, overrides["CodeVersion"]
    namespace, variable = match.groups()
    stages = list(dict.fromkeys(s for s, _ in example.actions()))
    # The job runs before the deploy: earlier in its stage, or in a stage before it
    # (production's copy runs in Approve-prod, before the change set the approver reads).
    ((mark_stage, mark),) = [
        (s, a) for s, a in example.actions() if a.get("Namespace") == namespace
    ]
    if mark_stage == stage:
        assert int(str(mark["RunOrder"])) < int(str(deploy["RunOrder"]))
    else:
        assert stages.index(mark_stage) < stages.index(stage), (mark_stage, stage)
    variables = {
        v["name"]: v["value"] for v in json.loads(mark["Configuration"]["EnvironmentVariables"])
    }
    assert variables["PACKAGE_VERSION"] == "#{Build.PACKAGE_VERSION}"
    assert variables["DEPLOYED_KEY"] == overrides["CodeKey"]
    (project,) = [
        p for p in projects(example) if p.value("Name") == mark["Configuration"]["ProjectName"]
    ]
    root = tmp_path / f"mark-{stage}"
    marked = run(example, project, root, inputs=built, action=mark)
    assert marked.returncode == 0, marked.output
    # The environment's own region's package store: the pipeline's, or (another region) the
    # one its action names, in the region its stack deploys in (regional_support.py).
    target = variables.get("DEPLOYED_BUCKET") or project_environment_value(
        project, "PACKAGE_BUCKET"
    )
    assert target == overrides["CodeBucket"]
    if "DEPLOYED_REGION" in variables:
        assert variables["DEPLOYED_REGION"] == deploy["Region"]
        assert target != project_environment_value(project, "PACKAGE_BUCKET")
        copies = [c for c in marked.calls if c[:3] == ["aws", "s3api", "copy-object"]]
        assert copies, marked.output
        assert all(c[c.index("--region") + 1] == deploy["Region"] for c in copies)
    state = json.loads((root / "s3.json").read_text())
    versions = state[f"{overrides['CodeBucket']}/{overrides['CodeKey']}"]
    assert versions[-1]["VersionId"] == marked.exported[variable]
    found: dict[str, object] = versions[-1]
    return found


def project_environment_value(project: Located, name: str) -> str | None:
    for variable in project.value("Environment").get("EnvironmentVariables", []):
        if variable["Name"] == name:
            return str(variable["Value"])
    return None


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_build_runs_in_a_repository_without_optional_files(
    example: Example, tmp_path: Path
) -> None:
    """FM28: no requirements.txt is a normal repository, not a failed build."""
    result = run(example, build_project(example), tmp_path / "build", optional_files=False)
    assert result.returncode == 0, result.output


# Issue 14 defect 9 (part): the appspec's version was emitted as the number 0 (fixed on main).
@pytest.mark.parametrize("example", ["codecommit-blue-green", "payments"], indirect=True)
def test_the_ecs_appspec_has_version_0_0(example: Example, tmp_path: Path) -> None:
    """The only allowed appspec version is 0.0:
    https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-version.html"""
    _, built = build_output(example, tmp_path)
    actions = deploy_actions(example, "CodeDeployToECS")
    assert actions
    for action in actions:
        config = action["Configuration"]
        assert isinstance(config, dict)
        appspec = yaml.safe_load(built[config["AppSpecTemplatePath"]])
        assert str(appspec["version"]) == "0.0"


# The command each scan tool runs as (stub name).
SCANNER_COMMAND = {"npm-audit": "npm"}


def _scan_build(
    tool: ScanTool, root: Path, failing: str | None
) -> subprocess.CompletedProcess[str]:
    """The build phase of `tool`'s scan buildspec, as CodeBuild runs it, with the scanner
    stubbed; `failing` names a stub that crashes half-way through its report."""
    workdir, bin_dir = root / "src", root / "bin"
    workdir.mkdir(parents=True)
    install_stubs(bin_dir)
    fake_checkout(workdir)
    (workdir / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (workdir / "scan-results").mkdir()
    (root / "calls.jsonl").touch()
    build_only = {"phases": {"build": scan_buildspec(tool)["phases"]["build"]}}
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "STUB_CALLS": str(root / "calls.jsonl"),
        "STUB_REAL_PYTHON": sys.executable,
        "IMAGE_URI": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:{'ab' * 32}",
        **({"STUB_FAILING_TOOL": failing} if failing else {}),
    }
    return subprocess.run(
        ["bash", "-c", script(build_only)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("tool", get_args(ScanTool))
def test_a_scanner_that_fails_mid_report_fails_its_scan_build(
    tool: ScanTool, tmp_path: Path
) -> None:
    """Issue 17/1: a failed run's partial output must fail the build, never reach the gate
    (semgrep's buildspec used to end in `|| test -s`). Audits that exit non-zero on findings
    keep their `|| test -s`, and their converters refuse a report that did not finish."""
    command = SCANNER_COMMAND.get(tool, tool)
    clean = _scan_build(tool, tmp_path / "clean", failing=None)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    crashed = _scan_build(tool, tmp_path / "crashed", failing=command)
    assert crashed.returncode != 0, f"{tool}: a crashed scan passed\n{crashed.stdout}"
