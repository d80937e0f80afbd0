"""DynamoDB round trips, counted with a botocore ``before-send.dynamodb`` hook on the handlers' own client
(``croupier.aws.dynamodb()``, botocore's own retries off): every HTTP attempt, its operation and its body.
The ``calls`` fixture of ``tests/conftest.py`` hooks one up for a test."""

from __future__ import annotations

import json
import threading
from typing import Any

WRITE, READ_TX, GET = "TransactWriteItems", "TransactGetItems", "GetItem"


class DynamoCalls:
    """Every HTTP attempt the handlers' DynamoDB client makes: operation name and request body."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[tuple[str, bytes | None]] = []

    def hook(self, event_name: str, request: Any = None, **_: Any) -> None:
        body = request.body if request is not None else None
        with self._lock:
            self._calls.append((event_name.rsplit(".", 1)[-1], body))
        # returning None: botocore goes on and sends the request

    def _take(self) -> list[tuple[str, bytes | None]]:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls

    def take(self) -> list[str]:
        """The operation names since the last take, in order."""
        return [name for name, _ in self._take()]

    def take_requests(self) -> list[tuple[str, dict[str, Any]]]:
        """The operation names and request bodies since the last take, in order."""
        return [(name, json.loads(body) if body else {}) for name, body in self._take()]
