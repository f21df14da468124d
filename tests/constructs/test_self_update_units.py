"""The UpdatePipeline stage's pure parts, without synthesizing: what it installs, the order of
its build commands, and how the CloudFormation role's actions are cut to IAM's size quota."""

from __future__ import annotations

import json

import pytest

import conveyor
from conveyor.spec import parse_spec
from conveyor.stages import self_update
from conveyor.stages.self_update import conveyor_requirement, self_update_buildspec

BASE = """\
app: web
owner: team
source: {s3: {}}
build: {commands: ["make"]}
environments: [{name: prod, deploy: {lambda: {}}}]
notifications: {email: [a@example.com]}
"""


def test_the_pipeline_installs_the_version_that_made_it_unless_told_otherwise() -> None:
    assert conveyor_requirement(parse_spec(BASE)) == f"conveyor[cdk]=={conveyor.__version__}"
    told = parse_spec(BASE + "self_update: {install: 'conveyor[cdk]==9.9.9'}\n")
    assert conveyor_requirement(told) == "conveyor[cdk]==9.9.9"


def test_the_build_checks_the_spec_synthesizes_publishes_then_copies_the_handlers() -> None:
    spec = self_update_buildspec()
    assert spec["phases"]["install"]["commands"] == ['pip install --quiet "$CONVEYOR_REQUIREMENT"']
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.12", "nodejs": "22"}
    commands = spec["phases"]["build"]["commands"]
    assert commands[0] == "set -euo pipefail"
    order = [
        next(i for i, c in enumerate(commands) if c.startswith(start))
        for start in (
            'test -f "$CONVEYOR_SPEC"',
            'conveyor synth "$CONVEYOR_SPEC" -o .conveyor/synth',
            'test -f ".conveyor/synth/$PIPELINE_STACK.template.json"',
            "npx --yes aws-cdk@",
            "rm -rf .conveyor/handlers",
            "python -c",
        )
    ]
    assert order == sorted(order)
    assert commands[-1].endswith("' .conveyor/handlers")
    assert spec["cache"] == {"paths": ["/root/.cache/pip/**/*", "/root/.npm/**/*"]}
    assert spec["env"] == {"shell": "bash"}


@pytest.mark.parametrize("count", [0, 1, 150, 400])
def test_actions_are_cut_into_policies_under_the_size_quota(count: int) -> None:
    actions = [f"service{i % 7}:SomeFairlyLongActionName{i}" for i in range(count)]
    chunks = self_update._chunks(actions)
    assert [a for chunk in chunks for a in chunk] == actions
    for chunk in chunks:
        document = {"Statement": [{"Effect": "Allow", "Action": chunk, "Resource": "*"}]}
        assert len(json.dumps(document, separators=(",", ":"))) < 6144
    assert all(chunks) or count == 0
    if count == 400:
        assert len(chunks) > 1
        assert sum(len(a) + 3 for a in chunks[0]) > self_update._POLICY_CHARACTERS - 60


def test_custom_resources_are_told_apart() -> None:
    assert self_update._custom("Custom::S3AutoDeleteObjects")
    assert self_update._custom("AWS::CloudFormation::CustomResource")
    assert not self_update._custom("AWS::Lambda::Function")
