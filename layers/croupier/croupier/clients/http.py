"""A tiny HTTP transport for the provider clients: standard library only, typed errors, exact bytes.

The transport sends the bytes it is given and hands back the bytes it got. It never raises for an HTTP
status (a 4xx or 5xx is a response like any other), never follows redirects (a signed request must not
be replayed to another place), and turns every failure to get an answer (refused, reset, timed out) into
one :class:`TransportError`. JSON helpers parse numbers with a fraction as :class:`~decimal.Decimal`, never
as ``float``.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from croupier.errors import BadRequest, UpstreamError
from croupier.signing import Headers

DEFAULT_TIMEOUT_SECONDS = 10.0
"""What a provider client waits for one answer unless told otherwise (the command line: `--timeout`)."""
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""A provider answering more than this is refused rather than read into memory."""

_BODYLESS_METHODS = frozenset({"GET", "HEAD"})


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CURRENCY = re.compile(r"[A-Z]{3}")


def check_text(name: str, value: object, max_length: int) -> str:
    """A required identifier a client sends: non-empty, bounded, no control characters or outer spaces."""
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is required")
    if len(value) > max_length:
        raise BadRequest(f"{name} must be at most {max_length} characters")
    if CONTROL_CHARACTERS.search(value) or value != value.strip():
        raise BadRequest(f"{name} must not hold control characters or surrounding whitespace")
    return value


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_API_KEY = re.compile(r"[!-~]{1,256}")  # what the RGS v1 verifier accepts in X-Operator-Key


def check_rgs_caller(operator_id: object, api_key: object, hmac_secret: object) -> tuple[str, str, str]:
    """Who signs an RGS v1 call (providers.md section 1): the operator's uuid, its api key, its HMAC secret.
    The messages name the field, never the value."""
    if not isinstance(operator_id, str) or not _UUID.fullmatch(operator_id):
        raise ValueError("operator_id must be a uuid")
    if not isinstance(api_key, str) or not _API_KEY.fullmatch(api_key):
        raise ValueError("api_key must be printable ASCII without spaces")
    if not isinstance(hmac_secret, str) or not hmac_secret:
        raise ValueError("hmac_secret is required")
    return operator_id, api_key, hmac_secret


def check_timeout(timeout: object) -> float:
    """A client's wait for one answer: a positive number of seconds."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds")
    return float(timeout)


def check_currency(currency: object) -> str:
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise BadRequest("currency must be a three-letter upper-case code such as KRW")
    return currency


class TransportError(UpstreamError):
    """No HTTP answer at all: connection refused or reset, DNS failure, timeout, oversized answer.

    ``timed_out`` tells a timeout apart: the request may have reached the provider and had its effect.
    """

    code = "UPSTREAM_UNREACHABLE"

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class ProviderApiError(UpstreamError):
    """A provider's non-2xx answer. ``status`` stays 502 (what Croupier answers its own callers); the
    provider's own status and error are ``upstream_*``. Subclasses name the provider with their ``code``."""

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int,
        upstream_code: str | None = None,
        upstream_message: str | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.upstream_status = upstream_status
        self.upstream_code = upstream_code
        self.upstream_message = upstream_message
        self.method = method
        self.path = path


class ProviderCallError(UpstreamError):
    """A provider call that failed or answered something unusable, with a stable machine-readable ``reason``
    (a subclass's own enum; ``"timeout"`` when no answer came in time) and the provider's status when it
    answered. ``status`` stays 502."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        upstream_status: int | None = None,
        upstream_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.upstream_status = upstream_status
        self.upstream_code = upstream_code

    @property
    def timed_out(self) -> bool:
        return self.reason == "timeout"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An HTTP answer as received: the status, the headers (case-insensitive) and the raw body bytes."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON (fractions as Decimal); ``None`` for an empty body."""
        return loads_json(self.body) if self.body.strip() else None


class Transport(Protocol):
    """Sends one HTTP request and answers the response; raises only :class:`TransportError`."""

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse: ...


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def loads_json(data: bytes | str) -> Any:
    """Parse JSON with every fraction as an exact Decimal; NaN and Infinity are refused."""
    return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)


def dumps_json(value: Any) -> bytes:
    """Compact JSON bytes (no spaces), UTF-8. Floats and Decimals are refused: send money as strings."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_unencodable).encode(
        "utf-8"
    )


def _unencodable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not sent as JSON: convert it (money as a decimal string)")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answered as they are (3xx responses), never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibTransport:
    """The default transport, on :mod:`urllib.request`. Proxies come from the environment as usual."""

    def __init__(self, *, max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self.max_response_bytes = max_response_bytes
        self._opener = urllib.request.build_opener(_NoRedirect())

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("only absolute http(s) URLs are sent")
        method = method.upper()
        data = None if method in _BODYLESS_METHODS and not body else body
        request = urllib.request.Request(url, data=data, headers=dict(headers), method=method)  # noqa: S310
        where = f"{method} {parts.scheme}://{parts.netloc}{parts.path}"
        try:
            try:
                answer: Any = self._opener.open(request, timeout=timeout)
            except urllib.error.HTTPError as error:  # a non-2xx status is an answer, not a failure
                answer = error
            with answer:
                status = int(answer.getcode())
                received = Headers(answer.headers.items()) if answer.headers is not None else Headers()
                payload = self._read(answer, where) if getattr(answer, "fp", True) is not None else b""
            return HttpResponse(status, received, payload)
        except urllib.error.URLError as error:
            timed_out = isinstance(error.reason, TimeoutError)
            raise TransportError(f"{where}: {_describe(error.reason)}", timed_out=timed_out) from error
        except TimeoutError as error:
            raise TransportError(f"{where}: timed out after {timeout:g} s", timed_out=True) from error
        except (OSError, http.client.HTTPException) as error:
            raise TransportError(f"{where}: {_describe(error)}") from error

    def _read(self, answer: Any, where: str) -> bytes:
        body: bytes = answer.read(self.max_response_bytes + 1)
        if len(body) > self.max_response_bytes:
            raise TransportError(f"{where}: answer larger than {self.max_response_bytes} bytes")
        return body


def _describe(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    text = str(reason) or type(reason).__name__
    return text.splitlines()[0] if text else type(reason).__name__
