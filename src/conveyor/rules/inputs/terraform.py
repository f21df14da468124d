"""``terraform show -json`` output (a saved plan, or state) -> records.

Format: https://developer.hashicorp.com/terraform/internals/json-format
- ``planned_values`` (plan) or ``values`` (state): ``root_module`` with ``resources`` and nested
  ``child_modules``; each resource has ``address``, ``mode``, ``type``, ``values``.
- ``resource_changes[].change.after_unknown``: the same shape as ``values``, ``true`` where a
  value is known only after apply (such values are left out of ``planned_values``).
- ``configuration.root_module``: per resource ``expressions`` (``constant_value`` or
  ``references``; nested blocks as lists of expression objects) and ``depends_on``; module calls
  under ``module_calls.<name>.module``, addressed relative to the module.
Split resources are joined to their owner through these ``references``; a state file (no
configuration) joins by the owner's id/name/ARN value instead.
"""

from __future__ import annotations

from typing import Any

from conveyor.rules.inputs.records import MAX_DEPTH, UNKNOWN, Record, TooDeepError
from conveyor.rules.inputs.terraform_tuples import At as _At
from conveyor.rules.inputs.terraform_tuples import Config as _Config
from conveyor.rules.patterns import lazy
from conveyor.rules.plain import Plain
from conveyor.rules.template import TemplateError

_FIX = "give the output of `terraform show -json tfplan` (or of a state file) unchanged"
_NOT_RESOURCES = frozenset({"local", "each", "count", "path", "terraform", "self", "data"})
# An instance key: a number, a quoted for_each key (which may hold "]" and escaped quotes), or
# "*" (a for_each/count not known until apply, Terraform's deferred changes).
_KEY = r'\[(?:"(?:[^"\\]|\\.)*"|[^\]"]*)\]'
_INSTANCE_KEY = lazy(_KEY)
_REFERENCE = lazy(rf"^([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)({_KEY})?")
TRAILING_KEY = lazy(rf"{_KEY}$")
# The module instance an address lies in: "module.ci[1].module.logs." of
# "module.ci[1].module.logs.aws_s3_bucket.b".
_MODULE_INSTANCE = lazy(rf"^(?:module\.[A-Za-z0-9_-]+(?:{_KEY})?\.)*")
_MODULE_REFERENCE = lazy(rf"^module\.([A-Za-z0-9_-]+)({_KEY})?\.([A-Za-z0-9_-]+)")
_VARIABLE_REFERENCE = lazy(r"^var\.([A-Za-z0-9_-]+)")


# What `terraform show -json` prints for a state with no resources: no "values" at all
# (hashicorp/terraform internal/command/testdata/show-json-state/empty/output.json).
_EMPTY_STATE_KEYS = frozenset({"format_version", "terraform_version"})
# Keys only a plan has (a state has "values" instead of "planned_values").
_PLAN_KEYS = ("planned_values", "resource_changes", "prior_state", "resource_drift")


def is_plan(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "format_version" in data
        and (
            any(
                key in data
                for key in ("planned_values", "values", "resource_changes", "configuration")
            )
            or data.keys() <= _EMPTY_STATE_KEYS
        )
    )


