"""The CodeBuild job that synthesizes this revision's templates (`conveyor synth`), so each
environment stage deploys the stack the revision's conveyor.yaml describes.

Interim: the self-update stage (issue 10) takes this over and also updates the pipeline.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

import conveyor
from conveyor.constructs.codebuild_job import CodeBuildJob

SYNTH_DIRECTORY = "conveyor-synth"


def synth_buildspec(spec_file: str = "conveyor.yaml") -> dict[str, Any]:
    """Install this conveyor version, synthesize the spec; the artifact holds every
    `<stack>.template.json` at its root."""
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "install": {
                # Node.js 22, as the self-update job: 20 reached its end of life in April
                # 2026 (jsii prints a banner for it). Both on standard:7.0:
                # https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html
                "runtime-versions": {"python": "3.12", "nodejs": "22"},
                "commands": [f"pip install --quiet 'conveyor=={conveyor.__version__}'"],
            },
            "build": {
                "commands": [
                    "set -euo pipefail",
                    f"conveyor synth {spec_file} -o {SYNTH_DIRECTORY}",
                ]
            },
        },
        "artifacts": {"base-directory": SYNTH_DIRECTORY, "files": ["*.template.json"]},
    }


class SynthJob(CodeBuildJob):
    def __init__(
        self, scope: Construct, id: str, *, name: str, key: kms.IKey, log_group: logs.ILogGroup
    ) -> None:
        super().__init__(
            scope,
            id,
            name=name,
            description=f"conveyor synth for {name}",
            buildspec=synth_buildspec(),
            compute="small",
            timeout_minutes=15,
            key=key,
            log_group=log_group,
        )
