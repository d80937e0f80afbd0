"""Per-provider source-IP allow-lists (``croupier.network``), read from Secrets Manager (moto's server, through the
layer's own client) and enforced before any brand's or operator's secret is read.

Each provider's optional secret ``<provider>/allowlist`` holds ``{"allowed_cidrs": [...]}``. A callback from an
address outside it is refused with 403 ``SOURCE_NOT_ALLOWED`` (the sportsbook: ``{"error": "SOURCE_NOT_ALLOWED"}``)
and nothing is written; which secrets were read is counted from the store's own calls.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from croupier import aws
from croupier.errors import Forbidden
from croupier.ledger import AccountKey
from croupier.network import AllowListMalformed, SourceAllowList, SourceNotAllowed, allowed, parse_cidrs
from croupier.secrets import CachedSecrets, SecretsManagerStore
from croupier.signing import RawRequest, rgs, ruby_callback, sportsbook
from croupier.wallet import wiring
from croupier.wallet.rgs import RgsWallet
from croupier.wallet.ruby import BrandDirectory, PlayerLinks, RubyWallet
from croupier.wallet.sportsbook import SportsbookWallet
from croupier_local.apigw import HttpRequest, build_event
from croupier_local.server import LocalStack
from tests.support.players import create_player, fund_player
from tests.support.wallet_table import scan_table

pytestmark = pytest.mark.dynamodb_local

BRAND_KEY, BRAND_SECRET = "allow-brand", "dev-only-allowlist-brand-secret"
OPERATOR_ID, RGS_KEY, RGS_SECRET = "9a1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "allow-rgs-key", "dev-only-allow-rgs-secret"
HASH = "dev-only-allowlist-security-hash"
INSIDE, OUTSIDE = "203.0.113.9", "198.51.100.7"


class CountingStore:
    """The real Secrets Manager store, remembering which names it was asked for."""

    def __init__(self, store: SecretsManagerStore) -> None:
        self.store = store
        self.read: list[str] = []

    def get(self, name: str) -> dict[str, Any]:
        self.read.append(name)
        return self.store.get(name)

    def put(self, name: str, value: dict[str, Any]) -> None:
        self.store.put(name, value)


@pytest.fixture
def secrets(local_stack: LocalStack) -> CountingStore:
    """A fresh prefix on the session's moto server, with a brand, an RGS operator and the sportsbook's hash."""
    store = SecretsManagerStore(f"croupier/allow-{uuid.uuid4().hex[:8]}/", client_factory=aws.secretsmanager)
    store.put(f"ruby/brands/{BRAND_KEY}", {"api_secret": BRAND_SECRET, "currency": "KRW"})
    store.put(f"rgs-wallet/operators/{OPERATOR_ID}", {"api_key": RGS_KEY, "hmac_secrets": [RGS_SECRET]})
    store.put("sportsbook", {"security_hash": HASH})
    return CountingStore(store)


def allow(secrets: CountingStore, provider: str, cidrs: Any) -> None:
    secrets.store.put(f"{provider}/allowlist", {"allowed_cidrs": cidrs})


def ruby_player(stack: LocalStack) -> int:
    ruby_id = 800_000_000 + (uuid.uuid4().int >> 100)
    player_id = f"allow-{uuid.uuid4().hex[:16]}"
    create_player(stack, player_id=player_id, currencies=["KRW"], links={"ruby": ruby_id})
    fund_player(stack, player_id, "KRW", "100.00", f"{player_id}-seed")
    return ruby_id


def ruby_wallet(secrets: CountingStore) -> RubyWallet:
    cached = CachedSecrets(secrets)
    return RubyWallet(
        wiring.ledger(),
        BrandDirectory(cached),
        PlayerLinks(wiring.ledger_store().resolve_link),
        sources=SourceAllowList(cached, "ruby"),
    )


def ruby_debit(ruby_id: int, source_ip: str) -> RawRequest:
    body = json.dumps({"player_id": ruby_id, "amount": "1.00", "transaction_id": f"al-{uuid.uuid4().hex}"}).encode()
    request = RawRequest.of("POST", "/ruby/debit", ruby_callback.headers(BRAND_KEY, BRAND_SECRET, body), body)
    return RawRequest(request.method, request.path_with_query, request.headers, request.body, source_ip=source_ip)


def test_a_ruby_callback_from_outside_the_list_is_403_before_any_brand_secret_is_read(
    local_stack: LocalStack, secrets: CountingStore, real_client: Any
) -> None:
    ruby_id = ruby_player(local_stack)
    allow(secrets, "ruby", ["203.0.113.0/24", "2001:db8::/32"])
    wallet = ruby_wallet(secrets)
    before = scan_table(real_client)
    with pytest.raises(SourceNotAllowed) as refused:
        wallet.debit(ruby_debit(ruby_id, OUTSIDE))
    assert (refused.value.status, refused.value.code) == (403, "SOURCE_NOT_ALLOWED")
    assert scan_table(real_client) == before
    assert secrets.read == ["ruby/allowlist"], "a brand secret was read for a refused source"
    for source in ("", "not-an-address", "2001:db9::1", "203.0.114.1"):
        with pytest.raises(SourceNotAllowed):
            wallet.debit(ruby_debit(ruby_id, source))
    assert secrets.read == ["ruby/allowlist"], "the list is cached, and nothing else was read"
    # from inside the list, the same request goes through (IPv4 and IPv6)
    assert wallet.debit(ruby_debit(ruby_id, INSIDE)) == {"balance": "99.00", "balance_before": "100.00"}
    assert wallet.debit(ruby_debit(ruby_id, "2001:db8::42"))["balance"] == "98.00"


def test_without_an_allow_list_every_source_is_let_through(local_stack: LocalStack, secrets: CountingStore) -> None:
    ruby_id = ruby_player(local_stack)
    assert ruby_wallet(secrets).debit(ruby_debit(ruby_id, OUTSIDE))["balance"] == "99.00"


@pytest.mark.parametrize("cidrs", [["203.0.113.0/33"], "203.0.113.0/24", [42], ["not a network"]])
def test_a_malformed_allow_list_fails_loudly_never_open(
    local_stack: LocalStack, secrets: CountingStore, cidrs: Any
) -> None:
    ruby_id = ruby_player(local_stack)
    allow(secrets, "ruby", cidrs)
    with pytest.raises(AllowListMalformed):
        ruby_wallet(secrets).debit(ruby_debit(ruby_id, INSIDE))


def test_an_rgs_wallet_call_from_outside_the_list_is_403_before_the_operator_secret_is_read(
    local_stack: LocalStack, secrets: CountingStore
) -> None:
    allow(secrets, "rgs-wallet", ["203.0.113.0/24"])
    cached = CachedSecrets(secrets)
    wallet = RgsWallet(wiring.ledger(), cached, sources=SourceAllowList(cached, "rgs-wallet"))
    account = AccountKey(f"allow-{uuid.uuid4().hex[:16]}", "USD")
    body = json.dumps(
        {
            "operator_tx_id": "t-1",
            "operator_player_id": account.player_id,
            "session_id": "s",
            "round_id": "r",
            "currency": "USD",
            "amount_minor": 1,
        }
    ).encode()
    headers = rgs.headers(OPERATOR_ID, RGS_KEY, RGS_SECRET, "POST", "/rgs-wallet/bet", body)
    with pytest.raises(Forbidden) as refused:
        wallet.bet(RawRequest(*_parts("/rgs-wallet/bet", headers, body), source_ip=OUTSIDE))
    assert refused.value.code == "SOURCE_NOT_ALLOWED"
    assert secrets.read == ["rgs-wallet/allowlist"]


def test_a_sportsbook_callback_from_outside_the_list_is_403_before_the_hash_is_read(
    local_stack: LocalStack, secrets: CountingStore
) -> None:
    allow(secrets, "sportsbook", ["203.0.113.0/24"])
    cached = CachedSecrets(secrets)
    wallet = SportsbookWallet(wiring.ledger(), cached, sources=SourceAllowList(cached, "sportsbook"))
    body = b'{"transaction_id":"t","action":"bet","user_id":"u","currency":"EUR","amount":1}'
    headers = {sportsbook.SIGNATURE_HEADER: sportsbook.sign(HASH, body)}
    answer = wallet.transaction(RawRequest(*_parts("/sportsbook/transaction", headers, body), source_ip=OUTSIDE))
    assert (answer.status, answer.body) == (403, {"error": "SOURCE_NOT_ALLOWED"})
    assert secrets.read == ["sportsbook/allowlist"]


def _parts(path: str, headers: dict[str, str], body: bytes) -> tuple[str, str, Any, bytes]:
    request = RawRequest.of("POST", path, headers, body)
    return request.method, request.path_with_query, request.headers, request.body


def test_the_source_address_is_api_gateways_not_a_header() -> None:
    """``requestContext.http.sourceIp`` is what API Gateway saw; ``X-Forwarded-For`` is the caller's to write."""
    request = HttpRequest("POST", "/ruby/balance", headers=[("X-Forwarded-For", INSIDE)], source_ip=OUTSIDE)
    event = build_event(request, route_key="POST /ruby/balance")
    assert RawRequest.from_apigw_v2(event).source_ip == OUTSIDE
    assert RawRequest.from_apigw_v2({"requestContext": {"http": {"method": "POST"}}}).source_ip == ""


def test_cidr_matching() -> None:
    networks = parse_cidrs(("10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"))
    assert [allowed(ip, networks) for ip in ("10.1.2.3", "192.0.2.1", "192.0.2.2", "2001:db8::1", "::1", "")] == [
        True,
        True,
        False,
        True,
        False,
        False,
    ]
