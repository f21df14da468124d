"""One synthesized example as AWS would hold it: roles with their policies, resource policies,
the pipeline's actions and artifact store, each value resolved to a concrete string."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data

from tests.contracts.evaluator import Caller, Verdict, evaluate
from tests.contracts.resolve import ACCOUNT, REGION, Resolver
from tests.synth.conftest import Synthesized

_AWS_MANAGED: dict[str, Any] = json.loads(aws_managed_policies_data)


def _stack_environments(synthesized: Synthesized) -> dict[str, tuple[str | None, str | None]]:
    """Each stack's account and region as CDK recorded them ("aws://account/region")."""
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    found: dict[str, tuple[str | None, str | None]] = {}
    for name, artifact in manifest.get("artifacts", {}).items():
        environment = artifact.get("environment") or ""
        if environment.startswith("aws://"):
            account, region = environment[len("aws://") :].split("/", 1)
            found[name] = (
                None if account.startswith("unknown") else account,
                None if region.startswith("unknown") else region,
            )
    return found


@dataclass
class Role:
    arn: str
    stack: str
    lid: str
    trust: dict[str, Any]
    policies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class Located:
    """A resource of one stack, with that stack's resolver."""

    stack: str
    lid: str
    resource: dict[str, Any]
    resolver: Resolver

    @property
    def properties(self) -> dict[str, Any]:
        found: dict[str, Any] = self.resource.get("Properties", {})
        return found

    def value(self, key: str) -> Any:
        return self.resolver.value(self.properties.get(key))

    @property
    def arn(self) -> str:
        return self.resolver.arn(self.lid)


