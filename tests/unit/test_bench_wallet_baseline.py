"""The wallet bench's raw loop compares like with like: it sends requests of exactly the shape the Ruby handler's
ledger sends (every attribute, condition and value, the player-protection counters and the signature's digest
included), so the throughput ratio measures the handler's own cost, not a lighter request. (It lacked ``win`` and
``sig`` from issue 16 to 17: ~25 % of a transaction on DynamoDB Local.)"""

from __future__ import annotations

from typing import Any

import pytest

from bench.wallet import ROOT, ruby_event, same_shape_requests
from croupier.ledger import AccountKey, AccountState, Kind, Ledger
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.secrets import CachedSecrets, FileSecretStore
from croupier.signing import RawRequest
from croupier.wallet.ruby import BrandDirectory, PlayerLinks, RubyWallet


def shape(value: Any) -> Any:
    """The structure of a request: every key, with each leaf's type (values differ: ids, times, balances)."""
    if isinstance(value, dict):
        return {key: shape(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [shape(inner) for inner in value]
    return type(value).__name__


@pytest.mark.parametrize("kind", [Kind.DEBIT, Kind.CREDIT])
def test_the_raw_loop_sends_what_the_handler_sends(kind: Kind) -> None:
    sent: list[dict[str, Any]] = []

    class Recorder:
        def transact_write_items(self, **params: Any) -> dict[str, Any]:
            sent.append(params)
            return {}

    ledger = Ledger(DynamoLedgerStore("WalletTable", lambda: Recorder()))
    brands = BrandDirectory(CachedSecrets(FileSecretStore(ROOT / "local" / "dev-secrets.json")))
    wallet = RubyWallet(ledger, brands, PlayerLinks(lambda provider, external: "player"))
    ledger.snapshots.put(AccountKey("player", "KRW"), AccountState(10**15, 3, head="ruby#t-0"))  # chained
    body = {"player_id": 1, "amount": "1.00", "transaction_id": "t-1", "round_id": "r-1"}
    request = RawRequest.from_apigw_v2(ruby_event(kind.value, body))
    wallet.debit(request) if kind is Kind.DEBIT else wallet.credit(request)
    (handler,) = sent
    (_, raw) = same_shape_requests("player", kind, 10**15, 2)  # the second: linked to the first, as in the bench
    assert shape(raw) == shape(handler)
    update = raw["TransactItems"][1]["Update"]
    assert ":win" in update["ExpressionAttributeValues"], "the protection counters every movement writes"
    assert "sig" in raw["TransactItems"][0]["Put"]["Item"], "the signature's digest a Ruby entry keeps"
    assert "prev" in raw["TransactItems"][0]["Put"]["Item"], "the link to the account's previous entry"
