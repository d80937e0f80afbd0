"""moto's server in a thread of this process: the local stack's Secrets Manager and SQS, and the DynamoDB
fallback where Java is missing (``croupier_local.dynamodb.MotoDynamoDB``)."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)


class MotoServer:
    """moto's server on ``host`` (loopback by default; ``0.0.0.0`` when Lambda containers must reach it through
    the Docker bridge) and ``port`` (0: a free one)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self._requested_port = port or 0
        self._server: Any = None
        self._port: int | None = None

    def _not_running(self) -> Exception:
        return RuntimeError("moto's server is not running; call start() first")

    @property
    def port(self) -> int:
        if self._port is None:
            raise self._not_running()
        return self._port

    @property
    def endpoint_url(self) -> str:
        """Where this process reaches it (loopback even when it listens on every interface)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104 - a comparison
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per call
        server = ThreadedMotoServer(ip_address=self.host, port=self._requested_port, verbose=False)
        server.start()
        self._server = server
        self._port = int(server.get_host_and_port()[1])
        logger.info("moto's server is serving %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        self._port = None
        if server is not None:
            server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