class _Reader(Plain):
    """What reading one plan gathers (a ``Plain``, not a dataclass: conveyor.rules.plain says
    why)."""

    _FIELDS = (
        "name",
        "configs",
        "instances",
        "module_outputs",
        "module_arguments",
        "module_instances",
        "has_config",
        "root_found",
    )
    name: str
    configs: dict[str, _Config]
    # configuration address (no instance keys) -> instance addresses
    instances: dict[str, list[str]]
    # configuration prefix of a module ("module.ci.") -> its outputs' references, and the
    # references of the arguments its call passes (input variables), relative to the caller
    module_outputs: dict[str, dict[str, list[str]]]
    module_arguments: dict[str, dict[str, list[str]]]
    # configuration prefix of a module -> the prefixes of its instances ("module.ci[0].")
    module_instances: dict[str, set[str]]
    has_config: bool
    # The references of a root module expression (all strings) -> the instances they name:
    # worked out once per list, not once per resource (a bucket's id is referenced by each of
    # its split resources, a root variable by many).
    # Keyed by the expression's "references" list as written, with the strings of it.
    root_found: dict[tuple[Any, ...], tuple[list[str], list[str]]]

    def __init__(self, name: str) -> None:
        self.name = name
        self.configs = {}
        self.instances = {}
        self.module_outputs = {}
        self.module_arguments = {}
        self.module_instances = {}
        self.has_config = False
        self.root_found = {}

    def add_instance(self, address: str) -> None:
        if "[" not in address and not address.startswith("module."):
            self.instances.setdefault(address, []).append(address)  # the common case
            return
        base = _INSTANCE_KEY.sub("", address) if "[" in address else address
        self.instances.setdefault(base, []).append(address)
        prefix = module_instance(address)
        while prefix:
            config = _INSTANCE_KEY.sub("", prefix) if "[" in prefix else prefix
            known = self.module_instances.setdefault(config, set())
            if prefix in known:
                break
            known.add(prefix)
            prefix = module_instance(prefix[:-1])

    def fail(self, where: str, problem: str) -> TemplateError:
        return TemplateError(f"{self.name}: {where}: {problem}; {_FIX}")


def read(data: dict[str, Any], *, name: str) -> tuple[list[Record], dict[str, list[str]]]:
    """The records of the plan or state, and its root outputs with the instance addresses each
    one references (what CV092 asks: does some output expose the pipeline, the repository)."""
    reader = _Reader(name)
    version = data.get("format_version")
    # ASCII digits only, and few: str.isdigit() also takes "²", which int() refuses, and
    # int() refuses 4,300 digits or more (both were internal errors).
    major = version.split(".", 1)[0] if isinstance(version, str) else ""
    if not (major.isascii() and major.isdigit() and len(major) <= 9):
        raise reader.fail("format_version", 'must be a version string such as "1.2"')
    if int(major) > 1:
        raise reader.fail(
            "format_version",
            f"version {version} is newer than conveyor reads (1.x); upgrade conveyor, or",
        )
    unknowns, created = _after_unknown(data, reader)
    config = data.get("configuration")
    if config is not None:
        root = _mapping(config, "configuration", reader).get("root_module")
        if root is not None:
            reader.has_config = True
            _read_config(_mapping(root, "configuration.root_module", reader), "", reader)
    plan = any(key in data for key in _PLAN_KEYS)
    values_key = "planned_values" if plan else "values"
    raw: list[dict[str, Any]] = []
    if values_key in data:
        values = _mapping(data[values_key], values_key, reader)
        where = f"{values_key}.root_module"
        # Terraform always writes root_module (an empty module is {}): without it, what the
        # plan creates cannot be read, and reading nothing would pass the plan unchecked.
        if "root_module" not in values:
            raise reader.fail(where, "missing (the resources to check are listed there)")
        _collect(_mapping(values["root_module"], where, reader), where, raw, reader)
    elif plan:
        raise reader.fail(
            "planned_values",
            "missing: a plan lists what it will create under planned_values.root_module",
        )
    # The addresses are gathered once for the three questions below (a set built three times
    # was a fiftieth of reading the 1,000-resource benchmark plan).
    addresses = [resource["address"] for resource in raw]
    planned = set(addresses)
    repeated = len(planned) != len(addresses)
    if created:
        _check_planned(created, planned, reader)
    if "deferred_changes" in data:
        # A deferred resource is never one of planned_values, and each is deferred once.
        deferred = _deferred(data, planned, unknowns, reader)
        raw += deferred
        addresses += [resource["address"] for resource in deferred]
    instances = reader.instances
    for address in addresses:
        # add_instance's common case inline (no call per resource): no instance key, no module.
        if "[" in address or address.startswith("module."):
            reader.add_instance(address)
        else:
            instances.setdefault(address, []).append(address)
    if repeated:
        _repeated_address(raw, values_key, reader)
    records = [_record(resource, unknowns, reader) for resource in raw]
    return records, _outputs(reader)


def _repeated_address(raw: list[dict[str, Any]], values_key: str, reader: _Reader) -> None:
    """Raises for the address listed twice (Terraform lists each resource instance once; of
    two entries, a reader keeps one and the other goes unchecked)."""
    seen: set[str] = set()
    for resource in raw:
        address = resource["address"]
        if address in seen:
            raise reader.fail(
                values_key,
                f"{address} is listed twice; Terraform lists each resource instance once",
            )
        seen.add(address)


