"""The names a generated pipeline gives what `conveyor status` and `conveyor rollback` look up.

The constructs that give them import aws_cdk (seconds of start-up), so they are written here
again; tests/operate/test_names.py fails when the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from conveyor.constructs.naming import Naming

if TYPE_CHECKING:
    from conveyor.spec.models import Environment, Spec

# The environment stack's parameters that carry the release (constructs/ecs_task.py,
# constructs/lambda_target.py) and its output with the environment's address
# (constructs/environment_stack.py).
IMAGE_PARAMETER = "ImageUri"
CODE_BUCKET_PARAMETER = "CodeBucket"
CODE_KEY_PARAMETER = "CodeKey"
# Every Lambda release an environment deploys is a version of that environment's own package
# object (PackageStore): the version tells releases apart.
CODE_VERSION_PARAMETER = "CodeVersion"
URL_OUTPUT = "Url"


def pipeline_name(spec: Spec) -> str:
    return Naming(spec.app, spec.suffix).name("pipeline")


def stage_name(env_name: str) -> str:
    """The stage that deploys one environment (stages/environment.py)."""
    return f"Deploy-{env_name}"


@dataclass(frozen=True)
class EnvironmentNames:
    """Where one environment lives: its pipeline stage, its stack, and its account when that is
    not the pipeline's (its stack cannot be read with the pipeline account's credentials)."""

    name: str
    stage: str
    stack: str
    account: str | None = None
    # Another account's: the role there the pipeline deploys as, which trusts the pipeline's
    # account and may describe the stack (constructs/foreign_account.py).
    deploy_role: str | None = None
    # Another region's than the pipeline's (environments[].region): its stack is there, and
    # CloudFormation answers for a stack only in the region it lives in.
    region: str | None = None


def environments(spec: Spec) -> list[EnvironmentNames]:
    naming = Naming(spec.app, spec.suffix)
    foreign = {env.name for env in spec.foreign_environments}
    elsewhere = set(spec.other_regions)
    return [
        _environment(
            naming, env, env.name in foreign, env.region if env.region in elsewhere else None
        )
        for env in spec.environments
    ]


def _environment(
    naming: Naming, env: Environment, foreign: bool, region: str | None
) -> EnvironmentNames:
    return EnvironmentNames(
        name=env.name,
        stage=stage_name(env.name),
        stack=naming.name(env.name),  # constructs/environment_stack.environment_stack_name
        account=env.account if foreign else None,
        deploy_role=naming.name("deploy", env.name) if foreign else None,
        region=region,
    )
