"""Synthesize a spec into CloudFormation templates: App, stack, optional cdk-nag, `synth()`.

Imports aws_cdk: only `conveyor synth` (and users' CDK apps) load this module.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# jsii prints an end-of-life banner for Node 20 on every start; the value lists major versions.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk

from conveyor.constructs import dependencies
from conveyor.constructs.feature_flags import recommended_feature_flags
from conveyor.constructs.naming import Naming
from conveyor.constructs.region_tokens import region_as_token, regions_as_parameters
from conveyor.constructs.stacks import ConveyorStack
from conveyor.pipeline import Pipeline
from conveyor.spec.models import Spec


@dataclass(frozen=True)
class Template:
    stack: str
    path: Path
    resources: Counter[str] = field(default_factory=Counter)

    @property
    def resource_count(self) -> int:
        return sum(self.resources.values())


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    templates: list[Template]


def stack_name(spec: Spec) -> str:
    return Naming(spec.app, spec.suffix).name("pipeline")


def build_app(spec: Spec, outdir: Path, *, nag: bool = False) -> cdk.App:
    app = cdk.App(
        outdir=str(outdir),
        context=recommended_feature_flags(),
        analytics_reporting=False,
        # conveyor judges its output with its own checker, cfn-lint and cdk-nag; the built-in
        # WASM validator adds 9-14 s to every synth (CDK-NOTES).
        builtin_cloud_formation_validation=False,
    )
    stack = ConveyorStack(
        app,
        stack_name(spec),
        description=f"conveyor delivery pipeline for {spec.app} (owner {spec.owner})",
        termination_protection=any(env.is_production for env in spec.environments),
        # Region only: the account stays a deploy-time token, so availability zones come from
        # Fn::GetAZs rather than CDK's dummy placeholders (CDK-NOTES).
        env=cdk.Environment(region=spec.pipeline_region) if spec.pipeline_region else None,
    )
    Pipeline(stack, "Delivery", spec=spec, self_update=True)
    if nag:
        from conveyor.nag import add_nag  # cdk-nag is only loaded when asked for

        add_nag(app)
    return app


def synthesize(spec: Spec, outdir: Path, *, nag: bool = False) -> SynthResult:
    """Write `outdir/*.template.json`. Raises cdk_nag findings as an exception when `nag`."""
    outdir.mkdir(parents=True, exist_ok=True)
    app = build_app(spec, outdir, nag=nag)
    assembly = app.synth()
    # A second pass drops DependsOn entries that references already imply (cfn-lint W3005).
    changed = False
    for child in app.node.children:
        if isinstance(child, cdk.Stack):
            template = json.loads((Path(assembly.directory) / child.template_file).read_text())
            changed = dependencies.prune(child, template) or changed
    if changed:
        assembly = app.synth(force=True)
    # Stacks bound to a region name it as AWS::Region, as a template deployed anywhere would.
    regions = {
        child.template_file: child.region
        for child in app.node.find_all()
        if isinstance(child, cdk.Stack) and not cdk.Token.is_unresolved(child.region)
    }
    # The pipeline's stack names the other regions of its environments as parameters.
    other_regions: dict[str, dict[str, str]] = {}
    for child in app.node.find_all():
        if isinstance(child, Pipeline) and child.region_parameters:
            owner = cdk.Stack.of(child)
            other_regions[owner.template_file] = {
                region: str(owner.resolve(owner.get_logical_id(parameter)))
                for region, parameter in child.region_parameters.items()
            }
    templates = []
    for stack in assembly.stacks:
        path = Path(assembly.directory) / stack.template_file
        body = json.loads(path.read_text())
        changed = stack.template_file in regions and region_as_token(
            body, regions[stack.template_file]
        )
        if stack.template_file in other_regions:
            changed = regions_as_parameters(body, other_regions[stack.template_file]) or changed
        if changed:
            path.write_text(json.dumps(body, indent=1))
        types = Counter(r["Type"] for r in body.get("Resources", {}).values())
        templates.append(Template(stack=stack.stack_name, path=path, resources=types))
    return SynthResult(outdir=Path(assembly.directory), templates=templates)
