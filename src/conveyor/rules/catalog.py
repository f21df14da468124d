"""Every rule, in id order. A rule is a module with a ``RULE``; listing them here (rather than
scanning packages at run time) keeps start-up fast and the set explicit. A test checks that no
rule module is missing from this list.

A check imports only the rule modules its templates call for: ``rules/index.py`` (written by
``python -m conveyor.rules.catalog`` from the modules' rules; a test holds it to them) names each
module's rule id and the resource types its check reads, so a template of SNS topics imports the
fifteen modules for topics and whole templates, not all of them (importing every rule was 125
million instructions, a tenth of checking issue 18's 0.8 MB template of nested conditions).
``RULES`` and ``BY_ID`` import every rule, when first read.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conveyor.rules.engine import RuleSet
from conveyor.rules.index import INDEX
from conveyor.rules.model import Rule

if TYPE_CHECKING:
    RULES: tuple[Rule, ...]
    BY_ID: dict[str, Rule]

RULE_MODULES = (
    "conveyor.rules.codebuild.build_cache",
    "conveyor.rules.codebuild.build_encryption",
    "conveyor.rules.codebuild.build_timeout",
    "conveyor.rules.codebuild.deploy_inputs",
    "conveyor.rules.codebuild.docker_login_password",
    "conveyor.rules.codebuild.ecr_push_login",
    "conveyor.rules.codebuild.logs_config",
    "conveyor.rules.codebuild.optional_files",
    "conveyor.rules.codebuild.outdated_image",
    "conveyor.rules.codebuild.plaintext_env_secret",
    "conveyor.rules.codebuild.privileged_mode",
    "conveyor.rules.codebuild.sequential_checks",
    "conveyor.rules.codebuild.synth_without_cdk",
    "conveyor.rules.deploy.approval_in_rollback_stage",
    "conveyor.rules.deploy.change_set_in_rollback_stage",
    "conveyor.rules.deploy.container_logs",
    "conveyor.rules.deploy.cross_region_artifact_store",
    "conveyor.rules.deploy.cross_region_package",
    "conveyor.rules.deploy.ecs_blue_green",
    "conveyor.rules.deploy.ecs_service_stability",
    "conveyor.rules.deploy.ecs_target_defined",
    "conveyor.rules.deploy.function_env_vars",
    "conveyor.rules.deploy.gate_after_approval",
    "conveyor.rules.deploy.gate_alarm",
    "conveyor.rules.deploy.gate_blocks_rollback",
    "conveyor.rules.deploy.gate_created_alarm",
    "conveyor.rules.deploy.gate_on_rollback_stage",
    "conveyor.rules.deploy.headless_health",
    "conveyor.rules.deploy.lambda_alias",
    "conveyor.rules.deploy.lambda_runtime",
    "conveyor.rules.deploy.parallel_rollback",
    "conveyor.rules.deploy.post_deploy_validation",
    "conveyor.rules.deploy.pull_request_deploys",
    "conveyor.rules.deploy.rollback",
    "conveyor.rules.deploy.rollback_meets_alarm",
    "conveyor.rules.deploy.rollback_two_owners",
    "conveyor.rules.deploy.unused_deployment_group",
    "conveyor.rules.deploy.runtime_env_secret",
    "conveyor.rules.deploy.credential_url",
    "conveyor.rules.deploy.shared_change_set_name",
    "conveyor.rules.deploy.stage_rollback",
    "conveyor.rules.ecr.immutable_tags",
    "conveyor.rules.ecr.lifecycle_policy",
    "conveyor.rules.ecr.repository_encryption",
    "conveyor.rules.ecr.scan_on_push",
    "conveyor.rules.elb.http_redirect",
    "conveyor.rules.elb.tls_policy",
    "conveyor.rules.governance.hardcoded_account",
    "conveyor.rules.governance.naming_pattern",
    "conveyor.rules.governance.outputs",
    "conveyor.rules.governance.physical_names",
    "conveyor.rules.governance.shared_environments",
    "conveyor.rules.governance.tags",
    "conveyor.rules.iam.build_role_ecr_push",
    "conveyor.rules.iam.circular_dependency",
    "conveyor.rules.iam.cloudformation_role_destroys_resources",
    "conveyor.rules.iam.cloudformation_role_takeover",
    "conveyor.rules.iam.execution_role_image_pull",
    "conveyor.rules.iam.function_table_access",
    "conveyor.rules.iam.managed_policies",
    "conveyor.rules.iam.pipeline_role_actions",
    "conveyor.rules.iam.pipeline_role_artifacts",
    "conveyor.rules.iam.policy_ordering",
    "conveyor.rules.iam.pull_request_build_role",
    "conveyor.rules.iam.trust_principals",
    "conveyor.rules.iam.wildcard_actions",
    "conveyor.rules.iam.wildcard_resources",
    "conveyor.rules.kms.key_rotation",
    "conveyor.rules.kms.table_protection",
    "conveyor.rules.logs.function_log_group",
    "conveyor.rules.logs.log_group_encryption",
    "conveyor.rules.logs.retention",
    "conveyor.rules.meta.rain_directives",
    "conveyor.rules.meta.suppression_reason",
    "conveyor.rules.network.public_task",
    "conveyor.rules.observability.alarm_missing_data",
    "conveyor.rules.observability.deployment_history",
    "conveyor.rules.observability.failure_notifications",
    "conveyor.rules.observability.pipeline_alarms",
    "conveyor.rules.observability.production_approval",
    "conveyor.rules.observability.scan_gate",
    "conveyor.rules.observability.topic_subscription",
    "conveyor.rules.runtime.architecture",
    "conveyor.rules.runtime.docker_hub_pulls",
    "conveyor.rules.runtime.ecs_tag_on_create",
    "conveyor.rules.runtime.event_target_failures",
    "conveyor.rules.runtime.lifecycle_deployed_image",
    "conveyor.rules.runtime.lifecycle_deployed_package",
    "conveyor.rules.runtime.retain_on_create",
    "conveyor.rules.runtime.scheduled_task_failures",
    "conveyor.rules.runtime.topic_publishers",
    "conveyor.rules.s3.artifact_bucket_kms",
    "conveyor.rules.s3.artifact_lifecycle",
    "conveyor.rules.s3.bucket_encryption",
    "conveyor.rules.s3.delete_nonempty",
    "conveyor.rules.s3.public_access_block",
    "conveyor.rules.s3.source_versioning",
    "conveyor.rules.s3.stateful_policies",
    "conveyor.rules.s3.tls_only",
    "conveyor.rules.sns.topic_encryption",
    "conveyor.rules.source.codecommit_repository",
    "conveyor.rules.source.github_oauth",
    "conveyor.rules.source.oauth_token_literal",
    "conveyor.rules.source.placeholder_default",
    "conveyor.rules.source.secret_parameter",
    "conveyor.rules.source.ssm_plain_secret",
    "conveyor.rules.source.tag_release",
    "conveyor.rules.source.webhook_registration",
    "conveyor.rules.sqs.dead_letters",
)


_LISTED = frozenset(RULE_MODULES)
RULE_IDS: frozenset[str] = frozenset(
    entry[0] for module, entry in INDEX.items() if module in _LISTED
)


def rule_of(module: str) -> Rule:
    """The ``RULE`` of a rule module, imported on first use; its docstring is the rule's doc."""
    loaded = importlib.import_module(module)
    rule: Rule = loaded.RULE
    if loaded.__doc__ and not rule.doc:
        object.__setattr__(rule, "doc", loaded.__doc__.strip())
    return rule


