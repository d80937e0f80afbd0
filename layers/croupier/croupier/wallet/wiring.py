"""The wallet's dependencies, built once per execution environment on first use (never at import)."""

from __future__ import annotations

from functools import cache

from croupier import aws
from croupier.admin import Admin
from croupier.ledger import Ledger
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.secrets import default_store
from croupier.settings import settings
from croupier.wallet.ruby import BrandDirectory, PlayerLinks, RubyWallet


@cache
def ledger_store() -> DynamoLedgerStore:
    return DynamoLedgerStore(settings().wallet_table, aws.dynamodb)


@cache
def ledger() -> Ledger:
    return Ledger(ledger_store())


@cache
def ruby_wallet() -> RubyWallet:
    return RubyWallet(ledger(), BrandDirectory(default_store()), PlayerLinks(ledger_store().resolve_link))


@cache
def admin() -> Admin:
    return Admin(ledger_store(), ledger())
