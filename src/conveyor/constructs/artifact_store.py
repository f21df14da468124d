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


# How many earlier packages a function keeps whatever their age (S3 allows up to 100).
PACKAGE_VERSIONS_KEPT = 50


def package_key(naming: Naming) -> str:
    """The one object whose versions are a Lambda function's releases."""
    return f"{naming.name('package')}.zip"


class PackageStore(Construct):
    """Where a Lambda build puts the function's package: one object, a version per build.

    A release deploys a version of it (the stack's CodeVersion). CloudFormation's own rollback
    (a failed canary) and a stage rollback to an earlier execution deploy an earlier version
    again, so it must outlive the artifact retention: Build artifacts expire after
    `retention.artifact_days`, and a function released less often than that could not be
    rolled back (the stack ends in UPDATE_ROLLBACK_FAILED on a missing key). Here the current
    version never expires; earlier ones expire `expire_days` after being replaced, except the
    newest PACKAGE_VERSIONS_KEPT, which stay whatever their age (FM03 still bounds the bucket).
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
                    id="expire-replaced-releases",
                    noncurrent_version_expiration=Duration.days(expire_days),
                    noncurrent_versions_to_retain=PACKAGE_VERSIONS_KEPT,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