def module_instance(address: str) -> str:
    if not address.startswith("module."):
        return ""
    match = _MODULE_INSTANCE.match(address)
    return match.group(0) if match else ""


def _mapping(value: Any, where: str, reader: _Reader) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise reader.fail(where, f"must be an object, not {_kind(value)}")
    return value


def _list(value: Any, where: str, reader: _Reader) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise reader.fail(where, f"must be a list, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _collect(
    module: dict[str, Any],
    where: str,
    out: list[dict[str, Any]],
    reader: _Reader,
    depth: int = 0,
) -> None:
    if depth > 50:
        raise reader.fail(where, "modules nested more than 50 deep")
    # The path of an item is spelled out only for a message: a plan of 10^3 resources would
    # otherwise build 10^3 strings that no one reads.
    resources = _list(module.get("resources"), f"{where}.resources", reader)
    for resource in resources:
        if (
            type(resource) is not dict
            or type(resource.get("address")) is not str
            or type(resource.get("type")) is not str
            # "values" is left out when empty, never null: null would read as no values.
            or ("values" in resource and type(resource["values"]) is not dict)
        ):
            _resource_shape(resource, f"{where}.resources[{resources.index(resource)}]", reader)
        mode = resource.get("mode", "managed")
        if mode != "managed":
            if mode != "data":
                _bad_mode(mode, f"{where}.resources[{resources.index(resource)}].mode", reader)
            continue  # data sources are read, not created
        out.append(resource)
    children = _list(module.get("child_modules"), f"{where}.child_modules", reader)
    for index, child in enumerate(children):
        at = f"{where}.child_modules[{index}]"
        _collect(_mapping(child, at, reader), at, out, reader, depth + 1)


def _resource_shape(resource: Any, where: str, reader: _Reader) -> None:
    """Raises for what a planned resource lacks (checked here, off the path of every
    well-formed resource)."""
    _mapping(resource, where, reader)
    if not isinstance(resource.get("address"), str) or not isinstance(resource.get("type"), str):
        raise reader.fail(where, 'a resource needs "address" and "type" strings')
    _mapping(resource["values"], f"{where}.values", reader)


def _after_unknown(data: dict[str, Any], reader: _Reader) -> tuple[dict[str, Any], dict[str, int]]:
    """Address -> ``after_unknown`` of each change, and address -> index of each managed
    resource the plan will have after apply (``change.after`` an object): those
    ``planned_values`` must list too (``_check_planned``)."""
    out: dict[str, Any] = {}
    created: dict[str, int] = {}
    seen: dict[str, int] = {}
    changes = _list(data.get("resource_changes"), "resource_changes", reader)
    for index, change in enumerate(changes):
        if not isinstance(change, dict):
            _mapping(change, f"resource_changes[{index}]", reader)  # raises
        address = change.get("address")
        body = change.get("change")
        if not isinstance(address, str) or body is None:
            raise reader.fail(
                f"resource_changes[{index}]",
                'a change needs an "address" string and a "change" object',
            )
        if not isinstance(body, dict):
            _mapping(body, f"resource_changes[{index}].change", reader)  # raises
        mode = change.get("mode", "managed")
        if mode != "managed" and mode != "data":
            _bad_mode(mode, f"resource_changes[{index}].mode", reader)
        deposed = change.get("deposed")
        after = body.get("after")
        unknown = body.get("after_unknown")
        if (
            (after is not None and type(after) is not dict)
            or (unknown is not None and type(unknown) is not dict and type(unknown) is not bool)
            or (deposed is not None and type(deposed) is not str)
        ):
            _change_shape(body, change, f"resource_changes[{index}]", reader)  # raises
        # A deposed object (create_before_destroy's old instance, being deleted) shares the
        # address of the current one: its after_unknown says nothing about the new object.
        if deposed:
            continue
        if address in seen:
            raise reader.fail(
                f"resource_changes[{index}]",
                f"{address} has a second change (the first is resource_changes[{seen[address]}]);"
                " Terraform plans one change per resource instance, and reading either would "
                "leave the other unchecked",
            )
        seen[address] = index
        if unknown is not None:
            out[address] = unknown
        if after is not None and mode == "managed":
            created[address] = index
    return out, created


