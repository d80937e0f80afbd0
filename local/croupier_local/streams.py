"""Lambda's event source mapping for a DynamoDB stream, on DynamoDB Local's Streams API.

:class:`StreamEventSource` reads the table's stream shard by shard (a parent before its children) with the
``dynamodbstreams`` client (DescribeStream, GetShardIterator, GetRecords), hands the function batches of up to
``BatchSize`` records in the shape Lambda gives them (``{"Records": [{"eventID", "eventName", "dynamodb": {...,
"SequenceNumber"}, "eventSourceARN", ...}]}``) and keeps a checkpoint per shard, as Lambda does:

- a batch that succeeds moves the checkpoint past its last record;
- with ``ReportBatchItemFailures``, the answer's ``batchItemFailures`` (sequence numbers) move it to just before
  the lowest one named: that record and every later one come again;
- an invocation that raises hands the whole batch again (with ``BisectBatchOnFunctionError``, half as many
  records at a time until one succeeds).

``poll_once()`` reads each shard once; ``drain()`` polls until the stream has nothing more for the function
(the tests' way of waiting for the consumer, without a clock). ``start()`` polls in a thread as ``make dev``
does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.config import Config

from croupier_local.dynamodb import dynamodb_client, local_client
from croupier_local.polling import PollingThread
from croupier_local.template import LOCAL_REGION, StreamSource

logger = logging.getLogger(__name__)

STREAMS_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 3, "mode": "standard"})


def stream_event(records: list[dict[str, Any]], stream_arn: str, *, region: str = LOCAL_REGION) -> dict[str, Any]:
    """The event Lambda hands a function for a batch of stream records (times as epoch seconds)."""
    converted = []
    for record in records:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        converted.append(
            {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": record.get("awsRegion", region),
                "dynamodb": change,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": converted}


def failed_sequence(result: Any, sequences: list[str], *, report_batch_item_failures: bool) -> str | None:
    """The lowest sequence number the answer reports failed (the checkpoint goes just before it); None when
    the batch succeeded. An answer Lambda cannot read fails the whole batch (its first record)."""
    if not report_batch_item_failures or result is None:
        return None
    items = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not items:
        return None if isinstance(result, dict) and items in (None, []) else sequences[0]
    named = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in items]
    if not all(isinstance(n, str) and n in sequences for n in named):
        return sequences[0]
    return min((n for n in named if isinstance(n, str)), key=int)


class StreamEventSource(PollingThread):
    """Lambda's event source mapping for one table's stream and one function."""

    def __init__(
        self,
        source: StreamSource,
        endpoint_url: str,
        invoke: Callable[[dict[str, Any]], Any],
        *,
        table_name: str | None = None,
        idle_seconds: float = 0.5,
    ) -> None:
        super().__init__()
        self.source = source
        self.thread_name = f"croupier-local-stream-{source.function}"
        self.idle_seconds = idle_seconds
        self._invoke = invoke
        self._streams = local_client("dynamodbstreams", endpoint_url, STREAMS_CONFIG)
        table = dynamodb_client(endpoint_url).describe_table(TableName=table_name or source.table)["Table"]
        if "LatestStreamArn" not in table:
            raise ValueError(f"table {table['TableName']} has no stream")
        self.stream_arn: str = table["LatestStreamArn"]
        self._iterators: dict[str, str] = {}
        self._checkpoints: dict[str, str] = {}  # shard -> the last sequence number handled
        self._restart_at: dict[str, str] = {}  # shard -> the first record to hand again (before any checkpoint)
        self._limits: dict[str, int] = {}  # shard -> records per batch (halved while bisecting)
        self._finished: set[str] = set()
        self._known: set[str] | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.delivered = 0
        self.redelivered = 0

    # -- polling --

    def drain(self, *, max_polls: int = 10_000) -> int:
        """Poll until a round of every shard hands nothing; answers how many records were handed."""
        total = 0
        for _ in range(max_polls):
            handed = self.poll_once()
            if handed == 0:
                return total
            total += handed
        raise RuntimeError(f"the stream of {self.source.table} did not drain in {max_polls} polls")

    def poll_once(self) -> int:
        """One GetRecords on each shard whose parent is done; answers how many records the function got."""
        with self._lock:
            handed = 0
            for shard in self._ready_shards():
                handed += self._poll_shard(shard)
            return handed

    def _ready_shards(self) -> list[str]:
        shards: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            kwargs["ExclusiveStartShardId"] = last
        ids = {shard["ShardId"] for shard in shards}
        if self._known is None:  # the shards there at start take the starting position; later ones TRIM_HORIZON
            self._known = set(ids)
        ready = []
        for shard in shards:
            parent = shard.get("ParentShardId")
            if shard["ShardId"] in self._finished or (parent in ids and parent not in self._finished):
                continue
            ready.append(shard["ShardId"])
        return ready

    def _iterator(self, shard: str) -> str:
        if shard in self._iterators:
            return self._iterators[shard]
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard}
        if shard in self._checkpoints:
            kwargs |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._checkpoints[shard]}
        elif shard in self._restart_at:
            kwargs |= {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": self._restart_at[shard]}
        elif self.source.starting_position == "LATEST" and self._known is not None and shard in self._known:
            kwargs["ShardIteratorType"] = "LATEST"
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        iterator: str = self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        return iterator

    def _poll_shard(self, shard: str) -> int:
        limit = self._limits.get(shard, self.source.batch_size)
        try:
            answer = self._streams.get_records(ShardIterator=self._iterator(shard), Limit=limit)
        except self._streams.exceptions.ExpiredIteratorException:
            self._iterators.pop(shard, None)  # from the checkpoint again, next time
            return 0
        records: list[dict[str, Any]] = answer.get("Records") or []
        following = answer.get("NextShardIterator")
        if not records:
            if following is None:
                self._finished.add(shard)
                self._iterators.pop(shard, None)
            else:
                self._iterators[shard] = following
            return 0
        self.batches += 1
        self.delivered += len(records)
        sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
        try:
            result = self._invoke(stream_event(records, self.stream_arn))
        except Exception:
            logger.exception("%s failed on a batch of %d stream records", self.source.function, len(records))
            if self.source.bisect_on_error:
                self._limits[shard] = max(1, len(records) // 2)
            self._redeliver_from(shard, sequences[0])
            self.redelivered += len(records)
            return len(records)
        self._limits.pop(shard, None)
        failed = failed_sequence(result, sequences, report_batch_item_failures=self.source.report_batch_item_failures)
        if failed is None:
            self._checkpoints[shard] = sequences[-1]
            if following is None:
                self._finished.add(shard)
                self._iterators.pop(shard, None)
            else:
                self._iterators[shard] = following
            return len(records)
        index = sequences.index(failed)
        if index > 0:
            self._checkpoints[shard] = sequences[index - 1]
        self._redeliver_from(shard, failed)
        self.redelivered += len(records) - index
        return len(records)

    def _redeliver_from(self, shard: str, first: str) -> None:
        """The next read of ``shard`` starts after its checkpoint (at ``first`` when it has none yet)."""
        self._iterators.pop(shard, None)
        if shard not in self._checkpoints:
            self._restart_at[shard] = first
