"""What the judges cannot tell from the pipeline's template, written on it with reasons once the
pipeline exists: `conveyor check` suppressions computed from the spec (never pasted), and cdk-nag
acknowledgements of the roles CDK gives the pipeline, its actions and its CodeBuild projects
(constructs/acknowledgements.py: each reason)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_lambda as lambda_

from conveyor.constructs import acknowledgements
from conveyor.spec.models import Spec
from conveyor.stages.environment import EnvironmentParts, alarm_validated_deploys

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


@dataclass
class Acknowledged:
    """What the stages leave for the acknowledgements to find once the pipeline exists."""

    # CodeBuild projects that log in to ECR (and so need ecr:GetAuthorizationToken on "*").
    registry_users: list[codebuild.IProject] = field(default_factory=list)
    # (stage, action, function) of each Lambda invoke action.
    invocations: list[tuple[str, str, lambda_.IFunction]] = field(default_factory=list)
    # (stage, action, function name) of the Validate actions that invoke an environment
    # stack's in-VPC validator by name (an internal service).
    vpc_invocations: list[tuple[str, str, str]] = field(default_factory=list)


def explain(
    pipeline: Pipeline,
    parts: Sequence[EnvironmentParts],
    projects: Sequence[codebuild.IProject],
) -> None:
    """The pipeline's suppressions, then the acknowledgements of its roles and projects."""
    spec = pipeline.spec
    suppress = []
    validated_by_alarms = alarm_validated_deploys(list(parts))
    if validated_by_alarms is not None:
        suppress.append({"rule": "CV074", "reason": validated_by_alarms})
    declared = declared_not_production(spec)
    if declared is not None:
        suppress.append({"rule": "CV086", "reason": declared})
    restricted = restricted_tags(spec)
    if restricted is not None:
        suppress.append({"rule": "CV119", "reason": restricted})
    if suppress:
        pipeline_resource = pipeline.pipeline.node.default_child
        assert isinstance(pipeline_resource, CfnResource)
        pipeline_resource.add_metadata("conveyor", {"suppress": suppress})
    bucket = pipeline.store.bucket
    acknowledgements.artifact_access(pipeline.pipeline, bucket)
    for part in parts:
        acknowledgements.stack_deploy_actions(
            pipeline.pipeline, part.stack.stack_name, region=part.region
        )
    stages = pipeline.pipeline.node
    acknowledged = pipeline.acknowledged
    for stage, action, function in acknowledged.invocations:
        acknowledgements.lambda_invoke_action(
            stages.find_child(stage).node.find_child(action), function
        )
    for stage, action, name in acknowledged.vpc_invocations:
        acknowledgements.vpc_validator_invocation(
            stages.find_child(stage).node.find_child(action), name
        )
    stack = Stack.of(pipeline)
    for project in projects:
        acknowledgements.artifact_access(project, bucket)
        acknowledgements.build_project(
            project,
            stack.resolve(stack.get_logical_id(project.node.default_child)),  # type: ignore[arg-type]
            uses_registry=any(project is user for user in acknowledged.registry_users),
        )


def declared_not_production(spec: Spec) -> str | None:
    """Why CV086 may be suppressed on the pipeline: environments conveyor.yaml declares
    production: false, whose names (live, prod-...) CV086's name heuristic reads as production.
    Only when every environment that is production has an approval, so the suppression can
    hide nothing true."""
    declared = [env.name for env in spec.environments if env.production is False]
    if not declared or any(
        env.is_production and not env.needs_approval for env in spec.environments
    ):
        return None
    return (
        f"{', '.join(declared)}: production: false in conveyor.yaml; every production "
        "environment of this pipeline has a manual approval"
    )


def restricted_tags(spec: Spec) -> str | None:
    """Why CV119 may be suppressed on the pipeline: conveyor.yaml says how the repository
    restricts who may create the tags that release (source.github.tag_creation), which no
    template shows. Without that statement the finding stays, and `conveyor validate` warns."""
    github = spec.source.github
    if github is None or not github.tags or github.tag_creation is None:
        return None
    return f"tags {', '.join(github.tags)}: {github.tag_creation} (source.github.tag_creation)"
