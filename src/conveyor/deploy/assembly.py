"""Which stacks of a synthesized cloud assembly people deploy, and which the pipeline deploys.

Read from what synthesis wrote, not from naming conventions: the pipeline template's
CloudFormation actions name every stack the pipeline deploys, and the stage each action sits in
says for which environment. Its UpdatePipeline stage updates the pipeline's own stack and, before
it, the support stack of each other region (stages/self_update.py). `conveyor deploy` creates or
updates the pipeline stack and every stack no environment's stage deploys: the one-time stacks
of other accounts (only it updates those) and the region stacks (the pipeline keeps them up to
date, but they must exist before the pipeline that names their artifact stores). Imports
nothing from the CDK: `diff` reads it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# conveyor names each environment's stages `Deploy-<environment>` and, before it, for
# production's change set `Approve-<environment>` (stages/environment.py).
_STAGE_PREFIXES = ("Deploy-", "Approve-")
# The stage that updates the pipeline's own stack and the other regions' (stages/self_update.py).
_SELF_UPDATE_STAGE = "UpdatePipeline"


class AssemblyError(Exception):
    """The directory is not a cloud assembly conveyor synthesized."""


@dataclass(frozen=True)
class Assembly:
    directory: Path
    # stack name -> template file name, in the manifest's order
    templates: dict[str, str]

    @classmethod
    def read(cls, directory: Path) -> Assembly:
        try:
            manifest = json.loads((directory / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise AssemblyError(f"{directory} holds no readable manifest.json: {exc}") from None
        templates: dict[str, str] = {}
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            properties = artifact.get("properties", {})
            name = properties.get("stackName", artifact_id)
            templates[name] = properties.get("templateFile", f"{artifact_id}.template.json")
        return cls(directory, templates)

    def template(self, stack: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads((self.directory / self.templates[stack]).read_text())
        return found

    def pipeline_stack(self) -> str:
        """The stack that holds the pipeline."""
        for name in self.templates:
            resources = self.template(name).get("Resources", {}).values()
            if any(r.get("Type") == "AWS::CodePipeline::Pipeline" for r in resources):
                return name
        raise AssemblyError(f"no stack in {self.directory} holds a pipeline")

    def environment_stacks(self, pipeline_stack: str) -> dict[str, list[str]]:
        """environment -> the stacks its stage deploys, in pipeline order."""
        found: dict[str, list[str]] = {}
        for stage, stack in _deployed_stacks(self.template(pipeline_stack)):
            if stage == _SELF_UPDATE_STAGE:
                continue
            environment = next(
                (stage.removeprefix(p) for p in _STAGE_PREFIXES if stage.startswith(p)), stage
            )
            if stack in self.templates and stack not in found.get(environment, []):
                found.setdefault(environment, []).append(stack)
        return found

    def updated_with_pipeline(self, pipeline_stack: str) -> list[str]:
        """The stacks the UpdatePipeline stage updates before the pipeline's own (another
        region's support stack), in pipeline order."""
        found: list[str] = []
        for stage, stack in _deployed_stacks(self.template(pipeline_stack)):
            if stage == _SELF_UPDATE_STAGE and stack in self.templates and stack not in found:
                found.append(stack)
        return found

    def deployed_by_hand(self, pipeline_stack: str) -> list[str]:
        """The pipeline stack and every stack no environment's stage deploys."""
        by_pipeline = {
            stack for stacks in self.environment_stacks(pipeline_stack).values() for stack in stacks
        }
        return [name for name in self.templates if name not in by_pipeline]


def _deployed_stacks(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(stage, stack name) of every CloudFormation action naming a stack by a literal, or by a
    join of literals and the template's parameters (another region's stack name names its
    region by parameter: region_tokens.regions_as_parameters), read at their defaults."""
    parameters = template.get("Parameters", {})
    found = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::CodePipeline::Pipeline":
            continue
        for stage in resource.get("Properties", {}).get("Stages", []):
            for action in stage.get("Actions", []):
                if action.get("ActionTypeId", {}).get("Provider") != "CloudFormation":
                    continue
                # {"Ref": "AWS::StackName"}: the pipeline itself, no stack of the assembly.
                stack = _text(action.get("Configuration", {}).get("StackName"), parameters)
                if stack is not None:
                    found.append((str(stage.get("Name", "")), stack))
    return found


def _text(value: Any, parameters: dict[str, Any]) -> str | None:
    """A string, or a Fn::Join of strings and Refs to parameters with a default; else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        default = parameters.get(value["Ref"], {}).get("Default")
        return default if isinstance(default, str) else None
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        joined = value["Fn::Join"]
        if isinstance(joined, list) and len(joined) == 2 and isinstance(joined[0], str):
            parts = [_text(part, parameters) for part in joined[1] or []]
            if all(part is not None for part in parts):
                return joined[0].join(str(part) for part in parts)
    return None
