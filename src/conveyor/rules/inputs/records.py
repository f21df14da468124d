"""The neutral middle of the normalizer: one ``Record`` per Terraform resource instance or Pulumi
resource, with Terraform-provider attribute names (snake_case), unknown-until-apply values
marked, and the references each attribute makes to other records.

Both readers (``terraform.py``, ``pulumi.py``) produce records; ``mapping.py`` turns records
into the CloudFormation resource view the rules read. Pulumi AWS Classic is bridged from the
Terraform provider, so its camelCase inputs become the Terraform names here and one mapping
serves both tools.
"""

from __future__ import annotations

from typing import Any

from conveyor.rules.patterns import lazy
from conveyor.rules.plain import Plain


class Unknown:
    """A value Terraform or Pulumi knows only after apply (``after_unknown``, Pulumi's unknown
    sentinel). Rules must see it as "some value", never as "missing"."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN_AFTER_APPLY"


UNKNOWN = Unknown()

# Levels of nesting a value may have: what the relations index allows a template
# (``template.MAX_DEPTH``). Deeper values are refused with a message, not walked until Python's
# recursion limit turns them into a traceback.
MAX_DEPTH = 120


class TooDeepError(Exception):
    """A value nested deeper than MAX_DEPTH, at ``where`` (a resource and a path in it)."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


class Record(Plain):
    """One resource of a Terraform plan or Pulumi input, before mapping (a ``Plain``, not a
    dataclass: conveyor.rules.plain says why)."""

    _FIELDS = (
        "key",
        "name",
        "type",
        "values",
        "refs",
        "depends_on",
        "native",
        "declared",
        "computed",
        "derived",
        "arns",
        "unresolved",
        "source",
    )
    __slots__ = _FIELDS
    # The address (Terraform) or URN (Pulumi): unique in one input, used to resolve references.
    key: str
    # What findings name: the Terraform address, the Pulumi URN's name.
    name: str
    # The Terraform type (aws_s3_bucket), or the CloudFormation type for Pulumi aws-native.
    type: str
    values: dict[str, Any]
    # Attribute path (dotted names into blocks, list positions left out) -> keys of referenced
    # records.
    refs: dict[str, list[str]]
    depends_on: list[str]
    # Properties already in CloudFormation shape (Pulumi aws-native).
    native: bool
    # Top-level attributes the user wrote (None: the input does not say, e.g. a state file).
    # An attribute the user did not write that is unknown until apply is a provider default,
    # so it is absent, not unknown.
    declared: frozenset[str] | None
    # Top-level attributes computed from variables, locals or other resources (not literals).
    computed: frozenset[str]
    # The same for attributes inside blocks (``stage.action.configuration``), dotted, with
    # the references each expression makes (``var.connection_arn``).
    derived: dict[str, list[str]]
    # ARNs the input resolved for this resource besides an ``arn`` value (Pulumi aws-native
    # outputs such as ``topicArn``).
    arns: tuple[str, ...]
    # Top-level attributes whose expression reads a Terraform local value (``local.x``, or
    # ``each.value`` of a ``for_each`` over one) and names no resource conveyor can follow:
    # ``terraform show -json`` writes neither the locals nor what they reference.
    unresolved: frozenset[str]
    # The type as the input spells it, when it is not ``type``: the Pulumi type token
    # (``aws:s3/bucketV2:BucketV2``). What messages about the resource's type name.
    source: str

    def __init__(
        self,
        key: str,
        name: str,
        type: str,
        values: dict[str, Any],
        refs: dict[str, list[str]] | None = None,
        depends_on: list[str] | None = None,
        native: bool = False,
        declared: frozenset[str] | None = None,
        computed: frozenset[str] = frozenset(),
        derived: dict[str, list[str]] | None = None,
        arns: tuple[str, ...] = (),
        unresolved: frozenset[str] = frozenset(),
        source: str = "",
    ) -> None:
        self.key = key
        self.name = name
        self.type = type
        self.values = values
        self.refs = {} if refs is None else refs
        self.depends_on = [] if depends_on is None else depends_on
        self.native = native
        self.declared = declared
        self.computed = computed
        self.derived = {} if derived is None else derived
        self.arns = arns
        self.unresolved = unresolved
        self.source = source

    def wrote(self, name: str) -> bool:
        declared = self.declared
        if declared is None or name in declared:
            return True
        return (name[:-1] + "ies" if name.endswith("y") else name + "s") in declared

    def refs_at(self, *path: str | int) -> list[str]:
        """Records referenced by the attribute at path, or by its nearest enclosing attribute
        (Pulumi records dependencies per top-level property only)."""
        refs = self.refs
        if not refs:  # most resources reference none
            return []
        if len(path) == 1 and isinstance(name := path[0], str):  # a top-level attribute
            return refs.get(name) or []
        parts = [p for p in path if isinstance(p, str)]
        while parts:
            found = self.refs.get(".".join(parts))
            if found:
                return found
            parts.pop()
        return []


def one(value: Any) -> Any:
    """A Terraform block with at most one item arrives as a one-item list (plan JSON) or as an
    object (Pulumi flattens MaxItems=1 blocks): both read as the object."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def many(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def attr(values: Any, name: str) -> Any:
    """An attribute by its Terraform name; Pulumi pluralises list blocks (``rule`` -> ``rules``,
    ``inline_policy`` -> ``inline_policies``)."""
    if not isinstance(values, dict):
        return None
    if name in values:
        return values[name]
    plural = name[:-1] + "ies" if name.endswith("y") else name + "s"
    return values.get(plural)


_CAMEL = lazy(r"(?<=[a-z0-9])(?=[A-Z])")
# Attributes whose keys are user data (tag keys, environment variable names, action
# configuration) or whose value is a JSON document: never renamed.
OPAQUE = frozenset(
    {
        "tags",
        "tags_all",
        "variables",
        "configuration",
        "policy",
        "assume_role_policy",
        "event_pattern",
        "container_definitions",
        "environment_variables_map",
    }
)


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def snake_keys(value: Any, depth: int = 0) -> Any:
    """Pulumi camelCase inputs -> Terraform snake_case attribute names, recursively."""
    if depth > MAX_DEPTH:
        raise TooDeepError("")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = snake(str(key))
            out[name] = item if name in OPAQUE else snake_keys(item, depth + 1)
        return out
    if isinstance(value, list):
        return [snake_keys(item, depth + 1) for item in value]
    return value
