"""The table Powertools' Idempotency utility keeps its records in: one per pipeline.

Handlers that must act once per job or event (validate_http's rollback, notify's email) key
their action on the job id or event id here, so a duplicated or retried invoke does not act
twice (issue 17/2, 17/9).
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from conveyor.constructs import defaults
from conveyor.constructs.naming import Naming

ENVIRONMENT_VARIABLE = "IDEMPOTENCY_TABLE_NAME"
# Powertools' DynamoDBPersistenceLayer defaults: partition key `id`, TTL attribute `expiration`;
# its records need these four actions and nothing else.
# https://docs.aws.amazon.com/powertools/python/latest/utilities/idempotency/#required-resources
# https://docs.aws.amazon.com/powertools/python/latest/utilities/idempotency/#iam-permissions
PARTITION_KEY = "id"
TTL_ATTRIBUTE = "expiration"
RECORD_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


class IdempotencyTable(Construct):
    table: dynamodb.TableV2

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.Key,
        production: bool,
        env_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._key = key
        self.table = defaults.table(
            self,
            "Table",
            # The pipeline's, or an environment stack's own (its in-VPC validator's).
            name=naming.name("idempotency", env_name),
            key=key,
            production=production,
            partition_key=PARTITION_KEY,
            time_to_live_attribute=TTL_ATTRIBUTE,
        )

    def grant(self, function: lambda_.Function) -> None:
        """Name the table to `function` and let it read and write records, nothing more."""
        function.add_environment(ENVIRONMENT_VARIABLE, self.table.table_name)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(RECORD_ACTIONS), resources=[self.table.table_arn])
        )
        self._key.grant_encrypt_decrypt(function)
