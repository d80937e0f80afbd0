"""The RGS's dependencies, built once per execution environment on first use (never at import)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import cache

from croupier import aws
from croupier.clients.operator_wallet import OperatorWalletClient
from croupier.errors import Unavailable
from croupier.observability import logger
from croupier.rgs.game import Game, RetryQueue
from croupier.rgs.operators import Operators
from croupier.rgs.retries import SqsRetryQueue
from croupier.rgs.sealing import Sealer
from croupier.rgs.sessions import Sessions
from croupier.rgs.store import RgsStore
from croupier.secrets import default_store
from croupier.settings import settings


@cache
def rgs_store() -> RgsStore:
    return RgsStore(settings().rgs_table, aws.dynamodb, sealer=Sealer(aws.kms, settings().rgs_seed_key_id or None))


@cache
def operators() -> Operators:
    return Operators(rgs_store(), default_store())


@cache
def sessions() -> Sessions:
    return Sessions(rgs_store(), operators())


def operator_wallet(operator_id: str) -> OperatorWalletClient:
    settings_ = operators().settings(operator_id)
    key = operators().signing_key(operator_id)
    if settings_ is None or key is None:
        raise Unavailable("the operator has no wallet configuration", code="CONFIG_MISSING")
    return OperatorWalletClient(settings_.wallet_callback_url, operator_id, key[0], key[1], allow_insecure=False)


class LoggedRetries:
    """Where there is no queue: a failed win or refund is logged, and the sweeper sends it again once it is
    due (15 minutes later); the operator's idempotency on operator_tx_id keeps every try safe."""

    def enqueue(self, kind: str, round_id: str) -> None:
        logger.warning("wallet call to retry", extra={"kind": kind, "round_id": round_id})


def retry_queue() -> RetryQueue:
    """SQS in AWS (``RETRY_QUEUE_URL``); without a queue (the local stack), the logged fallback."""
    url = os.environ.get("RETRY_QUEUE_URL")
    return SqsRetryQueue(url, aws.sqs) if url else LoggedRetries()


@cache
def game() -> Game:
    return Game(rgs_store(), operators().settings, operator_wallet, retry_queue())


class AlreadyQueued:
    """The retry worker's queue: the message it is processing is the retry (SQS delivers it again while the
    worker reports it failed), so a failure queues nothing more."""

    def enqueue(self, kind: str, round_id: str) -> None:
        logger.info(
            "wallet call still failing; the queue delivers it again", extra={"kind": kind, "round_id": round_id}
        )


def retry_worker_queue() -> SqsRetryQueue:
    """The retry worker's own queue (``RETRY_QUEUE_URL``), on which it holds a failed retry back."""
    return SqsRetryQueue(os.environ.get("RETRY_QUEUE_URL", ""), aws.sqs)


@cache
def retry_worker_game() -> Game:
    return Game(rgs_store(), operators().settings, operator_wallet, AlreadyQueued())


def time_left(context: object) -> Callable[[], int] | None:
    """The Lambda context's clock of the milliseconds left (``get_remaining_time_in_millis``), where it has one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining if callable(remaining) else None


def bearer_token(headers: Mapping[str, str]) -> str:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def public_base_url(headers: Mapping[str, str]) -> str:
    """Where players reach this API: the host the request came to, over the protocol it came by."""
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip() or "https"
    host = headers.get("host", "localhost")
    return f"{proto}://{host}"