class Example:
    def __init__(self, synthesized: Synthesized) -> None:
        self.name = synthesized.name
        self.synthesized = synthesized
        spec = synthesized.spec
        self.resolvers: dict[str, Resolver] = {}
        environments = _stack_environments(synthesized)
        for stack, template in synthesized.templates.items():
            account, region = environments.get(stack, (None, None))
            for environment in spec.environments:
                if stack == f"{spec.app}-{environment.name}" and environment.account:
                    account = environment.account
            self.resolvers[stack] = Resolver(
                template,
                account=account or spec.account or ACCOUNT,
                region=region or REGION,
                stack=stack,
            )

    # ---- resources -------------------------------------------------------------------------
    def of_type(self, kind: str) -> list[Located]:
        return [
            Located(stack, lid, resource, self.resolvers[stack])
            for stack, template in self.synthesized.templates.items()
            for lid, resource in template["Resources"].items()
            if resource["Type"] == kind
        ]

    def by_name(self, kind: str, name: str) -> Located | None:
        for located in self.of_type(kind):
            if located.resolver.name(located.lid) == name:
                return located
        return None

    def by_arn(self, kind: str, arn: str) -> Located | None:
        for located in self.of_type(kind):
            if located.arn == arn:
                return located
        return None

    # ---- identities ------------------------------------------------------------------------
    @cached_property
    def roles(self) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        by_lid: dict[tuple[str, str], Role] = {}
        for located in self.of_type("AWS::IAM::Role"):
            props = located.properties
            role = Role(
                located.arn,
                located.stack,
                located.lid,
                located.resolver.value(props.get("AssumeRolePolicyDocument", {})),
            )
            role.policies += [
                located.resolver.value(p["PolicyDocument"]) for p in props.get("Policies", [])
            ]
            for arn in located.resolver.value(props.get("ManagedPolicyArns", [])):
                role.policies.append(self._managed_policy(arn))
            roles[role.arn] = role
            by_lid[(located.stack, located.lid)] = role
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for located in self.of_type(kind):
                document = located.value("PolicyDocument")
                for ref in located.properties.get("Roles", []):
                    target = ref.get("Ref") if isinstance(ref, dict) else None
                    if target and (located.stack, target) in by_lid:
                        by_lid[(located.stack, target)].policies.append(document)
        return roles

    def _managed_policy(self, arn: str) -> dict[str, Any]:
        name = arn.rsplit("/", 1)[-1]
        if name in _AWS_MANAGED:
            document: dict[str, Any] = _AWS_MANAGED[name]["Document"]
            return document
        located = self.by_arn("AWS::IAM::ManagedPolicy", arn)
        if located is None:
            raise LookupError(
                f"{self.name}: managed policy {arn} is neither AWS's nor in the templates"
            )
        found: dict[str, Any] = located.value("PolicyDocument")
        return found

    def role(self, arn: str) -> Role:
        if arn not in self.roles:
            raise LookupError(f"{self.name}: role {arn} is not defined in any of its templates")
        return self.roles[arn]

    # ---- resource policies -----------------------------------------------------------------
    def bucket_policy(self, bucket_arn: str) -> dict[str, Any] | None:
        name = bucket_arn.split(":::", 1)[1].split("/", 1)[0]
        for located in self.of_type("AWS::S3::BucketPolicy"):
            if located.value("Bucket") == name:
                found: dict[str, Any] = located.value("PolicyDocument")
                return found
        return None

    def topic_policy(self, topic_arn: str) -> dict[str, Any] | None:
        """The topic's explicit policy; None means SNS's default (owner account only)."""
        for located in self.of_type("AWS::SNS::TopicPolicy"):
            if topic_arn in located.value("Topics"):
                found: dict[str, Any] = located.value("PolicyDocument")
                return found
        return None

    def key(self, key_arn: str) -> Located | None:
        return self.by_arn("AWS::KMS::Key", key_arn)

    def key_policy(self, key_arn: str) -> dict[str, Any]:
        located = self.key(key_arn)
        if located is None:
            raise LookupError(f"{self.name}: KMS key {key_arn} is not defined in its templates")
        found: dict[str, Any] = located.value("KeyPolicy")
        return found

    # ---- the question ----------------------------------------------------------------------
    def allows(
        self, role: Role, action: str, resource: str, context: dict[str, str] | None = None
    ) -> Verdict:
        """Whether `role` may perform `action` on `resource`, with the resource's own policy."""
        caller = Caller(arn=role.arn)
        context = {"aws:SourceAccount": role.account, **(context or {})}
        # An alias has no policy of its own: the identity's decides (its key is authorized
        # apart, https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html).
        if resource.startswith("arn:aws:kms:") and ":alias/" not in resource:
            if self.key(resource) is None:
                return Verdict(False, f"{resource} is not a key of this example")
            return evaluate(
                caller,
                action,
                resource,
                identity=role.policies,
                resource_policy=self.key_policy(resource),
                resource_account=resource.split(":")[4],
                key_policy=True,
                context=context,
            )
        resource_policy = None
        resource_account = resource.split(":")[4] if resource.count(":") >= 5 else ""
        if resource.startswith("arn:aws:s3:::"):
            resource_policy = self.bucket_policy(resource)
            located = self.by_name(
                "AWS::S3::Bucket", resource[len("arn:aws:s3:::") :].split("/")[0]
            )
            resource_account = located.resolver.account if located else ""
        elif resource.startswith("arn:aws:sns:"):
            resource_policy = self.topic_policy(resource)
        elif resource.startswith("arn:aws:iam:") and action.lower() == "sts:assumerole":
            # Assuming a role needs the target role's trust policy too.
            target = self.roles.get(resource)
            trust = (
                target.trust
                if target is not None
                else _bootstrap_trust(resource, self.synthesized.spec.account)
            )
            if trust is None:
                return Verdict(False, f"{resource} is not a role of this example")
            return evaluate(
                caller,
                action,
                resource,
                identity=role.policies,
                resource_policy=trust,
                resource_account=resource.split(":")[4],
                key_policy=True,
                context=context,
            )
        return evaluate(
            caller,
            action,
            resource,
            identity=role.policies,
            resource_policy=resource_policy,
            resource_account=resource_account,
            context=context,
        )

    # ---- the pipeline ----------------------------------------------------------------------
    @cached_property
    def pipeline(self) -> Located:
        """The delivery pipeline; the pull-request pipeline is `pull_request_pipeline`."""
        (pipeline,) = (
            p
            for p in self.of_type("AWS::CodePipeline::Pipeline")
            if p.resource is self.synthesized.pipeline()
        )
        return pipeline

    @cached_property
    def pull_request_pipeline(self) -> Located | None:
        found = self.synthesized.pull_request_pipeline()
        return next(
            (p for p in self.of_type("AWS::CodePipeline::Pipeline") if p.resource is found), None
        )

    def _artifact_store(self) -> dict[str, Any]:
        """The pipeline's own artifact store: its single ArtifactStore, or with actions in
        other regions the ArtifactStores entry of the pipeline's region."""
        store = self.pipeline.value("ArtifactStore")
        if store is None:
            store = next(
                s["ArtifactStore"]
                for s in self.pipeline.value("ArtifactStores")
                if s["Region"] == self.region
            )
        return dict(store)

    @cached_property
    def artifact_bucket(self) -> str:
        store = self._artifact_store()
        return f"arn:aws:s3:::{store['Location']}"

    @cached_property
    def artifact_key(self) -> str:
        store = self._artifact_store()
        key_id = store["EncryptionKey"]["Id"]
        return (
            key_id
            if key_id.startswith("arn:")
            else f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}"
        )

    @property
    def account(self) -> str:
        return self.pipeline.resolver.account

    @property
    def region(self) -> str:
        return self.pipeline.resolver.region

    @property
    def pipeline_role(self) -> Role:
        return self.role(self.pipeline.value("RoleArn"))

    def projects_of_other_pipelines(self) -> set[str]:
        """Names of the CodeBuild projects only another pipeline of the example runs."""
        mine = {
            action["Configuration"].get("ProjectName")
            for _, action in self.actions()
            if "Configuration" in action
        }
        return {
            action["Configuration"]["ProjectName"]
            for other in self.of_type("AWS::CodePipeline::Pipeline")
            if other.lid != self.pipeline.lid
            for stage in other.value("Stages")
            for action in stage["Actions"]
            if "ProjectName" in action.get("Configuration", {})
        } - mine

    def pull_request_view(self) -> Example:
        """The same example seen from its pull-request pipeline: `pipeline`, `actions()`, the
        artifact store and the pipeline role are that pipeline's."""
        pulls = self.pull_request_pipeline
        assert pulls is not None, f"{self.name} has no pull-request pipeline"
        view = Example(self.synthesized)
        view.__dict__["pipeline"] = pulls  # the cached_property's slot
        return view

    def actions(self) -> list[tuple[str, dict[str, Any]]]:
        """(stage name, resolved action) for every action of the pipeline."""
        stages = self.pipeline.value("Stages")
        return [(stage["Name"], action) for stage in stages for action in stage["Actions"]]


def _bootstrap_trust(role_arn: str, pipeline_account: str | None) -> dict[str, Any] | None:
    """The trust policy `cdk bootstrap` gives its roles (cdk-<qualifier>-...-role-<account>-
    <region>): the account's own principals, and the pipeline's account in an environment's
    account bootstrapped with `--trust` (`conveyor bootstrap --account`); their identity
    policies must allow the call too. https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html"""
    account = role_arn.split(":")[4]
    if not role_arn.split(":", 5)[5].startswith("role/cdk-hnb659fds-"):
        return None
    trusted = sorted({account, pipeline_account or account})
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in trusted]},
                "Action": "sts:AssumeRole",
            }
        ]
    }
