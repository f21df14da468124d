"""Circular dependency between resources (Ref, GetAtt, Sub and DependsOn edges).

CloudFormation rejects the template ("Circular dependency between resources"); reported once per
cycle, on its first resource in logical-id order. Edges inside ``Fn::If`` branches count even when
a condition would cut them: CloudFormation validates them the same way. A SAM function's
``DeploymentPreference`` (its ``Alarms`` and ``Hooks``) is not an edge of the function: the
transform moves it into the CodeDeploy deployment group it generates, so an alarm on the function
named there is the documented pattern, not a cycle
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-deploymentpreference.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import references
from conveyor.rules.model import Hit, Rule, Severity


def _acyclic(graph: dict[str, set[str]]) -> bool:
    """Whether peeling off nodes that reference no node left (Kahn's order, backwards) removes
    them all: no cycle. Linear and far cheaper than Tarjan's walk (which sorts every node's
    edges), so the common template, without a cycle, skips it: a third of this rule on a
    1,000-resource plan (benchmarks/check_terraform_plan.py)."""
    referrers: dict[str, list[str]] = {}
    remaining: dict[str, int] = {}
    for node, targets in graph.items():
        count = 0
        for target in targets:
            if target in graph:
                count += 1
                referrers.setdefault(target, []).append(node)
        remaining[node] = count
    ready = [node for node, count in remaining.items() if count == 0]
    peeled = 0
    while ready:
        node = ready.pop()
        peeled += 1
        for referrer in referrers.get(node, ()):
            remaining[referrer] -= 1
            if remaining[referrer] == 0:
                ready.append(referrer)
    return peeled == len(graph)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node or a self-loop (iterative Tarjan)."""
    if _acyclic(graph):
        return []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            if children:
                child = children.pop()
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    out.append(sorted(component))
    return out


_NONE: frozenset[str] = frozenset()


def _edges(lid: str, ctx: Context) -> set[str]:
    res = ctx.template.resources[lid]
    if res.type == "AWS::Serverless::Function" and "DeploymentPreference" in res.properties:
        own = {k: v for k, v in res.properties.items() if k != "DeploymentPreference"}
        refs = references(own)
    else:
        refs = ctx.relations.refs_from.get(lid, set())
    return refs | ctx.relations.depends_on.get(lid, set())


def check_template(ctx: Context) -> Iterator[Hit]:
    resources = ctx.template.resources
    # A resource without edges lies on no cycle: left out, Tarjan's walk visits only resources
    # that reference or depend on another (none among 1,840 topics that only name conditions).
    # The edges are the relations index's sets, read in this loop (a call, a union and a
    # comprehension per resource were half this rule on a 1,000-resource plan,
    # benchmarks/check_terraform_plan.py).
    refs_from = ctx.relations.refs_from
    depends_on = ctx.relations.depends_on
    names = resources.keys()
    graph: dict[str, set[str]] = {}
    for lid, res in resources.items():
        edges: AbstractSet[str]
        if res.type == "AWS::Serverless::Function" and "DeploymentPreference" in res.properties:
            edges = _edges(lid, ctx)
        else:
            edges = refs_from.get(lid) or _NONE
            depends = depends_on.get(lid)
            if depends:
                edges = edges | depends
        if edges:
            inside = names & edges
            if inside:
                graph[lid] = inside
    for component in _cycles(graph):
        yield Hit(
            component[0],
            "",
            f"circular dependency: {' -> '.join([*component, component[0]])}; "
            "CloudFormation refuses the template",
        )


RULE = Rule(
    id="CV057",
    title="Circular dependency between resources",
    severity=Severity.HIGH,
    resource_types=(),
    failure_modes=("FM43",),
    why="S2: two roles referenced each other's ARNs in their trust policies and the deployment "
    "could not resolve the order.",
    fix_cloudformation="Break the cycle: reference by a constructed ARN (!Sub with a known "
    "name) or move the shared permission into a separate AWS::IAM::Policy.",
    fix_cdk="Avoid passing constructs both ways between stacks/constructs; reference by ARN "
    "string or use a separate iam.Policy.",
    fix_conveyor="Nothing to write: conveyor's constructs reference one way only.",
    check_template=check_template,
)
