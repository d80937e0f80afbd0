"""Requests as each provider sends them, signed with the dev-only secrets of ``local/dev-secrets.json``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from croupier.secrets import FileSecretStore
from croupier.signing import RawRequest, rgs, ruby_callback, sportsbook
from croupier_local.apigw import HttpRequest, HttpResponse
from croupier_local.events import DEFAULT_SECRETS

_DEV_SECRETS = FileSecretStore(DEFAULT_SECRETS)

BRAND_KEY = "dev-ruby-brand-key"
BRAND_SECRET: str = _DEV_SECRETS.get(f"ruby/brands/{BRAND_KEY}")["api_secret"]

OPERATOR_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
RGS_API_KEY: str = _DEV_SECRETS.get(f"rgs-wallet/operators/{OPERATOR_ID}")["api_key"]
RGS_SECRET: str = _DEV_SECRETS.get(f"rgs-wallet/operators/{OPERATOR_ID}")["hmac_secrets"][0]

SECURITY_HASH: str = _DEV_SECRETS.get("sportsbook")["security_hash"]
SPORTSBOOK_HEADER = sportsbook.SIGNATURE_HEADER

HOST = ("Host", "localhost")
JSON = ("Content-Type", "application/json")


def compact(data: Mapping[str, Any]) -> bytes:
    """``data`` as JSON without spaces."""
    return json.dumps(data, separators=(",", ":")).encode()


def json_post(
    path: str, payload: bytes, headers: Mapping[str, str], *, host: bool = False, query: str = ""
) -> HttpRequest:
    """A JSON POST with ``headers`` (after ``Host``, when asked for, and ``Content-Type``)."""
    pairs: list[tuple[str, str]] = [HOST, JSON] if host else [JSON]
    return HttpRequest("POST", path, raw_query=query, headers=[*pairs, *headers.items()], body=payload)


def start_of_a_second() -> float:
    """Now, but early in a second: a timestamp of int(now)+301 then stays in the future on the server for 0.5 s."""
    while time.time() % 1 > 0.5:
        time.sleep(0.05)
    return time.time()


@dataclass(frozen=True)
class Signer:
    """How a case's headers are made from what it sends (at send time, so timestamps are fresh)."""

    label: str
    make: Callable[..., dict[str, str]]

    def __call__(self, *sent: Any) -> dict[str, str]:
        return self.make(*sent)


# --- Ruby -----------------------------------------------------------------------------------------------------


def ruby_headers(body: bytes, *, key: str = BRAND_KEY, secret: str = BRAND_SECRET, offset: int = 0) -> dict[str, str]:
    """Ruby's signature headers for ``body``, signed now (``offset`` seconds away)."""
    now = start_of_a_second() if offset > 0 else time.time()
    return ruby_callback.headers(key, secret, body, clock=lambda: now + offset)


def ruby_request(operation: str, body: Mapping[str, Any]) -> HttpRequest:
    """A Ruby callback to ``/ruby/<operation>``, signed now by the dev brand."""
    raw = compact(body)
    return json_post(f"/ruby/{operation}", raw, ruby_headers(raw), host=True)


# --- the RGS ------------------------------------------------------------------------------------------------------


def rgs_headers(
    route: str,
    payload: bytes,
    *,
    operator_id: str = OPERATOR_ID,
    api_key: str = RGS_API_KEY,
    secret: str = RGS_SECRET,
    method: str = "POST",
    path: str | None = None,
    offset: int = 0,
) -> dict[str, str]:
    """RGS v1 headers for ``payload`` to ``/rgs-wallet/<route>`` (or what ``path`` says), signed now (``offset``
    seconds away) by the dev operator unless told otherwise."""
    now = start_of_a_second() if offset > 0 else time.time()
    signed_path = path if path is not None else f"/rgs-wallet/{route}"
    return rgs.headers(operator_id, api_key, secret, method, signed_path, payload, clock=lambda: now + offset)


def rgs_request(
    route: str, payload: bytes, headers: Mapping[str, str] | None = None, *, query: str = ""
) -> HttpRequest:
    """``payload`` to ``/rgs-wallet/<route>``, signed now for that route unless ``headers`` are given."""
    signed = headers if headers is not None else rgs_headers(route, payload)
    return json_post(f"/rgs-wallet/{route}", payload, signed, host=True, query=query)


def rgs_raw_request(route: str, payload: bytes, secret: str = RGS_SECRET) -> RawRequest:
    """The same request as an ``RgsWallet`` sees it when it is driven directly."""
    headers = rgs.headers(OPERATOR_ID, RGS_API_KEY, secret, "POST", f"/rgs-wallet/{route}", payload)
    return RawRequest.of("POST", f"/rgs-wallet/{route}", headers, payload)


def rgs_refused(response: HttpResponse, status: int, code: str) -> None:
    """An RGS wallet error: ``status`` and ``{"ok": false, "error": code, "message": <text>}`` as JSON, no secret."""
    assert response.status == status, response.body
    assert (response.header("Content-Type") or "").startswith("application/json")
    answer = response.json()
    assert set(answer) == {"ok", "error", "message"}, answer
    assert (answer["ok"], answer["error"]) == (False, code), answer
    assert isinstance(answer["message"], str), answer
    assert answer["message"], answer
    assert RGS_SECRET not in response.body.decode("utf-8")


# --- the sportsbook ---------------------------------------------------------------------------------------------


def sportsbook_request(route: str, body: bytes, header: str = SPORTSBOOK_HEADER) -> HttpRequest:
    """``body`` to ``/sportsbook/<route>``, its hash in ``header``."""
    return json_post(f"/sportsbook/{route}", body, {header: sportsbook.sign(SECURITY_HASH, body)})


def sportsbook_raw_request(route: str, body: bytes) -> RawRequest:
    """The same request as a ``SportsbookWallet`` sees it when it is driven directly."""
    return RawRequest.of(
        "POST", f"/sportsbook/{route}", {SPORTSBOOK_HEADER: sportsbook.sign(SECURITY_HASH, body)}, body
    )


# --- bodies with one thing wrong ------------------------------------------------------------------------------------

DROP = object()
"""A field value that means: leave the field out."""


def with_fields(data: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with ``fields`` overridden, or dropped where their value is ``DROP``."""
    for name, value in fields.items():
        if value is DROP:
            data.pop(name)
        else:
            data[name] = value
    return data


def padded_to(make: Callable[[str], bytes], size: int) -> bytes:
    """``make(pad)``, a request with an ignored ``pad`` field, of exactly ``size`` bytes."""
    empty = make("")
    result = make("x" * (size - len(empty)))
    assert len(result) == size
    return result


def one_byte_changed(original: bytes, old: bytes, new: bytes) -> bytes:
    """``original`` with its one occurrence of ``old`` replaced by ``new``, which differs in exactly one byte."""
    assert original.count(old) == 1
    assert len(old) == len(new)
    changed = original.replace(old, new)
    assert sum(a != b for a, b in zip(original, changed, strict=True)) == 1
    return changed
