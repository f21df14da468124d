"""Required setting hidden behind a placeholder default.

A parameter that resources use (and that no condition tests, which marks it optional), whose
``Default`` is a placeholder (``""``, ``dummy``, ``changeme``, ``TODO``, ``xxx``, ``<...>``,
an all-zero account id) and which no ``AllowedPattern``/``MinLength`` rejects. A default listed
in ``AllowedValues`` (a sentinel such as ``NONE``) or a ``Description`` that says the value may
be left out ("(Optional)", "leave blank", "required if ...", "ignored when ...") is a choice,
not a placeholder. Heuristic: otherwise a deploy that forgot the real value goes ahead with the
placeholder and fails later, far from the cause, instead of stopping with a clear error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy

PLACEHOLDER = lazy(
    r"^(|dummy\S*|change-?me|replace-?me|todo|tbd|xxx+|placeholder|<[^>]*>|"
    r"your[-_]\S*|example|.*000000000000.*)$",
    re.IGNORECASE,
)
# A description that says the value may be left out makes the empty default a documented choice
# (on the public corpus these were half of all CV063 findings): "(Optional) ...", "Leave blank
# for ...", "If left blank, a role is created", "Required if you are provisioning ...", "ignored
# when DBSnapshotIdentifier is set".
OPTIONAL = lazy(
    r"\boptional\b|\bleave\b[^.]{0,30}\b(blank|empty)\b|\bleft (blank|empty)\b"
    r"|\bif (blank|empty|not (set|specified|provided|given))\b|\bempty string\b|\bskip if\b"
    r"|\b(required|needed|used|must be (provided|specified)) (only )?(if|when|for|in case)\b"
    r"|\bonly (required|needed|used|applies)\b|\bignored (when|if|unless)\b"
    r"|\bif you (chose|choose|don't|do not|want|use)\b|\bin case of\b",
    re.IGNORECASE,
)


def _rejected(param: dict[str, object], value: str) -> bool:
    pattern = param.get("AllowedPattern")
    if isinstance(pattern, str):
        try:
            if re.fullmatch(pattern, value) is None:
                return True
        except re.error:
            return True
    min_length = param.get("MinLength")
    try:
        if min_length is not None and len(value) < int(str(min_length)):
            return True
    except ValueError:
        return True
    allowed = param.get("AllowedValues")
    return isinstance(allowed, list) and value not in allowed


def _chosen(param: dict[str, object], value: str) -> bool:
    """The default is a deliberate choice: one of the listed AllowedValues (a sentinel such as
    ``NONE`` offered beside the real options), or documented as optional."""
    allowed = param.get("AllowedValues")
    if isinstance(allowed, list) and value in allowed:
        return True
    description = param.get("Description")
    return isinstance(description, str) and OPTIONAL.search(description) is not None


def check_template(ctx: Context) -> Iterator[Hit]:
    used = ctx.relations.refs_to
    # A parameter tested in Conditions is optional on purpose: its empty default is a choice.
    # Worked out only when a parameter has a placeholder default (the Conditions of a large
    # template can be most of it, and most templates have no such parameter).
    in_conditions: set[str] | None = None
    for name, param in ctx.params.items():
        default = param.get("Default")
        if not isinstance(default, str) or not PLACEHOLDER.match(default.strip()):
            continue
        if name not in used or param.get("Type", "String") != "String":
            continue
        if in_conditions is None:
            in_conditions = references(ctx.template.conditions)
        if name in in_conditions:
            continue
        if _rejected(param, default) or _chosen(param, default):
            continue
        yield Hit(
            name,
            f"Parameters.{name}.Default",
            f"parameter {name} defaults to the placeholder {default!r}; a deploy without it "
            "fails later instead of stopping here",
        )


RULE = Rule(
    id="CV063",
    title="Required setting with a placeholder default",
    severity=Severity.MEDIUM,
    resource_types=(),
    failure_modes=("FM53",),
    why="S4: the required GitHub token got a dummy default to make deploys pass; the pipeline "
    "then failed without a clear error.",
    fix_cloudformation="Remove the Default (CloudFormation then refuses to deploy without the "
    "value) or add an AllowedPattern and ConstraintDescription that reject the placeholder.",
    fix_cdk="CfnParameter(..., allowed_pattern=..., constraint_description=...) without a "
    "default, or fail fast in the app when the context value is missing.",
    fix_conveyor="Nothing to write: conveyor validates conveyor.yaml and names the missing key.",
    check_template=check_template,
)