def _change_shape(
    body: dict[str, Any], change: dict[str, Any], where: str, reader: _Reader
) -> None:
    """Raises for the first value of a change that has not the documented shape."""
    after = body.get("after")
    if after is not None:
        _mapping(after, f"{where}.change.after", reader)
    unknown = body.get("after_unknown")
    if unknown is not None and not isinstance(unknown, bool):
        # An object shaped like "after", true where a value is known only after apply; or
        # one boolean for the whole object.
        _mapping(unknown, f"{where}.change.after_unknown", reader)
    raise reader.fail(f"{where}.deposed", f"must be a string, not {_kind(change['deposed'])}")


def _bad_mode(mode: Any, where: str, reader: _Reader) -> None:
    raise reader.fail(where, f'must be "managed" or "data", not {_kind(mode)} {mode!r}'[:200])


def _check_planned(created: dict[str, int], planned: set[str], reader: _Reader) -> None:
    """Every managed resource a change leaves in place (``change.after`` an object) is in
    ``planned_values`` (whose addresses ``planned`` holds) too: Terraform writes both from the
    same plan. One that is missing there would go unchecked while the plan passes."""
    if planned.issuperset(created):
        return
    address, index = min(
        ((a, i) for a, i in created.items() if a not in planned), key=lambda item: item[1]
    )
    raise reader.fail(
        f"resource_changes[{index}]",
        f"{address} will exist after apply, but planned_values lists no resource at that address",
    )


def _deferred(
    data: dict[str, Any], planned: set[str], unknowns: dict[str, Any], reader: _Reader
) -> list[dict[str, Any]]:
    """Resources Terraform deferred (``-allow-deferral``; ``for_each``/``count`` not known at
    plan time: address ``aws_s3_bucket.b[*]``) are left out of ``planned_values`` but will
    be created: they are read from ``deferred_changes`` under that address."""
    out: list[dict[str, Any]] = []
    deferred: dict[str, int] = {}
    for index, item in enumerate(_list(data.get("deferred_changes"), "deferred_changes", reader)):
        where = f"deferred_changes[{index}].resource_change"
        change = _mapping(item, f"deferred_changes[{index}]", reader).get("resource_change")
        change = _mapping(change, where, reader)
        address, rtype, body = change.get("address"), change.get("type"), change.get("change")
        if not isinstance(address, str) or not isinstance(rtype, str):
            raise reader.fail(where, 'a change needs "address" and "type" strings')
        mode = change.get("mode", "managed")
        if mode != "managed" and mode != "data":
            _bad_mode(mode, f"{where}.mode", reader)
        if mode != "managed":
            continue
        if address in deferred:
            raise reader.fail(
                where,
                f"{address} is deferred twice (the first is deferred_changes[{deferred[address]}]"
                ".resource_change); Terraform defers each resource instance once",
            )
        deferred[address] = index
        if address in planned:
            continue
        body = _mapping(body, f"{where}.change", reader)
        after = body.get("after")
        if after is not None and not isinstance(after, dict):
            _mapping(after, f"{where}.change.after", reader)  # raises
        unknown = body.get("after_unknown")
        if unknown is not None:
            unknowns.setdefault(address, unknown)
        out.append({"address": address, "type": rtype, "values": after or {}})
    return out


