"""Where the pipeline keeps its artifacts: a customer-managed key and a private bucket."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.naming import Naming


class ArtifactStore(Construct):
    """A KMS key (rotating) and a versioned, TLS-only, expiring, private bucket encrypted with it.

    One per pipeline scope; environments that must not share keys get their own (FM76).
    """

    key: kms.Key
    bucket: s3.Bucket

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        scope_name: str,
        production: bool,
        expire_days: int,
        access_logs: s3.IBucket,
        bucket_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.key = defaults.encryption_key(
            self,
            "Key",
            alias=naming.name("key", scope_name),
            description=f"conveyor {naming.app}: artifacts, logs and topics ({scope_name})",
            production=production,
        )
        self.bucket = defaults.secure_bucket(
            self,
            "Bucket",
            key=self.key,
            production=production,
            expire_days=expire_days,
            access_logs=access_logs,
            access_logs_prefix=f"s3/{naming.name('artifacts', scope_name)}/",
            bucket_name=bucket_name,
        )


class AccessLogBucket(Construct):
    """Destination of S3 server access logs and load balancer access logs.

    SSE-S3 rather than a customer key: neither S3 server access logging nor ELB log delivery can
    write to a bucket encrypted with a customer-managed KMS key.
    """

    bucket: s3.Bucket

    def __init__(self, scope: Construct, id: str, *, production: bool, expire_days: int) -> None:
        super().__init__(scope, id)
        self.bucket = defaults.secure_bucket(
            self,
            "Bucket",
            key=None,
            production=production,
            expire_days=expire_days,
            access_logs=None,
        )
        acknowledgements.acknowledge(
            self.bucket,
            "S1",
            "this bucket is the destination of access logs; logging its own access into itself "
            "would loop",
        )


# How many earlier builds the build key keeps whatever their age (S3 allows up to 100).
PACKAGE_VERSIONS_KEPT = 50
# How many earlier deployed packages each environment's key keeps whatever their age: the one a
# rollback returns to, and those of releases prepared but never deployed (a rejected approval
# leaves the running version one step further back). S3's maximum.
DEPLOYED_VERSIONS_KEPT = 100
# Where each environment's deployed packages live: one key per environment, under this prefix.
DEPLOYED_PREFIX = "deployed/"
# Object metadata of a deployed copy: the build's version of the package it copies, so that a
# re-run reuses the copy and a rollback finds an old release after its build version expired.
SOURCE_VERSION_METADATA = "conveyor-package-version"


def package_key(naming: Naming) -> str:
    """The one object whose versions are a Lambda function's builds."""
    return f"{naming.name('package')}.zip"


def deployed_package_key(naming: Naming, env_name: str) -> str:
    """The one object whose versions are the packages an environment deploys."""
    return f"{DEPLOYED_PREFIX}{env_name}/{naming.name('package')}.zip"


class PackageStore(Construct):
    """Where a Lambda build puts the function's package, and each environment the packages
    it deploys.

    Each build writes a new version of one key (`package_key`). Before an environment's stack
    deploys, its MarkDeployed job copies that version to the environment's own key
    (`deployed_package_key`) and the stack deploys the copy (the CodeVersion parameter). Only
    that environment's stage writes its key, one execution at a time (CodePipeline runs a stage
    for one execution at a time in QUEUED and SUPERSEDED mode; conveyor refuses PARALLEL), so:

    - the version an environment runs is the current version of its key, or (after a rejected
      approval or a failed release) one of the newest noncurrent ones, never counted against
      other environments' or unreleased builds: production released rarely while staging
      builds often keeps its package;
    - a current version never expires (no rule here has an Expiration action), and the newest
      DEPLOYED_VERSIONS_KEPT noncurrent versions stay whatever their age: CloudFormation's own
      rollback (a failed canary) returns to the version just replaced, a stage rollback to the
      previous successful execution's;
    - a build's version expires `expire_days` after being replaced unless among the newest
      PACKAGE_VERSIONS_KEPT: it is needed only until each environment has copied it.

    Each rule has its own prefix: S3 lets the shorter of two overlapping expirations win, so a
    rule over the whole bucket would expire deployed packages with the builds.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-conflicts.html
    A filter selects objects (prefix, tags, size); none excludes, so the prefixes keep the two
    apart. https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-filters.html
    NewerNoncurrentVersions and NoncurrentDays together: a noncurrent version expires only
    once both hold.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html#intro-lifecycle-rules-actions
    """

    bucket: s3.Bucket

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.IKey,
        production: bool,
        expire_days: int,
        access_logs: s3.IBucket,
        bucket_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.naming = naming
        self.key = package_key(naming)
        self.bucket = defaults.secure_bucket(
            self,
            "Bucket",
            key=key,
            production=production,
            expire_days=expire_days,
            access_logs=access_logs,
            access_logs_prefix=f"s3/{naming.name('packages')}/",
            bucket_name=bucket_name,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-replaced-builds",
                    prefix=self.key,
                    noncurrent_version_expiration=Duration.days(expire_days),
                    noncurrent_versions_to_retain=PACKAGE_VERSIONS_KEPT,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="keep-deployed-releases",
                    prefix=DEPLOYED_PREFIX,
                    noncurrent_version_expiration=Duration.days(expire_days),
                    noncurrent_versions_to_retain=DEPLOYED_VERSIONS_KEPT,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
        )

    def deployed_key(self, env_name: str) -> str:
        return deployed_package_key(self.naming, env_name)


def artifact_bucket_name(
    app: str, suffix: str, account: str, region: str, kind: str = "artifacts"
) -> str:
    """The artifact (or package) bucket's name when environments in other accounts must know
    it; "packages" is shorter than "artifacts", so the spec's length check covers both."""
    name = f"{app}-{kind}-{account}-{region}"
    return f"{name}-{suffix}" if suffix else name