def _by_id(rules: Sequence[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: r.id)


class CatalogRules(RuleSet):
    """Every rule of the catalog, each module imported the first time a template holds a type
    its rule reads; the rules that check whole templates or every resource (``*``) at once. A
    module the index does not list yet (a new rule, before the index is written again) is
    imported at once and dispatched by its rule's own types: a stale index costs time, never a
    finding."""

    def __init__(self) -> None:
        super().__init__(())
        self._modules: dict[str, list[str]] = {}
        unindexed: list[Rule] = []
        for module in RULE_MODULES:
            entry = INDEX.get(module)
            if entry is None:
                unindexed.append(rule_of(module))
                continue
            _, types = entry
            if not types:
                self.template_rules.append(rule_of(module))
            for rtype in types:
                self._modules.setdefault(rtype, []).append(module)
        self._unindexed = RuleSet(unindexed)
        self.template_rules = _by_id([*self.template_rules, *self._unindexed.template_rules])

    @property
    def rules(self) -> Sequence[Rule]:
        return _every_rule()

    def for_type(self, rtype: str) -> list[Rule]:
        found = self.by_type.get(rtype)
        if found is None:
            found = self.by_type[rtype] = _by_id(
                [
                    *(rule_of(m) for m in self._modules.get(rtype, ())),
                    *self._unindexed.for_type(rtype),
                ]
            )
        return found


def _every_rule() -> tuple[Rule, ...]:
    loaded: tuple[Rule, ...] | None = globals().get("RULES")
    if loaded is None:
        loaded = tuple(_by_id([rule_of(m) for m in RULE_MODULES]))
        globals().update(RULES=loaded, BY_ID={r.id: r for r in loaded})
    return loaded


def __getattr__(name: str) -> Any:
    # Every rule, imported when first asked for (the docs, SARIF's rule list, a forking run):
    # a check imports only the rules its templates need (CatalogRules).
    if name in {"RULES", "BY_ID"}:
        _every_rule()
        return globals()[name]
    raise AttributeError(f"module 'conveyor.rules.catalog' has no attribute {name!r}")


def current_index() -> dict[str, tuple[str, tuple[str, ...]]]:
    """What ``rules/index.py`` should hold for the rule modules as they are."""
    index: dict[str, tuple[str, tuple[str, ...]]] = {}
    for module in RULE_MODULES:
        rule = rule_of(module)
        index[module] = (rule.id, rule.resource_types if rule.check is not None else ())
    return index


def index_source() -> str:
    """The text of ``rules/index.py`` (as ``ruff format`` leaves it)."""
    lines = [
        '"""Written by ``python -m conveyor.rules.catalog`` from the rule modules (do not edit; a',
        "test checks it is current): each module's rule id and the resource types its check reads,",
        'none for a rule that checks the whole template. What a check imports (catalog.py)."""',
        "",
        "INDEX: dict[str, tuple[str, tuple[str, ...]]] = {",
    ]
    for module, (rule_id, types) in current_index().items():
        quoted = [json.dumps(t) for t in types]
        inline = f"({quoted[0]},)" if len(quoted) == 1 else f"({', '.join(quoted)})"
        line = f"    {json.dumps(module)}: ({json.dumps(rule_id)}, {inline}),"
        if len(line) <= 100:
            lines.append(line)
            continue
        lines.append(f"    {json.dumps(module)}: (")
        lines.append(f"        {json.dumps(rule_id)},")
        if len(f"        {inline},") <= 100:
            lines.append(f"        {inline},")
        else:
            lines += ["        (", *(f"            {q}," for q in quoted), "        ),"]
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv:
        print(
            "usage: python -m conveyor.rules.catalog (writes src/conveyor/rules/index.py and "
            "src/conveyor/rules/report/sarif_rules.json)"
        )
        return 0 if argv[0] in ("-h", "--help") else 2
    from conveyor.rules.report import sarif

    target = Path(__file__).with_name("index.py")
    target.write_text(index_source(), encoding="utf-8")
    print(f"wrote {target}")
    sarif.DESCRIPTORS.write_text(sarif.descriptors_source(_every_rule()), encoding="utf-8")
    print(f"wrote {sarif.DESCRIPTORS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
