"""The wallet's dependencies, built once per execution environment on first use (never at import).

Each factory imports what it builds: a function imports this module for the one or two factories it calls, and
its cold start pays only for those (the launches' HTTP clients, the admin and the other wallets stay unloaded).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from croupier.admin import Admin
    from croupier.launch import Launcher
    from croupier.ledger import Ledger
    from croupier.ledger.dynamo import DynamoLedgerStore
    from croupier.protection import PlayerProtection
    from croupier.secrets import CachedSecrets
    from croupier.wallet.rgs import RgsWallet
    from croupier.wallet.ruby import RubyWallet
    from croupier.wallet.sportsbook import SportsbookWallet


@cache
def ledger_store() -> DynamoLedgerStore:
    from croupier import aws
    from croupier.ledger.dynamo import DynamoLedgerStore
    from croupier.settings import settings

    return DynamoLedgerStore(settings().wallet_table, aws.dynamodb)


@cache
def ledger() -> Ledger:
    from croupier import aws
    from croupier.ledger import Ledger

    return Ledger(ledger_store(), attempt_seconds=aws.attempt_seconds(aws.CLIENT_CONFIG))


@cache
def secrets() -> CachedSecrets:
    from croupier.secrets import CachedSecrets, default_store

    return CachedSecrets(default_store())


@cache
def ruby_wallet() -> RubyWallet:
    from croupier.network import SourceAllowList
    from croupier.wallet.ruby import BrandDirectory, PlayerLinks, RubyWallet

    return RubyWallet(
        ledger(),
        BrandDirectory(secrets()),
        PlayerLinks(ledger_store().resolve_link),
        sources=SourceAllowList(secrets(), "ruby"),
    )


@cache
def admin() -> Admin:
    from croupier.admin import Admin

    return Admin(ledger_store(), ledger())


@cache
def protection() -> PlayerProtection:
    from croupier.protection import PlayerProtection

    return PlayerProtection(ledger_store())


@cache
def sportsbook_wallet() -> SportsbookWallet:
    from croupier.network import SourceAllowList
    from croupier.wallet.sportsbook import SportsbookWallet

    return SportsbookWallet(ledger(), secrets(), sources=SourceAllowList(secrets(), "sportsbook"))


@cache
def rgs_wallet() -> RgsWallet:
    from croupier.network import SourceAllowList
    from croupier.wallet.rgs import RgsWallet

    return RgsWallet(ledger(), secrets(), sources=SourceAllowList(secrets(), "rgs-wallet"))


@cache
def launcher() -> Launcher:
    from croupier.launch import Launcher

    return Launcher(secrets(), ledger().balance)
