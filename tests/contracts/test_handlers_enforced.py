# mypy: disable-error-code="import-untyped"
"""Handlers run in moto with IAM enforced, as an IAM user whose policy is exactly the
synthesized role policy of their function (tokens resolved to moto's account and region).

moto enforces IAM only once INITIAL_NO_AUTH_ACTION_COUNT requests have passed; it is set to 0
after the fixtures (user, table, topic) exist: https://docs.getmoto.org/en/latest/docs/iam.html
moto then authenticates every request (access key -> user -> the user's policies) and refuses it
with AccessDenied when the policies do not allow it. Its own decision, though, judges every
request against resource "*" and names CloudWatch's actions "monitoring:*", which would refuse
any least-privilege policy; so the decision on the policies moto collected is made by the same
evaluator as the other contracts, on the request's real IAM action, resource and context.

moto implements neither CodePipeline's job results and execution reads nor CodeDeploy's
deployment reads: those calls are answered here and their IAM action judged by the evaluator.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws, settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMRequestBase

from conveyor.handlers import asset_path
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.evaluator import Caller, evaluate
from tests.contracts.model import Example, Located, Role
from tests.contracts.obligations import handler_of

HANDLER_EVENTS = {
    "notify": "pipeline-execution-failed.json",
    "record_deployment": "pipeline-execution-succeeded.json",
    "watch_executions": "schedule.json",
}
# The call each handler exists to make; it must have gone through.
PURPOSE = {
    "notify": ("sns", "Publish"),
    "record_deployment": ("dynamodb", "UpdateItem"),
    # Its metric is an EMF log line (no API call); listing the executions is what it must do.
    "watch_executions": ("codepipeline", "ListPipelineExecutions"),
}
# Calls moto does not implement, answered with the shape the handler reads.
NOT_IN_MOTO: dict[tuple[str, str], dict[str, Any]] = {
    ("codepipeline", "GetPipelineExecution"): {
        "pipelineExecution": {
            "pipelineExecutionId": "e-1",
            "status": "Failed",
            "artifactRevisions": [],
        }
    },
    ("codepipeline", "ListActionExecutions"): {"actionExecutionDetails": []},
    ("codepipeline", "ListPipelineExecutions"): {"pipelineExecutionSummaries": []},
    ("codepipeline", "PutJobSuccessResult"): {},
    ("codepipeline", "PutJobFailureResult"): {},
    ("codepipeline", "GetJobDetails"): {
        "jobDetails": {"data": {"pipelineContext": {"pipelineName": "pipeline"}}}
    },
    ("codedeploy", "GetDeployment"): {"deploymentInfo": {}},
    ("codedeploy", "PutLifecycleEventHookExecutionStatus"): {},
}
_SIGNING_NAMES = {"monitoring": "cloudwatch"}


@dataclass
class Recorder:
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    answered: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    result: Any = None

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> Any:
        """`params` is the serialized request; the API parameters of JSON protocols are its body."""
        service = model.service_model.endpoint_prefix
        service = _SIGNING_NAMES.get(service, service)
        body = params.get("body") or {}
        if isinstance(body, bytes | str):
            body = json.loads(body) if body[:1] in (b"{", "{") else {}
        api_params: dict[str, Any] = body
        self.calls.append((service, model.name, api_params))
        canned = NOT_IN_MOTO.get((service, model.name))
        if canned is None:
            return None
        self.answered.append((service, model.name, api_params))
        return _Http(), dict(canned, ResponseMetadata={"HTTPStatusCode": 200})

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        code = parsed.get("Error", {}).get("Code")
        if code:
            self.errors.append((model.service_model.endpoint_prefix, model.name, code))


class _Http:
    """The HTTP side of an answered call: botocore reads only its status."""

    def __init__(self) -> None:
        self.status_code = 200
        self.headers: dict[str, str] = {}
        self.content = b""
        self.text = ""


def function_for(example: Example, handler: str) -> Located:
    for function in example.of_type("AWS::Lambda::Function"):
        if handler_of(function) == handler:
            return function
    raise LookupError(f"{example.name} has no {handler} function")


def _create_fixtures(example: Example, env: dict[str, str], region: str) -> None:
    for variable in ("DEPLOYMENT_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"):
        if variable not in env:
            continue
        (table,) = [
            t
            for kind in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
            for t in example.of_type(kind)
            if t.resolver.name(t.lid) == env[variable]
        ]
        indexes = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in table.value("GlobalSecondaryIndexes") or ()
        ]
        boto3.client("dynamodb", region_name=region).create_table(
            TableName=env[variable],
            KeySchema=table.value("KeySchema"),
            AttributeDefinitions=table.value("AttributeDefinitions"),
            BillingMode="PAY_PER_REQUEST",
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
        )
    for variable in ("TOPIC_ARN", "SECURITY_TOPIC_ARN"):
        if variable in env:
            arn = boto3.client("sns", region_name=region).create_topic(
                Name=env[variable].rsplit(":", 1)[1]
            )
            assert arn["TopicArn"] == env[variable]


def _user_with_role_policy(
    example: Example, function: Located, refuse: frozenset[str] = frozenset()
) -> dict[str, str]:
    return _user_with_policies(
        example, function.value("FunctionName"), function.value("Role"), refuse
    )


def _user_with_policies(
    example: Example, name: str, role_arn: str, refuse: frozenset[str] = frozenset()
) -> dict[str, str]:
    """An IAM user holding exactly the policies of the role `role_arn` (less the actions in
    `refuse`, for negative controls), and its access key."""
    iam = boto3.client("iam", region_name=example.region)
    iam.create_user(UserName=name)
    for index, document in enumerate(example.role(role_arn).policies):
        iam.put_user_policy(
            UserName=name,
            PolicyName=f"role-policy-{index}",
            PolicyDocument=json.dumps(_without(document, refuse)),
        )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def _without(document: dict[str, Any], refuse: frozenset[str]) -> dict[str, Any]:
    """`document` with the actions in `refuse` taken out of its Allow statements."""
    if not refuse:
        return document
    refused = {action.lower() for action in refuse}
    statements = []
    for statement in document.get("Statement", []):
        actions = statement.get("Action")
        if statement.get("Effect") == "Allow" and actions is not None:
            actions = [actions] if isinstance(actions, str) else actions
            kept = [a for a in actions if a.lower() not in refused]
            if not kept:
                continue
            statement = dict(statement, Action=kept)
        statements.append(statement)
    return dict(document, Statement=statements)


def _event(example: Example, handler: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (asset_path(handler) / "events" / HANDLER_EVENTS[handler]).read_text()
    )
    event["account"], event["region"] = example.account, example.region
    if "pipeline" in event.get("detail", {}):
        event["detail"]["pipeline"] = example.pipeline.value("Name")
        event["resources"] = [example.pipeline.arn]
    return event


# Signing names that are not the service's IAM prefix.
_IAM_PREFIX = {"monitoring": "cloudwatch"}


def _request_target(request: IAMRequestBase, service: str) -> tuple[str, dict[str, str]]:
    """The resource ARN and condition keys of a request, from its parameters."""
    params: dict[str, Any] = dict(request._data)
    if request._body and request._headers.get("Content-Type", "").startswith(
        "application/x-amz-json"
    ):
        params |= json.loads(request._body)
    first = {k: (v[0] if isinstance(v, list) else v) for k, v in params.items()}
    region, account = request._region, request.account_id
    if service == "dynamodb" and "TableName" in first:
        table = f"arn:aws:dynamodb:{region}:{account}:table/{first['TableName']}"
        if "IndexName" in first:
            # A Query of an index is authorized on the index's ARN.
            return f"{table}/index/{first['IndexName']}", {}
        return table, {}
    if service == "sns" and "TopicArn" in first:
        return str(first["TopicArn"]), {}
    if service == "cloudwatch" and "Namespace" in first:
        return "*", {"cloudwatch:namespace": str(first["Namespace"])}
    if service == "ecs" and "cluster" in first:
        # Service actions are authorized on the service, tagged with its cluster:
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
        cluster = str(first["cluster"]).rsplit("/", 1)[-1]
        cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"
        names = first.get("service") or (params.get("services") or [None])[0]
        if names:
            service_name = str(names).rsplit("/", 1)[-1]
            arn = f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service_name}"
            return arn, {"ecs:cluster": cluster_arn}
    if service == "sts" and "RoleArn" in first:
        return str(first["RoleArn"]), {}
    if service == "lambda":
        # REST API: the function is named in the path (/2015-03-31/functions/NAME/...).
        match = re.search(r"/functions/([^/?]+)", request._path)
        if match:
            name = match.group(1)
            return f"arn:aws:lambda:{region}:{account}:function:{name}", {}
    return "*", {}


def _decide(request: IAMRequestBase, resource: str) -> None:
    service = _IAM_PREFIX.get(request._service, request._service)
    action = f"{service}:{request._action.split(':', 1)[1]}"
    policies: list[Any] = list(request._access_key.collect_policies())
    documents = [json.loads(p if isinstance(p, str) else p["policy_document"]) for p in policies]
    target, context = _request_target(request, service)
    if target == "*":  # S3 names its resource (arn:aws:s3:::bucket/key) itself
        target = resource
    caller = Caller(arn=request._access_key.arn)
    if not evaluate(caller, action, target, identity=documents, context=context):
        request._raise_access_denied()


def enforce_iam(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turns moto's IAM enforcement on from the next request (as INITIAL_NO_AUTH_ACTION_COUNT=0
    in the environment before moto starts would; the session's moto started long before)."""
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(IAMRequestBase, "check_action_permitted", _decide)
    monkeypatch.setattr(IAMRequestBase, "check_signature", _check_signature)


