"""DependsOn: the entries a Ref or Fn::GetAtt already implies are dropped, the ones a reference
cannot carry are added.

CDK adds construct-level dependencies that often duplicate a reference; cfn-lint reports each
as W3005. They change nothing about deployment order, so conveyor removes them rather than
teaching users to ignore a warning class. A pipeline, though, must wait for policies nothing it
references leads to (wait_for_role_policies).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from constructs import Construct


def referenced_ids(value: Any) -> Iterator[str]:
    """Logical ids named by Ref, Fn::GetAtt or ${Name} inside Fn::Sub anywhere in `value`."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                if isinstance(inner, list) and inner and isinstance(inner[0], str):
                    yield inner[0]
                elif isinstance(inner, str):
                    yield inner.split(".", 1)[0]
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    yield from _sub_names(text)
                if isinstance(inner, list):
                    yield from referenced_ids(inner[1:])
            else:
                yield from referenced_ids(inner)
    elif isinstance(value, list):
        for item in value:
            yield from referenced_ids(item)


def _sub_names(text: str) -> Iterator[str]:
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            return
        name = text[start + 2 : end]
        if not name.startswith("!"):
            yield name.split(".", 1)[0]
        start = text.find("${", end)


def redundant_depends_on(template: Mapping[str, Any]) -> dict[str, list[str]]:
    """For each resource with a redundant DependsOn entry: the entries worth keeping."""
    result: dict[str, list[str]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        depends = resource.get("DependsOn")
        if not depends:
            continue
        depends_list = [depends] if isinstance(depends, str) else list(depends)
        body = {k: v for k, v in resource.items() if k != "DependsOn"}
        implied = set(referenced_ids(body))
        kept = [d for d in depends_list if d not in implied]
        if len(kept) != len(depends_list):
            result[logical_id] = kept
    return result


def prune(stack: cdk.Stack, template: Mapping[str, Any]) -> bool:
    """Override DependsOn on `stack`'s resources; True when anything changed (synth again)."""
    changes = redundant_depends_on(template)
    if not changes:
        return False
    for child in stack.node.find_all():
        if not isinstance(child, cdk.CfnResource):
            continue
        logical_id = stack.resolve(child.logical_id)
        if logical_id not in changes:
            continue
        kept = changes[logical_id]
        if kept:
            child.add_override("DependsOn", kept)
        else:
            child.add_deletion_override("DependsOn")
    return True


def wait_for_role_policies(pipeline: Construct, projects: Iterable[object]) -> None:
    """The pipeline waits for each of its build projects' role policies (FM43, CV056).

    A pipeline's first execution starts when it is created and soon runs its builds
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-about-starting.html);
    a project's role policy is a separate resource CloudFormation may still be creating, and the
    project cannot wait for it itself: the policy names the project's log groups (a cycle)."""
    resource = pipeline.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    stack = cdk.Stack.of(pipeline)
    for project in projects:
        if not isinstance(project, codebuild.Project) or cdk.Stack.of(project) is not stack:
            continue
        policy = project.role.node.try_find_child("DefaultPolicy") if project.role else None
        child = policy.node.default_child if policy is not None else None
        if isinstance(child, cdk.CfnResource):
            resource.add_resource_dependency(child)
