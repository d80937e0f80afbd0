"""The wallet's dependencies, built once per execution environment on first use (never at import).

The modules are imported here, with this module, so that a function loads its code in Lambda's init phase, not
on its first request; the one exception is :mod:`croupier.launch` (the providers' HTTP clients), which only the
two launch functions use and which they import themselves.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from croupier import aws
from croupier.admin import Admin
from croupier.ledger import Ledger
from croupier.ledger.dynamo import DynamoLedgerStore
from croupier.network import SourceAllowList
from croupier.protection import PlayerProtection
from croupier.secrets import CachedSecrets, default_store
from croupier.settings import settings
from croupier.wallet.rgs import RgsWallet
from croupier.wallet.ruby import BrandDirectory, PlayerLinks, RubyWallet
from croupier.wallet.sportsbook import SportsbookWallet

if TYPE_CHECKING:
    from croupier.launch import Launcher


@cache
def ledger_store() -> DynamoLedgerStore:
    return DynamoLedgerStore(settings().wallet_table, aws.dynamodb)


@cache
def ledger() -> Ledger:
    return Ledger(ledger_store(), attempt_seconds=aws.attempt_seconds(aws.CLIENT_CONFIG))


@cache
def secrets() -> CachedSecrets:
    return CachedSecrets(default_store())


@cache
def ruby_wallet() -> RubyWallet:
    return RubyWallet(
        ledger(),
        BrandDirectory(secrets()),
        PlayerLinks(ledger_store().resolve_link),
        sources=SourceAllowList(secrets(), "ruby"),
    )


@cache
def admin() -> Admin:
    return Admin(ledger_store(), ledger())


@cache
def protection() -> PlayerProtection:
    return PlayerProtection(ledger_store())


@cache
def sportsbook_wallet() -> SportsbookWallet:
    return SportsbookWallet(ledger(), secrets(), sources=SourceAllowList(secrets(), "sportsbook"))


@cache
def rgs_wallet() -> RgsWallet:
    return RgsWallet(ledger(), secrets(), sources=SourceAllowList(secrets(), "rgs-wallet"))


@cache
def launcher() -> Launcher:
    from croupier.launch import Launcher  # loaded by the launch functions' own modules (rgs_launch, sportsbook_launch)

    return Launcher(secrets(), ledger().balance)
