"""How pipeline.py wires the validation handler: what it passes and what it may do."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from conveyor.spec import load_spec
from tests.handlers.validate_http_servers import make_pki
from tests.synth.conftest import EXAMPLES, Synthesized


def _validate_action(s: Synthesized, stage: str) -> dict[str, Any]:
    pipeline = s.pipeline()
    [actions] = [st["Actions"] for st in pipeline["Properties"]["Stages"] if st["Name"] == stage]
    [validate] = [a for a in actions if a["Name"] == "Validate"]
    found: dict[str, Any] = validate
    return found


def _parameters(action: dict[str, Any]) -> dict[str, Any]:
    raw = action["Configuration"]["UserParameters"]
    if isinstance(raw, dict):  # Fn::Join with references: render references as <Ref>
        separator, parts = raw["Fn::Join"]
        raw = separator.join(p if isinstance(p, str) else "<Ref>" for p in parts)
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def _role_statements(s: Synthesized, function_id: str) -> list[dict[str, Any]]:
    function = s.template["Resources"][function_id]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    found: list[dict[str, Any]] = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def _allows(statements: list[dict[str, Any]], action: str) -> list[Any]:
    return [
        s["Resource"]
        for s in statements
        if s["Effect"] == "Allow"
        and action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]


_ROLLBACK_CALLS = (
    "codedeploy:StopDeployment",
    "codedeploy:CreateDeployment",
    "ecs:UpdateService",
    "lambda:UpdateAlias",
    "sts:AssumeRole",
)


@pytest.mark.parametrize(
    "example", ["payments", "validated-service", "minimal", "multi-account", "lambda-other-account"]
)
def test_a_failed_validation_rolls_nothing_back_itself(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """Issue 11: the stage's OnFailure ROLLBACK deploys the last good release again; a rollback
    by the validation as well raced it (CodeDeploy takes one deployment per group at a time).
    The Validate action names no rollback target, and its function may change nothing."""
    s = synthesized[example]
    pipeline = s.pipeline()
    stages = {st["Name"]: st for st in pipeline["Properties"]["Stages"]}
    validated = [e.name for e in s.spec.environments if e.validation is not None]
    assert validated, example
    for env in validated:
        stage = stages[f"Deploy-{env}"]
        assert stage["OnFailure"]["Result"] == "ROLLBACK"
        validate = _validate_action(s, f"Deploy-{env}")
        assert "rollback" not in _parameters(validate)
        statements = _role_statements(s, validate["Configuration"]["FunctionName"]["Ref"])
        assert [a for a in _ROLLBACK_CALLS if _allows(statements, a)] == [], env


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_pki(tmp_path_factory.mktemp("pki")).ca_pem


@pytest.fixture(scope="module")
def tls_checked(tmp_path_factory: pytest.TempPathFactory, ca: str) -> Synthesized:
    """The minimal example, checking its endpoint through another name with a private CA."""
    from conveyor.synth import synthesize

    folder = tmp_path_factory.mktemp("tls-checked")
    document = yaml.safe_load(next(p for p in EXAMPLES if p.stem == "minimal").read_text())
    document["environments"][0]["validate"]["http"].update(
        server_name="api.internal.example", ca_certificate=ca
    )
    spec_path = folder / "conveyor.yaml"
    spec_path.write_text(yaml.safe_dump(document))
    spec = load_spec(spec_path)
    result = synthesize(spec, folder / "out")
    return Synthesized(
        name="tls-checked",
        spec=spec,
        outdir=result.outdir,
        templates={t.stack: json.loads(t.path.read_text()) for t in result.templates},
        nag_report={},
    )


def test_server_name_and_private_ca_reach_the_validation(tls_checked: Synthesized, ca: str) -> None:
    """Issue 14/5: the check sends SNI/Host for the app's name; the CA (too long for
    UserParameters' 1000 characters) travels in the function's environment."""
    validate = _validate_action(tls_checked, "Deploy-staging")
    assert _parameters(validate)["server_name"] == "api.internal.example"
    function = tls_checked.template["Resources"][validate["Configuration"]["FunctionName"]["Ref"]]
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["VALIDATE_CA_CERTIFICATE"] == ca.strip()
