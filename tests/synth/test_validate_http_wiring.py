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
    [pipeline] = s.resources("AWS::CodePipeline::Pipeline").values()
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


def test_a_failed_validation_after_codedeploy_blue_green_rolls_back_through_codedeploy(
    synthesized: dict[str, Synthesized],
) -> None:
    """Issue 14/9: the Validate action names the CodeDeploy group to roll back, and its
    function may stop that group's deployment or redeploy the previous revision, nothing
    wider."""
    payments = synthesized["payments"]
    validate = _validate_action(payments, "Deploy-prod")
    rollback = _parameters(validate)["rollback"]
    assert rollback == {
        "codedeploy": {
            "application": "payments-deploy-prod",
            "deployment_group": "payments-deploy-prod",
        }
    }
    statements = _role_statements(payments, validate["Configuration"]["FunctionName"]["Ref"])
    for action in (
        "codedeploy:GetDeploymentGroup",
        "codedeploy:GetDeployment",
        "codedeploy:StopDeployment",
        "codedeploy:CreateDeployment",
    ):
        [resource] = _allows(statements, action)
        # The prod group itself (by name or by reference), never "*" or staging's.
        rendered = json.dumps(resource)
        assert "payments-deploy-prod" in rendered or "EnvProdWebDeploymentGroup" in rendered
        assert "Staging" not in rendered and "staging" not in rendered
    assert _allows(statements, "codedeploy:GetApplicationRevision")


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
