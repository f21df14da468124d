"""The image of an environment in another region (examples/multi-region.yaml), run with the stub
CLIs: the build pushes it to that region's repository too and reads the digest back there, and
production's MarkDeployed tags that region's copy; each call's IAM action and resource (in the
region the call names) is allowed by the project's synthesized role."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contracts.buildspecs import aws_requests, environment, run
from tests.contracts.model import Example
from tests.contracts.test_buildspecs import build_output, build_project, projects

OTHER = "us-east-1"


@pytest.mark.parametrize("example", ["multi-region"], indirect=True)
def test_the_build_pushes_the_image_to_the_other_region_and_reads_it_back(
    example: Example, tmp_path: Path
) -> None:
    result, _ = build_output(example, tmp_path)
    project = build_project(example)
    calls = [" ".join(call) for call in result.calls]
    registry = f".dkr.ecr.{OTHER}.amazonaws.com/atlas-images"
    (build,) = [c for c in calls if c.startswith("docker buildx build")]
    # One build, both repositories: the same manifest under each tag.
    assert build.count("--tag") == 2 and registry in build
    assert any(c.startswith("docker login") and f"dkr.ecr.{OTHER}." in c for c in calls)
    assert any(f"ecr describe-images --region {OTHER}" in c and "imageDigest=" in c for c in calls)
    role = example.role(project.value("ServiceRole"))
    env = environment(example, project, result.workdir, tmp_path)
    requests = aws_requests(result, env, project.resolver.region, project.resolver.account)
    there = [(a, r) for _, a, r in requests if f":{OTHER}:" in r]
    assert (
        "ecr:PutImage",
        f"arn:aws:ecr:{OTHER}:{example.account}:repository/atlas-images",
    ) in there
    assert [f"{a} {r}" for a, r in there if not example.allows(role, a, r)] == []


@pytest.mark.parametrize("example", ["multi-region"], indirect=True)
def test_production_marks_its_regions_copy_of_the_image(example: Example, tmp_path: Path) -> None:
    _, built = build_output(example, tmp_path)
    (marker,) = [p for p in projects(example) if p.value("Name") == "atlas-mark-deployed"]
    marks = [
        action
        for stage, action in example.actions()
        if stage.endswith("-prod") and action["Name"] == "MarkDeployed"
    ]
    assert marks
    for index, action in enumerate(marks):
        result = run(example, marker, tmp_path / f"mark{index}", inputs=built, action=action)
        assert result.returncode == 0, result.output
        puts = [c for c in result.calls if c[:3] == ["aws", "ecr", "put-image"]]
        assert puts and all(c[c.index("--region") + 1] == OTHER for c in puts)
        role = example.role(marker.value("ServiceRole"))
        env = environment(example, marker, result.workdir, tmp_path / f"mark{index}")
        refused = [
            f"{a} {r}"
            for _, a, r in aws_requests(
                result, env, marker.resolver.region, marker.resolver.account
            )
            if not example.allows(role, a, r)
        ]
        assert refused == []
        ecr = [
            r
            for _, a, r in aws_requests(
                result, env, marker.resolver.region, marker.resolver.account
            )
            if a.startswith("ecr:")
        ]
        assert ecr and all(f":{OTHER}:" in r for r in ecr)
