"""Every rule, in id order. A rule is a module with a ``RULE``; listing them here (rather than
scanning packages at run time) keeps start-up fast and the set explicit. A test checks that no
rule module is missing from this list."""

from __future__ import annotations

import importlib

from conveyor.rules.model import Rule

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
    "conveyor.rules.deploy.approval_in_rollback_stage",
    "conveyor.rules.deploy.change_set_in_rollback_stage",
    "conveyor.rules.deploy.container_logs",
    "conveyor.rules.deploy.cross_region_artifact_store",
    "conveyor.rules.deploy.ecs_blue_green",
    "conveyor.rules.deploy.ecs_service_stability",
    "conveyor.rules.deploy.ecs_target_defined",
    "conveyor.rules.deploy.function_env_vars",
    "conveyor.rules.deploy.gate_after_approval",
    "conveyor.rules.deploy.gate_alarm",
    "conveyor.rules.deploy.gate_blocks_rollback",
    "conveyor.rules.deploy.gate_created_alarm",
    "conveyor.rules.deploy.gate_on_rollback_stage",
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
)


def _load() -> tuple[Rule, ...]:
    rules = []
    for name in RULE_MODULES:
        module = importlib.import_module(name)
        rule: Rule = module.RULE
        if module.__doc__ and not rule.doc:
            object.__setattr__(rule, "doc", module.__doc__.strip())
        rules.append(rule)
    return tuple(sorted(rules, key=lambda r: r.id))


RULES: tuple[Rule, ...] = _load()
RULE_IDS: frozenset[str] = frozenset(r.id for r in RULES)
BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
