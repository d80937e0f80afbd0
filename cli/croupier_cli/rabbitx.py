"""Client of a RabbitX-style API (providers.md section 1): api key, hex secret, expiring signatures.

It speaks exactly as RabbitX's own Python client (rabbitx-io/rabbitx-python-client @9f98f65, MIT) and
``requests`` do, byte for byte (``tests/unit/test_rabbitx_reference.py`` holds it to their captured requests):

- the signed data is the request's JSON body: the call's ``data`` with ``method`` and ``path``, sent as
  ``json.dumps`` writes it (``", "``/``": "`` separators, ASCII escapes). ``POST``, ``PUT`` and ``DELETE``
  send it; a ``GET`` sends no body and signs ``{"method", "path"}`` alone;
- ``params`` go in the query string **unsigned**, in the caller's order, as ``requests`` encodes them
  (``None`` dropped, lists repeated, other values by ``str()``: ``True``, ``1e-05``);
- ``RBT-TS`` is the clock's whole second plus 300 s (the reference's ``SIGNATURE_LIFETIME``).

Floats are signed and sent as Python writes them (``str(float)``, ``1e-05``), as the reference does. Money in
Croupier is Decimal: a :class:`~decimal.Decimal` is accepted wherever a float is and sent as the float text
that carries it exactly (``Decimal("0.1")`` goes out as ``0.1``, ``Decimal("65000.50")`` as ``65000.5``); a
Decimal no float can carry exactly (more than 17 significant digits) is refused rather than rounded. Only a
``GET`` is retried, once, on no answer.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from croupier import __version__
from croupier.clients.http import (
    DEFAULT_TIMEOUT_SECONDS,
    ProviderApiError,
    Transport,
    TransportError,
    UrllibTransport,
)
from croupier.errors import UpstreamError
from croupier.network import check_url
from croupier.signing import Clock, rabbitx
from croupier.signing._core import decode_hex_secret

QUERY_ONLY_METHODS = frozenset({"GET"})
BODY_METHODS = frozenset({"POST", "PUT", "DELETE"})
SIGNATURE_LIFETIME_SECONDS = 300
"""How far ahead ``RBT-TS`` lies: the reference client's ``SIGNATURE_LIFETIME``."""

ONBOARDING_PATH = "/onboarding"
ONBOARDING_MESSAGE = (
    "Welcome to RabbitX!\n\nClick to sign in and on-board your wallet for trading perpetuals.\n\n"
    "This request will not trigger a blockchain transaction or cost any gas fees. This signature only proves "
    "you are the true owner of this wallet.\n\nBy signing this message you agree to the terms and conditions "
    "of the exchange."
)
"""The text a wallet signs to onboard (the reference's ``const.ONBOARDING_MESSAGE``), followed by ``\\n`` and
the expiry."""

_PATH = re.compile(r"/[A-Za-z0-9/_.~-]*")
PROFILE = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""A name for one onboarded account: its secret store entry is ``rabbitx/<profile>``."""
_PRIVATE_KEY = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_MAX_ERROR_TEXT = 300

_REFERENCE_LAYOUTS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("POST", "/orders"): (
        ("market_id", "price", "side", "size", "type"),
        ("client_order_id", "time_in_force", "trigger_price", "size_percent"),
    ),
    ("PUT", "/orders"): (("order_id", "market_id"), ("size", "size_percent", "price", "trigger_price")),
}
"""Where the reference's endpoints put ``method`` and ``path`` when not at the end of the body: after their
required fields, before their optional ones (each group in this order). A call such an endpoint could have made
(every required field, no unknown one) is laid out so; any other data gets them appended, as every other
endpoint and the reference's session do. Key order changes no signature (the signed keys are sorted), only the
body's bytes."""


class RabbitXApiError(ProviderApiError):
    """A non-2xx answer. ``status`` stays 502; the API's own status and error are ``upstream_*``."""

    code = "RABBITX_API_ERROR"


# --- building a request, without sending it ---------------------------------------------------------


