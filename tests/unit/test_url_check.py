"""One URL check (``croupier.network.check_url``): the table of cases below, run against the function itself and
through the public entry of each caller, so that no caller drifts from it again.

Two kinds of URL, the same rules but for what follows the path:

* a URL Croupier **calls** (a provider's base URL: the RGS's ``base_url``, the sportsbook's ``api_url``, RabbitX's
  ``base_url``, an operator's ``wallet_callback_url``): a path prefix, no query, no fragment; the client appends
  its paths;
* a URL Croupier **hands on** to a player's browser (an RGS's ``launch_url``, the sportsbook's session ``url``):
  query and fragment allowed (the provider's own routing).

Both: absolute, ``https`` (``http`` only on a loopback host, or where the caller allows insecure URLs: a client
built with ``allow_insecure=True``), a host (letters, digits, ``.``, ``-``, ``_``, or an IP literal), a port from 1
to 65535 when there is one, no user or password, printable ASCII without spaces or backslashes, no surrounding
whitespace, at most 4096 characters. An operator's stored ``wallet_callback_url`` also has no trailing slash
(providers.md) and at most 512 characters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from croupier.clients.http import HttpResponse
from croupier.clients.operator_wallet import OperatorWalletClient
from croupier.clients.rgs import RgsClient
from croupier.clients.sportsbook import SportsbookClient
from croupier.errors import UpstreamError
from croupier.rgs.operators import OperatorSettings
from croupier.signing import Headers
from croupier_cli.rabbitx import RabbitXClient

OPERATOR_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
API_KEY = "rk_live_0123456789abcdef"
SECRET = "s" * 32
HEX_SECRET = "ab" * 32


@dataclass(frozen=True)
class Case:
    url: Any
    called: bool  # fit as a URL Croupier calls (a base URL)
    handed_on: bool  # fit as a URL handed on to a browser (a launch URL)
    insecure: bool | None = None  # what both answer with allow_insecure=True, where it differs
    stored: bool | None = None  # an operator's stored wallet_callback_url, where it differs from ``called``

    @property
    def id(self) -> str:
        return repr(self.url)[:60]


LONG_PATH = "/" + "a" * 4100
CASES = [
    Case("https://api.example", True, True),
    Case("https://api.example/v1/rgs", True, True),
    Case("https://api.example:8443/v1", True, True),
    Case("https://API.Example/v1", True, True),
    Case("HTTPS://api.example/v1", True, True),
    Case("https://10.0.0.7/wallet", True, True),
    Case("https://[2001:db8::1]:8443/wallet", True, True),
    Case("https://rgs_fake.internal/x", True, True),
    Case("https://api.example./x", True, True),
    Case("http://127.0.0.1:3000/rgs-wallet", True, True),
    Case("http://localhost/x", True, True),
    Case("http://LOCALHOST:3000/x", True, True),
    Case("http://[::1]:3000/x", True, True),
    Case("http://api.example/x", False, False, insecure=True),
    Case("http://127.0.0.1.nip.io/x", False, False, insecure=True),
    Case("http://0.0.0.0/x", False, False, insecure=True),
    Case("ftp://api.example/x", False, False),
    Case("javascript:alert(1)", False, False),
    Case("//api.example/x", False, False),
    Case("/play?session=1", False, False),
    Case("api.example/x", False, False),
    Case("https:api.example", False, False),
    Case("https://", False, False),
    Case("https:///x", False, False),
    Case("https://user:pw@api.example/x", False, False),
    Case("https://user@api.example/x", False, False),
    Case("https://@api.example/x", False, False),
    Case("https://api.example/x?a=1", False, True),
    Case("https://api.example/x?", False, True),
    Case("https://api.example/x#frag", False, True),
    Case("https://api.example/#/play?token=1", False, True),
    Case("https://api.example/x#", False, True),
    Case("https://api.example/x/", True, True, stored=False),
    Case("https://api.example/", True, True, stored=False),
    Case("https://api.example:0/x", False, False),
    Case("https://api.example:65536/x", False, False),
    Case("https://api.example:99999999999/x", False, False),
    Case("https://api.example:http/x", False, False),
    Case("https://api.example:/x", False, False),
    Case("https://api.example:-1/x", False, False),
    Case("https://[::1/x", False, False),
    Case("https://exa!mple.com/x", False, False),
    Case("https://exa%20mple.com/x", False, False),
    Case("https://api.example\\@evil.example/x", False, False),
    Case("https://api.example/a\\b", False, False),
    Case(" https://api.example/x", False, False),
    Case("https://api.example/x ", False, False),
    Case("https://api.example/x\n", False, False),
    Case("https://api.example/a b", False, False),
    Case("https://api.exa\tmple/x", False, False),
    Case("https://api.example/\x00", False, False),
    Case("https://bücher.example/x", False, False),
    Case("https://api.example/é", False, False),
    Case("https://api.example" + LONG_PATH, False, False),
    Case("https://api.example/" + "a" * 600, True, True, stored=False),  # the stored setting: 512 at most
    Case("", False, False),
    Case(None, False, False),
    Case(42, False, False),
    Case(b"https://api.example", False, False),
]


def accepted(check: Callable[[], object]) -> bool:
    try:
        check()
    except (ValueError, TypeError, UpstreamError):
        return False
    return True


# --- the callers, each through its public entry ---------------------------------------------------------------


class Answers:
    """A transport answering each request with the next of ``answers`` (status 200, JSON)."""

    def __init__(self, *answers: Mapping[str, Any]) -> None:
        self._answers = list(answers)

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpResponse:
        return HttpResponse(
            200, Headers({"content-type": "application/json"}), json.dumps(self._answers.pop(0)).encode()
        )


def rgs_base(url: Any, insecure: bool) -> object:
    return RgsClient(url, OPERATOR_ID, API_KEY, SECRET, allow_insecure=insecure)


def operator_wallet_base(url: Any, insecure: bool) -> object:
    return OperatorWalletClient(url, OPERATOR_ID, API_KEY, SECRET, allow_insecure=insecure)


def sportsbook_base(url: Any, insecure: bool) -> object:
    return SportsbookClient(url, "v1", "user", "password", allow_insecure=insecure)


def rabbitx_base(url: Any, insecure: bool) -> object:
    return RabbitXClient(url, "api-key", HEX_SECRET)


def rgs_launch(url: Any, insecure: bool) -> object:
    answer = {"ok": True, "session_id": "s-1", "launch_url": url, "expires_at": "2026-01-01T00:00:00Z"}
    client = RgsClient("https://rgs.example", OPERATOR_ID, API_KEY, SECRET, transport=Answers(answer))
    client.allow_insecure = insecure  # what the client was built with (the base URL itself is https)
    return client.launch("player-1", "KRW", 1000, 600)


def sportsbook_launch(url: Any, insecure: bool) -> object:
    answers = Answers({"token": "t0k3n", "expires_in": 3600}, {"url": url})
    client = SportsbookClient("https://sb.example", "v1", "user", "password", transport=answers)
    client.allow_insecure = insecure
    return client.start_session("player-1", "KRW")


def stored_setting(url: Any, insecure: bool) -> object:
    return OperatorSettings.model_validate({"wallet_callback_url": url, "allowed_currencies": ["KRW"]})


CALLED = {"rgs": rgs_base, "operator_wallet": operator_wallet_base, "sportsbook": sportsbook_base}
HANDED_ON = {"rgs_launch": rgs_launch, "sportsbook_launch": sportsbook_launch}


def expected(case: Case, kind: str, insecure: bool) -> bool:
    base = case.handed_on if kind == "handed_on" else case.called
    if kind == "stored":
        return base if case.stored is None else case.stored
    if insecure and case.insecure is not None:
        return case.insecure
    return base


@pytest.mark.parametrize("insecure", [False, True], ids=["https", "allow_insecure"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_one_check(case: Case, insecure: bool) -> None:
    from croupier.network import check_url

    assert accepted(lambda: check_url(case.url, allow_insecure=insecure)) is expected(case, "called", insecure)
    handed_on = accepted(lambda: check_url(case.url, allow_insecure=insecure, allow_query=True, allow_fragment=True))
    assert handed_on is expected(case, "handed_on", insecure)


@pytest.mark.parametrize("insecure", [False, True], ids=["https", "allow_insecure"])
@pytest.mark.parametrize("caller", [*CALLED, *HANDED_ON])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_caller_agrees(case: Case, caller: str, insecure: bool) -> None:
    entry = {**CALLED, **HANDED_ON}[caller]
    kind = "handed_on" if caller in HANDED_ON else "called"
    assert accepted(lambda: entry(case.url, insecure)) is expected(case, kind, insecure)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_callers_without_an_insecure_mode_agree(case: Case) -> None:
    assert accepted(lambda: rabbitx_base(case.url, False)) is expected(case, "called", False)
    assert accepted(lambda: stored_setting(case.url, False)) is expected(case, "stored", False)


def test_what_a_base_url_becomes() -> None:
    """The origin the client sends to, and the path prefix its own paths go under (no trailing slash)."""
    from croupier.network import check_url

    parts = check_url("https://API.example:8443/v1/rgs/")
    assert (parts.origin, parts.path) == ("https://API.example:8443", "/v1/rgs")
    assert check_url("https://api.example").path == ""
    assert RgsClient("https://rgs.example/base/", OPERATOR_ID, API_KEY, SECRET).base_url == "https://rgs.example"
    assert SportsbookClient("https://sb.example/api/", "v1", "u", "p").api_url == "https://sb.example/api"
    wallet = OperatorWalletClient("https://w.example/rgs-wallet/", OPERATOR_ID, API_KEY, SECRET)
    assert wallet.wallet_callback_url == "https://w.example/rgs-wallet"


def test_the_messages_name_the_field_and_never_the_value() -> None:
    from croupier.network import check_url

    secret_path = "https://user:hunter2@api.example/x"
    with pytest.raises(ValueError, match="wallet_callback_url") as caught:
        check_url(secret_path, name="wallet_callback_url")
    assert "hunter2" not in str(caught.value)
    for url, words in [
        ("http://api.example", "https"),
        ("https://api.example?x", "query"),
        ("https://api.example#x", "fragment"),
        ("https://u@api.example", "credentials"),
        ("https://api.example:0", "port"),
        ("https://", "host"),
        ("https://api.example/a b", "printable"),
    ]:
        with pytest.raises(ValueError, match=words):
            check_url(url, name="base_url")
