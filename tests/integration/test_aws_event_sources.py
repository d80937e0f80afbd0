"""The local stack's emulation of Lambda's SQS event source mapping (``SqsEventSource``), against moto's SQS
over HTTP: batches of at most ``BatchSize``, what succeeded deleted, a reported failure back after the
visibility timeout, a raised exception or an unreadable answer failing the whole batch, and SQS itself moving
a message to the dead-letter queue after ``maxReceiveCount`` receives.

Each test makes queues of its own (short visibility timeouts) and drives ``poll_once`` with a plain callable
as the function; the last test runs the template's own wiring in a second stack with ``run_event_sources``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from croupier_local.aws_services import LocalQueue, SqsEventSource, client, create_queues
from croupier_local.dynamodb import LocalDynamoDB
from croupier_local.moto_server import MotoServer
from croupier_local.server import LocalStack
from croupier_local.template import QueueSpec, SqsSource

REPO_ROOT = Path(__file__).resolve().parents[2]


class Function:
    """A function the event source invokes: records each event, answers what ``answer`` decides."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any] = lambda _: None) -> None:
        self.events: list[dict[str, Any]] = []
        self._answer = answer

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self._answer(event)

    def bodies(self) -> list[list[str]]:
        return [[record["body"] for record in event["Records"]] for event in self.events]