def _read_config(
    module: dict[str, Any],
    prefix: str,
    reader: _Reader,
    depth: int = 0,
    where: str = "configuration.root_module",
) -> None:
    if depth > 50:
        raise reader.fail("configuration", "modules nested more than 50 deep")
    configs = reader.configs
    for index, resource in enumerate(_list(module.get("resources"), f"{where}.resources", reader)):
        if not isinstance(resource, dict):
            _mapping(resource, f"{where}.resources[{index}]", reader)  # raises
        # What the user wrote decides which values count as written and what references
        # what: a resource read without it would be judged on guesses.
        address = resource.get("address")
        if not isinstance(address, str):
            raise reader.fail(f"{where}.resources[{index}]", 'a resource needs an "address" string')
        expressions = resource.get("expressions")
        if expressions is None:
            expressions = {}
        elif not isinstance(expressions, dict):
            _mapping(expressions, f"{where}.resources[{index}].expressions", reader)  # raises
        elif "dynamic" in expressions:
            expressions = _dynamic_blocks(expressions)
        depends = resource.get("depends_on")
        if depends is not None and (
            not isinstance(depends, list) or not all(isinstance(d, str) for d in depends)
        ):
            raise reader.fail(
                f"{where}.resources[{index}].depends_on",
                f'must be a list of addresses such as ["aws_iam_role.r"], not {_kind(depends)}',
            )
        key = prefix + address
        if key in configs:
            raise reader.fail(
                f"{where}.resources[{index}]",
                f"{address} is declared twice; Terraform declares each resource once per module",
            )
        # tuple.__new__, not _Config(...): a NamedTuple's constructor is Python code, and a
        # plan has one configuration per resource (benchmarks/check_terraform_plan.py).
        each = _for_each_references(resource) if "for_each_expression" in resource else ()
        configs[key] = tuple.__new__(_Config, (expressions, depends or [], prefix, each))
    reader.module_outputs[prefix] = _references_of(module.get("outputs"), "expression")
    calls = module.get("module_calls")
    if calls is not None:
        for call_name, call in _mapping(calls, f"{where}.module_calls", reader).items():
            inner = _mapping(call, f"{where}.module_calls.{call_name}", reader).get("module")
            callee = f"{prefix}module.{call_name}."
            arguments = call.get("expressions")
            reader.module_arguments[callee] = _references_of(arguments, None)
            if inner is not None:
                at = f"{where}.module_calls.{call_name}.module"
                _read_config(_mapping(inner, at, reader), callee, reader, depth + 1, at)


def _references_of(items: Any, key: str | None) -> dict[str, list[str]]:
    """Name -> the references of its expression (``outputs.<name>.expression``, a module
    call's ``expressions.<argument>``)."""
    out: dict[str, list[str]] = {}
    if not isinstance(items, dict):
        return out
    for name, item in items.items():
        expression = item.get(key) if key is not None and isinstance(item, dict) else item
        names = expression.get("references") if isinstance(expression, dict) else None
        out[str(name)] = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
    return out


def _for_each_references(resource: dict[str, Any]) -> tuple[str, ...]:
    """The references of the resource's ``for_each_expression`` (an optional part of the
    configuration; a shape other than Terraform's is read as none)."""
    expression = resource.get("for_each_expression")
    references = expression.get("references") if isinstance(expression, dict) else None
    if not isinstance(references, list):
        return ()
    return tuple(r for r in references if isinstance(r, str))


def _dynamic_blocks(expressions: dict[str, Any]) -> dict[str, Any]:
    """A ``dynamic "rule" { content { ... } }`` block, where the configuration spells it out
    (``"dynamic": {"rule": [{"content": [...]}]}``), is the block ``rule`` the user wrote: its
    content's expressions are read under the block's own name. (Terraform's own JSON leaves
    dynamic blocks out of ``expressions``; ``_record`` counts such blocks as written.)"""
    dynamic = expressions.get("dynamic")
    if not isinstance(dynamic, dict):
        return expressions
    out = {k: v for k, v in expressions.items() if k != "dynamic"}
    for block, specs in dynamic.items():
        contents: list[Any] = []
        for spec in specs if isinstance(specs, list) else [specs]:
            content = spec.get("content") if isinstance(spec, dict) else None
            contents += content if isinstance(content, list) else [content] if content else []
        out.setdefault(str(block), contents)
    return out


