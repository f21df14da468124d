"""The job that copies a Lambda release's package to the environment's own key, which the
package store keeps (PackageStore), before the environment's stack deploys that copy."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import buildspec
from conveyor.constructs.codebuild_job import CodeBuildJob


class DeployedPackageMarker(CodeBuildJob):
    """One CodeBuild project, run first in each Lambda environment's stage with the build's
    package version and that environment's key (`deployed_keys`, one per environment)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        bucket: s3.IBucket,
        package_key: str,
        deployed_keys: Sequence[str],
        key: kms.IKey,
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(
            scope,
            id,
            name=name,
            description="conveyor: copies each release's package to the key its environment "
            "deploys from, which the package store keeps",
            buildspec=buildspec.mark_deployed_package_buildspec(),
            compute="small",
            timeout_minutes=5,
            key=key,
            log_group=log_group,
            variables={
                buildspec.PACKAGE_BUCKET: bucket.bucket_name,
                buildspec.PACKAGE_KEY: package_key,
            },
        )
        targets = [bucket.arn_for_objects(k) for k in deployed_keys]
        role = self.project
        # Reading a version (HeadObject, the copy's source) needs s3:GetObjectVersion besides
        # s3:GetObject; the copy writes the environment's key. Named objects only.
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
        role.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(package_key), *targets],
            )
        )
        if targets:
            role.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:PutObject"], resources=targets)
            )
        # ListBucket turns a missing key or version into 404 instead of 403 (HeadObject); the
        # rollback's search lists the environment key's versions (ListObjectVersions).
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
        role.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:ListBucketVersions"], resources=[bucket.bucket_arn]
            )
        )
        # S3 decrypts the source and encrypts the copy with the bucket's key on the caller's
        # behalf. https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
        key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")

    def add_regional_target(
        self, *, bucket_arn: str, object_arn: str, key_statement: iam.PolicyStatement
    ) -> None:
        """An environment in another region: its key in that region's package store
        (regional_support.py), which the job reads, lists and copies to as it does the
        pipeline store's, and that store's key (`key_statement`: by its alias), with which S3
        decrypts an earlier copy and encrypts the new one on the caller's behalf."""
        role = self.project
        role.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                resources=[object_arn],
            )
        )
        role.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:ListBucketVersions"], resources=[bucket_arn]
            )
        )
        role.add_to_role_policy(key_statement)
