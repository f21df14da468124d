"""What the pipeline needs in another region than its own, where an environment deploys.

One stack per other region, `{app}-region-{region}[-suffix]`, in the pipeline's account,
deployed by `conveyor deploy` before the pipeline's stack (the pipeline stack depends on it):
- an artifact store (a rotating KMS key and a TLS-only, private, versioned, expiring bucket with
  access logs, like the pipeline's own): CodePipeline runs a cross-region action from an
  artifact store in the action's region, one per region in the pipeline's ArtifactStores
  https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html
- an image repository of the pipeline repository's name, with conveyor's encryption, scanning
  and lifecycle (its `deployed-<env>-<digest>` protection for the environments there): the
  build pushes each image to it too, and the environment's stack names it in its own region;
- a package store, when a Lambda environment deploys there: Lambda reads a function's code only
  from "an Amazon S3 bucket in the same AWS Region as your function"
  (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html); each release's
  MarkDeployed job copies the build's package into the environment's key of this store, whose
  lifecycle keeps deployed packages as the pipeline's own store does (PackageStore);
- the CloudFormation service role of each environment there: it is the role whose policy names
  that region's resources, by `AWS::Region` like every ARN conveyor writes, so it lives in a
  stack deployed in that region (IAM is global; the pipeline names it by ARN);
- the CloudFormation service role the pipeline updates this stack with (its UpdatePipeline
  stage, before the pipeline's own stack: stages/self_update.py), made like the environments'
  roles from this stack's own resource types, on this stack's own resources.

Bootstrap order: the pipeline's ArtifactStores names this stack's bucket and key, and
CodePipeline runs a cross-region action only from a store in its region, so this stack exists
before the pipeline stack: `conveyor deploy` creates it (and the CDK deploys it first, a
dependency of the pipeline stack). From then on the pipeline keeps it up to date from
conveyor.yaml, as it does its own stack; `conveyor deploy` still may, with the same template.

Nothing crosses between the stacks by reference (no Fn::ImportValue, which works within one
region only): the pipeline names the bucket, the key's alias and the roles by conveyor's
deterministic names. The key's ARN is not deterministic, and a grant on an alias ARN covers no
key ("When an alias is the value of a resource element, the policy applies to the alias
resource, not to any KMS key", https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html):
the pipeline's roles get the key's use on `arn:...:kms:<region>:<account>:key/*` only for a key
the alias names (kms:ResourceAliases,
https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases),
which the key policy's account statement lets IAM policies grant
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Aspects, Aws, Fn, Stack
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_iam as iam
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.artifact_store import (
    AccessLogBucket,
    ArtifactStore,
    PackageStore,
    artifact_bucket_name,
    deployed_package_key,
)
from conveyor.constructs.cloudformation_role import (
    CDK_ASSET_BUCKET,
    CDK_ASSET_FINDING,
    CDK_ASSET_REASON,
    cloudformation_role,
)
from conveyor.constructs.image_repository import ImageRepository
from conveyor.constructs.naming import Naming, camel
from conveyor.constructs.stacks import ConveyorStack, app_scope
from conveyor.constructs.tagging import TagUnmanagedResources, apply_tags
from conveyor.spec.models import Environment, Spec

# What a role needs of an artifact store's key: reading artifacts (Decrypt), and, for the
# pipeline's own role that copies artifacts into the store, writing them (GenerateDataKey).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#aws-managed-customer-managed-keys
KEY_READ = ["kms:Decrypt", "kms:DescribeKey"]
KEY_WRITE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"]


def regional_package_bucket_name(spec: Spec, region: str, account: str = Aws.ACCOUNT_ID) -> str:
    """The region's package bucket (a Lambda environment there deploys from it), named like
    the pipeline's own package store when other accounts read it; "packages" is shorter than
    "artifacts", so the spec's bucket length check covers it."""
    return artifact_bucket_name(spec.app, spec.suffix, account, region, "packages")


def regional_stack_name(naming: Naming, region: str) -> str:
    return naming.name("region", region)


def regional_key_alias(naming: Naming, region: str) -> str:
    """The alias of the region's artifact key, without `alias/` (ArtifactStore's)."""
    return naming.name("key", f"region-{region}")


def regional_deploy_role_name(naming: Naming, region: str) -> str:
    """The role CloudFormation updates the region's stack with. `cfn`, not `cloudformation`:
    with a 24-character app, a long region and a suffix, the environments' `{app}-cloudformation-`
    prefix would pass IAM's 64 characters for a role name.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"""
    return naming.name("cfn", f"region-{region}")


