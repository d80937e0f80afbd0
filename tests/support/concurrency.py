"""Threads released together by a barrier, and what the tests expect of the answers they get."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.server import LocalStack

T = TypeVar("T")


def at_once(tasks: list[Callable[[], T]]) -> list[T]:
    """Run every task on its own thread, all released together by a barrier; results in task order."""
    barrier = threading.Barrier(len(tasks))

    def run(task: Callable[[], T]) -> T:
        barrier.wait(timeout=30)
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def send_together(stack: LocalStack, requests: list[HttpRequest]) -> list[HttpResponse]:
    """Every request through the local stack's HTTP path, all at once; responses in request order."""
    return at_once([(lambda r=request: stack.handle(r)) for request in requests])


def no_retry_later(responses: list[HttpResponse]) -> None:
    busy = [r.json() for r in responses if r.status == 503]
    assert not busy, f"{len(busy)} requests ran out of retries (503): {busy[:3]}"
