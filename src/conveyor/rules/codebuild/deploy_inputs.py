"""ECS deploy action whose input artifact will not contain the file it reads.

For each ECS deploy action (``ECS`` reads ``imagedefinitions.json`` or its ``FileName``;
``CodeDeployToECS`` reads ``imageDetail.json`` from each image artifact) the action that
produces the input artifact is looked up; when it is a CodeBuild project of this template with
an inline buildspec, the buildspec must mention the file. Buildspecs kept in the source
repository cannot be judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions, project_of
from conveyor.rules.template import Resource


def _expected(action: Action) -> list[tuple[str, str]]:
    """(artifact name, file the action reads from it)."""
    config = action.configuration
    if action.provider == "ECS":
        name = config.get("FileName", "imagedefinitions.json")
        return [(a, str(name)) for a in action.inputs[:1]] if isinstance(name, str) else []
    if action.provider == "CodeDeployToECS":
        out = []
        for index in range(1, 5):
            artifact = config.get(f"Image{index}ArtifactName")
            if isinstance(artifact, str):
                out.append((artifact, "imageDetail.json"))
        return out
    return []


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    all_actions = list(actions(res))
    producers = {out: a for a in all_actions for out in a.outputs}
    for action in all_actions:
        if action.provider not in ("ECS", "CodeDeployToECS") or action.category != "Deploy":
            continue
        if not action.inputs:
            yield Hit(
                res.logical_id, action.path, f"deploy action {action.name!r} has no input artifact"
            )
            continue
        for artifact, filename in _expected(action):
            producer = producers.get(artifact)
            project = project_of(producer, ctx.template) if producer else None
            spec = inline_buildspec(project) if project else None
            if spec is not None and filename not in spec:
                yield Hit(
                    res.logical_id,
                    action.path,
                    f"deploy action {action.name!r} reads {filename} from artifact {artifact!r}, "
                    f"but the buildspec of {project.logical_id if project else '?'} "
                    "never writes it",
                )


RULE = Rule(
    id="CV037",
    title="ECS deploy input missing from build artifacts",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM26",),
    why="S2: CodeBuild did not generate imagedefinitions.json; the ECS deployment failed with no "
    "image reference.",
    fix_cloudformation="In the build's post_build phase write imagedefinitions.json "
    "([{name, imageUri}]) for ECS rolling, or imageDetail.json ({ImageURI}) plus taskdef.json "
    "and appspec.yaml for CodeDeploy blue/green, and list them under artifacts.files.",
    fix_cdk="Write the file in the buildspec (codebuild.BuildSpec.from_object) and pass the "
    "build output to EcsDeployAction(input=...) or CodeDeployEcsDeployAction(image_file=...).",
    fix_conveyor="Nothing to write: conveyor's buildspec writes the file each deploy kind reads.",
    check=check,
)
