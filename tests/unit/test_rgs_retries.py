"""The wallet-retry queue: messages sent to SQS, a worker batch that retries, backs off and drops junk."""

from __future__ import annotations

import json
from typing import Any

import pytest

from croupier.errors import NotFound
from croupier.rgs.retries import MAX_RECEIVES, SqsRetryQueue, backoff_seconds, process_batch


class Game:
    def __init__(self, outcomes: dict[str, bool]) -> None:
        self.outcomes = outcomes
        self.calls: list[tuple[str, str]] = []

    def pay_win(self, round_id: str) -> bool:
        self.calls.append(("win", round_id))
        if round_id not in self.outcomes:
            raise NotFound("no such round")
        return self.outcomes[round_id]

    def retry_refund(self, round_id: str) -> bool:
        self.calls.append(("refund", round_id))
        return self.outcomes[round_id]


def record(message_id: str, body: Any, receives: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": str(receives)},
    }


def test_backoff_doubles_from_ten_seconds_and_stops_at_fifteen_minutes() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 7, 8, 50)] == [10, 20, 40, 80, 640, 900, 900]


def test_a_batch_retries_each_message_and_reports_only_the_failures() -> None:
    game = Game({"r-ok": True, "r-busy": False, "r-refund": True})
    changed: list[tuple[str, int]] = []
    answer = process_batch(
        [
            record("1", {"kind": "win", "round_id": "r-ok"}),
            record("2", {"kind": "win", "round_id": "r-busy"}, receives=3),
            record("3", {"kind": "refund", "round_id": "r-refund"}),
            record("4", "not json"),
            record("5", {"kind": "bonus", "round_id": "r-ok"}),
            record("6", {"kind": "win", "round_id": "r-unknown"}),
        ],
        game,
        lambda handle, seconds: changed.append((handle, seconds)),
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert changed == [("handle-2", 40)]
    assert game.calls == [("win", "r-ok"), ("win", "r-busy"), ("refund", "r-refund"), ("win", "r-unknown")]


class PoisonedGame(Game):
    """A round whose retry raises (a corrupt item, a DynamoDB error): a poison message."""

    def pay_win(self, round_id: str) -> bool:
        if round_id == "r-poison":
            self.calls.append(("win", round_id))
            raise RuntimeError("the stored round cannot be read")
        return super().pay_win(round_id)


def test_a_poison_message_fails_only_itself() -> None:
    game = PoisonedGame({"r-before": True, "r-after": True, "r-refund": True})
    changed: list[tuple[str, int]] = []
    answer = process_batch(
        [
            record("1", {"kind": "win", "round_id": "r-before"}),
            record("2", {"kind": "win", "round_id": "r-poison"}, receives=2),
            record("3", {"kind": "win", "round_id": "r-after"}),
            record("4", {"kind": "refund", "round_id": "r-refund"}),
        ],
        game,
        lambda handle, seconds: changed.append((handle, seconds)),
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}  # not the whole batch
    assert changed == [("handle-2", 20)]  # held back like any failure
    assert game.calls == [("win", "r-before"), ("win", "r-poison"), ("win", "r-after"), ("refund", "r-refund")]


def test_a_failed_visibility_change_fails_only_its_own_message() -> None:
    game = Game({"r-1": False, "r-2": False})

    def change(handle: str, seconds: int) -> None:
        if handle == "handle-1":
            raise RuntimeError("ReceiptHandleIsInvalid")

    answer = process_batch(
        [record("1", {"kind": "win", "round_id": "r-1"}), record("2", {"kind": "win", "round_id": "r-2"})],
        game,
        change,
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": "1"}, {"itemIdentifier": "2"}]}
    assert game.calls == [("win", "r-1"), ("win", "r-2")]


class RecordingSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **params: Any) -> dict[str, Any]:
        self.sent.append(params)
        return {"MessageId": "m-1"}


def test_the_queue_sends_the_kind_and_round_after_the_first_delay() -> None:
    sqs = RecordingSqs()
    queue = SqsRetryQueue("https://sqs.example/retries", lambda: sqs)
    queue.enqueue("win", "r_1")
    queue.enqueue("refund", "r_2")
    with pytest.raises(ValueError, match="kind"):
        queue.enqueue("bonus", "r_1")
    assert [(m["QueueUrl"], json.loads(m["MessageBody"]), m["DelaySeconds"]) for m in sqs.sent] == [
        ("https://sqs.example/retries", {"kind": "win", "round_id": "r_1"}, 10),
        ("https://sqs.example/retries", {"kind": "refund", "round_id": "r_2"}, 10),
    ]


def test_the_last_failed_receive_is_counted_as_a_dead_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    """After MAX_RECEIVES receives SQS moves the message to the dead-letter queue: that failure is counted as
    ``DeadLetters`` (and still reported, so SQS does move it); earlier failures are not."""
    counted: list[str] = []
    monkeypatch.setattr("croupier.rgs.retries.count", counted.append)
    game = Game({"r-busy": False})
    answer = process_batch(
        [
            record("early", {"kind": "win", "round_id": "r-busy"}, receives=MAX_RECEIVES - 1),
            record("last", {"kind": "win", "round_id": "r-busy"}, receives=MAX_RECEIVES),
        ],
        game,
        lambda handle, seconds: None,
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": "early"}, {"itemIdentifier": "last"}]}
    assert counted == ["WalletRetriesFailed", "WalletRetriesFailed", "DeadLetters"]
