"""``pulumi preview --json`` and ``pulumi stack export`` -> records.

Formats (Pulumi's apitype package, https://github.com/pulumi/pulumi/tree/master/sdk/go/common/apitype):
- export: ``{"version": 3, "deployment": {"resources": [ResourceV3...]}}``
- preview: ``{"steps": [{"op", "urn", "newState": ResourceV3, "oldState"}...]}``
- ResourceV3: ``urn`` (``urn:pulumi:<stack>::<project>::<parent$>type::<name>``), ``type``,
  ``custom``, ``id``, ``inputs``, ``outputs``, ``dependencies``, ``propertyDependencies``
  (input name -> URNs it was computed from), ``retainOnDelete``.
- A value unknown until apply is the string ``04da6b54-80e4-46f7-96ec-b56ff0331ba9``; a secret
  is ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ...}``
  (sdk/go/common/resource/plugin/rpc.go, ``UnknownStringValue`` and the secret signature).
- ``inputs.__defaults`` names inputs the provider filled in (auto-naming): not the user's.

AWS Classic types are bridged from the Terraform provider: ``aws:s3/bucketV2:BucketV2`` is
``aws_s3_bucket`` and ``serverSideEncryptionConfiguration`` is
``server_side_encryption_configuration``. aws-native types are CloudFormation types already
(``aws-native:s3:Bucket`` is ``AWS::S3::Bucket``, properties in camelCase).
"""

from __future__ import annotations

import json
import re
from typing import Any

from conveyor.rules.inputs import cfn_spelling
from conveyor.rules.inputs.records import (
    MAX_DEPTH,
    UNKNOWN,
    Record,
    TooDeepError,
    snake,
    snake_keys,
)
from conveyor.rules.patterns import lazy
from conveyor.rules.template import TemplateError

UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 (a signature, not a password)
# What `pulumi preview --json` prints in place of a secret value.
MASKED_SECRET = "[secret]"  # noqa: S105 (a placeholder, not a password)
_FIX = "give the output of `pulumi preview --json` or `pulumi stack export` unchanged"
# Types whose Terraform name is not aws_<module>_<resource>.
_TERRAFORM_TYPES = {
    "aws:codepipeline/pipeline:Pipeline": "aws_codepipeline",
    "aws:codedeploy/application:Application": "aws_codedeploy_app",
    "aws:codestarnotifications/notificationRule:NotificationRule": (
        "aws_codestarnotifications_notification_rule"
    ),
}
_CLASSIC = lazy(r"^aws:([a-z0-9]+)/[A-Za-z0-9]+:([A-Za-z0-9]+)$")
_NATIVE = lazy(r"^aws-native:([a-z0-9]+):([A-Za-z0-9]+)$")
# The steps of a preview after which the resource exists: they carry its "newState"
# (pulumi sdk/go/common/display StepOp; delete, delete-replaced, discard, discard-replaced and
# remove-pending-replace carry none).
_KEEPS = frozenset(
    {
        "same",
        "create",
        "update",
        "replace",
        "create-replacement",
        "import",
        "import-replacement",
        "refresh",
    }
)
_EMPTY = (
    "an empty list, and every Pulumi stack lists at least itself (pulumi:pulumi:Stack): "
    "the file was cut"
)
# ResourceV3 fields read here and their JSON shape (apitype/core.go).
_STATE_FIELDS: dict[str, type] = {
    "id": str,
    "outputs": dict,
    "dependencies": list,
    "propertyDependencies": dict,
    "provider": str,
    "external": bool,
    "delete": bool,
    "retainOnDelete": bool,
}
_NAME_INPUTS = frozenset({"bucket", "name", "function_name", "topic_name", "role_name"})
_NATIVE_OPAQUE = frozenset(
    {"policyDocument", "keyPolicy", "assumeRolePolicyDocument", "eventPattern", "variables"}
)


