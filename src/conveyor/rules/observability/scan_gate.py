"""Pipeline deploys without a security scan before the first deployment.

Heuristic: before the first Deploy action there must be an action whose name or stage says
scan/security/audit (or names a scanner), or a CodeBuild action whose inline buildspec runs a
scanner (trivy, grype, snyk, bandit, pip-audit, npm audit, semgrep, checkov). A scan that
reports but exits 0 on findings cannot be told apart from a gate. The pipeline's update of its
own stack, and the CloudFormation actions its stage runs before it (another region's support
stack, deployed from that stage's own synth or the source), ship no application code and
are not deploys here; a stack deployed there from an earlier stage's build output is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.pipelines import actions, order, project_of, with_self_update
from conveyor.rules.template import Resource

SCAN_NAME = lazy(
    r"scan|secur|audit|vuln|sast|trivy|grype|snyk|bandit|inspector|gate", re.IGNORECASE
)
SCANNER = lazy(r"\b(trivy|grype|snyk|bandit|pip-audit|npm audit|semgrep|checkov|safety check)\b")


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    all_actions = list(actions(res))
    # The pipeline updating its own stack ships no application code (conveyor's UpdatePipeline),
    # nor does another region's support stack updated before it.
    definition = with_self_update(all_actions)
    deploys = [
        a
        for a in all_actions
        if a.is_deploy and not a.updates_own_stack and (a.stage_index, a.index) not in definition
    ]
    if not deploys:
        return
    first = min(deploys, key=order)
    for action in all_actions:
        if order(action) >= order(first):
            continue
        if SCAN_NAME.search(action.name) or SCAN_NAME.search(action.stage):
            return
        project = project_of(action, ctx.template)
        spec = inline_buildspec(project) if project else None
        if spec and SCANNER.search(spec):
            return
    yield Hit(
        res.logical_id,
        first.path,
        f"no security scan runs before deploy action {first.name!r}; critical findings would ship",
    )


RULE = Rule(
    id="CV085",
    title="No security scan gate before deployment",
    severity=Severity.INFO,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM75",),
    why="S3: security scanning was not integrated; the fix halted the pipeline on critical "
    "findings.",
    fix_cloudformation="Add a scan stage (CodeBuild running trivy/bandit/pip-audit, exit "
    "non-zero on critical findings) before the first deploy stage.",
    fix_cdk="pipeline.add_stage(stage_name='Scan', actions=[CodeBuildAction(project=scan, ...)]) "
    "before the deploy stages.",
    fix_conveyor="checks: {scans: {tools: [trivy, bandit], fail_on: critical}}.",
    check=check,
)
