"""What a synthesized example looks like to tests; the session-scoped `synthesized` fixture
lives in tests/conftest.py so tests/contracts shares the same synths.

All synth tests share one xdist group so a single worker pays for the synths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conveyor.spec.models import Spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@dataclass(frozen=True)
class Synthesized:
    name: str
    spec: Spec
    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack name -> template
    nag_report: dict[str, Any]

    @property
    def template(self) -> dict[str, Any]:
        """The pipeline stack's template (environments in other accounts have their own)."""
        return self.templates[
            f"{self.spec.app}-pipeline" + (f"-{self.spec.suffix}" if self.spec.suffix else "")
        ]

    def pipeline(self) -> dict[str, Any]:
        """The delivery pipeline (not the pull-request pipeline, `{app}-pr[-{suffix}]`)."""
        name = f"{self.spec.app}-pipeline" + (f"-{self.spec.suffix}" if self.spec.suffix else "")
        (found,) = (
            r
            for r in self.resources("AWS::CodePipeline::Pipeline").values()
            if r["Properties"]["Name"] == name
        )
        return found

    def pull_request_pipeline(self) -> dict[str, Any] | None:
        """The pull-request pipeline (source.github.pull_requests), if the spec has one."""
        name = f"{self.spec.app}-pr" + (f"-{self.spec.suffix}" if self.spec.suffix else "")
        found = [
            r
            for r in self.resources("AWS::CodePipeline::Pipeline").values()
            if r["Properties"]["Name"] == name
        ]
        return found[0] if found else None

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """Resources of `kind` in every stack, by logical id; `stack/id` when two stacks hold
        the same logical id (each environment stack builds the same constructs)."""
        found = [
            (stack, logical_id, resource)
            for stack, template in self.templates.items()
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] == kind
        ]
        ids = [logical_id for _, logical_id, _ in found]
        return {
            (logical_id if ids.count(logical_id) == 1 else f"{stack}/{logical_id}"): resource
            for stack, logical_id, resource in found
        }

    def resource(self, logical_id: str) -> dict[str, Any]:
        """A resource by logical id, from whichever of the example's templates has it."""
        for template in self.templates.values():
            if logical_id in template["Resources"]:
                found: dict[str, Any] = template["Resources"][logical_id]
                return found
        raise KeyError(logical_id)

    def build_project(self) -> tuple[str, dict[str, Any]]:
        name = f"{self.spec.app}-build"
        (found,) = [
            (lid, r)
            for lid, r in self.resources("AWS::CodeBuild::Project").items()
            if r["Properties"]["Name"] == name
        ]
        return found

    def template_paths(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def joined(value: Any) -> str:
    """A template string as text: the string itself, or an Fn::Join of strings and references
    (another region's or stack's names) with each reference as `REF`."""
    if isinstance(value, str):
        return value
    (separator, parts) = value["Fn::Join"]
    return str(separator).join(p if isinstance(p, str) else "REF" for p in parts)


@pytest.fixture(scope="session")
def web(synthesized: dict[str, Synthesized]) -> Synthesized:
    """S1: GitHub → Docker build → ECR → rolling deploy to a Fargate service conveyor creates."""
    return synthesized["web-service"]


@pytest.fixture(scope="session")
def minimal(synthesized: dict[str, Synthesized]) -> Synthesized:
    """An existing ECS service in a non-production environment."""
    return synthesized["minimal"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/synth/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("synth"))
            item.add_marker(pytest.mark.synth)