def prepare(
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    api_key: str,
    api_secret: str,
    now: float,
    ttl_seconds: int = SIGNATURE_LIFETIME_SECONDS,
) -> tuple[str, str, bytes, dict[str, str]]:
    """One signed request as RabbitX's client and ``requests`` build it: ``(method, path_with_query, body,
    headers)``. Pure: nothing is sent, the clock is ``now`` (unix seconds).

    ``path`` is the path as sent (``/orders``); ``params`` go in the query string, unsigned; ``data`` is the
    body, signed with ``method`` and ``path``. ``data`` may hold ``method`` and ``path`` itself (the dict a
    reference endpoint builds): they must then be this request's and stay where they are.
    """
    method = method.upper()
    if method not in QUERY_ONLY_METHODS | BODY_METHODS:
        raise ValueError(f"unsupported method {method}")
    if not _PATH.fullmatch(path):
        raise ValueError("path must start with / and hold only letters, digits and / _ . ~ -: pass params instead")
    if not api_key:
        raise ValueError("api_key is required")
    signed = _signed_data(method, path, data or {})
    if method in QUERY_ONLY_METHODS and set(signed) - {"method", "path"}:
        raise ValueError("a GET sends no body: pass its parameters as params")
    query = _query(params or {})
    headers = rabbitx.headers(api_key, api_secret, signed, ttl_seconds=ttl_seconds, clock=lambda: now)
    if method in QUERY_ONLY_METHODS:
        body = b""
    else:
        body = json.dumps(signed, allow_nan=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    return method, path + ("?" + query if query else ""), body, headers


def _signed_data(method: str, path: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The body dict: ``data``'s values as JSON will carry them, ``method`` and ``path`` where the reference
    puts them."""
    values = {str(name): _json_value(value, str(name)) for name, value in data.items()}
    for name, expected in (("method", method), ("path", path)):
        if name in values and values[name] != expected:
            raise ValueError(f"data's {name!r} is not this request's {name}")
    leading, trailing = _REFERENCE_LAYOUTS.get((method, path), ((), ()))
    if not leading or not set(leading) <= set(values) <= {*leading, *trailing, "method", "path"}:
        return {**values, "method": method, "path": path}  # given ones keep their place; missing ones end it
    if "method" in values or "path" in values:
        return values | {"method": method, "path": path}
    ordered = {name: values[name] for name in leading}
    ordered.update(method=method, path=path)
    ordered.update({name: values[name] for name in trailing if name in values})
    return ordered


def exact_float(value: Decimal, name: str) -> float:
    """The float whose Python text is exactly ``value`` (``Decimal("0.10")`` → ``0.1``), or ValueError."""
    if not value.is_finite():
        raise ValueError(f"{name}: not a finite number")
    number = float(value)
    if not math.isfinite(number) or Decimal(repr(number)) != value:
        raise ValueError(f"{name}: {value} has more digits than a float carries exactly; send it as a string")
    return number


def _json_value(value: Any, name: str) -> Any:
    """A body value as JSON will carry it and the payload sign it: Decimals as exact floats, tuples as lists."""
    if isinstance(value, Decimal):
        return exact_float(value, name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name}: NaN and infinities cannot be sent as JSON")
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item, name) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item, f"{name}.{key}") for key, item in value.items()}
    raise TypeError(f"{name}: {type(value).__name__} cannot be sent as JSON")


def _query(params: Mapping[str, Any]) -> str:
    """The query string as ``requests`` encodes ``params`` (order kept, ``None`` dropped, lists repeated)."""
    pairs: list[tuple[str, str]] = []
    for name, given in params.items():
        for value in given if isinstance(given, list | tuple) else [given]:
            if value is None:
                continue
            if isinstance(value, Decimal):
                value = exact_float(value, str(name))
            elif isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name}: not a finite number")
            elif not isinstance(value, str | int | float):
                raise TypeError(f"{name}: {type(value).__name__} is not a query value")
            pairs.append((str(name), str(value)))
    return urlencode(pairs)


# --- onboarding with a wallet key ------------------------------------------------------------------


def onboarding_request(
    private_key: str, *, now: float, ttl_seconds: int = SIGNATURE_LIFETIME_SECONDS
) -> tuple[str, bytes, dict[str, str]]:
    """``POST /onboarding`` as RabbitX's client builds it: ``(path, body, headers)``. Pure: nothing is sent.

    The wallet signs (EIP-191 ``personal_sign``) the onboarding message, ``\\n`` and the expiry ``RBT-TS``;
    the signature's last byte (v) is sent ``% 27`` (0 or 1), as the reference does. Needs ``eth-account``
    (``pip install croupier[cli]``), imported here only: no function of the layer signs with a wallet.
    """
    from eth_account import Account
    from eth_account.messages import encode_defunct

    if not isinstance(private_key, str) or not _PRIVATE_KEY.fullmatch(private_key.strip()):
        raise ValueError("the wallet private key must be 64 hexadecimal digits (0x optional)")
    try:
        account = Account.from_key(private_key.strip())
    except Exception:  # whatever eth-account says, its message may quote the key
        raise ValueError("the wallet private key is not a valid secp256k1 private key") from None
    expires = int(now) + ttl_seconds
    signed = account.sign_message(encode_defunct(text=f"{ONBOARDING_MESSAGE}\n{expires}"))
    signature = bytearray(signed.signature)
    signature[-1] %= 27
    body = {"wallet": account.address, "signature": "0x" + signature.hex(), "isClient": False}
    headers = {rabbitx.EXPIRY_HEADER: str(expires), "Content-Type": "application/json"}
    return ONBOARDING_PATH, json.dumps(body).encode("utf-8"), headers


@dataclass(frozen=True)
class Onboarded:
    """What ``POST /onboarding`` answers: the API key and secret, and the JWT. Their repr hides the secrets."""

    api_key: str
    api_secret: str = field(repr=False)
    jwt: str = field(repr=False)
    wallet: str
    profile_id: int | str | None = None


def onboard(
    base_url: str,
    private_key: str,
    *,
    transport: Transport | None = None,
    clock: Clock = time.time,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Onboarded:
    """Onboard a wallet: sign with its key, send ``POST /onboarding`` once (never retried), read the answer."""
    origin, base_path, _, _ = check_url(base_url, name="base_url")
    path, body, headers = onboarding_request(private_key, now=clock())
    wallet = json.loads(body)["wallet"]
    headers.update(_common_headers())
    response = (transport or UrllibTransport()).send("POST", origin + base_path + path, headers, body, timeout)
    try:
        answer = response.json()
    except (ValueError, UnicodeDecodeError):
        answer = None
    if not response.ok or not isinstance(answer, dict) or answer.get("success") is not True:
        raise _api_error("POST", path, response.status, answer, [])
    try:
        result = answer["result"][0]
        keys = result["apiSecret"]
        api_key, api_secret, jwt = keys["Key"], keys["Secret"], result["jwt"]
        profile = result.get("profile")
    except (KeyError, IndexError, TypeError):
        raise UpstreamError("POST /onboarding answered without an api key, secret and jwt") from None
    if not all(isinstance(value, str) and value for value in (api_key, api_secret, jwt)):
        raise UpstreamError("POST /onboarding answered an empty api key, secret or jwt")
    profile_id = profile.get("id") if isinstance(profile, dict) else None
    return Onboarded(api_key=api_key, api_secret=api_secret, jwt=jwt, wallet=wallet, profile_id=profile_id)


# --- the client ------------------------------------------------------------------------------------


def _common_headers() -> dict[str, str]:
    return {"Accept": "application/json", "User-Agent": f"croupier/{__version__}"}


def _api_error(method: str, path: str, status: int, data: Any, secrets: list[str]) -> RabbitXApiError:
    def scrub(value: object) -> str:
        text = " ".join(str(value).split())[:_MAX_ERROR_TEXT]
        for secret in secrets:
            text = text.replace(secret, "<redacted>")
        return text

    code: str | None = None
    text: str | None = None
    if isinstance(data, dict):
        raw_code = data.get("code", data.get("error_code"))
        raw_text = data.get("error", data.get("message"))
        code = scrub(raw_code) if raw_code is not None else None
        text = scrub(raw_text) if raw_text is not None else None
    summary = f"{method} {path} answered HTTP {status}" + (f" {code}" if code else "") + (f": {text}" if text else "")
    return RabbitXApiError(
        summary, upstream_status=status, upstream_code=code, upstream_message=text, method=method, path=path
    )


class RabbitXClient:
    """Signed requests to a RabbitX-style API, built by :func:`prepare`. Thread-safe: no per-request state."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        ttl_seconds: int = SIGNATURE_LIFETIME_SECONDS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.base_url, self._base_path, _, _ = check_url(base_url, name="base_url")
        if not api_key:
            raise ValueError("api_key is required")
        decode_hex_secret(api_secret)  # fail now, not at the first request: the secret must be hex
        if not 0 < ttl_seconds <= rabbitx.MAX_EXPIRY_SECONDS:
            raise ValueError(f"ttl_seconds must be in 1..{rabbitx.MAX_EXPIRY_SECONDS}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.api_key = api_key
        self._api_secret = api_secret
        self._transport: Transport = transport or UrllibTransport()
        self._clock = clock
        self.ttl_seconds = ttl_seconds
        self.timeout = timeout

    @classmethod
    def from_secret(
        cls,
        record: Mapping[str, Any],
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> RabbitXClient:
        """A client from a secret store entry as ``croupier rabbitx onboard`` writes it (``rabbitx/<profile>``:
        ``api_url``, ``api_key``, ``api_secret``)."""
        missing = [name for name in ("api_url", "api_key", "api_secret") if not isinstance(record.get(name), str)]
        if missing:
            raise ValueError(f"the RabbitX secret lacks {', '.join(missing)}")
        return cls(
            record["api_url"],
            record["api_key"],
            record["api_secret"],
            transport=transport,
            clock=clock,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"RabbitXClient(base_url={self.base_url!r}, api_key={self.api_key!r})"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one signed request; answers the parsed JSON (fractions as Decimal), ``None`` if empty.

        ``path`` is the path after the base URL (``/orders``); the signed ``path`` is the full path the
        server sees. See :func:`prepare` for ``params`` (query, unsigned) and ``data`` (body, signed).
        """
        method = method.upper()
        attempts = 2 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            verb, target, body, headers = prepare(
                method,
                self._base_path + path,
                params=params,
                data=data,
                api_key=self.api_key,
                api_secret=self._api_secret,
                now=self._clock(),
                ttl_seconds=self.ttl_seconds,
            )
            headers.update(_common_headers())
            try:
                response = self._transport.send(verb, self.base_url + target, headers, body, self.timeout)
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
                raise _api_error(method, path, response.status, answer, [self._api_secret])
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, data: Mapping[str, Any] | None = None, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, params=params, data=data)

    def put(self, path: str, data: Mapping[str, Any] | None = None, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, params=params, data=data)

    def delete(
        self, path: str, data: Mapping[str, Any] | None = None, *, params: Mapping[str, Any] | None = None
    ) -> Any:
        return self.request("DELETE", path, params=params, data=data)
