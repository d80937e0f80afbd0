"""Wallet calls the operator did not take, tried again from an SQS queue until they succeed.

``SqsRetryQueue.enqueue`` sends ``{"kind": "win"|"refund", "round_id"}``; the worker function takes a batch,
calls :meth:`Game.pay_win` or :meth:`Game.retry_refund` (the same ``operator_tx_id`` every time, so the
operator's idempotency makes every try safe) and reports the failures back to SQS, each message on its own
(``batchItemFailures``: a message whose retry raises fails itself only, never the rest of the batch), each held back
(:meth:`SqsRetryQueue.hold_back`) so that it is visible again after a delay that doubles with every receive (10 s,
20 s, … capped at 15 minutes). After ``maxReceiveCount`` receives the message moves to the dead-letter queue, whose
depth raises an alarm.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from croupier.errors import NotFound
from croupier.observability import count, logger

BASE_DELAY_SECONDS = 10
MAX_DELAY_SECONDS = 900
MAX_RECEIVES = 12  # WalletRetryQueue's maxReceiveCount in template.yaml (a test keeps them equal)
KINDS = ("win", "refund")


def backoff_seconds(receive_count: int) -> int:
    """The pause before the next receive: 10 s · 2^(receives - 1), capped at 15 minutes."""
    return int(min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, receive_count - 1)))


class SqsRetryQueue:
    def __init__(self, queue_url: str, client_factory: Callable[[], Any]) -> None:
        self.queue_url = queue_url
        self._client_factory = client_factory

    def enqueue(self, kind: str, round_id: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self._client_factory().send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps({"kind": kind, "round_id": round_id}),
            DelaySeconds=BASE_DELAY_SECONDS,
        )
        count("WalletRetriesQueued")

    def hold_back(self, receipt_handle: str, seconds: int) -> None:
        """Keep a received message from being delivered again for ``seconds`` (``ChangeMessageVisibility``)."""
        self._client_factory().change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


class Retrier(Protocol):
    def pay_win(self, round_id: str) -> bool: ...

    def retry_refund(self, round_id: str) -> bool: ...


def process_batch(
    records: list[dict[str, Any]],
    game: Retrier,
    change_visibility: Callable[[str, int], None],
) -> dict[str, list[dict[str, str]]]:
    """One SQS batch: the answer lists the messages to receive again (``batchItemFailures``)."""
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = record["messageId"]
        try:
            body = json.loads(record["body"])
            kind, round_id = body["kind"], body["round_id"]
            if kind not in KINDS or not isinstance(round_id, str):
                raise ValueError("not a retry message")
        except (ValueError, KeyError, TypeError):
            logger.error("dropping a malformed retry message", extra={"message_id": message_id})
            count("RetryMessagesDropped")
            continue
        try:
            done = game.pay_win(round_id) if kind == "win" else game.retry_refund(round_id)
        except NotFound:  # nothing to retry for a round that does not exist
            logger.error("dropping a retry of an unknown round", extra={"message_id": message_id})
            count("RetryMessagesDropped")
            continue
        except Exception:  # a poison message fails itself only, never the rest of the batch
            logger.exception("a wallet retry raised", extra={"message_id": message_id, "round_id": round_id})
            done = False
        if done:
            continue
        receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        failures.append({"itemIdentifier": message_id})
        try:
            change_visibility(record["receiptHandle"], backoff_seconds(receives))
        except Exception:  # it comes back after the queue's own visibility timeout instead
            logger.exception("could not hold a failed retry back", extra={"message_id": message_id})
            count("RetryBackoffFailed")
        count("WalletRetriesFailed")
        if receives >= MAX_RECEIVES:  # SQS moves it to the dead-letter queue instead of delivering it again
            count("DeadLetters")
            logger.error(
                "a wallet retry failed for the last time; it goes to the dead-letter queue",
                extra={"message_id": message_id, "kind": kind, "round_id": round_id, "receives": receives},
            )
    return {"batchItemFailures": failures}
