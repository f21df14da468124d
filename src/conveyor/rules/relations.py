"""Who references whom in a template, built once so relational rules are lookups.

Edges come from ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` anywhere in a resource's Properties;
``DependsOn`` is kept apart. Roles get their policies gathered from inline ``Policies``,
``AWS::IAM::Policy``/``ManagedPolicy``/``RolePolicy`` resources that name them, and
``ManagedPolicyArns``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from conveyor.rules.intrinsics import (
    PSEUDO_PARAMETERS,
    SUB_VARIABLE,
    as_list,
    ref_target,
)
from conveyor.rules.policies import PolicySource
from conveyor.rules.template import MAX_DEPTH, Template, TemplateError

# The property through which each resource type names the role it runs as.
ROLE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::CodeBuild::Project": ("ServiceRole",),
    "AWS::CodePipeline::Pipeline": ("RoleArn",),
    "AWS::Lambda::Function": ("Role",),
    "AWS::Serverless::Function": ("Role",),
    "AWS::CodeDeploy::DeploymentGroup": ("ServiceRoleArn",),
    "AWS::ECS::TaskDefinition": ("TaskRoleArn", "ExecutionRoleArn"),
    "AWS::StepFunctions::StateMachine": ("RoleArn",),
}


class Relations:
    def __init__(self, template: Template) -> None:
        self.template = template
        resources = template.resources
        self.refs_from: dict[str, set[str]] = {}
        self.refs_to: dict[str, set[str]] = defaultdict(set)
        self.depends_on: dict[str, set[str]] = {}
        self.by_type: dict[str, list[str]] = defaultdict(list)
        # Logical id -> the strings and numbers inside its Properties (numbers as their text),
        # gathered by the same walk: what a rule about literal values screens before walking
        # them (CV036).
        self.scalars: dict[str, list[str]] = {}
        by_type, refs_from, refs_to = self.by_type, self.refs_from, self.refs_to
        for lid, res in resources.items():
            by_type[res.type].append(lid)
            # _walk_references inline: this runs once per resource.
            scalars: list[str] = []
            targets: set[str] = set()
            props = res.properties
            if isinstance(props, _CONTAINERS):
                _references_in(props, targets, 0, f"Resources.{lid}", scalars)
                if targets and not targets.isdisjoint(PSEUDO_PARAMETERS):
                    targets -= PSEUDO_PARAMETERS
            self.scalars[lid] = scalars
            refs_from[lid] = targets
            for target in targets:
                refs_to[target].add(lid)
            depends = res.data.get("DependsOn")
            self.depends_on[lid] = (
                {d for d in as_list(depends) if isinstance(d, str)}
                if depends is not None
                else set()
            )
        self.output_refs: set[str] = set()
        for name, output in template.outputs.items():
            self.output_refs |= _walk_references(output, f"Outputs.{name}")
        self.role_policies: dict[str, list[PolicySource]] = defaultdict(list)
        self.role_managed_arns: dict[str, list[Any]] = defaultdict(list)
        self._gather_role_policies()

    # ---- lookups -------------------------------------------------------------------------

    def of_type(self, *types: str) -> list[str]:
        out: list[str] = []
        for t in types:
            out.extend(self.by_type.get(t, ()))
        return out

    def resource_type(self, lid: str | None) -> str | None:
        res = self.template.resources.get(lid) if lid else None
        return res.type if res else None

    def target(self, value: Any, *types: str) -> str | None:
        """The logical id a value references directly, if it is a resource of one of types."""
        lid = ref_target(value)
        if lid is None or lid not in self.template.resources:
            return None
        if types and self.template.resources[lid].type not in types:
            return None
        return lid

    def referrers(self, lid: str, *types: str) -> list[str]:
        out = sorted(self.refs_to.get(lid, ()))
        if types:
            out = [r for r in out if self.template.resources[r].type in types]
        return out

    def role_of(self, lid: str, prop: str | None = None) -> str | None:
        res = self.template.resources.get(lid)
        if res is None:
            return None
        props = (prop,) if prop else ROLE_PROPERTIES.get(res.type, ())
        for name in props:
            role = self.target(res.properties.get(name), "AWS::IAM::Role")
            if role:
                return role
        return None

    def policies(self, role: str) -> list[PolicySource]:
        return self.role_policies.get(role, [])

    def managed_arns(self, role: str) -> list[Any]:
        return self.role_managed_arns.get(role, [])

    def depends_transitively(self, lid: str, target: str) -> bool:
        seen: set[str] = set()
        stack = [lid]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            nexts = self.depends_on.get(node, set()) | self.refs_from.get(node, set())
            if target in nexts:
                return True
            stack.extend(n for n in nexts if n in self.template.resources)
        return False

    # ---- building -------------------------------------------------------------------------

    def _gather_role_policies(self) -> None:
        """One pass over roles and one over policies: linear in resources (a policy looking
        through every role's ManagedPolicyArns was roles x policies)."""
        resources = self.template.resources
        roles_by_name: dict[str, str] = {}
        roles_of_managed: dict[str, list[str]] = defaultdict(list)
        for lid in self.by_type.get("AWS::IAM::Role", ()):
            res = resources[lid]
            name = res.properties.get("RoleName")
            if isinstance(name, str):
                roles_by_name[name] = lid
            for index, policy in enumerate(as_list(res.properties.get("Policies"))):
                if isinstance(policy, dict):
                    self.role_policies[lid].append(
                        PolicySource(
                            lid,
                            f"Properties.Policies.{index}.PolicyDocument",
                            policy.get("PolicyDocument"),
                        )
                    )
            for arn in as_list(res.properties.get("ManagedPolicyArns")):
                managed = self.target(arn, "AWS::IAM::ManagedPolicy")
                if managed is None:
                    self.role_managed_arns[lid].append(arn)
                else:
                    roles_of_managed[managed].append(lid)
        for lid in self.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            res = resources[lid]
            source = PolicySource(
                lid, "Properties.PolicyDocument", res.properties.get("PolicyDocument")
            )
            attached = set(roles_of_managed.get(lid, ()))
            for value in as_list(res.properties.get("Roles")):
                named = self._role_for(value, roles_by_name)
                if named:
                    attached.add(named)
            for role in sorted(attached):
                self.role_policies[role].append(source)
        for lid in self.by_type.get("AWS::IAM::RolePolicy", ()):
            res = resources[lid]
            owner = self._role_for(res.properties.get("RoleName"), roles_by_name)
            if owner:
                self.role_policies[owner].append(
                    PolicySource(
                        lid, "Properties.PolicyDocument", res.properties.get("PolicyDocument")
                    )
                )

    def _role_for(self, value: Any, roles_by_name: dict[str, str]) -> str | None:
        if isinstance(value, str):
            return roles_by_name.get(value)
        return self.target(value, "AWS::IAM::Role")


def _walk_references(value: Any, where: str, scalars: list[str] | None = None) -> set[str]:
    """References inside value; also the guard against absurd nesting for every later rule.
    ``scalars`` gets every string and number (not bool; ``str`` of it) inside value, in no
    particular order."""
    found: set[str] = set()
    if isinstance(value, _CONTAINERS):
        _references_in(value, found, 0, where, [] if scalars is None else scalars)
    found.difference_update(PSEUDO_PARAMETERS)
    return found


# A tuple, not ``dict | list``: that union is a new object at every test, and the walk tests
# every value of every resource.
_CONTAINERS = (dict, list)
_SCALARS = (str, int, float)


def _references_in(node: Any, found: set[str], depth: int, where: str, scalars: list[str]) -> None:
    """Recursive, not a loop over a stack of (node, depth) pairs: a call is cheaper than
    building and unpacking a pair per node (the walk was a twentieth of checking a
    1,000-resource plan, benchmarks/check_terraform_plan.py). The depth bound keeps the
    recursion far below Python's limit.

    A call per container is most of the walk's cost, so the children are told apart by their
    exact type first (``isinstance`` of a string against a container type looks the string's
    ``__class__`` up before saying no), and two kinds of child need no call: an empty
    container, and an intrinsic whose argument is a string (``{"Ref": "Bucket"}``, the
    ``(known after apply)`` references of a Terraform plan). Both only where the call would
    not have refused the depth."""
    if depth > MAX_DEPTH:
        raise TemplateError(
            f"{where}: nested more than {MAX_DEPTH} levels deep; "
            "no CloudFormation template needs that: flatten it"
        )
    if isinstance(node, dict):
        if len(node) == 1:
            for key, arg in node.items():
                _intrinsic(key, arg, found)
        node = node.values()
    depth += 1
    shallow = depth < MAX_DEPTH
    for child in node:
        kind = type(child)
        if kind is str:
            scalars.append(child)
        elif (kind is dict or kind is list) and shallow:
            if not child:
                continue
            if kind is dict and len(child) == 1:
                ((key, arg),) = child.items()
                if type(arg) is str:  # _intrinsic's work for a string, inline
                    if key == "Ref":
                        found.add(arg)
                    elif key == "Fn::GetAtt":
                        found.add(arg.split(".", 1)[0])
                    elif key == "Fn::Sub":
                        _sub_references(arg, found)
                    scalars.append(arg)
                    continue
            _references_in(child, found, depth, where, scalars)
        elif kind is bool or child is None:
            continue
        elif kind is int or kind is float:
            scalars.append(str(child))
        elif isinstance(child, _CONTAINERS):
            _references_in(child, found, depth, where, scalars)
        elif isinstance(child, _SCALARS):
            scalars.append(str(child))


def _intrinsic(key: Any, arg: Any, found: set[str]) -> None:
    """The resource a one-key object names, if it is a ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``."""
    if key == "Ref":
        if isinstance(arg, str):
            found.add(arg)
    elif key == "Fn::GetAtt":
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            found.add(arg[0])
        elif isinstance(arg, str):
            found.add(arg.split(".", 1)[0])
    elif key == "Fn::Sub":
        _sub_references(arg, found)


def _sub_references(arg: Any, found: set[str]) -> None:
    text = arg[0] if isinstance(arg, list) and arg else arg
    local = arg[1] if isinstance(arg, list) and len(arg) > 1 and isinstance(arg[1], dict) else {}
    if isinstance(text, str) and "${" in text:
        for match in SUB_VARIABLE.finditer(text):
            name = match.group(1).split(".", 1)[0].strip()
            if name not in local:
                found.add(name)