def _record(resource: dict[str, Any], unknowns: dict[str, Any], reader: _Reader) -> Record:
    address: str = resource["address"]
    values = resource.get("values") or {}
    base = _INSTANCE_KEY.sub("", address) if "[" in address else address
    config = reader.configs.get(base)
    declared = frozenset(config.expressions) if config is not None else None
    unknown = unknowns.get(address)
    if unknown:
        values = _with_unknown(values, unknown, address, declared)
    # The record is made once, with every field known, its arguments by position: keywords
    # and the default factories of fields set again later were a fifth of reading a record
    # (benchmarks/check_terraform_plan.py).
    if config is None or declared is None:
        if reader.has_config:
            declared = frozenset(k for k, v in values.items() if v is not UNKNOWN)
        return Record(address, address, resource["type"], values, {}, [], False, declared)
    expressions = config.expressions
    if "[" in address or config.module:
        trailing = TRAILING_KEY.search(address) if "[" in address else None
        where = module_instance(address)
        at = _At(config.module, where, trailing.group(0) if trailing else "", config.each)
    else:
        at = _ROOT  # a root module resource without count/for_each (the common case)
    refs: dict[str, list[str]] = {}
    computed: dict[str, list[str]] = {}
    _flatten(expressions, "", refs, computed, at, reader)
    attributes: frozenset[str] = frozenset()
    derived: dict[str, list[str]] = {}
    unresolved: frozenset[str] = frozenset()
    if computed:
        if "." in "".join(computed):
            attributes = frozenset(c.split(".", 1)[0] for c in computed)
            derived = {c: names for c, names in computed.items() if "." in c}
        else:  # top-level attributes only (the common case)
            attributes = frozenset(computed)
        if len(computed) > len(refs):  # some expression names no resource conveyor follows
            unresolved = _unresolved(computed, refs, config.each)
    # Blocks written with ``dynamic`` are missing from Terraform's ``expressions`` but
    # present in the planned values: a block there that no expression explains is one the
    # user wrote (computed blocks of a new resource are unknown). Only the values no
    # expression explains need a look (one set difference, in C).
    extra = values.keys() - declared
    if extra:
        dynamic = []  # a loop, not a comprehension: most records have extras, few blocks
        for k in extra:
            v = values[k]
            if v and isinstance(v, list) and _blocks(v):
                dynamic.append(k)
        if dynamic:
            declared = declared.union(dynamic)
    depends_on = (
        [key for d in config.depends_on for key in _resolve(d, at, reader)]
        if config.depends_on
        else []
    )
    return Record(
        address,
        address,
        resource["type"],
        values,
        refs,
        depends_on,
        False,
        declared,
        attributes,
        derived,
        (),
        unresolved,
    )


def _unresolved(
    computed: dict[str, list[str]], refs: dict[str, list[str]], each: tuple[str, ...]
) -> frozenset[str]:
    """Top-level attributes whose expression reads a local value (directly, or through
    ``each`` of a ``for_each`` over one) and names no resource (``Record.unresolved``)."""
    out: list[str] = []
    prefixes: tuple[str, ...] = ()
    for c, names in computed.items():
        if "." in c or c in refs:
            continue
        if not prefixes:
            local_each = any(e.startswith("local.") for e in each)
            prefixes = ("local.", "each.") if local_each else ("local.",)
        for n in names:
            if n.startswith(prefixes):
                out.append(c)
                break
    return frozenset(out)


def _with_unknown(
    values: dict[str, Any], unknown: Any, address: str, declared: frozenset[str] | None
) -> dict[str, Any]:
    """The planned values with what ``after_unknown`` marks: UNKNOWN where no value is planned.
    A top-level attribute the configuration does not write (``declared``) that is known only
    after apply is a provider default (``arn``, ``id``): not the user's, so absent."""
    if type(unknown) is not dict:
        merged = _merge_unknown(values, unknown, address)
        return merged if isinstance(merged, dict) else values
    out = dict(values)
    # With no configuration every attribute counts as written (an empty set would not do:
    # tags_all is tested on its own).
    written = declared if declared is not None else unknown.keys()
    for key, flag in unknown.items():
        if flag is True:  # the common case, inline
            # tags_all is the resource's tags merged with the provider's default_tags, which
            # nobody writes on the resource: unknown, never "no tags".
            if key in written or key == "tags_all":
                value = out.get(key)
                if value is None or value == [] or value == {}:
                    out[key] = UNKNOWN
            elif key in out:  # a provider default (the common case: arn, id): absent
                value = out[key]
                if value is None or value == [] or value == {}:
                    del out[key]
            continue
        merged = _merge_unknown(out.get(key), flag, address, 1)
        if merged is not None:
            out[key] = merged
    return out


