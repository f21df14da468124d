"""One KMS key or bucket shared by staging and production.

Heuristic: a resource's environment is read from its ``Environment``/``Env``/``Stage`` tag. A
key or bucket is reported when the resources that use it (and its own tag) name two or more
environments, one of them production-like (prod, production, prd, live). Untagged templates
cannot be judged; labels such as ``shared`` or ``pipeline`` name no environment;
a pipeline's own artifact store, shared by design, is tagged with the
pipeline's environment, not the targets'.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.taggable import environment_of
from conveyor.rules.template import Resource

PRODUCTION = frozenset({"prod", "production", "prd", "live"})
# Labels of things that belong to no single environment (the pipeline's own resources).
NEUTRAL = frozenset({"shared", "common", "global", "all", "pipeline", "tooling", "ops"})


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    envs: dict[str, str] = {}
    own = environment_of(res)
    if own:
        envs[own] = res.logical_id
    for lid in ctx.relations.referrers(res.logical_id):
        env = environment_of(ctx.template.resources[lid])
        if env and env not in envs:
            envs[env] = lid
    if len(envs) < 2:  # fewer still without the neutral labels (most resources: one or none)
        return
    for neutral in NEUTRAL & set(envs):
        del envs[neutral]
    if len(envs) >= 2 and PRODUCTION & set(envs):
        users = ", ".join(f"{env} ({lid})" for env, lid in sorted(envs.items()))
        kind = "KMS key" if res.type == "AWS::KMS::Key" else "bucket"
        yield Hit(
            res.logical_id,
            "",
            f"{kind} is shared by several environments including production: {users}",
        )


RULE = Rule(
    id="CV011",
    title="Staging and production share a key or bucket",
    severity=Severity.HIGH,
    resource_types=("AWS::KMS::Key", "AWS::S3::Bucket"),
    failure_modes=("FM07", "FM76"),
    why="S3: the fix for the payments pipeline was separate buckets and environment-specific "
    "KMS keys for staging and production; a shared key lets staging principals decrypt "
    "production data.",
    fix_cloudformation="Create one AWS::KMS::Key and one bucket per environment and point each "
    "environment's resources at its own.",
    fix_cdk="Create the key and bucket inside each environment's stack (or construct) instead of "
    "passing one object to all of them.",
    fix_conveyor="Nothing to write: conveyor gives each environment its own key and bucket.",
    check=check,
)
