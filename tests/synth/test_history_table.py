"""The deployment history table as synthesized: the time index `conveyor history` queries."""

from __future__ import annotations

from conveyor.history.records import TIME_INDEX
from tests.synth.conftest import Synthesized


def test_history_table_has_the_time_index_the_reader_queries(web: Synthesized) -> None:
    tables = [
        t
        for t in web.resources("AWS::DynamoDB::GlobalTable").values()
        if t["Properties"]["TableName"] == "web-deployments"
    ]
    assert len(tables) == 1
    properties = tables[0]["Properties"]
    [index] = properties["GlobalSecondaryIndexes"]
    assert index["IndexName"] == TIME_INDEX
    assert index["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "started_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert {"AttributeName": "started_at", "AttributeType": "S"} in properties[
        "AttributeDefinitions"
    ]
