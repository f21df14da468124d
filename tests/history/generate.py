"""A realistic deployment history in the recorder's item format, for moto tables.

Every execution has a pipeline record; each environment stage it reached has a stage record.
Outcomes and durations are drawn from a seeded generator, so tests are repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from conveyor.history.records import TIME_INDEX, iso

START = datetime(2026, 1, 1, tzinfo=UTC)


def _item(**values: object) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        item[name] = {"BOOL": value} if isinstance(value, bool) else {"S": str(value)}
    return item


def history_items(
    app: str,
    executions: int,
    *,
    environments: tuple[str, ...] = ("staging", "prod"),
    seed: int = 7,
    legacy: bool = False,
) -> Iterator[dict[str, Any]]:
    """`legacy`: items as recorders before issue 17 wrote them (no commit or pipeline start)."""
    rng = random.Random(seed)
    for n in range(executions):
        execution = f"{n:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        started = START + timedelta(minutes=90 * n + rng.randint(0, 30))
        committed = started - timedelta(
            minutes=30 + n % 200
        )  # leaves the seeded draws as they were
        commit = f"{rng.getrandbits(160):040x}"
        moment = started + timedelta(minutes=8)
        outcome = "SUCCEEDED"
        for environment in environments:
            if environment == "prod":
                moment += timedelta(minutes=rng.randint(5, 180))  # waiting for approval
            draw = rng.random()
            outcome = "SUCCEEDED" if draw < 0.9 else ("FAILED" if draw < 0.97 else "ROLLED_BACK")
            ended = moment + timedelta(minutes=rng.randint(3, 9))
            yield _item(
                pk=f"{app}#{environment}",
                sk=execution,
                app=app,
                environment=environment,
                stage=f"Deploy-{environment}",
                outcome=outcome,
                started_at=iso(moment),
                ended_at=iso(ended),
                commit=commit,
                commit_message=f"change {n}",
                triggered_by="arn:aws:iam::123456789012:user/alice",
                rolled_back=outcome == "ROLLED_BACK",
                committed_at=None if legacy else iso(committed),
                pipeline_started_at=None if legacy else iso(started),
            )
            moment = ended
            if outcome != "SUCCEEDED":
                break
        yield _item(
            pk=f"{app}#pipeline",
            sk=execution,
            app=app,
            execution_id=execution,
            outcome="SUCCEEDED" if outcome == "SUCCEEDED" else "FAILED",
            started_at=iso(started),
            ended_at=iso(moment),
            commit=commit,
        )


def create_table(client: Any, name: str, *, time_index: bool = True) -> None:
    """The table as constructs/deployment_history creates it (`time_index=False`: as it was
    before issue 17)."""
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if time_index:
        request["AttributeDefinitions"].append(
            {"AttributeName": "started_at", "AttributeType": "S"}
        )
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": TIME_INDEX,
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "started_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    client.create_table(**request)


def load(client: Any, name: str, items: Iterator[dict[str, Any]]) -> int:
    """batch_write_item in 25s (the API's maximum); returns how many items were written."""
    batch: list[dict[str, Any]] = []
    written = 0
    for item in items:
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={name: batch})
            written, batch = written + len(batch), []
    if batch:
        client.batch_write_item(RequestItems={name: batch})
        written += len(batch)
    return written


DEMO_APP = "payments"
DEMO_MESSAGES = (
    "Add idempotency keys to refunds",
    "Bump boto3 to the latest patch",
    "Retry card network timeouts once",
    "Log the acquirer's response code",
    "Fix rounding of multi-currency totals",
    "Cache exchange rates for 60 s",
    "Reject refunds above the captured amount",
    "Move webhook signing secret to Secrets Manager",
)


def demo_items() -> list[dict[str, Any]]:
    """The sample `conveyor history --demo` shows (src/conveyor/history/demo.json): 30 days
    of a payments service, about two executions a day, a few failures, one rolled back.

    Regenerate with: python -m tests.history.generate > src/conveyor/history/demo.json
    """
    rng = random.Random(12)
    items: list[dict[str, Any]] = []
    started = datetime(2026, 10, 20, 9, tzinfo=UTC)
    for n in range(56):
        started += timedelta(hours=rng.choice((3, 5, 18, 20, 24, 26)))
        execution = f"{n:08x}-5f1c-4a7e-9b2d-{rng.getrandbits(48):012x}"
        committed = started - timedelta(minutes=rng.randint(20, 600))
        commit = f"{rng.getrandbits(160):040x}"
        author = rng.choice(("alice", "bob", "chen", "dana"))
        moment = started + timedelta(minutes=rng.randint(7, 12))  # build, tests, scans
        outcome = "SUCCEEDED"
        for environment in ("staging", "prod"):
            if environment == "prod":
                moment += timedelta(minutes=rng.randint(10, 240))  # waiting for approval
            draw = rng.random()
            outcome = "SUCCEEDED" if draw < 0.88 else ("FAILED" if draw < 0.96 else "ROLLED_BACK")
            ended = moment + timedelta(minutes=rng.randint(6, 14))
            items.append(
                _item(
                    pk=f"{DEMO_APP}#{environment}",
                    sk=execution,
                    app=DEMO_APP,
                    environment=environment,
                    stage=f"Deploy-{environment}",
                    outcome=outcome,
                    started_at=iso(moment),
                    ended_at=iso(ended),
                    commit=commit,
                    commit_message=DEMO_MESSAGES[n % len(DEMO_MESSAGES)],
                    triggered_by=f"arn:aws:sts::210987654321:assumed-role/developer/{author}",
                    rolled_back=outcome == "ROLLED_BACK",
                    rolled_back_at=iso(ended) if outcome == "ROLLED_BACK" else None,
                    rollback_by="codedeploy" if outcome == "ROLLED_BACK" else None,
                    committed_at=iso(committed),
                    pipeline_started_at=iso(started),
                )
            )
            moment = ended
            if outcome != "SUCCEEDED":
                break
    return items


if __name__ == "__main__":
    import json
    import sys

    json.dump(demo_items(), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
