"""The RGS store's retries: a write that meets throttling, a transaction conflict or a lost answer is tried
again, with full jitter, as long as the request's time allows.

botocore's own retries are off (``croupier.aws``), so every attempt is the store's. A lost answer (a read
timeout, a dropped connection, DynamoDB's 500) may have been applied: the next attempt is told so
(``ambiguous=True``), and a conditional write then resolves it by re-reading what it wrote (its condition
makes the retry itself safe: it cannot apply twice).

The time a request has left is set once per request (:func:`time_budget`, from the Lambda context's clock);
without one, the attempts alone bound the retries.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import ClientError

from croupier import aws
from croupier.errors import Unavailable
from croupier.ledger.dynamo import NETWORK_ERRORS, TRANSIENT_CODES
from croupier.observability import count

T = TypeVar("T")

AMBIGUOUS_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})
"""Server errors after which the write may or may not have been applied (like a lost answer)."""
MARGIN_MS = 1_000
"""Kept after the last attempt of a request for its answer."""

_time_left: contextvars.ContextVar[Callable[[], int] | None] = contextvars.ContextVar("rgs_time_left", default=None)


@contextmanager
def time_budget(time_left_ms: Callable[[], int] | None) -> Iterator[None]:
    """While inside, the store's retries end in time for the request to answer."""
    token = _time_left.set(time_left_ms)
    try:
        yield
    finally:
        _time_left.reset(token)


class StoreBusy(Unavailable):
    """The table stayed busy (throttled, conflicting or unreachable) past the request's retries: 503, retry."""

    code = "STORE_BUSY"


def transient(error: BaseException) -> str | None:
    """``"lost"`` for an error after which the write may have been applied, ``"busy"`` for one after which it
    was not (throttling, a conflict), ``None`` for anything else (raised at once)."""
    if isinstance(error, NETWORK_ERRORS):
        return "lost"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in AMBIGUOUS_CODES:
            return "lost"
        if code in TRANSIENT_CODES:
            return "busy"
        if code == "TransactionCanceledException":
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if any(reason in TRANSIENT_CODES for reason in reasons) and "ConditionalCheckFailed" not in reasons:
                return "busy"
    return None


@dataclass
class Attempts:
    """Up to ``max_attempts`` tries, pausing a random time up to ``base · 2^n`` (capped) between them."""

    max_attempts: int = 8
    base_seconds: float = 0.02
    cap_seconds: float = 0.5
    attempt_ms: int = int(aws.attempt_seconds(aws.CLIENT_CONFIG) * 1000)
    sleep: Callable[[float], None] = time.sleep
    random: random.Random = field(default_factory=random.Random)

    def run(self, attempt: Callable[[bool], T], *, what: str) -> T:
        """``attempt(ambiguous)`` until it answers; ``ambiguous`` is True once an earlier try's answer was lost."""
        ambiguous = False
        for n in range(self.max_attempts):
            try:
                return attempt(ambiguous)
            except Exception as error:
                kind = transient(error)
                if kind is None:
                    raise
                ambiguous = ambiguous or kind == "lost"
                count("RgsWriteRetries")
                pause = self.random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**n))
                if n + 1 >= self.max_attempts or not self._time_for(pause):
                    count("RgsWritesGivenUp")
                    raise StoreBusy(f"{what}: the table is busy; try again") from error
                self.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _time_for(self, pause: float) -> bool:
        left = _time_left.get()
        return left is None or left() - pause * 1000 >= self.attempt_ms + MARGIN_MS
