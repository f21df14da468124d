"""The stack's own region as `AWS::Region`, never as a literal, in a synthesized template.

A stack bound to a region (`region:` in conveyor.yaml) gets that region written as a literal
wherever CDK formats an ARN or an asset bucket name (`Stack.format_arn`, grants, assets), and
CDK has no switch to write the token instead. The template then names the region it was
synthesized for rather than the one it is deployed in; `conveyor check` reports that (CV036),
and so would any reviewer copying the template elsewhere. Every literal occurrence of the
stack's own region in resource properties and outputs is the same value as `AWS::Region` when
the stack is deployed where it is bound, so it is rewritten to it: inside Fn::Sub text as
`${AWS::Region}`, elsewhere as `{"Ref": "AWS::Region"}` (a string split by Fn::Join). Other
regions (a replica's, another stack's) stay as written.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html#cfn-pseudo-param-region
"""

from __future__ import annotations

import re
from typing import Any

REGION_REF = {"Ref": "AWS::Region"}


def _pattern(region: str) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(region) + r"(?![A-Za-z0-9])")


def _pieces(text: str, pattern: re.Pattern[str], ref: str = "AWS::Region") -> list[Any]:
    """`text` split around the region: strings and a Ref to `ref`, empty strings dropped."""
    pieces: list[Any] = []
    for index, part in enumerate(pattern.split(text)):
        if index:
            pieces.append({"Ref": ref})
        if part:
            pieces.append(part)
    return pieces


def _string(text: str, pattern: re.Pattern[str], ref: str = "AWS::Region") -> Any:
    if not pattern.search(text):
        return text
    pieces = _pieces(text, pattern, ref)
    return pieces[0] if len(pieces) == 1 else {"Fn::Join": ["", pieces]}


def _value(node: Any, pattern: re.Pattern[str], ref: str = "AWS::Region") -> Any:
    if isinstance(node, str):
        return _string(node, pattern, ref)
    if isinstance(node, list):
        return [_value(item, pattern, ref) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::Sub"}:
        return {"Fn::Sub": _sub(node["Fn::Sub"], pattern, ref)}
    if (
        set(node) == {"Fn::Join"}
        and isinstance(node["Fn::Join"], list)
        and len(node["Fn::Join"]) == 2
    ):
        separator, parts = node["Fn::Join"]
        if separator == "" and isinstance(parts, list):
            joined: list[Any] = []
            for part in parts:
                joined += (
                    _pieces(part, pattern, ref)
                    if isinstance(part, str)
                    else [_value(part, pattern, ref)]
                )
            return {"Fn::Join": ["", joined]}
        if isinstance(separator, str):
            # CloudFormation takes the delimiter only as a literal string, never a function.
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-join.html
            return {"Fn::Join": [separator, _value(parts, pattern, ref)]}
    return {key: _value(item, pattern, ref) for key, item in node.items()}


def _sub(body: Any, pattern: re.Pattern[str], ref: str = "AWS::Region") -> Any:
    if isinstance(body, str):
        return pattern.sub(f"${{{ref}}}", body)
    if isinstance(body, list) and len(body) == 2 and isinstance(body[0], str):
        return [pattern.sub(f"${{{ref}}}", body[0]), _value(body[1], pattern, ref)]
    return _value(body, pattern, ref)


def region_as_token(template: dict[str, Any], region: str) -> bool:
    """Rewrite `region` to AWS::Region in the template's resource properties and outputs, in
    place; whether anything changed. Parameters, mappings and metadata keep their literals."""
    pattern = _pattern(region)
    changed = False
    for section, key in (("Resources", "Properties"), ("Outputs", "Value")):
        for entry in (template.get(section) or {}).values():
            if isinstance(entry, dict) and key in entry:
                rewritten = _value(entry[key], pattern)
                if rewritten != entry[key]:
                    entry[key] = rewritten
                    changed = True
    return changed


def regions_as_parameters(template: dict[str, Any], parameters: dict[str, str]) -> bool:
    """Rewrite each other region (`parameters`: region -> the template parameter naming it,
    whose default is that region) to a Ref to its parameter, as region_as_token does for the
    stack's own: the pipeline's stack names the regions of environments elsewhere (its
    ArtifactStores, actions, rules and grants there) as parameters, never as literals (FM25),
    as it names another environment's account."""
    changed = False
    for region, parameter in sorted(parameters.items()):
        pattern = _pattern(region)
        for section, key in (("Resources", "Properties"), ("Outputs", "Value")):
            for entry in (template.get(section) or {}).values():
                if isinstance(entry, dict) and key in entry:
                    rewritten = _value(entry[key], pattern, parameter)
                    if rewritten != entry[key]:
                        entry[key] = rewritten
                        changed = True
    return changed