def regional_bucket_name(spec: Spec, region: str, account: str = Aws.ACCOUNT_ID) -> str:
    """The region's artifact bucket: deterministic, so the pipeline names it (FM06: the account
    and region keep it apart from every other copy's)."""
    return artifact_bucket_name(spec.app, spec.suffix, account, region)


class RegionalSupport:
    """The support stack of one other region, and how the pipeline's stack names its parts."""

    def __init__(
        self,
        pipeline: Construct,
        region: str,
        *,
        spec: Spec,
        naming: Naming,
        tags: Mapping[str, str],
        environments: Sequence[Environment],
    ) -> None:
        self.region = region
        self.spec = spec
        self.naming = naming
        self.pipeline = pipeline
        self._deployment_role: iam.IRole | None = None
        production = any(env.is_production for env in environments)
        self.stack = ConveyorStack(
            app_scope(pipeline),
            regional_stack_name(naming, region),
            # No account: every ARN here names it by AWS::AccountId (test_runtime_defects.py),
            # and `conveyor bootstrap` reads spec.account itself.
            env=CdkEnvironment(region=region),
            description=(
                f"conveyor {spec.app}: the pipeline's artifact store and image repository in "
                f"{region}, for {', '.join(env.name for env in environments)}; created by "
                "conveyor deploy before the pipeline stack, updated by its UpdatePipeline stage"
            ),
            termination_protection=production,
        )
        stack_tags = {**tags, defaults.TAG_ENVIRONMENT: "shared"}
        self.stack_tags = stack_tags
        apply_tags(self.stack, stack_tags)
        Aspects.of(self.stack).add(TagUnmanagedResources(stack_tags))
        # The pipeline's stack names what this one creates: deploy this one first.
        Stack.of(pipeline).node.add_dependency(self.stack)
        access_logs = AccessLogBucket(
            self.stack,
            "AccessLogs",
            production=production,
            expire_days=max(90, spec.retention.log_days),
        ).bucket
        self.store = ArtifactStore(
            self.stack,
            "Artifacts",
            naming=naming,
            scope_name=f"region-{region}",
            production=production,
            expire_days=spec.retention.artifact_days,
            access_logs=access_logs,
            bucket_name=regional_bucket_name(spec, region),
        )
        # A Lambda environment there deploys its package from a bucket of this region.
        self.packages: PackageStore | None = None
        if any(env.deploy.lambda_ is not None for env in environments):
            self.packages = PackageStore(
                self.stack,
                "Packages",
                naming=naming,
                key=self.store.key,
                production=production,
                expire_days=spec.retention.artifact_days,
                access_logs=access_logs,
                bucket_name=regional_package_bucket_name(spec, region),
            )
        if spec.build.docker is not None:
            ImageRepository(
                self.stack,
                "Images",
                naming=naming,
                key=self.store.key,
                keep_images=spec.retention.images,
                production=production,
                environments=[(env.name, env.is_production) for env in environments],
            )

    # --- as the pipeline's stack names them --------------------------------------------------

    @property
    def bucket_name(self) -> str:
        return regional_bucket_name(self.spec, self.region)

    @property
    def bucket_arn(self) -> str:
        return f"arn:{Aws.PARTITION}:s3:::{self.bucket_name}"

    @property
    def shown_bucket_name(self) -> str:
        """The bucket's name as cdk-nag writes it in a finding (acknowledgements name it)."""
        return self.bucket_name.replace(Aws.ACCOUNT_ID, "<AWS::AccountId>")

    @property
    def package_bucket_name(self) -> str:
        return regional_package_bucket_name(self.spec, self.region)

    def package_object_arn(self, env_name: str) -> str:
        """The environment's own key in this region's package store (what its stack deploys)."""
        key = deployed_package_key(self.naming, env_name)
        return f"arn:{Aws.PARTITION}:s3:::{self.package_bucket_name}/{key}"

    @property
    def key_alias_arn(self) -> str:
        """What the pipeline's ArtifactStores names the key by: an alias ARN is recognized in
        the key's own account (EncryptionKey.Id,
        https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_EncryptionKey.html)."""
        alias = regional_key_alias(self.naming, self.region)
        return f"arn:{Aws.PARTITION}:kms:{self.region}:{Aws.ACCOUNT_ID}:alias/{alias}"

    def repository_uri(self) -> str:
        name = self.naming.name("images")
        return f"{Aws.ACCOUNT_ID}.dkr.ecr.{self.region}.{Aws.URL_SUFFIX}/{name}"

    def repository_arn(self) -> str:
        name = self.naming.name("images")
        return f"arn:{Aws.PARTITION}:ecr:{self.region}:{Aws.ACCOUNT_ID}:repository/{name}"

    def key_statement(self, actions: Sequence[str]) -> iam.PolicyStatement:
        """`actions` on this region's artifact key, found by its alias (module docstring)."""
        return iam.PolicyStatement(
            actions=list(actions),
            resources=[f"arn:{Aws.PARTITION}:kms:{self.region}:{Aws.ACCOUNT_ID}:key/*"],
            conditions={
                "ForAnyValue:StringEquals": {
                    "kms:ResourceAliases": f"alias/{regional_key_alias(self.naming, self.region)}"
                }
            },
        )

    @property
    def stack_name(self) -> str:
        return self.stack.stack_name

    def deployment_role(self) -> iam.IRole:
        """The role CloudFormation updates this stack with, as the pipeline's stack names it (by
        ARN: it is made here, last, by finish())."""
        if self._deployment_role is not None:
            return self._deployment_role
        name = regional_deploy_role_name(self.naming, self.region)
        self._deployment_role = iam.Role.from_role_arn(
            self.pipeline,
            f"RegionDeploymentRole{camel(self.region)}",
            # Fn::Sub: CloudFormation reads an action's RoleArn as given (cfn-lint E3703 on Join).
            Fn.sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}"),
            mutable=False,
        )
        return self._deployment_role

    def finish(self) -> iam.Role:
        """The role CloudFormation updates this stack with, once the stack holds everything (the
        environments' roles above all): the calls this stack's resource types need, on this
        stack's resources only (cloudformation_role: IAM calls on this stack's roles by name,
        key management on keys tagged as this stack's, the S3 calls that change a bucket on
        this stack's buckets). CloudFormation makes every call of the stack operation with it:
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
        """
        role = cloudformation_role(
            self.stack,
            "DeploymentRole",
            naming=self.naming,
            env_name=f"region-{self.region}",
            stack=self.stack,
            tags=self.stack_tags,
            # No code to read: the stack has no function (its only asset is its template).
            code_buckets=[],
            code_keys=[],
            role_name=regional_deploy_role_name(self.naming, self.region),
            description=(
                f"conveyor {self.naming.app}: CloudFormation updates {self.stack_name} "
                "(the pipeline's UpdatePipeline stage)"
            ),
            # CDK moves the statements past a role's inline policy size (production's
            # CloudFormation role's, this one's) into managed policies of this stack at
            # synthesis, after this role is made.
            extra_types=["AWS::IAM::ManagedPolicy"],
        )
        # The CloudFormation action reads its template from this region's artifact store, as
        # the environments' actions here do (CDK grants it to a deployment role it owns).
        self.store.bucket.grant_read(role)
        self.store.key.grant_decrypt(role)
        acknowledgements.artifact_access(role, self.store.bucket)
        return role

    def cloudformation_role(self, environment_stack: Stack, env: Environment) -> iam.IRole:
        """The CloudFormation service role of `env`'s stack, made here (module docstring); as
        the pipeline's stack sees it, by ARN."""
        tags = getattr(environment_stack, "resource_tags", {})
        role = cloudformation_role(
            self.stack,
            f"CloudFormationRole{camel(env.name)}",
            naming=self.naming,
            env_name=env.name,
            stack=environment_stack,
            tags=tags,
            code_buckets=[CDK_ASSET_BUCKET.format(account=Aws.ACCOUNT_ID, region=Aws.REGION)],
            code_keys=["*"],
        )
        acknowledgements.acknowledge(role, CDK_ASSET_FINDING, CDK_ASSET_REASON)
        # CloudFormation reads the template CodePipeline put in this region's store.
        self.store.bucket.grant_read(role)
        self.store.key.grant_decrypt(role)
        acknowledgements.artifact_access(role, self.store.bucket)
        if env.deploy.lambda_ is not None:
            assert self.packages is not None  # made for every Lambda environment here
            # Lambda reads the package with CloudFormation's credentials: the environment's own
            # object in this region's package store, encrypted with this region's key.
            # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[
                        self.packages.bucket.arn_for_objects(self.packages.deployed_key(env.name))
                    ],
                )
            )
        name = self.naming.name("cloudformation", env.name)
        # Fn::Sub: CloudFormation reads an action's RoleArn as given (cfn-lint E3703 on Join).
        return iam.Role.from_role_arn(
            self.pipeline,
            f"CloudFormationRole{camel(env.name)}",
            Fn.sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}"),
            mutable=False,
        )
