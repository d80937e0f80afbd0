"""Client of a RabbitX-style API (providers.md section 1): api key, hex secret, expiring signatures.

The signed data is ``{"method", "path", **params}``. ``GET`` and ``DELETE`` send the parameters in the
query string, ``POST`` and ``PUT`` as a JSON body. Values are normalised once, before signing, into what
the server will read back (query values as their signed text; Decimals as decimal strings), so that what
is signed is exactly what is sent. Floats are refused. Only a ``GET`` is retried, once, on no answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from croupier import __version__
from croupier.clients.http import (
    DEFAULT_TIMEOUT_SECONDS,
    ProviderApiError,
    Transport,
    TransportError,
    UrllibTransport,
    dumps_json,
)
from croupier.errors import UpstreamError
from croupier.signing import Clock, rabbitx
from croupier.signing._core import decode_hex_secret

QUERY_METHODS = frozenset({"GET", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT"})
_MAX_ERROR_TEXT = 300


class RabbitXApiError(ProviderApiError):
    """A non-2xx answer. ``status`` stays 502; the API's own status and error are ``upstream_*``."""

    code = "RABBITX_API_ERROR"


class RabbitXClient:
    """Signed requests to a RabbitX-style API. Thread-safe: it holds no per-request state."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        ttl_seconds: int = 60,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("base_url must be an absolute http(s) URL without query or fragment")
        if not api_key:
            raise ValueError("api_key is required")
        decode_hex_secret(api_secret)  # fail now, not at the first request: the secret must be hex
        if not 0 < ttl_seconds <= rabbitx.MAX_EXPIRY_SECONDS:
            raise ValueError(f"ttl_seconds must be in 1..{rabbitx.MAX_EXPIRY_SECONDS}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self._base_path = parts.path.rstrip("/")
        self.api_key = api_key
        self._api_secret = api_secret
        self._transport: Transport = transport or UrllibTransport()
        self._clock = clock
        self.ttl_seconds = ttl_seconds
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RabbitXClient(base_url={self.base_url!r}, api_key={self.api_key!r})"

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Send one signed request; answers the parsed JSON (fractions as Decimal), ``None`` if empty.

        ``path`` is the path after the base URL (``/orders``); the signed ``path`` is the full path the
        server sees. ``None`` parameters are dropped.
        """
        method = method.upper()
        if method not in QUERY_METHODS | BODY_METHODS:
            raise ValueError(f"unsupported method {method}")
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ValueError("path must start with / and hold no query string: pass params instead")
        full_path = self._base_path + path
        clean = {name: value for name, value in (params or {}).items() if value is not None}
        for reserved in ("method", "path"):
            if reserved in clean:
                raise ValueError(f"{reserved!r} is signed by the client and cannot be a parameter")

        if method in QUERY_METHODS:
            sent: dict[str, Any] = {name: _query_value(value, name) for name, value in sorted(clean.items())}
            query = urlencode(list(sent.items()))
            target = full_path + ("?" + query if query else "")
            body = b""
        else:
            sent = {name: _json_value(value, name) for name, value in clean.items()}
            target = full_path
            body = dumps_json(sent)

        data = {"method": method, "path": full_path, **sent}
        attempts = 2 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            headers = {"Accept": "application/json", "User-Agent": f"croupier/{__version__}"}
            if method in BODY_METHODS:
                headers["Content-Type"] = "application/json"
            headers.update(
                rabbitx.headers(self.api_key, self._api_secret, data, ttl_seconds=self.ttl_seconds, clock=self._clock)
            )
            try:
                response = self._transport.send(method, self.base_url + target, headers, body, self.timeout)
            except TransportError:
                if attempt < attempts:
                    continue
                raise
            try:
                answer = response.json()
            except (ValueError, UnicodeDecodeError):
                if response.ok:
                    raise UpstreamError(f"{method} {path} answered a body that is not JSON") from None
                answer = None
            if not response.ok:
                raise self._error(method, path, response.status, answer)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params)

    def post(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, params)

    def put(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, params)

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, params)

    def _error(self, method: str, path: str, status: int, data: Any) -> RabbitXApiError:
        code: str | None = None
        text: str | None = None
        if isinstance(data, dict):
            raw_code = data.get("code", data.get("error_code"))
            raw_text = data.get("error", data.get("message"))
            code = self._scrub(raw_code) if raw_code is not None else None
            text = self._scrub(raw_text) if raw_text is not None else None
        summary = (
            f"{method} {path} answered HTTP {status}" + (f" {code}" if code else "") + (f": {text}" if text else "")
        )
        return RabbitXApiError(
            summary, upstream_status=status, upstream_code=code, upstream_message=text, method=method, path=path
        )

    def _scrub(self, value: object) -> str:
        text = " ".join(str(value).split())[:_MAX_ERROR_TEXT]
        return text.replace(self._api_secret, "<redacted>")


def _query_value(value: Any, name: str) -> str:
    """A query value as the text that is both signed and sent (booleans ``true``/``false``)."""
    if isinstance(value, float):
        raise TypeError(f"{name}: floats are never sent; pass a Decimal or a decimal string")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name}: not a finite number")
        return format(value, "f")
    return rabbitx.render(value)


def _json_value(value: Any, name: str) -> Any:
    """A body value as it will read back from JSON: Decimals become decimal strings; floats are refused."""
    if isinstance(value, float):
        raise TypeError(f"{name}: floats are never sent; pass a Decimal or a decimal string")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name}: not a finite number")
        return format(value, "f")
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item, name) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item, f"{name}.{key}") for key, item in value.items()}
    raise TypeError(f"{name}: {type(value).__name__} cannot be sent as JSON")
