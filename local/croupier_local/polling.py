"""A poller in a thread of its own, as Lambda's event source mappings run beside the function: ``poll_once()``
again and again until ``stop()``, a pause when it found nothing (``idle_seconds``), a failure logged and
tried again a second later."""

from __future__ import annotations

import logging
import threading
from typing import Self

logger = logging.getLogger(__name__)


class PollingThread:
    thread_name = "croupier-local-poller"
    idle_seconds = 0.0
    join_seconds = 70.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        raise NotImplementedError

    def start(self) -> Self:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self.join_seconds)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once() == 0 and self.idle_seconds:
                    self._stop.wait(self.idle_seconds)
            except Exception:
                logger.exception("%s failed to poll", self.thread_name)
                self._stop.wait(1.0)
