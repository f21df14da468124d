"""Tags on every taggable resource (FM80), including the ones `Tags.of` cannot reach."""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from aws_cdk import CfnResource, IAspect, TagManager, Tags
from constructs import Construct, IConstruct

# CDK's singleton custom-resource providers (auto-delete objects/images) are plain CfnResources
# without a tag manager, so `Tags.of` skips them; these types accept a Tags property.
_UNMANAGED_TAGGABLE = frozenset({"AWS::IAM::Role", "AWS::Lambda::Function"})


def apply_tags(scope: Construct, tags: Mapping[str, str]) -> None:
    for key, value in sorted(tags.items()):
        Tags.of(scope).add(key, value)


@jsii.implements(IAspect)
class TagUnmanagedResources:
    def __init__(self, tags: Mapping[str, str]) -> None:
        self._tags = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, CfnResource)
            and node.cfn_resource_type in _UNMANAGED_TAGGABLE
            and not TagManager.is_taggable(node)
        ):
            node.add_property_override("Tags", self._tags)
