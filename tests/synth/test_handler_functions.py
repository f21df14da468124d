"""conveyor's handler functions as synthesized: one asset, the Powertools layer from its public
SSM parameter, Lambda's JSON logs, and the idempotency table with least-privilege grants."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conveyor.handlers import ASSET_EXCLUDE, ASSET_ROOT, HANDLER_NAMES, POWERTOOLS_VERSION
from tests.synth.conftest import EXAMPLES, Synthesized

HANDLER_STRINGS = {f"{name}.app.handler" for name in HANDLER_NAMES}


def _handler_functions(s: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    """logical id -> (stack, properties) of every function running conveyor's handlers."""
    return {
        logical_id: (stack, resource["Properties"])
        for stack, template in s.templates.items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") in HANDLER_STRINGS
    }


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_every_handler_function_runs_the_one_asset_with_the_powertools_layer(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    functions = _handler_functions(s)
    assert functions, "every example runs at least the history or notice handlers"
    assert len({str(props["Code"]["S3Key"]) for _, props in functions.values()}) == 1
    for stack, props in functions.values():
        assert props["Layers"] == [{"Ref": "PowertoolsLayerArn"}]
        parameter = s.templates[stack]["Parameters"]["PowertoolsLayerArn"]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        assert parameter["Default"] == (
            f"/aws/service/powertools/python/arm64/python3.12/{POWERTOOLS_VERSION}"
        )
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]


def test_the_asset_holds_the_handlers_and_shared_module_only(web: Synthesized) -> None:
    [(_, props)] = [
        f for f in _handler_functions(web).values() if f[1]["Handler"] == "notify.app.handler"
    ][:1]
    asset = web.outdir / f"asset.{props['Code']['S3Key'].removesuffix('.zip')}"
    files = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    assert {"_common.py", *(f"{n}/app.py" for n in HANDLER_NAMES)} <= files
    assert not [f for f in files if "events/" in f or f.endswith((".md", ".pyc"))], files
    assert not [f for f in files if "__pycache__" in f], files


def test_asset_hash_ignores_events_caches_docs_and_tests(tmp_path: Path) -> None:
    """Same hash from a checkout full of local leftovers as from the bare sources, wherever the
    checkout is: templates must not change between machines."""
    from aws_cdk import FileSystem

    bare = tmp_path / "bare" / "handlers"
    shutil.copytree(ASSET_ROOT, bare, ignore=shutil.ignore_patterns(*ASSET_EXCLUDE))
    busy = tmp_path / "elsewhere" / "deeper" / "handlers"
    shutil.copytree(ASSET_ROOT, busy)
    (busy / "notify" / "__pycache__").mkdir(exist_ok=True)
    (busy / "notify" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0compiled")
    (busy / "notify" / "events" / "extra.json").write_text("{}")
    (busy / "README.md").write_text("local notes")
    (busy / "tests").mkdir()
    (busy / "tests" / "test_x.py").write_text("")
    (busy / ".DS_Store").write_bytes(b"x")
    exclude = list(ASSET_EXCLUDE)
    bare_hash = FileSystem.fingerprint(str(bare), exclude=exclude)
    assert FileSystem.fingerprint(str(busy), exclude=exclude) == bare_hash
    # and the exclusions do not hide code: a changed handler changes the hash
    (busy / "notify" / "app.py").write_text("changed = True\n")
    assert FileSystem.fingerprint(str(busy), exclude=exclude) != bare_hash


def test_idempotency_table_is_powertools_shaped_encrypted_and_recoverable(
    web: Synthesized,
) -> None:
    [table] = [
        r
        for r in web.resources("AWS::DynamoDB::GlobalTable").values()
        if str(r["Properties"]["TableName"]).endswith("-idempotency")
    ]
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    replica = props["Replicas"][0]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert replica["SSESpecification"]["KMSMasterKeyId"]


def _statements_of(s: Synthesized, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Role"]["Fn::GetAtt"][0]
    found: list[dict[str, Any]] = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


@pytest.mark.parametrize("handler", ["notify", "validate_http"])
def test_idempotent_handlers_get_the_table_and_only_record_actions(
    synthesized: dict[str, Synthesized], handler: str
) -> None:
    s = synthesized["validated-service"]
    [table_id] = [
        lid
        for lid, r in s.resources("AWS::DynamoDB::GlobalTable").items()
        if str(r["Properties"].get("TableName", "")).endswith("-idempotency")
    ]
    pipeline_functions = [
        props
        for stack, props in _handler_functions(s).values()
        if props["Handler"] == f"{handler}.app.handler" and s.templates[stack] is s.template
    ]
    assert pipeline_functions
    for props in pipeline_functions:
        assert props["Environment"]["Variables"]["IDEMPOTENCY_TABLE_NAME"] == {"Ref": table_id}
        grants = [
            st
            for st in _statements_of(s, props)
            if st["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}
        ]
        assert len(grants) == 1
        assert sorted(grants[0]["Action"]) == [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ]


def _queue_arn_of(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return str(value["Fn::GetAtt"][0])
    return None


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_every_eventbridge_invoked_handler_keeps_failed_events(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """FM109: an event the target cannot deliver, or the function fails on after Lambda's
    retries, lands in the encrypted failed-events queue, and an alarm tells the primary topic."""
    s = synthesized[example]
    resources = s.template["Resources"]
    functions = {
        lid for lid, (stack, _) in _handler_functions(s).items() if s.templates[stack] is s.template
    }
    invoked: set[str] = set()
    queues: set[str] = set()
    for rule in s.resources("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            if isinstance(arn, dict) and arn.get("Fn::GetAtt", [None])[0] in functions:
                invoked.add(arn["Fn::GetAtt"][0])
                queue = _queue_arn_of(target["DeadLetterConfig"]["Arn"])
                assert queue is not None
                queues.add(queue)
    assert {"notify.app.handler", "record_deployment.app.handler"} <= {
        resources[f]["Properties"]["Handler"] for f in invoked
    }
    on_failure = {
        c["Properties"]["FunctionName"]["Ref"]: _queue_arn_of(
            c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
        )
        for c in s.resources("AWS::Lambda::EventInvokeConfig").values()
    }
    for function in invoked:
        assert on_failure[function] in queues
    [queue] = queues
    assert resources[queue]["Properties"]["KmsMasterKeyId"]
    assert resources[queue]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    [alarm] = [
        a
        for a in s.resources("AWS::CloudWatch::Alarm").values()
        if {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        in a["Properties"].get("Dimensions", [])
    ]
    assert alarm["Properties"]["AlarmActions"]
    assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
