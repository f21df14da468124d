"""A resource that uses a rain directive (``!Rain::Module``, ``!Rain::Embed``, ``!Rain::S3``...).

The rain CLI expands these when it packages the template (``rain pkg``); CloudFormation never
sees them. A module's resources do not exist before that, and an embedded file's content is
unknown, so conveyor reports what it could not check, for that resource only, and checks the
rest of the template as usual. ``rain pkg`` output is an ordinary template: check that.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

# https://github.com/aws-cloudformation/rain/blob/main/docs/README.md (rain pkg directives)
_MARK = "Rain::"


def _directive(res: Resource) -> tuple[str, str] | None:
    """The first directive inside the resource's properties: (its path, its name)."""
    stack: list[tuple[str, object]] = [("Properties", res.properties)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            directives = [k for k in node if isinstance(k, str) and k.startswith(_MARK)]
            if directives:
                return path, directives[0]
            stack.extend((f"{path}.{k}", v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}", v) for i, v in reversed(list(enumerate(node))))
    return None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type.startswith(_MARK):
        yield Hit(
            res.logical_id,
            "Type",
            f"{res.type} is expanded by rain pkg; the resources it stands for were not "
            "checked: run rain pkg and check its output",
        )
        return
    if not res.properties or _MARK not in ctx.text(res.logical_id):
        return
    found = _directive(res)
    if found is not None:
        path, name = found
        yield Hit(
            res.logical_id,
            path,
            f"{name} is filled in by rain pkg; this value was not checked: run rain pkg and "
            "check its output",
        )


RULE = Rule(
    id="CV089",
    title="Rain directive not checked",
    severity=Severity.MEDIUM,
    resource_types=("*",),
    failure_modes=(),
    why="A template written for the rain CLI is only a template after rain pkg; conveyor checks "
    "what it can and names what it could not, instead of rejecting the file.",
    fix_cloudformation="Check the packaged template: rain pkg template.yaml > packaged.yaml, "
    "then conveyor check packaged.yaml.",
    fix_cdk="Not applicable: CDK writes no rain directives.",
    fix_conveyor="Nothing to write: conveyor writes no rain directives.",
    check=check,
)