def is_pulumi(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    deployment = data.get("deployment")
    if isinstance(deployment, dict) and "resources" in deployment:
        return True
    return "steps" in data and "format_version" not in data


def read(data: dict[str, Any], *, name: str) -> tuple[list[Record], dict[str, list[str]]]:
    states = list(_states(data, name))
    records: list[Record] = []
    outputs: dict[str, list[str]] = {}
    outputs_seen = True
    default_tags = _default_tags(states)
    seen: dict[str, tuple[dict[str, Any], str]] = {}
    for state, where in states:
        urn = state.get("urn")
        rtype = state.get("type")
        if not isinstance(urn, str) or not isinstance(rtype, str):
            raise _fail(name, where, 'a resource needs "urn" and "type" strings')
        _check_state(state, where, name)
        if state.get("external") is True or state.get("delete") is True:
            continue  # read with .get() (not the stack's), or pending deletion
        if urn in seen and _repeated(state, seen[urn], urn, where, name):
            continue
        seen[urn] = state, where
        if rtype == "pulumi:pulumi:Stack":
            outputs, outputs_seen = _stack_outputs(state)
            continue
        try:
            record = _record(state, urn, rtype, where, name)
        except TooDeepError:
            raise TooDeepError(f"{where} ({urn})") from None
        if record is None and state.get("custom") is True and not rtype.startswith("pulumi:"):
            # A resource of another provider (random, tls, ...): no rule reads it, which the
            # report says (``build``: not checked) instead of passing over it in silence.
            record = Record(urn, urn.rsplit("::", 1)[-1], rtype, {}, source=rtype)
        if record is not None and not record.native and "tags_all" not in record.values:
            provider = state.get("provider")
            defaults = default_tags.get(provider) if isinstance(provider, str) else None
            if defaults:
                record.values["tags_all"] = defaults
        if record is not None:
            records.append(record)
    if not outputs_seen:
        # Outputs without propertyDependencies (older exports): what each one exposes cannot
        # be seen, so none is claimed missing (CV092).
        outputs = {name: [r.key for r in records] for name in outputs}
    return records, outputs


def _repeated(
    state: dict[str, Any], first: tuple[dict[str, Any], str], urn: str, where: str, name: str
) -> bool:
    """A URN met a second time: in a preview, the steps of one replacement (``replace`` and
    ``create-replacement``) carry the same new state, read once (True). Two different states
    for one URN are an edited file: reading either would leave the other unchecked."""
    if state == first[0]:
        return True
    raise _fail(
        name,
        where,
        f"{urn} is listed again with a different state (first at {first[1]}); a stack has one "
        "resource per URN",
    )


def _default_tags(states: list[tuple[dict[str, Any], str]]) -> dict[str, dict[str, Any]]:
    """Provider reference (``<provider URN>::<id>``, what a resource's ``provider`` holds) ->
    the AWS provider's ``defaultTags.tags``. Provider inputs arrive JSON-encoded."""
    out: dict[str, dict[str, Any]] = {}
    for state, where in states:
        rtype = state.get("type")
        if not isinstance(rtype, str) or not rtype.startswith("pulumi:providers:aws"):
            continue
        inputs = state.get("inputs")
        value = inputs.get("defaultTags") if isinstance(inputs, dict) else None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                continue
        try:
            tags = _known(value.get("tags")) if isinstance(value, dict) else None
        except TooDeepError:
            raise TooDeepError(f"{where}.inputs.defaultTags") from None
        if isinstance(tags, dict) and tags:
            out[f"{state.get('urn')}::{state.get('id')}"] = tags
    return out


def _fail(name: str, where: str, problem: str) -> TemplateError:
    return TemplateError(f"{name}: {where}: {problem}; {_FIX}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _check_state(state: dict[str, Any], where: str, name: str) -> None:
    """ResourceV3 fields conveyor reads, in the shape apitype documents: a field of another
    shape would be read as absent, and change the findings without a word."""
    for key, expected in _STATE_FIELDS.items():
        value = state.get(key)
        if value is not None and type(value) is not expected:
            shape = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
            raise _fail(name, f"{where}.{key}", f"must be {shape[expected]}, not {_kind(value)}")
    deps = state.get("dependencies")
    if deps and not all(type(d) is str for d in deps):
        raise _fail(name, f"{where}.dependencies", "must be a list of URN strings")
    raw = state.get("propertyDependencies")
    if raw:
        for key, urns in raw.items():
            if type(urns) is not list or not all(type(u) is str for u in urns):
                raise _fail(
                    name,
                    f"{where}.propertyDependencies.{key}",
                    f"must be a list of URN strings, not {_kind(urns)}",
                )


def _states(data: dict[str, Any], name: str) -> Any:
    deployment = data.get("deployment")
    if deployment is not None:
        if not isinstance(deployment, dict):
            raise _fail(name, "deployment", "must be an object")
        resources = deployment.get("resources")
        if not isinstance(resources, list):
            # (null too: an export leaves the key out of a stack without resources.)
            raise _fail(name, "deployment.resources", "must be a list")
        if not resources:
            # Every Pulumi program registers its stack (pulumi:pulumi:Stack), and the export
            # leaves "resources" out of a stack that has none: an empty list is an edited file.
            raise _fail(name, "deployment.resources", _EMPTY)
        for index, state in enumerate(resources):
            where = f"deployment.resources[{index}]"
            if not isinstance(state, dict):
                raise _fail(name, where, "must be an object")
            yield state, where
        return
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise _fail(name, "steps", "must be a list")
    if not steps:
        raise _fail(name, "steps", _EMPTY)
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        if not isinstance(step, dict):
            raise _fail(name, where, "must be an object")
        op = step.get("op")
        if op is not None and not isinstance(op, str):
            raise _fail(name, f"{where}.op", f'must be a string such as "create", not {_kind(op)}')
        state = step.get("newState")
        if state is None:
            if op in _KEEPS:
                # The resource exists after this step: skipping it would check the preview
                # without it.
                raise _fail(name, f"{where}.newState", f"missing: a {op!r} step carries it")
            continue  # a delete: the resource will not exist
        if not isinstance(state, dict):
            raise _fail(name, f"{where}.newState", "must be an object")
        yield state, f"{where}.newState"


def _record(state: dict[str, Any], urn: str, rtype: str, where: str, name: str) -> Record | None:
    inputs = state.get("inputs")
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise _fail(name, f"{where}.inputs", "must be an object")
    inputs = _known(inputs)
    if not isinstance(inputs, dict):
        inputs = {}  # all inputs secret: nothing to read
    defaults = inputs.pop("__defaults", [])
    defaults = {d for d in defaults if isinstance(d, str)} if isinstance(defaults, list) else set()
    outputs = state.get("outputs")
    outputs = _known(outputs) if isinstance(outputs, dict) else {}
    if not isinstance(outputs, dict):
        outputs = {}
    resource_name = urn.split("::", 3)[-1] if urn.count("::") >= 3 else urn
    stack = urn.split("::", 1)[0].rsplit(":", 1)[-1]
    native = _NATIVE.match(rtype)
    if native:
        record_type = cfn_spelling.cfn_type(native.group(1), native.group(2))
        values: dict[str, Any] = {
            cfn_spelling.property_name(record_type, k): _native_values(v, k, record_type)
            for k, v in inputs.items()
            if k not in defaults
        }
    else:
        classic = _terraform_type(rtype)
        if classic is None:
            return None
        record_type = classic
        values = snake_keys(inputs)
    # The tags AWS applies, provider default tags merged in (an export's output).
    merged = outputs.get("tagsAll")
    if not native and (isinstance(merged, dict) or merged is UNKNOWN):
        values["tags_all"] = merged
    # Identities for joins and references by value (``id`` is the name for most types).
    for key in ("id", "arn"):
        known = state.get(key) if key == "id" else outputs.get(key)
        if isinstance(known, str) and known and not native:
            values.setdefault(key, known)
    if state.get("retainOnDelete") is True:
        values["__retain"] = True
    declared = frozenset(snake(k) for k in inputs)
    refs = _property_dependencies(state)
    # Computed from other resources, auto-named by Pulumi (a random suffix, ``__defaults``),
    # or a name carrying the stack's name as one of its parts: not a literal.
    carries_stack = re.compile(rf"(?<![A-Za-z0-9]){re.escape(stack)}(?![A-Za-z0-9])")
    computed = (
        set(refs)
        | {snake(d) for d in defaults}
        | {
            k
            for k in _NAME_INPUTS
            if isinstance(values.get(k), str) and stack and carries_stack.search(values[k])
        }
    )
    derived: dict[str, list[str]] = {}
    arns: tuple[str, ...] = ()
    if native:
        # The engine resolved these from other resources: an ARN or account id in them is
        # that resource's, not one written into the program (CV036).
        raw = state.get("propertyDependencies")
        if isinstance(raw, dict):
            derived = {
                cfn_spelling.property_name(record_type, str(k)): [
                    u for u in v if isinstance(u, str)
                ]
                for k, v in raw.items()
                if isinstance(v, list) and v
            }
        arns = tuple(
            v
            for k, v in outputs.items()
            if str(k).lower().endswith("arn") and isinstance(v, str) and v.startswith("arn:")
        )
    deps = state.get("dependencies")
    return Record(
        key=urn,
        name=resource_name,
        type=record_type,
        values=values,
        refs=refs,
        depends_on=[d for d in deps if isinstance(d, str)] if isinstance(deps, list) else [],
        native=bool(native),
        declared=None if native else declared,
        computed=frozenset(computed),
        derived=derived,
        arns=arns,
        source=rtype,
    )


def _terraform_type(token: str) -> str | None:
    if token in _TERRAFORM_TYPES:
        return _TERRAFORM_TYPES[token]
    match = _CLASSIC.match(token)
    if match is None:
        return None
    resource = match.group(2)
    if resource.endswith("V2"):  # BucketV2, BucketVersioningV2, ...: the same Terraform type
        resource = resource[:-2]
    return f"aws_{match.group(1)}_{snake(resource)}"


def _property_dependencies(state: dict[str, Any]) -> dict[str, list[str]]:
    raw = state.get("propertyDependencies")
    if not isinstance(raw, dict):
        return {}
    return {
        snake(str(k)): [u for u in v if isinstance(u, str)]
        for k, v in raw.items()
        if isinstance(v, list)
    }


def _known(value: Any, depth: int = 0) -> Any:
    """Unknown sentinels and secrets -> UNKNOWN (a value, just not one we can read)."""
    if depth > MAX_DEPTH:
        raise TooDeepError("")
    if isinstance(value, str) and value in (UNKNOWN_VALUE, MASKED_SECRET):
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the SDK sends numbers as floats: 15.0 minutes is 15
    if isinstance(value, dict):
        if SECRET_KEY in value:
            return UNKNOWN
        return {k: _known(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_known(v, depth + 1) for v in value]
    return value


def _stack_outputs(state: dict[str, Any]) -> tuple[dict[str, list[str]], bool]:
    """Output name -> the URNs it was computed from, and whether the input says (older
    exports carry no ``propertyDependencies``)."""
    outputs = state.get("outputs")
    deps = state.get("propertyDependencies")
    if not isinstance(outputs, dict):
        return {}, True
    found: dict[str, list[str]] = {}
    for key in outputs:
        urns = deps.get(key) if isinstance(deps, dict) else None
        found[str(key)] = [u for u in urns if isinstance(u, str)] if isinstance(urns, list) else []
    return found, isinstance(deps, dict)


def _native_values(value: Any, key: str, cfn_type: str, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise TooDeepError("")
    if key in _NATIVE_OPAQUE:
        return value
    if key == "tags" and isinstance(value, dict):
        return value  # a tag map (AWS::SSM::Parameter): its keys are the user's
    if isinstance(value, dict):
        return {
            cfn_spelling.property_name(cfn_type, k): _native_values(v, k, cfn_type, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        # (An item is not the property itself: a tag list's items are renamed Key/Value.)
        return [_native_values(v, f"{key}[]", cfn_type, depth + 1) for v in value]
    return value
