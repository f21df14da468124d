"""The pull-request pipeline (source.github.pull_requests), judged by the policy evaluator on
the synthesized templates: each of its roles may do what its actions and projects do, and none
of them may push an image, change a stack, pass or assume another role, touch the delivery
pipeline's store or key, or start or change the delivery pipeline. Its code is anyone's who can
open a pull request (stages/pull_request.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contracts.buildspecs import aws_requests, environment, run
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Role
from tests.contracts.obligations import pipeline_action_obligations, project_obligations
from tests.contracts.test_buildspecs import output_files
from tests.contracts.test_iam_sufficiency import refused
from tests.synth.conftest import Synthesized

WITH_PULL_REQUESTS = ["validated-service"]


def test_an_example_runs_pull_requests(synthesized: dict[str, Synthesized]) -> None:
    """The examples that use pull_requests are exactly those judged here."""
    having = sorted(
        name for name in EXAMPLE_NAMES if synthesized[name].pull_request_pipeline() is not None
    )
    assert having == WITH_PULL_REQUESTS


def _pull_request_roles(view: Example) -> dict[str, Role]:
    """Every role that runs in the pull-request pipeline: its own, each action's, and the
    service role of each project it runs (by what each is)."""
    roles = {"pipeline role": view.pipeline_role}
    for stage, action in view.actions():
        if "RoleArn" in action:
            roles[f"action {stage}/{action['Name']}"] = view.role(action["RoleArn"])
        project_name = action.get("Configuration", {}).get("ProjectName")
        if project_name is not None:
            project = view.by_name("AWS::CodeBuild::Project", project_name)
            assert project is not None, project_name
            roles[f"project {project_name}"] = view.role(project.value("ServiceRole"))
    return roles


@pytest.mark.parametrize("example", WITH_PULL_REQUESTS, indirect=True)
def test_pull_request_roles_may_do_what_their_actions_do(example: Example) -> None:
    view = example.pull_request_view()
    assert view.pipeline.value("Name") == f"{example.synthesized.spec.app}-pr"
    obligations = pipeline_action_obligations(view) + project_obligations(view)
    projects = {o.why for o in obligations if o.why.startswith("CodeBuild project")}
    # Its own build, the scans and nothing of the delivery pipeline's.
    assert projects and all("-pr-" in why for why in projects), projects
    assert refused(view, obligations) == []


def _forbidden(example: Example) -> list[tuple[str, str]]:
    """(action, resource) no pull-request role may be allowed."""
    spec = example.synthesized.spec
    region, account = example.region, example.account
    found: list[tuple[str, str]] = []
    repository = f"arn:aws:ecr:{region}:{account}:repository/{spec.app}"
    for located in example.of_type("AWS::ECR::Repository"):
        repository = located.arn
    for action in (
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",  # nor read the release images
    ):
        found.append((action, repository))
    for env in spec.environments:
        stack = f"arn:aws:cloudformation:{region}:{account}:stack/{spec.app}-{env.name}/x"
        for action in (
            "cloudformation:CreateChangeSet",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:UpdateStack",
            "cloudformation:CreateStack",
            "cloudformation:DeleteStack",
        ):
            found.append((action, stack))
    pipeline_stack = f"arn:aws:cloudformation:{region}:{account}:stack/{spec.app}-pipeline/x"
    found.append(("cloudformation:UpdateStack", pipeline_stack))
    # The delivery pipeline's store and key: a release's artifacts are read and replaced there.
    objects = f"{example.artifact_bucket}/{example.pipeline.value('Name')}/Synth/a1b2c3d"
    found += [("s3:PutObject", objects), ("s3:GetObject", objects)]
    found += [(a, example.artifact_key) for a in ("kms:Decrypt", "kms:GenerateDataKey")]
    found += [
        (a, example.pipeline.arn)
        for a in ("codepipeline:UpdatePipeline", "codepipeline:StartPipelineExecution")
    ]
    # Every role of the example that is not the pull-request pipeline's own.
    own = {role.arn for role in _pull_request_roles(example.pull_request_view()).values()}
    for arn in example.roles:
        if arn not in own:
            found += [("iam:PassRole", arn), ("sts:AssumeRole", arn)]
    return found


@pytest.mark.parametrize("example", WITH_PULL_REQUESTS, indirect=True)
def test_pull_request_roles_cannot_push_deploy_or_reach_the_release(example: Example) -> None:
    roles = _pull_request_roles(example.pull_request_view())
    assert len(roles) >= 5, roles  # pipeline, source, build, scans, gate invocation
    forbidden = _forbidden(example)
    allowed = [
        f"{who} may {action} on {resource}"
        for who, role in roles.items()
        for action, resource in forbidden
        if example.allows(role, action, resource)
    ]
    assert allowed == []


@pytest.mark.parametrize("example", WITH_PULL_REQUESTS, indirect=True)
def test_the_evaluator_sees_the_release_roles_may_do_it(example: Example) -> None:
    """The forbidden list is not vacuous: the delivery pipeline's build pushes, its deploy
    roles change stacks, and its pipeline role reads its own store."""
    build = example.by_name("AWS::CodeBuild::Project", f"{example.synthesized.spec.app}-build")
    assert build is not None
    build_role = example.role(build.value("ServiceRole"))
    repository = next(iter(example.of_type("AWS::ECR::Repository"))).arn
    assert example.allows(build_role, "ecr:PutImage", repository)
    objects = f"{example.artifact_bucket}/{example.pipeline.value('Name')}/Synth/a1b2c3d"
    assert example.allows(example.pipeline_role, "s3:GetObject", objects)


@pytest.mark.parametrize("example", WITH_PULL_REQUESTS, indirect=True)
def test_pull_request_buildspecs_run_push_nothing_and_call_only_what_they_may(
    example: Example, tmp_path: Path
) -> None:
    """Each buildspec of the pull-request pipeline, run against the stub CLIs: the build leaves
    an image archive and nothing else, no project logs in to or writes to a registry, and every
    AWS call any of them makes is allowed by its role."""
    view = example.pull_request_view()
    app = example.synthesized.spec.app
    own = [
        p
        for p in view.of_type("AWS::CodeBuild::Project")
        if p.value("Name") not in view.projects_of_other_pipelines()
    ]
    assert {p.value("Name") for p in own} >= {f"{app}-pr-build", f"{app}-pr-scan-trivy"}
    (build,) = [p for p in own if p.value("Name") == f"{app}-pr-build"]
    built = run(view, build, tmp_path / "build")
    assert built.returncode == 0, built.output
    assert output_files(built, build) == ["image.tar"]
    inputs = {"image.tar": (built.workdir / "image.tar").read_bytes()}
    for project in own:
        result = built if project is build else run(view, project, tmp_path / project.lid, inputs)
        assert result.returncode == 0, f"{result.project} failed:\n{result.output}"
        docker = [call for call in result.calls if call[0] == "docker"]
        assert not any("--push" in call or "login" in call for call in docker), docker
        role = view.role(project.value("ServiceRole"))
        env = environment(view, project, result.workdir, tmp_path)
        for command, action, resource in aws_requests(
            result, env, project.resolver.region, project.resolver.account
        ):
            assert not action.startswith("ecr:"), command
            assert view.allows(role, action, resource), f"{result.project}: {command}"
