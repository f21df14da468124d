"""Pipeline role cannot read/write the artifact bucket or use its KMS key.

Relational: the pipeline's ``RoleArn`` role and ``ArtifactStore`` bucket (and key: the store's
``EncryptionKey`` or the bucket's ``KMSMasterKeyID``) are looked up; the role must be allowed
``s3:GetObject`` and ``s3:PutObject`` on the bucket (a statement whose Resource is ``*``,
references the bucket, or cannot be resolved counts) or be granted them by the bucket policy,
and ``kms:Decrypt`` and ``kms:GenerateDataKey`` by its policies or the key policy. A bucket or
key policy statement grants the role when its principal names the role, or is every principal
(``*``) narrowed only to the organization (``aws:PrincipalOrgID``/``aws:PrincipalOrgPaths``):
ADF's artifact bucket admits its whole organization that way, the pipeline role included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, references, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import PolicySource, grants, managed_grants, statements
from conveyor.rules.s3.artifact_bucket_kms import artifact_stores
from conveyor.rules.template import Resource

S3_ACTIONS = ("s3:GetObject", "s3:PutObject")
KMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
# Conditions that narrow a `*` principal to the organization the pipeline's own account is in.
# Within one account either the identity policy or the resource policy may allow an action:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
ORG_CONDITION_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths"})


def _about(target: str, ctx: Context) -> Any:
    own = ctx.template.resources[target]
    name = own.properties.get("BucketName")

    def ok(item: Any) -> bool:
        text = render(item) or ""
        if text == "*" or text.startswith(("arn:aws:s3:::*", "arn:*")):
            return True
        refs = references(item)
        if target in refs or (isinstance(name, str) and name and name in text):
            return True
        known = [r for r in refs if r in ctx.template.resources]
        return not known  # pointing at something we cannot see: do not guess

    return ok


def resource_policy_grants(
    policy_type: str, prop: str, target: str, role: str, ctx: Context
) -> list[PolicySource]:
    out: list[PolicySource] = []
    for lid in ctx.relations.of_type(policy_type):
        res = ctx.template.resources[lid]
        if policy_type == "AWS::S3::BucketPolicy" and target not in references(
            res.properties.get("Bucket")
        ):
            continue
        # A key's or a repository's policy is the resource's own property.
        if policy_type in ("AWS::KMS::Key", "AWS::ECR::Repository") and lid != target:
            continue
        # Only the statements that admit this role grant it anything.
        admitting = [s for _, s in statements(res.properties.get(prop)) if _admits(s, role)]
        if admitting:
            out.append(PolicySource(lid, f"Properties.{prop}", {"Statement": admitting}))
    return out


def _admits(stmt: dict[str, Any], role: str) -> bool:
    principal = stmt.get("Principal")
    if role in references(principal):
        return True
    if principal != "*" and get(principal, "AWS") not in ("*", ["*"]):
        return False
    condition = stmt.get("Condition")
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return False
    blocks = list(condition.values())
    return all(isinstance(b, dict) for b in blocks) and all(
        isinstance(k, str) and k.lower() in ORG_CONDITION_KEYS for b in blocks for k in b
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    role = ctx.relations.role_of(res.logical_id)
    if role is None:
        return
    policies = ctx.relations.policies(role)
    managed = ctx.relations.managed_arns(role)
    for store in artifact_stores(res):
        bucket = ctx.relations.target(store.get("Location"), "AWS::S3::Bucket")
        if bucket is None:
            continue
        extra = resource_policy_grants("AWS::S3::BucketPolicy", "PolicyDocument", bucket, role, ctx)
        ok = _about(bucket, ctx)
        missing = [
            a
            for a in S3_ACTIONS
            if not grants(policies, a, ok)
            and not grants(extra, a)
            and not managed_grants(managed, a)
        ]
        key = ctx.relations.target(get(store, "EncryptionKey", "Id"), "AWS::KMS::Key")
        if key is None:
            sse = get(
                ctx.template.resources[bucket].properties,
                "BucketEncryption",
                "ServerSideEncryptionConfiguration",
                0,
                "ServerSideEncryptionByDefault",
                "KMSMasterKeyID",
            )
            key = ctx.relations.target(sse, "AWS::KMS::Key")
        if key is not None:
            key_grants = resource_policy_grants("AWS::KMS::Key", "KeyPolicy", key, role, ctx)
            missing += [
                a
                for a in KMS_ACTIONS
                if not grants(policies, a)
                and not grants(key_grants, a)
                and not managed_grants(managed, a)
            ]
        if missing:
            yield Hit(
                res.logical_id,
                "Properties.RoleArn",
                f"pipeline role {role} is not allowed {', '.join(missing)} on the artifact store; "
                "the first stage fails to read or write artifacts",
            )


RULE = Rule(
    id="CV053",
    title="Pipeline role cannot use its artifact bucket or key",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM41",),
    why="S1: CodePipeline could not access the artifact bucket: the role lacked s3:GetObject, "
    "s3:PutObject and s3:GetObjectVersion.",
    fix_cloudformation="Allow s3:GetObject*, s3:PutObject on '${ArtifactBucket.Arn}/*' and "
    "kms:Decrypt, kms:GenerateDataKey* on the artifact key in the pipeline role's policy.",
    fix_cdk="bucket.grant_read_write(pipeline_role); key.grant_encrypt_decrypt(pipeline_role) "
    "(codepipeline.Pipeline does this when it creates the role).",
    fix_conveyor="Nothing to write: conveyor grants the pipeline role its artifact store.",
    check=check,
)
