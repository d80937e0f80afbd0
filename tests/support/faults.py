"""DynamoDB clients that break on purpose: wrappers around a real client that pass every call through, except
the ones a test breaks (a response lost to a read timeout, a request lost, every call throttled or cancelled
by a transaction conflict), or that run something else just before the first write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from croupier import aws
from croupier.wallet import wiring

Fault = Callable[[Callable[..., Any], dict[str, Any]], Any]
"""Called instead of an operation, with the real operation and its arguments."""


@dataclass
class FaultyClient:
    """A real DynamoDB client whose operations named in ``faults`` go through the fault instead (and, when
    ``every`` is given, all the others through that one); ``calls`` counts every operation called."""

    real: Any
    faults: dict[str, Fault] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    every: Fault | None = None

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.real, name)
        if not callable(operation) or name.startswith("_") or name == "meta":
            return operation

        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            fault = self.faults.get(name, self.every)
            return operation(**kwargs) if fault is None else fault(operation, kwargs)

        return call


@dataclass
class LoseResponses:
    """A fault: apply the request, then lose its response (a read timeout), ``times`` times; pass through
    afterwards. ``clock`` (when given) is moved on by the client's read timeout at each loss, as a real timeout
    takes it."""

    times: int
    clock: list[float] | None = None
    lost: int = 0

    @property
    def left(self) -> int:
        """How many responses are still to be lost."""
        return self.times - self.lost

    def __call__(self, operation: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        answer = operation(**kwargs)
        if self.lost < self.times:
            self.lost += 1
            if self.clock is not None:
                self.clock[0] += aws.CLIENT_CONFIG.read_timeout
            raise ReadTimeoutError(endpoint_url="http://dynamodb-local/")
        return answer


def lose_requests(times: int) -> Fault:
    """Lose the request before it reaches DynamoDB (``times`` times; pass through afterwards)."""
    left = [times]

    def fault(operation: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        if left[0] > 0:
            left[0] -= 1
            raise ReadTimeoutError(endpoint_url="http://dynamodb-local/")
        return operation(**kwargs)

    return fault


def always(make_error: Callable[[str], Exception]) -> Fault:
    """Fail every call with ``make_error(<the operation's name>)``."""

    def fault(operation: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        raise make_error(operation.__name__)

    return fault


def throttled(operation_name: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate of requests exceeds the allowed throughput."}},
        operation_name,
    )


def conflicted(operation_name: str) -> ClientError:
    reasons = [
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        {"Code": "None"},
        {"Code": "None"},
    ]
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": reasons,
        },
        operation_name,
    )


def faulty_handlers(
    monkeypatch: pytest.MonkeyPatch, faults: dict[str, Fault] | None = None, *, every: Fault | None = None
) -> tuple[FaultyClient, list[float]]:
    """Until ``monkeypatch.undo()``: the handlers' DynamoDB client goes through a ``FaultyClient`` with these
    faults, and their ledger's pauses are recorded (in the list returned) instead of slept."""
    store, ledger = wiring.ledger_store(), wiring.ledger()
    faulty = FaultyClient(store.client, faults or {}, every=every)
    sleeps: list[float] = []
    monkeypatch.setattr(store, "_client_factory", lambda: faulty)
    monkeypatch.setattr(ledger, "sleep", sleeps.append)
    return faulty, sleeps


class BeforeFirstWrite:
    """The real client, except that ``meanwhile`` runs (once) just before the first TransactWriteItems."""

    def __init__(self, real: Any, meanwhile: Callable[[], object]) -> None:
        self.real = real
        self.meanwhile = meanwhile
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.writes += 1
        if self.writes == 1:
            self.meanwhile()
        return self.real.transact_write_items(**kwargs)
