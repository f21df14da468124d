"""Which rules run on which input: the rule x CloudFormation / Terraform / Pulumi table in
docs/check.md, computed from the mapping tables so it cannot drift (a test compares them).

    python -m conveyor.rules.inputs.coverage   # prints the table
"""

from __future__ import annotations

from conveyor.rules.inputs import NOT_APPLICABLE, TERRAFORM, WHY_NOT_APPLICABLE
from conveyor.rules.inputs.mapping import JOINS, TYPES
from conveyor.rules.model import Rule


def terraform_types(rule: Rule) -> list[str]:
    """The Terraform types whose view this rule reads (split types reach it through their
    owner: see ``joins``)."""
    if rule.id in NOT_APPLICABLE[TERRAFORM]:
        return []
    if rule.check_template is not None or "*" in rule.resource_types:
        return ["all"]
    return [t for t, m in TYPES.items() if m.cfn_type in rule.resource_types]


def joins() -> str:
    lines = ["| split Terraform type | joins | through |", "| --- | --- | --- |"]
    for child, join in JOINS.items():
        owners = ", ".join(f"`{o}`" for o in join.owner_types)
        lines.append(f"| `{child}` | {owners} | `{join.attribute}` |")
    return "\n".join(lines) + "\n"


def table() -> str:
    from conveyor.rules.catalog import RULES

    lines = [
        "| rule | title | CloudFormation | Terraform, Pulumi AWS Classic | Pulumi aws-native |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule in RULES:
        types = terraform_types(rule)
        if rule.id in NOT_APPLICABLE[TERRAFORM]:
            terraform = f"n/a: {WHY_NOT_APPLICABLE[rule.id]}"
            native = "n/a"
        elif types == ["all"]:
            terraform = native = "yes (whole input)"
        elif types:
            terraform = ", ".join(f"`{t}`" for t in types)
            native = "yes"
        else:
            terraform = "not mapped yet"
            native = "yes"
        lines.append(f"| {rule.id} | {rule.title} | yes | {terraform} | {native} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(table())
    print(joins(), end="")