def _merge_unknown(values: Any, unknown: Any, address: str, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise TooDeepError(f"resource_changes: {address}: change.after_unknown")
    if unknown is True:
        return UNKNOWN if values is None or values == [] or values == {} else values
    if isinstance(unknown, dict):
        base = dict(values) if isinstance(values, dict) else {}
        for key, flag in unknown.items():
            if flag is True:  # the common case, inline
                value = base.get(key)
                if value is None or value == [] or value == {}:
                    base[key] = UNKNOWN
                continue
            merged = _merge_unknown(base.get(key), flag, address, depth + 1)
            if merged is not None:
                base[key] = merged
        return base if base or isinstance(values, dict) else values
    if isinstance(unknown, list):
        items = list(values) if isinstance(values, list) else []
        for index, flag in enumerate(unknown):
            if index < len(items):
                items[index] = _merge_unknown(items[index], flag, address, depth + 1)
            elif flag is True:
                items.append(UNKNOWN)
            elif isinstance(flag, dict | list):
                items.append(_merge_unknown(None, flag, address, depth + 1))
        return items
    return values


def _blocks(items: list[Any]) -> bool:
    return all(isinstance(item, dict) for item in items)


_ROOT = _At("", "", "")


def _flatten(
    expressions: Any,
    path: str,
    refs: dict[str, list[str]],
    computed: dict[str, list[str]],
    at: _At,
    reader: _Reader,
    depth: int = 0,
) -> None:
    if depth > 30 or not isinstance(expressions, dict):
        return
    if depth and "dynamic" in expressions:
        expressions = _dynamic_blocks(expressions)
    for key, expr in expressions.items():
        if type(expr) is dict:
            if "references" not in expr:
                if "constant_value" in expr:
                    continue  # a constant (the common case)
            else:  # an expression naming others (the next most common), as in the loop below
                names = expr["references"]
                if isinstance(names, list) and names:
                    here = f"{path}.{key}" if path else str(key)
                    cached = None
                    if at is _ROOT:  # _found's cache, looked up here: one call fewer
                        try:
                            cached = reader.root_found.get(tuple(names))
                        except TypeError:  # an unhashable item: _found reads the list
                            cached = None
                    computed[here], found = cached or _found(names, at, reader)
                    if found:
                        refs[here] = found
                continue
        here = f"{path}.{key}" if path else str(key)
        blocks = expr if isinstance(expr, list) else [expr]
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if "references" in block or "constant_value" in block:
                names = block.get("references")
                if isinstance(names, list) and names:
                    computed[here], found = _found(names, at, reader)
                    if found:
                        refs[here] = found
            else:
                _flatten(block, here, refs, computed, at, reader, depth + 1)


def _found(names: list[Any], at: _At, reader: _Reader) -> tuple[list[str], list[str]]:
    """The references of one expression (its strings) and the instances they name, each once,
    in order. A root module expression's are worked out once per list of references and
    shared by the records that make it (no record changes its lists)."""
    if at is _ROOT:
        try:
            key = tuple(names)
            cached = reader.root_found.get(key)
        except TypeError:  # an unhashable item: not a reference, and nothing to share
            key, cached = None, None
        if cached is None:
            named = [n for n in names if isinstance(n, str)]
            cached = (named, _instances(_narrowest(named), at, reader))
            if key is not None:
                reader.root_found[key] = cached
        return cached
    named = [n for n in names if isinstance(n, str)]
    return named, _instances(_narrowest(named), at, reader)


def _instances(references: list[str], at: _At, reader: _Reader) -> list[str]:
    """The instances the references name, each once, in order (a new list)."""
    if len(references) == 1:  # the common case: one reference, one instance or none
        found = _resolve(references[0], at, reader)  # a new list
        return found if len(found) < 2 else list(dict.fromkeys(found))
    return list(dict.fromkeys(k for n in references for k in _resolve(n, at, reader)))


def _narrowest(names: list[str]) -> list[str]:
    """Terraform lists each reference with its shorter forms (``aws_s3_bucket.b[0].id``,
    ``aws_s3_bucket.b``): the shorter form names no other resource, only more instances of it
    (all of ``b``, where the longer names one), so it is left out."""
    if len(names) < 2:
        return names
    if len(names) == 2:  # the usual pair: ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]
        longer, shorter = names
        if longer.startswith(shorter) and longer[len(shorter) : len(shorter) + 1] in (".", "["):
            return [longer]
    return [
        n
        for n in names
        if not any(m != n and m.startswith(n) and m[len(n) : len(n) + 1] in ".[" for m in names)
    ]


def _resolve(reference: str, at: _At, reader: _Reader, depth: int = 0) -> list[str]:
    """Instance addresses a configuration reference names (``aws_s3_bucket.a.id`` ->
    ``aws_s3_bucket.a``; with count/for_each, the instance with the same key; in a module
    with count/for_each, the instance of the same module instance). A module output
    (``module.m.bucket_id``) and a module's input variable (``var.bucket``) are followed to
    the resources their expressions reference."""
    head = reference.partition(".")[0]
    if head == "each" and at.each and reference.startswith("each.value") and depth <= 20:
        # for_each = aws_s3_bucket.b; bucket = each.value.id: the bucket of the same key.
        within = at._replace(each=())
        return list(
            dict.fromkeys(k for r in at.each for k in _resolve(r, within, reader, depth + 1))
        )
    if depth > 20 or head in _NOT_RESOURCES:
        return []
    if head == "module":
        return _resolve_output(reference, at, reader, depth)
    if head == "var":
        return _resolve_variable(reference, at, reader, depth)
    match = _REFERENCE.match(reference)
    if match is None:
        return []
    key = match.group(3) or ""
    # A literal key names one instance; count.index / each.key mean "the referrer's own".
    explicit = key[1:2].isdigit() or key[1:2] == '"'
    local = match.group(1) + "." + match.group(2)
    found = reader.instances.get(at.module + local, [])
    if at.module:
        # References never leave their module: the instance must lie in the referrer's own
        # module instance (module.x[1] refers to module.x[1]'s bucket, not module.x[0]'s).
        found = [a for a in found if module_instance(a) == at.where]
    if explicit:
        return [a for a in found if a == at.where + local + key]
    if len(found) <= 1 or not at.instance:
        return list(found)
    same = at.where + local + at.instance
    return [same] if same in found else list(found)


def _resolve_output(reference: str, at: _At, reader: _Reader, depth: int) -> list[str]:
    match = _MODULE_REFERENCE.match(reference)
    if match is None:
        return []  # "module.m" alone: the references list also names the output itself
    call, key, output = match.group(1), match.group(2) or "", match.group(3)
    callee = f"{at.module}module.{call}."
    names = reader.module_outputs.get(callee, {}).get(output, [])
    found: list[str] = []
    for where in sorted(reader.module_instances.get(callee, ())):
        if module_instance(where[:-1]) != at.where:
            continue  # an instance of the same call made from another instance of the caller
        if key and where[len(at.where) : -1] != f"module.{call}{key}":
            continue
        inner = _At(callee, where, "")
        found += [k for n in names for k in _resolve(n, inner, reader, depth + 1)]
    return list(dict.fromkeys(found))


def _resolve_variable(reference: str, at: _At, reader: _Reader, depth: int) -> list[str]:
    if not at.module:
        return []  # a root module variable: a value the user passes in, not a resource
    match = _VARIABLE_REFERENCE.match(reference)
    if match is None:
        return []
    names = reader.module_arguments.get(at.module, {}).get(match.group(1), [])
    # The call's arguments are written in the caller, once per instance of the module:
    # ``count.index`` / ``each.key`` there are this module instance's key.
    key = TRAILING_KEY.search(at.where[:-1])
    caller = _At(
        module_instance(at.module[:-1]),
        module_instance(at.where[:-1]),
        key.group(0) if key else "",
    )
    return list(dict.fromkeys(k for n in names for k in _resolve(n, caller, reader, depth + 1)))


def _outputs(reader: _Reader) -> dict[str, list[str]]:
    if not reader.has_config:
        return {}
    root = _At("", "", "")
    return {
        name: list(dict.fromkeys(k for n in names for k in _resolve(n, root, reader)))
        for name, names in reader.module_outputs.get("", {}).items()
    }
