"""The local stack's DynamoDB stream event source on DynamoDB Local's Streams API: records delivered in
Lambda's shape, a failure reported in ``batchItemFailures`` (or an invocation that raises) handed again."""

from __future__ import annotations

import uuid
from typing import Any

from croupier_local.dynamodb import LocalDynamoDB, dynamodb_client
from croupier_local.streams import StreamEventSource
from croupier_local.template import StreamSource, load_template
from tests.conftest import REPO_ROOT


def stream_table(endpoint: str) -> str:
    name = f"streamtest{uuid.uuid4().hex[:8]}"
    dynamodb_client(endpoint).create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return name


def put(endpoint: str, table: str, n: int) -> None:
    client = dynamodb_client(endpoint)
    for i in range(n):
        client.put_item(TableName=table, Item={"pk": {"S": f"item-{i:03d}"}, "n": {"N": str(i)}})


def source(table: str, batch_size: int = 4) -> StreamSource:
    return StreamSource(
        name="Changes",
        function="Fn",
        table=table,
        batch_size=batch_size,
        report_batch_item_failures=True,
        bisect_on_error=True,
    )


def keys(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]


def test_the_template_names_the_rgs_tables_stream_and_its_consumer() -> None:
    template = load_template(REPO_ROOT / "template.yaml")
    (revenue,) = template.stream_sources
    assert (revenue.function, revenue.table, revenue.report_batch_item_failures) == (
        "RgsRevenueFunction",
        "RgsTable",
        True,
    )
    assert revenue.bisect_on_error
    rgs = next(table for table in template.tables if table.logical_id == "RgsTable")
    assert rgs.create_kwargs["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_every_record_is_delivered_in_lambdas_shape(dynamodb_local: LocalDynamoDB) -> None:
    endpoint = dynamodb_local.endpoint_url
    table = stream_table(endpoint)
    put(endpoint, table, 10)
    events: list[dict[str, Any]] = []
    poller = StreamEventSource(source(table), endpoint, lambda e: events.append(e) or {"batchItemFailures": []})
    assert poller.drain() == 10
    assert [k for e in events for k in keys(e)] == [f"item-{i:03d}" for i in range(10)]
    assert all(len(e["Records"]) <= 4 for e in events)
    record = events[0]["Records"][0]
    assert (record["eventName"], record["eventSource"]) == ("INSERT", "aws:dynamodb")
    assert record["eventSourceARN"] == poller.stream_arn
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "item-000"}, "n": {"N": "0"}}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["SequenceNumber"].isdigit()
    put(endpoint, table, 0)
    assert poller.drain() == 0  # nothing new: nothing handed again


def test_a_reported_failure_is_handed_again_from_that_record(dynamodb_local: LocalDynamoDB) -> None:
    endpoint = dynamodb_local.endpoint_url
    table = stream_table(endpoint)
    put(endpoint, table, 8)
    seen: list[str] = []
    failed_once: set[str] = set()

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        seen.extend(keys(event))
        for record in event["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            if key == "item-002" and key not in failed_once:
                failed_once.add(key)
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    poller = StreamEventSource(source(table), endpoint, invoke)
    poller.drain()
    assert seen == [f"item-{i:03d}" for i in (0, 1, 2, 3)] + [f"item-{i:03d}" for i in range(2, 8)]
    assert poller.redelivered == 2  # item-002 and the one after it in its batch


def test_an_invocation_that_raises_is_handed_again_in_halves(dynamodb_local: LocalDynamoDB) -> None:
    endpoint = dynamodb_local.endpoint_url
    table = stream_table(endpoint)
    put(endpoint, table, 4)
    sizes: list[int] = []
    handled: list[str] = []

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        sizes.append(len(event["Records"]))
        if len(sizes) == 1:
            raise RuntimeError("the function failed")
        handled.extend(keys(event))
        return {"batchItemFailures": []}

    poller = StreamEventSource(source(table), endpoint, invoke)
    poller.drain()
    assert sizes[:2] == [4, 2]  # the failed batch came back bisected
    assert handled == [f"item-{i:03d}" for i in range(4)]