_moto_check_signature = IAMRequestBase.check_signature


def _check_signature(request: IAMRequestBase) -> None:
    """moto recomputes the SigV4 signature of Lambda's REST requests over another canonical
    path than botocore signed (SignatureDoesNotMatch on a correctly signed GetAlias); the
    access key still has to name the user, and the decision stays on its policies."""
    if request._service != "lambda":
        _moto_check_signature(request)


Prepare = Callable[[dict[str, str]], dict[str, Any]]


def run_under_role_policy(
    example: Example,
    function: Located,
    handler: str,
    prepare: Prepare,
    monkeypatch: pytest.MonkeyPatch,
    *,
    refuse: frozenset[str] = frozenset(),
) -> Recorder:
    """Runs `handler` as `function` would: its environment, credentials holding exactly its
    role's policies, IAM enforced. `prepare(env)` creates what must exist first (still without
    enforcement) and returns the event. A negative control names actions to `refuse` (taken
    out of the policies); its refusals are then the caller's to assert."""
    region = example.region
    env = {
        k: str(v) for k, v in ((function.value("Environment") or {}).get("Variables", {})).items()
    }
    for name, value in {
        "MOTO_ACCOUNT_ID": example.account,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": "setup",
        "AWS_SECRET_ACCESS_KEY": "setup",
        **env,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    common = importlib.import_module("conveyor.handlers._common")
    app = importlib.import_module(f"conveyor.handlers.{handler}.app")
    recorder = Recorder()
    with mock_aws():
        _create_fixtures(example, env, region)
        event = prepare(env)
        for name, value in _user_with_role_policy(example, function, refuse).items():
            monkeypatch.setenv(name, value)
        # From here each request's account is its credentials' (moto: access key -> account),
        # so credentials of a role assumed in another account act in that account.
        monkeypatch.delenv("MOTO_ACCOUNT_ID")
        enforce_iam(monkeypatch)
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", recorder.before)
        boto3.DEFAULT_SESSION.events.register("after-call.*.*", recorder.after)
        _forget(common, app, monkeypatch)
        try:
            recorder.result = app.handler(event, _Context())
        finally:
            _forget(common, app, monkeypatch)
            boto3.DEFAULT_SESSION = None
    if not refuse:
        name = function.value("FunctionName")
        assert recorder.errors == [], f"{name} was refused: {recorder.errors}"
    return recorder


def _forget(common: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drops what a warm Lambda environment keeps between invocations: clients bound to another
    run's credentials, and validate_http's in-memory decisions."""
    common.client.cache_clear()
    # Clients of another region too: one made in an earlier run is bound to that run's session
    # (its credentials and its call recorder).
    common._regional_client.cache_clear()
    common.idempotency_store.cache_clear()
    if hasattr(app, "_client"):
        app._client.cache_clear()
    if hasattr(app, "_decided"):
        monkeypatch.setattr(app, "_decided", {})


def assert_answered_calls_allowed(
    example: Example,
    function: Located,
    recorder: Recorder,
    resources: dict[tuple[str, str], str] | None = None,
    *,
    assumed: dict[str, Role] | None = None,
) -> None:
    """The calls answered here (moto lacks them) judged against the role by the evaluator, on
    `resources[(service, operation)]` when the caller knows the call's resource ARN.
    `assumed`: per service, the role its calls are made as when not the function's own (a role
    it assumed in another account)."""
    own = example.role(function.value("Role"))
    assumed = assumed or {}
    resources = resources or {}
    refused = [
        f"{service}:{operation} on {resource}: {verdict.why}"
        for service, operation, params in recorder.answered
        if not (
            verdict := example.allows(
                assumed.get(service, own),
                f"{service}:{operation}",
                resource := resources.get((service, operation))
                or _resource(example, service, params),
            )
        )
    ]
    assert refused == [], refused


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
@pytest.mark.parametrize("handler", sorted(HANDLER_EVENTS))
def test_handler_runs_under_exactly_its_role_policy(
    example: Example, handler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = function_for(example, handler)
    recorder = run_under_role_policy(
        example, function, handler, lambda env: _event(example, handler), monkeypatch
    )
    made = {(service, operation) for service, operation, _ in recorder.calls}
    assert PURPOSE[handler] in made, f"{handler} never called {PURPOSE[handler]}: {sorted(made)}"
    assert_answered_calls_allowed(example, function, recorder)


def _resource(example: Example, service: str, params: dict[str, Any]) -> str:
    if service == "codepipeline" and "pipelineName" in params:
        return f"arn:aws:codepipeline:{example.region}:{example.account}:{params['pipelineName']}"
    return "*"


class _Context:
    aws_request_id = "11111111-2222-3333-4444-555555555555"
    function_name = "handler"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def test_enforcement_refuses_what_the_user_policy_does_not_allow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The harness itself: with enforcement on, a call outside the user's policy is refused."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "setup")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "setup")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with mock_aws():
        sns = boto3.client("sns", region_name="eu-west-1")
        allowed = sns.create_topic(Name="allowed")["TopicArn"]
        other = sns.create_topic(Name="other")["TopicArn"]
        iam = boto3.client("iam", region_name="eu-west-1")
        iam.create_user(UserName="publisher")
        statement = {"Effect": "Allow", "Action": "SNS:Publish", "Resource": allowed}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_user_policy(
            UserName="publisher", PolicyName="p", PolicyDocument=json.dumps(document)
        )
        key = iam.create_access_key(UserName="publisher")["AccessKey"]
        enforce_iam(monkeypatch)
        client = boto3.client(
            "sns",
            region_name="eu-west-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        client.publish(TopicArn=allowed, Message="ok")
        with pytest.raises(ClientError, match="AccessDenied"):
            client.publish(TopicArn=other, Message="refused")


FAILED_RELEASE = "3a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"


def _record_stage_rollback(
    example: Example, monkeypatch: pytest.MonkeyPatch, refuse: frozenset[str] = frozenset()
) -> Recorder:
    """record_deployment handling a succeeded stage rollback of Deploy-prod (its target and the
    failed release already recorded), under the recorder's role policy."""
    function = function_for(example, "record_deployment")
    rollback = {
        "pipelineExecution": {
            "pipelineExecutionId": "7c1d9e2f-3a4b-4c5d-8e6f-0a1b2c3d4e5f",
            "status": "Succeeded",
            "executionType": "ROLLBACK",
            "trigger": {"triggerType": "AutomatedRollback"},
            "rollbackMetadata": {
                "rollbackTargetPipelineExecutionId": "0a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a60"
            },
        }
    }
    monkeypatch.setitem(NOT_IN_MOTO, ("codepipeline", "GetPipelineExecution"), rollback)

    def prepare(env: dict[str, str]) -> dict[str, Any]:
        table = boto3.resource("dynamodb", region_name=example.region).Table(
            env["DEPLOYMENT_TABLE_NAME"]
        )
        for execution_id, started, outcome in (
            ("0a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a60", "2026-03-02T09:00:00.000000Z", "SUCCEEDED"),
            (FAILED_RELEASE, "2026-03-02T10:00:00.000000Z", "FAILED"),
        ):
            table.put_item(
                Item={
                    "pk": f"{env['APP_NAME']}#prod",
                    "sk": execution_id,
                    "started_at": started,
                    "outcome": outcome,
                    "rolled_back": False,
                    "execution_type": "STANDARD",
                }
            )
        event: dict[str, Any] = json.loads(
            (
                asset_path("record_deployment") / "events" / "stage-rollback-succeeded.json"
            ).read_text()
        )
        event["account"], event["region"] = example.account, example.region
        event["detail"]["pipeline"] = example.pipeline.value("Name")
        event["resources"] = [example.pipeline.arn]
        return event

    return run_under_role_policy(
        example, function, "record_deployment", prepare, monkeypatch, refuse=refuse
    )


@pytest.mark.parametrize("example", ["payments"], indirect=True)
def test_a_stage_rollback_is_recorded_under_exactly_the_recorder_s_role_policy(
    example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: a succeeded stage rollback finds the releases it replaced in the start-order
    index (dynamodb:Query on /index/by-start) and marks them, with the recorder's own policy."""
    recorder = _record_stage_rollback(example, monkeypatch)
    made = [(service, operation) for service, operation, _ in recorder.calls]
    assert ("dynamodb", "Query") in made
    marks = [
        params
        for service, operation, params in recorder.calls
        if (service, operation) == ("dynamodb", "UpdateItem")
        and params["Key"]["sk"]["S"] == FAILED_RELEASE
    ]
    assert marks, "the failed release was never marked"
    assert_answered_calls_allowed(example, function_for(example, "record_deployment"), recorder)


@pytest.mark.parametrize("example", ["payments"], indirect=True)
def test_without_the_query_grant_a_stage_rollback_marks_nothing(
    example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: the Query is what the grant allows; refused, the rollback's own record
    is still written, and the mark is what is lost."""
    refused = _record_stage_rollback(example, monkeypatch, frozenset({"dynamodb:Query"}))
    # moto answers a refusal with HTTP 403 (parsed as the code "403").
    assert [(s, o) for s, o, _ in refused.errors] == [("dynamodb", "Query")]
    assert refused.result["status"] == "recorded"
    assert not [
        params
        for service, operation, params in refused.calls
        if (service, operation) == ("dynamodb", "UpdateItem")
        and params["Key"]["sk"]["S"] == FAILED_RELEASE
    ]