class Queues:
    def __init__(self, endpoint: str, *, visibility: int = 1, max_receives: int | None = None) -> None:
        tag = uuid.uuid4().hex[:8]
        dead = QueueSpec(f"Dead{tag}", visibility_timeout=visibility)
        main = QueueSpec(
            f"Main{tag}",
            visibility_timeout=visibility,
            dead_letter_queue=dead.logical_id if max_receives else None,
            max_receive_count=max_receives,
        )
        created = create_queues(endpoint, [main, dead])
        self.main: LocalQueue = created[main.logical_id]
        self.dead: LocalQueue = created[dead.logical_id]
        self.sqs = client("sqs", endpoint)
        self.endpoint = endpoint

    def send(self, *bodies: str) -> list[str]:
        return [self.sqs.send_message(QueueUrl=self.main.url, MessageBody=b)["MessageId"] for b in bodies]

    def source(self, function: Function, *, batch_size: int = 10, report: bool = True) -> SqsEventSource:
        spec = SqsSource("Queue", "Fn", self.main.logical_id, batch_size=batch_size, report_batch_item_failures=report)
        return SqsEventSource(spec, self.main, self.endpoint, function, wait_seconds=0)

    def depth(self, queue: LocalQueue | None = None) -> int:
        """Visible, in flight and delayed: every message SQS still holds."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        attributes = self.sqs.get_queue_attributes(QueueUrl=(queue or self.main).url, AttributeNames=names)
        return sum(int(value) for value in attributes["Attributes"].values())

    def visible(self, queue: LocalQueue | None = None) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=(queue or self.main).url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def drain(source: SqsEventSource, *, until: Callable[[], bool], seconds: float = 4.0) -> None:
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the event source did not get there in time"
        if source.poll_once() == 0:
            time.sleep(0.1)


def fail_bodies(*bodies: str) -> Callable[[dict[str, Any]], Any]:
    def answer(event: dict[str, Any]) -> Any:
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in bodies]
        return {"batchItemFailures": failures}

    return answer


@pytest.fixture
def queues(moto_server: MotoServer) -> Queues:
    return Queues(moto_server.endpoint_url)


def test_batches_hold_at_most_batch_size_records_and_what_succeeded_is_deleted(queues: Queues) -> None:
    bodies = [f"m{i}" for i in range(7)]
    queues.send(*bodies)
    function = Function()
    source = queues.source(function, batch_size=3)

    drain(source, until=lambda: sum(map(len, function.bodies())) >= 7)

    assert all(1 <= len(batch) <= 3 for batch in function.bodies())
    assert sorted(body for batch in function.bodies() for body in batch) == bodies
    assert source.deleted == 7
    assert queues.depth() == 0  # deleted, not merely in flight


def test_the_event_is_what_lambda_hands_the_function(queues: Queues) -> None:
    (message_id,) = queues.send("hello")
    function = Function()
    drain(queues.source(function), until=lambda: bool(function.events))
    (record,) = function.events[0]["Records"]
    assert record["messageId"] == message_id
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queues.main.arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["receiptHandle"]
    from aws_lambda_powertools.utilities.data_classes import SQSEvent

    parsed = next(iter(SQSEvent(function.events[0]).records))
    assert (parsed.message_id, parsed.body, parsed.attributes.approximate_receive_count) == (message_id, "hello", "1")


def test_a_reported_failure_comes_back_after_the_visibility_timeout_and_the_rest_is_deleted(queues: Queues) -> None:
    queues.send("ok-1", "fails", "ok-2")
    function = Function(fail_bodies("fails"))
    source = queues.source(function)

    drain(source, until=lambda: sum(map(len, function.bodies())) >= 3)
    assert queues.depth() == 1  # only the failed one is left
    assert queues.visible() == 0  # and it is in flight, not visible yet

    drain(source, until=lambda: sum(map(len, function.bodies())) >= 4)
    last = function.events[-1]["Records"]
    assert [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in last] == [("fails", "2")]


def test_an_exception_fails_the_whole_batch(queues: Queues) -> None:
    queues.send("a", "b")
    calls = {"n": 0}

    def answer(event: dict[str, Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the function crashed")
        return None

    function = Function(answer)
    source = queues.source(function)
    drain(source, until=lambda: bool(function.events))
    first_batch = set(function.bodies()[0])
    assert source.deleted == 0
    assert queues.depth() == 2  # nothing of the failed batch was deleted

    drain(source, until=lambda: queues.depth() == 0)  # back after 1 s, then taken
    redelivered = [r for event in function.events[1:] for r in event["Records"] if r["body"] in first_batch]
    assert {r["body"] for r in redelivered} == first_batch
    assert all(r["attributes"]["ApproximateReceiveCount"] == "2" for r in redelivered)


def test_an_answer_naming_an_unknown_item_fails_the_whole_batch(queues: Queues) -> None:
    queues.send("a", "b")
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}])
    function = Function(lambda _: next(answers, None))
    source = queues.source(function)

    drain(source, until=lambda: bool(function.events))
    in_first = len(function.events[0]["Records"])
    assert source.deleted == 0
    assert queues.depth() == 2

    drain(source, until=lambda: queues.depth() == 0)
    counts = [r["attributes"]["ApproximateReceiveCount"] for e in function.events[1:] for r in e["Records"]]
    assert counts.count("2") == in_first  # every message of the unreadable answer came back


@pytest.mark.parametrize("answer", [{"batchItemFailures": "m"}, {"batchItemFailures": [{"id": "x"}]}])
def test_a_malformed_answer_fails_the_whole_batch(queues: Queues, answer: dict[str, Any]) -> None:
    queues.send("a")
    function = Function(lambda _: answer)
    source = queues.source(function)
    drain(source, until=lambda: bool(function.events))
    assert (source.deleted, queues.depth()) == (0, 1)


def test_without_report_batch_item_failures_a_batch_succeeds_whole(queues: Queues) -> None:
    queues.send("a", "b")
    function = Function(fail_bodies("a", "b"))
    source = queues.source(function, report=False)
    drain(source, until=lambda: source.deleted == 2)
    assert queues.depth() == 0


def test_after_max_receive_count_receives_sqs_moves_the_message_to_the_dead_letter_queue(
    moto_server: MotoServer,
) -> None:
    queues = Queues(moto_server.endpoint_url, visibility=0, max_receives=3)
    (message_id,) = queues.send(json.dumps({"kind": "win", "round_id": "r_dead"}))
    function = Function(lambda event: {"batchItemFailures": [{"itemIdentifier": message_id}]})
    source = queues.source(function)

    drain(source, until=lambda: queues.visible(queues.dead) == 1)

    assert len(function.events) == 3  # received maxReceiveCount times, never a fourth
    assert queues.depth() == 0
    (dead,) = queues.sqs.receive_message(QueueUrl=queues.dead.url, AttributeNames=["All"])["Messages"]
    assert dead["MessageId"] == message_id
    assert json.loads(dead["Body"]) == {"kind": "win", "round_id": "r_dead"}


def test_the_templates_event_source_runs_the_retry_worker_in_a_stack_with_event_sources(
    dynamodb_local: LocalDynamoDB, moto_server: MotoServer, local_stack: LocalStack
) -> None:
    """A second stack on the session's DynamoDB Local and moto, with ``run_event_sources=True``: the worker
    takes what lands in WalletRetryQueue, and what it drops (malformed, unknown round) is deleted."""
    with LocalStack(
        REPO_ROOT,
        dynamodb_endpoint=dynamodb_local.endpoint_url,
        aws_endpoint=moto_server.endpoint_url,
        run_event_sources=True,
    ) as stack:
        (source,) = stack.event_sources
        assert (source.source.function, source.source.queue) == ("RgsWalletRetryFunction", "WalletRetryQueue")
        assert source.source.batch_size == 10
        assert source.source.report_batch_item_failures
        queue = stack.queues["WalletRetryQueue"]
        sqs = client("sqs", stack.aws_endpoint)
        before = source.deleted
        for body in ("{", json.dumps({"kind": "refund", "round_id": "r_" + uuid.uuid4().hex})):
            sqs.send_message(QueueUrl=queue.url, MessageBody=body)
        deadline = time.monotonic() + 6
        while source.deleted < before + 2:
            assert time.monotonic() < deadline, "the event source did not deliver the batch"
            time.sleep(0.1)
    assert stack.event_sources == []  # stopped with the stack
