"""The CodeBuild job that synthesizes this revision's templates (`conveyor synth`), so each
environment stage deploys the stack the revision's conveyor.yaml describes.

Used without the UpdatePipeline stage (a `Pipeline` in the user's own CDK app), which otherwise
does both. Like that stage's job, it installs conveyor with its `cdk` extra (`conveyor synth`
exits 2 without the CDK libraries) and publishes every stack's assets, which the environments'
templates name in each account's CDK bootstrap bucket: the user deploys only the pipeline's
stack, whose assets are not all of theirs (CDK's custom resource providers live only in the
environments' stacks).
"""

from __future__ import annotations

import shlex
from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from conveyor.constructs.codebuild_job import CodeBuildJob
from conveyor.deploy.cdk_cli import CDK_PACKAGE

SYNTH_DIRECTORY = "conveyor-synth"


def synth_buildspec(requirement: str, spec_file: str = "conveyor.yaml") -> dict[str, Any]:
    """Install conveyor (`requirement`, with the cdk extra), synthesize the spec, publish every
    stack's assets; the artifact holds every `<stack>.template.json` at its root."""
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "install": {
                # Node.js 22, as the self-update job: 20 reached its end of life in April
                # 2026 (jsii prints a banner for it). Both on standard:7.0:
                # https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html
                "runtime-versions": {"python": "3.12", "nodejs": "22"},
                "commands": [f"pip install --quiet {shlex.quote(requirement)}"],
            },
            "build": {
                "commands": [
                    "set -euo pipefail",
                    f"conveyor synth {shlex.quote(spec_file)} -o {SYNTH_DIRECTORY}",
                    # Already published assets are skipped.
                    f"npx --yes {CDK_PACKAGE} publish-assets --unstable=publish-assets "
                    f"--app {SYNTH_DIRECTORY} --all",
                ]
            },
        },
        "artifacts": {"base-directory": SYNTH_DIRECTORY, "files": ["*.template.json"]},
    }


class SynthJob(CodeBuildJob):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        requirement: str,
        spec_file: str,
        key: kms.IKey,
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(
            scope,
            id,
            name=name,
            description=f"conveyor synth for {name}",
            buildspec=synth_buildspec(requirement, spec_file),
            compute="small",
            timeout_minutes=15,
            key=key,
            log_group=log_group,
        )
