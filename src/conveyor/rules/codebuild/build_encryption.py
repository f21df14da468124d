"""CodeBuild project without a customer KMS key (``EncryptionKey``) for its build output.

Without ``EncryptionKey`` CodeBuild encrypts the artifacts it writes with the account's AWS
managed key for S3 (``aws/s3``): its key policy cannot be changed, so no other account (a
deploy target, a pipeline in another account) can decrypt the artifacts, and who may read them
is decided by the bucket alone. https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-kms.html
The property is read as written: a parameter, a key reference or an alias ARN all count as a
key; ``Fn::If`` with a branch without one (``AWS::NoValue``) is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    key = res.properties.get("EncryptionKey")
    if key is None:
        yield Hit(
            res.logical_id,
            "Properties",
            "build project has no EncryptionKey: its output artifacts are encrypted with the "
            "AWS managed aws/s3 key, whose policy no other account can be granted",
        )
    elif isinstance(key, str) and key.strip() in ("", "alias/aws/s3"):
        yield Hit(
            res.logical_id,
            "Properties.EncryptionKey",
            f"EncryptionKey {key!r} is the AWS managed aws/s3 key: use a customer KMS key",
        )


RULE = Rule(
    id="CV016",
    title="CodeBuild project without a customer KMS key",
    severity=Severity.LOW,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM02",),
    why="S1, S2, S3: pipeline artifacts are to be encrypted with a customer key; a build "
    "project without EncryptionKey writes its output with aws/s3 even when the artifact "
    "bucket has a customer key.",
    fix_cloudformation="Set EncryptionKey to the pipeline's KMS key (!GetAtt Key.Arn) and let "
    "the build role use it (kms:Decrypt, kms:GenerateDataKey*).",
    fix_cdk="codebuild.PipelineProject(..., encryption_key=artifact_key)",
    fix_conveyor="Nothing to write: conveyor gives every build and test job the pipeline's key.",
    check=check,
)
