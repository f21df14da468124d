"""CloudFormation's own spelling of resource types and property names, for Pulumi aws-native.

aws-native resources are CloudFormation resources, but Pulumi spells their types as
``aws-native:<module>:<Type>`` and their properties in camelCase (``kmsMasterKeyId``).
Capitalising the first letter gives the CloudFormation name for most properties, not for the
irregular ones: ``KMSMasterKeyID`` (S3 default encryption) but ``KmsMasterKeyId`` (SNS topic),
``SSESpecification`` (DynamoDB), ``ECSServices`` (CodeDeploy deployment group). A rule that
reads the CloudFormation name would see "missing".

The CloudFormation resource schemas (which cfn-lint ships) give the real spelling. The part
needed here -- every type name, and per type the property names (nested definitions included)
that naive capitalisation gets wrong -- is kept in ``cfn_spelling.json`` (about 120 KB, read
once, on the first aws-native resource), so ``conveyor check`` needs no cfn-lint at run time.
Regenerate it after upgrading cfn-lint (a test compares it with the installed schemas)::

    python -m conveyor.rules.inputs.cfn_spelling --write
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from conveyor.rules.patterns import lazy

TABLE = Path(__file__).with_name("cfn_spelling.json")
# Spellings capitalising a camelCase name cannot give: an acronym (two capitals in a row) or
# a name that does not start with a capital.
_IRREGULAR = lazy(r"^[^A-Z]|[A-Z]{2}")


@cache
def _table() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    types = {t.lower(): t for t in data["types"]}
    return types, data["properties"]


def cfn_type(module: str, name: str) -> str:
    """``aws-native:s3:Bucket`` -> ``AWS::S3::Bucket`` (``module`` ``s3``, ``name`` ``Bucket``)."""
    guess = f"AWS::{module[:1].upper() + module[1:]}::{name}"
    return _table()[0].get(guess.lower(), guess)


def property_name(cfn_type: str, key: str) -> str:
    """A Pulumi aws-native property name in CloudFormation's spelling for that type."""
    irregular = _table()[1].get(cfn_type)
    if irregular:
        found = irregular.get(key.lower())
        if found is not None:
            return found
    return key[:1].upper() + key[1:]


def generate() -> dict[str, Any]:
    """The table, from the resource schemas of the installed cfn-lint (a development tool)."""
    from cfnlint.data import schemas  # a development tool: imported only to regenerate

    root = Path(schemas.__file__).parent
    provider = json.loads((root / "providers" / "us-east-1.json").read_text(encoding="utf-8"))
    properties: dict[str, dict[str, str]] = {}
    for cfn, schema_file in sorted(provider.items()):
        schema = json.loads((root / "resources" / f"{schema_file}.json").read_text("utf-8"))
        names: set[str] = set()
        _property_names(
            {"properties": schema.get("properties"), "definitions": schema.get("definitions")},
            names,
        )
        by_lower: dict[str, set[str]] = {}
        for name in names:
            by_lower.setdefault(name.lower(), set()).add(name)
        # Two spellings of one name in a type cannot be told apart by case: left to naive
        # capitalisation (none in the schemas this was built from).
        irregular = {
            lower: spelled.pop()
            for lower, spelled in sorted(by_lower.items())
            if len(spelled) == 1 and _IRREGULAR.search(next(iter(spelled)))
        }
        if irregular:
            properties[cfn] = irregular
    return {"types": sorted(provider), "properties": properties}


def _property_names(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        found = node.get("properties")
        if isinstance(found, dict):
            out.update(k for k in found if isinstance(k, str))
        for value in node.values():
            _property_names(value, out)
    elif isinstance(node, list):
        for value in node:
            _property_names(value, out)


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=0, sort_keys=True) + "\n"


if __name__ == "__main__":
    text = render(generate())
    if "--write" in sys.argv[1:]:
        TABLE.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
