"""One Logger, Tracer and Metrics for every function, created once and imported everywhere.

Service name, namespace and level come from the POWERTOOLS_* environment set in template.yaml. Every metric is
published in the ``Croupier`` namespace with one dimension, ``service=croupier``: the alarms and the dashboard
of template.yaml read them there. The names are listed in :data:`METRIC_NAMES` (and in the README).

Tracing: Lambda's active tracing (``Tracing: Active``) records every invocation's segment by itself. The X-Ray SDK
(Powertools' Tracer: a ``## wrapper`` subsegment per invocation and one per AWS call, botocore and http.client
patched) is only imported when ``CROUPIER_XRAY_SDK`` is ``true`` (template parameter ``XRaySdk``, off by default:
importing the SDK and patching botocore adds ~60 ms to every cold start, 0.3-0.4x a bare ``import boto3`` plus a
client). When on, it is imported while the handler module loads, in Lambda's init phase, as before.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

NAMESPACE = "Croupier"
SERVICE = "croupier"

# Every name passed to count(): a test keeps this list and the code in step, the README documents each one.
METRIC_NAMES = frozenset(
    {
        "MoneyMovements",  # a movement of money written (debit, credit, reversal, deposit, withdrawal)
        "Replays",  # a provider's retry answered from the stored entry, nothing written
        "Conflicts",  # a transaction id reused with other content (409 IDEMPOTENCY_CONFLICT...)
        "Declines",  # refused for the player's money or a rollback that came first (402, ALREADY_ROLLED_BACK)
        "RetryLater",  # the ledger's retry budget ran out (503, nothing written)
        "NegativeBalances",  # a sportsbook result rollback took a balance below zero
        "LateAfterRollback",  # a sportsbook result arrived after its rollback: acknowledged, not paid
        "SignatureFailures",  # a request refused for its signature, key or timestamp (401)
        "SessionsLaunched",
        "SessionsEnded",  # an operator ended a session (DELETE /api/public/rgs/sessions/{id})
        "BetsRateLimited",  # a bet above the operator's max_bets_per_second for its session (429)
        "RoundsStarted",
        "RoundsSettled",
        "BetsRefused",
        "BetsRefunded",
        "WinsPaid",
        "WinRetries",  # a win the operator's wallet did not take, queued to retry
        "WalletRetriesQueued",
        "WalletRetriesFailed",
        "RetryMessagesDropped",
        "RetryBackoffFailed",  # a failed retry could not be held back (ChangeMessageVisibility failed)
        "RefundsDeferred",  # an unclear bet's refund queued: too little time left to try it inline
        "DeadLetters",  # a retry's last receive failed: SQS moves it to the dead-letter queue
        "RgsWriteRetries",  # an RGS write met throttling, a conflict or a lost answer and was tried again
        "RgsWritesGivenUp",  # an RGS write still failing when its tries or its request's time ran out (503)
        "RevenueRoundsCounted",  # settled rounds the stream's aggregator added to the revenue counters
        "RevenueBatchFailures",  # a group of rounds the aggregator could not count: the stream hands it again
        "RevenueRecordsSkipped",  # a malformed round in the stream, skipped (recompute the day to check)
    }
)

XRAY_SDK_ENV = "CROUPIER_XRAY_SDK"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE),
)


_counts = threading.local()


def xray_sdk_enabled() -> bool:
    """Whether this execution environment traces with the X-Ray SDK (``CROUPIER_XRAY_SDK=true``)."""
    return os.environ.get(XRAY_SDK_ENV, "").strip().lower() == "true"


@functools.cache
def tracer() -> Tracer:
    """The one Powertools Tracer; creating it imports aws-xray-sdk and patches botocore and http.client."""
    from aws_lambda_powertools import Tracer

    return Tracer()


H = TypeVar("H", bound=Callable[..., Any])


def traced(handler: H) -> H:
    """``handler`` inside Powertools' ``capture_lambda_handler`` when the X-Ray SDK is on (the Tracer is created
    now, while the handler's module loads); ``handler`` itself otherwise, and aws-xray-sdk is never imported."""
    if not xray_sdk_enabled():
        return handler
    return cast(H, tracer().capture_lambda_handler(handler))


def count(name: str, value: int = 1) -> None:
    """Count an event of this invocation (PascalCase name); published once per invocation by
    :func:`publish_counts`, so the hot path pays a dict update, not a metric serialisation."""
    counter: Counter[str] | None = getattr(_counts, "counter", None)
    if counter is None:
        counter = _counts.counter = Counter()
    counter[name] += value


def count_movement(replayed: bool) -> None:
    """A ledger outcome: a replay answered from the stored entry, or money that moved."""
    count("Replays" if replayed else "MoneyMovements")


def publish_counts() -> None:
    """Add this invocation's counts to the Powertools metrics flushed at the end of the handler."""
    counter: Counter[str] | None = getattr(_counts, "counter", None)
    if counter:
        for name, value in counter.items():
            metrics.add_metric(name=name, unit="Count", value=value)
        counter.clear()


T = TypeVar("T")


class CountsFromThreads:
    """Counts made on worker threads, added to the counter of the thread that made this (the handler's), which
    :func:`publish_counts` reads: :func:`count` keeps a counter per thread, so a pool's counts would be lost.
    The handler's thread waits for the workers meanwhile (it counts nothing while they run)."""

    def __init__(self) -> None:
        counter: Counter[str] | None = getattr(_counts, "counter", None)
        if counter is None:
            counter = _counts.counter = Counter()
        self._into = counter
        self._lock = threading.Lock()

    def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` on this (worker) thread with a counter of its own, then add what it counted."""
        saved = getattr(_counts, "counter", None)
        mine: Counter[str] = Counter()
        _counts.counter = mine
        try:
            return work()
        finally:
            _counts.counter = saved
            with self._lock:
                self._into.update(mine)


Job = TypeVar("Job", bound=Callable[..., Any])


def instrumented_job(handler: Job) -> Job:
    """Wrap a Lambda handler that no HTTP request triggers (a queue worker, a schedule) with structured
    logging, tracing and metrics, the counts of the invocation included."""

    @functools.wraps(handler)
    @logger.inject_lambda_context
    @traced
    @metrics.log_metrics
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            publish_counts()

    return wrapper  # type: ignore[return-value]
