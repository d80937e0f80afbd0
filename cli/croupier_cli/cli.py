"""``croupier``: the operator's command line. JSON on stdout, one-line errors on stderr.

Exit codes: 0 done, 1 an error (the message says which), 2 a usage error.

    croupier ruby brand create --name NAME --code CODE --wallet-mode seamless --callback-url URL [--currency KRW]
    croupier ruby brand list [--page N --size N | --all]
    croupier ruby brand update ID [--status N] [--set key=value ...]
    croupier ruby brand recharge ID --amount 100.00
    croupier ruby player list [--brand-id ID --username TEXT] [--page N --size N | --all]
    croupier ruby player get ID
    croupier ruby bet list [--brand-id --player-id --status --provider-code] [--page N --size N | --all]
    croupier ruby sports-bet list [same as bet list]
    croupier ruby health
    croupier rabbitx onboard --api-url URL [--private-key-file PATH | --private-key-env NAME] [--profile P]
    croupier rgs revenue recompute --operator ID --day YYYY-MM-DD [--table T] [--endpoint-url URL]

Ruby's team credentials come from the secret store (``ruby/team``: ``api_url``, ``team_key``,
``team_secret``); the environment variables ``RUBY_API_URL``, ``RUBY_TEAM_KEY`` and ``RUBY_TEAM_SECRET``
override them one by one. A created brand's ``api_secret`` is written to the store as
``ruby/brands/<api_key>`` before anything is printed.

``rabbitx onboard`` signs RabbitX's onboarding message with a wallet's private key, read from
``--private-key-file``, from the environment variable ``--private-key-env`` names (``RABBITX_PRIVATE_KEY`` by
default), or else from a prompt (stdin when it is not a terminal); never from the command line, never logged.
The API key, secret and JWT RabbitX answers are written to the store as ``rabbitx/<profile>`` (``api_url``,
``api_key``, ``api_secret``, ``jwt``, ``wallet``, ``profile_id``) before anything is printed; the secret and
JWT are printed only with ``--show-secret``. :meth:`RabbitXClient.from_secret` reads that entry.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn, TextIO

from pydantic import BaseModel

from croupier import __version__
from croupier.clients.http import DEFAULT_TIMEOUT_SECONDS, Transport, TransportError, loads_json
from croupier.errors import CroupierError
from croupier.secrets import SecretNotFound, SecretStore, default_store
from croupier.signing import Clock
from croupier_cli import rabbitx
from croupier_cli.ruby_team import (
    BET_STATUSES,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    WALLET_MODES,
    BrandCreated,
    RubyTeamClient,
)

TEAM_ENTRY = "ruby/team"
BRAND_ENTRY_PREFIX = "ruby/brands/"
ENV_OVERRIDES = {"api_url": "RUBY_API_URL", "team_key": "RUBY_TEAM_KEY", "team_secret": "RUBY_TEAM_SECRET"}
RABBITX_ENTRY_PREFIX = "rabbitx/"
PRIVATE_KEY_ENV = "RABBITX_PRIVATE_KEY"

_KEY_LIKE = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
"""A private key typed on the command line by mistake: a usage error quotes its arguments, but never this."""

NOT_STORED = "<NOT STORED: shown once on stderr>"
"""What stdout shows in place of an api_secret that could not be stored."""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error with a message fit for the operator; ends the command with exit code 1."""


class UsageError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """Raises on a usage error instead of exiting, so :func:`main` answers 2 and tests can see it."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


@dataclass
class Context:
    """What a command needs from outside: injected by tests, real by default."""

    environ: Mapping[str, str]
    store_factory: Callable[[], SecretStore]
    transport: Transport | None
    clock: Clock
    out: TextIO
    err: TextIO
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    _store: SecretStore | None = None
    _secrets: list[str] = field(default_factory=list)

    def store(self) -> SecretStore:
        if self._store is None:
            self._store = self.store_factory()
        return self._store

    def ruby(self) -> RubyTeamClient:
        settings: dict[str, str] = {}
        for name, variable in ENV_OVERRIDES.items():
            value = self.environ.get(variable, "").strip()
            if value:
                settings[name] = value
        if len(settings) < len(ENV_OVERRIDES):
            try:
                stored = self.store().get(TEAM_ENTRY)
            except SecretNotFound:
                missing = ", ".join(ENV_OVERRIDES[n] for n in ENV_OVERRIDES if n not in settings)
                raise CliError(f"no Ruby team credentials: secret {TEAM_ENTRY} not found; set {missing}") from None
            for name in ENV_OVERRIDES:
                found = stored.get(name)
                if name not in settings and isinstance(found, str) and found:
                    settings[name] = found
        missing_fields = [name for name in ENV_OVERRIDES if name not in settings]
        if missing_fields:
            raise CliError(f"secret {TEAM_ENTRY} lacks {', '.join(missing_fields)}")
        self.hide(settings["team_secret"])
        try:
            return RubyTeamClient(
                settings["api_url"],
                settings["team_key"],
                settings["team_secret"],
                transport=self.transport,
                clock=self.clock,
                timeout=self.timeout,
            )
        except ValueError as error:
            raise CliError(f"Ruby settings: {error}") from None

    def hide(self, secret: str) -> None:
        """Remember a secret so that no error line can ever carry it."""
        if secret:
            self._secrets.append(secret)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def emit(self, value: Any) -> None:
        json.dump(value, self.out, indent=2, ensure_ascii=False, default=_json_default)
        self.out.write("\n")
        self.out.flush()


def _or(given: int | None, default: int) -> int:
    """An option's value, or the default when it was not given (0 is given, and then refused)."""
    return default if given is None else given


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --- commands --------------------------------------------------------------------------------------


def _brand_create(args: argparse.Namespace, ctx: Context) -> int:
    client = ctx.ruby()
    try:
        created = client.create_brand(
            name=args.name,
            code=args.code,
            wallet_mode=args.wallet_mode,
            callback_url=args.callback_url,
            currency=args.currency,
        )
    except TransportError as error:
        if error.timed_out:
            raise CliError(
                f"{error.message}; Ruby may have created the brand without our seeing its api_secret: "
                f"look for code {args.code!r} with `croupier ruby brand list --all`"
            ) from None
        raise
    return _keep_brand_secret(created, args, ctx)


def _keep_brand_secret(created: BrandCreated, args: argparse.Namespace, ctx: Context) -> int:
    """Store the one-time api_secret before printing anything; if that fails, show it once on stderr."""
    secret = created.api_secret.get_secret_value()
    ctx.hide(secret)
    name = f"{BRAND_ENTRY_PREFIX}{created.api_key}"
    record = {
        "api_key": created.api_key,
        "api_secret": secret,
        "brand_id": created.id,
        "code": created.code or args.code,
        "currency": created.currency or args.currency,
        "wallet_mode": created.wallet_mode or args.wallet_mode,
    }
    shown = created.model_dump(mode="json")
    location = _store_once(
        ctx,
        name,
        record,
        "the brand was created at Ruby but its api_secret could NOT be stored",
        "Ruby shows an api_secret only once",
        {"brand_id": created.id, "api_key": created.api_key, "api_secret": secret},
    )
    if location is None:
        shown["api_secret"] = NOT_STORED
        ctx.emit(shown)
        return EXIT_ERROR
    shown["api_secret"] = secret if args.show_secret else f"<stored in {location}>"
    ctx.err.write(f"croupier: api_secret stored as {name}\n")
    ctx.emit(shown)
    return EXIT_OK


def _store_once(
    ctx: Context, name: str, record: dict[str, Any], headline: str, once: str, shown: Mapping[str, object]
) -> str | None:
    """Store a secret the provider shows only once, before anything is printed; answers where. If the store
    fails, the secret is written once on stderr (the only copy) and the answer is None."""
    try:
        return ctx.store().put(name, record)
    except Exception as error:  # whatever went wrong, this is the only chance to keep the secret
        reason = ctx.scrub(_one_line(f"{type(error).__name__}: {error}"))
        width = max(len(label) for label in ("secret name", *shown))
        lines = "".join(
            f"!!   {label + ':':<{width + 1}} {value}\n" for label, value in {"secret name": name, **shown}.items()
        )
        ctx.err.write(
            "\n"
            + "!" * 78
            + f"\n!! WARNING: {headline}\n"
            + f"!! ({reason}).\n"
            + f"!! {once}. This is the only copy: store it now.\n"
            + lines
            + "!" * 78
            + "\n"
        )
        ctx.err.flush()
        return None


# --- rabbitx ---------------------------------------------------------------------------------------


def _rabbitx_onboard(args: argparse.Namespace, ctx: Context) -> int:
    """Onboard a wallet at RabbitX and keep the API key, secret and JWT it answers in the secret store."""
    if not rabbitx.PROFILE.fullmatch(args.profile):
        raise CliError("--profile must be 1 to 64 letters, digits, '.', '_' or '-'")
    private_key = _wallet_private_key(args, ctx)
    ctx.hide(private_key)
    try:
        onboarded = rabbitx.onboard(
            args.api_url, private_key, transport=ctx.transport, clock=ctx.clock, timeout=ctx.timeout
        )
    except ImportError:
        raise CliError("onboarding signs with eth-account: pip install 'croupier[cli]'") from None
    except ValueError as error:  # a bad URL or key: the message never quotes the key
        raise CliError(str(error)) from None
    finally:
        del private_key
    ctx.hide(onboarded.api_secret)
    ctx.hide(onboarded.jwt)
    name = f"{RABBITX_ENTRY_PREFIX}{args.profile}"
    record = {
        "api_url": args.api_url.strip().rstrip("/"),
        "api_key": onboarded.api_key,
        "api_secret": onboarded.api_secret,
        "jwt": onboarded.jwt,
        "wallet": onboarded.wallet,
        "profile_id": onboarded.profile_id,
    }
    shown: dict[str, Any] = {k: v for k, v in record.items() if k not in ("api_secret", "jwt")}
    location = _store_once(
        ctx,
        name,
        record,
        "the wallet was onboarded at RabbitX but its api_secret and jwt could NOT be stored",
        "RabbitX shows an api_secret only once (onboarding again issues a new one)",
        {"api_key": onboarded.api_key, "api_secret": onboarded.api_secret, "jwt": onboarded.jwt},
    )
    if location is None:
        ctx.emit({**shown, "api_secret": NOT_STORED, "jwt": NOT_STORED})
        return EXIT_ERROR
    kept = f"<stored in {location}>"
    shown["api_secret"] = onboarded.api_secret if args.show_secret else kept
    shown["jwt"] = onboarded.jwt if args.show_secret else kept
    ctx.err.write(f"croupier: api_secret and jwt stored as {name}\n")
    ctx.emit(shown)
    return EXIT_OK


def _wallet_private_key(args: argparse.Namespace, ctx: Context) -> str:
    """The wallet's private key from a file, the environment or a prompt; never from the command line."""
    if args.private_key_file:
        try:
            with open(args.private_key_file, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"cannot read --private-key-file: {type(error).__name__}") from None
    else:
        variable = args.private_key_env or PRIVATE_KEY_ENV
        text = ctx.environ.get(variable, "")
        if not text.strip() and args.private_key_env:
            raise CliError(f"the environment variable {variable} is empty or not set")
        if not text.strip():
            text = _prompt(ctx, "wallet private key (not echoed): ")
    if not text.strip():
        raise CliError("no wallet private key given")
    return text.strip()


def _prompt(ctx: Context, prompt: str) -> str:
    if ctx.stdin.isatty():
        return getpass.getpass(prompt, stream=ctx.err)
    ctx.err.write(prompt)
    ctx.err.flush()
    return ctx.stdin.readline()


def _brand_list(args: argparse.Namespace, ctx: Context) -> int:
    client = ctx.ruby()
    if args.all:
        ctx.emit(list(client.iter_brands(size=_or(args.size, MAX_PAGE_SIZE))))
    else:
        ctx.emit(client.list_brands(page=_or(args.page, 1), size=_or(args.size, DEFAULT_PAGE_SIZE)))
    return EXIT_OK


def _brand_update(args: argparse.Namespace, ctx: Context) -> int:
    fields: dict[str, Any] = {}
    for name, value in args.set or []:
        if name in fields:
            raise CliError(f"--set {name} is given twice")
        fields[name] = value
    if args.status is not None:
        if "status" in fields:
            raise CliError("status is given both by --status and --set")
        fields["status"] = args.status
    if not fields:
        raise CliError("nothing to update: give --status or --set key=value")
    ctx.emit(ctx.ruby().update_brand(args.brand_id, **fields))
    return EXIT_OK


def _brand_recharge(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.ruby().recharge_brand(args.brand_id, args.amount))
    return EXIT_OK


def _player_list(args: argparse.Namespace, ctx: Context) -> int:
    client = ctx.ruby()
    if args.all:
        players = client.iter_players(
            brand_id=args.brand_id, username=args.username, size=_or(args.size, MAX_PAGE_SIZE)
        )
        ctx.emit(list(players))
    else:
        page = client.list_players(
            brand_id=args.brand_id,
            username=args.username,
            page=_or(args.page, 1),
            size=_or(args.size, DEFAULT_PAGE_SIZE),
        )
        ctx.emit(page)
    return EXIT_OK


def _player_get(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.ruby().get_player(args.player_id))
    return EXIT_OK


def _bets(sports: bool) -> Callable[[argparse.Namespace, Context], int]:
    def run(args: argparse.Namespace, ctx: Context) -> int:
        client = ctx.ruby()
        filters: dict[str, Any] = {
            "brand_id": args.brand_id,
            "player_id": args.player_id,
            "status": args.status,
            "provider_code": args.provider_code,
        }
        if args.all:
            size = _or(args.size, MAX_PAGE_SIZE)
            items: Iterator[BaseModel] = (
                client.iter_sports_bets(**filters, size=size) if sports else client.iter_bets(**filters, size=size)
            )
            ctx.emit(list(items))
        else:
            page, size = _or(args.page, 1), _or(args.size, DEFAULT_PAGE_SIZE)
            listed = (
                client.list_sports_bets(**filters, page=page, size=size)
                if sports
                else client.list_bets(**filters, page=page, size=size)
            )
            ctx.emit(listed)
        return EXIT_OK

    return run


def _health(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.ruby().health())
    return EXIT_OK


# --- the parser ------------------------------------------------------------------------------------


def _assignment(text: str) -> tuple[str, Any]:
    """``key=value``; the value is read as JSON when it parses (``0``, ``true``, ``"text"``), else as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        value: Any = loads_json(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def _add_paging(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--page", type=int, help="page number, from 1 (default 1)")
    group.add_argument("--all", action="store_true", help="walk every page and print one JSON array")
    parser.add_argument(
        "--size", type=int, help=f"page size, 1..{MAX_PAGE_SIZE} (default 20; {MAX_PAGE_SIZE} with --all)"
    )


def _add_bet_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--brand-id", type=int)
    parser.add_argument("--player-id", type=int)
    parser.add_argument("--status", type=int, choices=sorted(BET_STATUSES), help="0 pending, 1 settled, 2 cancelled")
    parser.add_argument("--provider-code")
    _add_paging(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="croupier", description="Croupier's operator command line. Output is JSON on stdout.")
    parser.add_argument("--version", action="version", version=f"croupier {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ruby = commands.add_parser("ruby", help="Ruby Team API: brands, players, bets")
    ruby.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="seconds to wait for Ruby (default 10)"
    )
    ruby_commands = ruby.add_subparsers(dest="resource", required=True, metavar="RESOURCE")

    brand = ruby_commands.add_parser("brand", help="create, list, update and recharge brands")
    brand_commands = brand.add_subparsers(dest="action", required=True, metavar="ACTION")

    create = brand_commands.add_parser("create", help="create a brand and store its api_secret")
    create.add_argument("--name", required=True, help="at most 100 characters")
    create.add_argument("--code", required=True, help="unique, at most 50 characters")
    create.add_argument("--wallet-mode", required=True, choices=WALLET_MODES)
    create.add_argument("--callback-url", help="required for seamless, no trailing slash (https://<api>/ruby)")
    create.add_argument("--currency", default="KRW")
    create.add_argument("--show-secret", action="store_true", help="also print the api_secret on stdout")
    create.set_defaults(handler=_brand_create)

    brand_list = brand_commands.add_parser("list", help="list brands")
    _add_paging(brand_list)
    brand_list.set_defaults(handler=_brand_list)

    update = brand_commands.add_parser("update", help="change a brand (--status 0 disables it)")
    update.add_argument("brand_id", type=int, metavar="ID")
    update.add_argument("--status", type=int)
    update.add_argument(
        "--set",
        type=_assignment,
        action="append",
        metavar="KEY=VALUE",
        help='any field; VALUE is read as JSON when it parses (0, true, null, "text"), else as text',
    )
    update.set_defaults(handler=_brand_update)

    recharge = brand_commands.add_parser("recharge", help="top up a transfer-mode brand")
    recharge.add_argument("brand_id", type=int, metavar="ID")
    recharge.add_argument("--amount", required=True, help="a decimal string, e.g. 100.00")
    recharge.set_defaults(handler=_brand_recharge)

    player = ruby_commands.add_parser("player", help="list and read players")
    player_commands = player.add_subparsers(dest="action", required=True, metavar="ACTION")
    player_list = player_commands.add_parser("list", help="list players")
    player_list.add_argument("--brand-id", type=int)
    player_list.add_argument("--username", help="partial match")
    _add_paging(player_list)
    player_list.set_defaults(handler=_player_list)
    player_get = player_commands.add_parser("get", help="read one player")
    player_get.add_argument("player_id", type=int, metavar="ID")
    player_get.set_defaults(handler=_player_get)

    for resource, sports in (("bet", False), ("sports-bet", True)):
        bets = ruby_commands.add_parser(resource, help=f"list {'sports ' if sports else ''}bets")
        bet_commands = bets.add_subparsers(dest="action", required=True, metavar="ACTION")
        bet_list = bet_commands.add_parser("list", help=f"list {'sports ' if sports else ''}bets")
        _add_bet_filters(bet_list)
        bet_list.set_defaults(handler=_bets(sports))

    reconcile = commands.add_parser(
        "reconcile", help="recompute every balance from its ledger entries and report any difference"
    )
    reconcile.add_argument("--table", help="the wallet table (default: $WALLET_TABLE)")
    reconcile.add_argument("--endpoint-url", help="DynamoDB endpoint (default: AWS's, or $AWS_ENDPOINT_URL_DYNAMODB)")
    reconcile.set_defaults(handler=_reconcile)

    rgs_parser = commands.add_parser("rgs", help="the RGS: revenue checks")
    rgs_commands = rgs_parser.add_subparsers(dest="rgs_command", required=True)
    revenue = rgs_commands.add_parser("revenue", help="an operator's revenue")
    revenue_commands = revenue.add_subparsers(dest="revenue_command", required=True)
    recompute = revenue_commands.add_parser(
        "recompute", help="add up a day's revenue from the settled rounds and compare it with the counters"
    )
    recompute.add_argument("--operator", required=True, help="the operator's id")
    recompute.add_argument("--day", required=True, type=_day, help="YYYY-MM-DD (UTC), the day the rounds started")
    recompute.add_argument("--table", help="the RGS table (default: $RGS_TABLE)")
    recompute.add_argument("--endpoint-url", help="DynamoDB endpoint (default: AWS's, or $AWS_ENDPOINT_URL_DYNAMODB)")
    recompute.set_defaults(handler=_recompute_revenue)

    verify = commands.add_parser(
        "verify", help="reproduce a crash round's hash, crash point and derived seeds from its published data"
    )
    verify.add_argument("round_json", nargs="?", help="the round's published JSON (a file, or - for stdin)")
    verify.add_argument("--server-seed")
    verify.add_argument("--client-seed")
    verify.add_argument("--nonce", type=int)
    verify.add_argument("--rtp", help="the operator's rtp_target (default: the round's, else 0.96)")
    verify.add_argument("--max-win", type=int, help="max_win_multiplier (default: the round's, else 2000)")
    verify.add_argument(
        "--shown-hash",
        help="the next_server_seed_hash the game showed before the bet (default: the JSON's shown_server_seed_hash)",
    )
    verify.set_defaults(handler=_verify)

    health = ruby_commands.add_parser("health", help="GET /health (no authentication)")
    health.set_defaults(handler=_health)

    rabbit = commands.add_parser("rabbitx", help="RabbitX: onboard a wallet")
    rabbit.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="seconds to wait for RabbitX (default 10)"
    )
    rabbit_commands = rabbit.add_subparsers(dest="action", required=True, metavar="ACTION")
    onboard = rabbit_commands.add_parser(
        "onboard", help="sign in with a wallet's private key; store the API key, secret and JWT RabbitX answers"
    )
    onboard.add_argument("--api-url", required=True, help="RabbitX's API, e.g. https://api.prod.rabbitx.io")
    source = onboard.add_mutually_exclusive_group()
    source.add_argument("--private-key-file", metavar="PATH", help="a file holding the wallet's hex private key")
    source.add_argument(
        "--private-key-env",
        metavar="NAME",
        help=f"an environment variable holding it (default {PRIVATE_KEY_ENV}; else a prompt)",
    )
    onboard.add_argument("--profile", default="default", help="the store entry: rabbitx/<profile> (default: default)")
    onboard.add_argument("--show-secret", action="store_true", help="also print the api_secret and jwt on stdout")
    onboard.set_defaults(handler=_rabbitx_onboard)
    return parser


# --- reconcile -------------------------------------------------------------------------------------


def _reconcile(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 when every balance equals the sum of its entries, 1 (with the differences) otherwise."""
    import boto3

    from croupier.aws import CLIENT_CONFIG
    from croupier.ledger.dynamo import DynamoLedgerStore
    from croupier.ledger.reconcile import reconcile

    table = args.table or ctx.environ.get("WALLET_TABLE")
    if not table:
        raise CliError("give --table or set WALLET_TABLE")
    client = boto3.session.Session().client("dynamodb", endpoint_url=args.endpoint_url, config=CLIENT_CONFIG)
    accounts, entries = DynamoLedgerStore(table, lambda: client).accounts_and_entries()
    report = reconcile(accounts, entries)
    ctx.out.write(json.dumps(report.as_dict(), indent=2) + "\n")
    return EXIT_OK if report.clean else EXIT_ERROR


def _day(text: str) -> str:
    import datetime

    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError("a date as YYYY-MM-DD") from None


def _recompute_revenue(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 when the day's counters equal the sums of its settled rounds (every currency), 1 otherwise.
    It scans the table: an operator's tool, run off-peak."""
    import boto3

    from croupier.aws import CLIENT_CONFIG
    from croupier.rgs.operators import DEFAULT_HOUSE_SHARE
    from croupier.rgs.revenue import counted, recompute
    from croupier.rgs.store import RgsStore

    table = args.table or ctx.environ.get("RGS_TABLE")
    if not table:
        raise CliError("give --table or set RGS_TABLE")
    client = boto3.session.Session().client("dynamodb", endpoint_url=args.endpoint_url, config=CLIENT_CONFIG)
    store = RgsStore(table, lambda: client)
    found = store.read_operator(args.operator)
    share = Decimal(found[0]["settings"].get("house_share", DEFAULT_HOUSE_SHARE)) if found else DEFAULT_HOUSE_SHARE
    counters = counted(store, args.operator, args.day, share)
    unreadable: list[str] = []
    rounds = recompute(store, args.operator, args.day, share, unreadable=unreadable)
    currencies = {
        currency: {
            "counters": counters[currency].as_dict() if currency in counters else None,
            "rounds": rounds[currency].as_dict() if currency in rounds else None,
            "same": counters.get(currency) == rounds.get(currency),
        }
        for currency in sorted(set(counters) | set(rounds))
    }
    clean = all(entry["same"] for entry in currencies.values()) and not unreadable
    report = {
        "operator_id": args.operator,
        "day": args.day,
        "clean": clean,
        "currencies": currencies,
        "unreadable": unreadable[:20],  # items with a settled status that are not whole rounds (not clean)
        "unreadable_count": len(unreadable),
    }
    ctx.out.write(json.dumps(report, indent=2) + "\n")
    return EXIT_OK if clean else EXIT_ERROR


# --- verify ----------------------------------------------------------------------------------------


def _verify(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 when every published value matches the recomputed one, 1 when any does not."""
    from croupier import fairness

    data: dict[str, Any] = {}
    if args.round_json == "-":
        data = json.loads(sys.stdin.read())
    elif args.round_json:
        with open(args.round_json, encoding="utf-8") as handle:
            data = json.load(handle)
    server_seed = args.server_seed or data.get("server_seed")
    client_seed = args.client_seed if args.client_seed is not None else data.get("client_seed")
    nonce = args.nonce if args.nonce is not None else data.get("nonce")
    if not server_seed or not isinstance(client_seed, str) or not isinstance(nonce, int) or nonce < 0:
        raise CliError("need the revealed server seed, the client seed and the nonce")
    rtp = str(args.rtp or data.get("rtp_target") or fairness.DEFAULT_RTP)
    max_win = int(args.max_win or data.get("max_win_multiplier") or fairness.DEFAULT_MAX_WIN_MULTIPLIER)
    result = fairness.outcome(server_seed, client_seed, nonce, rtp=rtp, max_win_multiplier=max_win)
    computed = {"server_seed_hash": fairness.seed_hash(server_seed), **result.as_dict()}
    published = {"server_seed_hash": data.get("server_seed_hash"), **(data.get("outcome") or {})}
    checks = {
        key: "MATCH" if str(value) == computed[key] else "MISMATCH"
        for key, value in published.items()
        if value is not None and key in computed
    }
    report: dict[str, Any] = {"computed": computed, "checks": checks}
    shown = args.shown_hash or data.get("shown_server_seed_hash")
    if shown:  # the commitment: the revealed seed must hash to what the player saw before betting
        checks["shown_before_bet"] = "MATCH" if str(shown).lower() == computed["server_seed_hash"] else "MISMATCH"
    else:
        report["unchecked"] = [UNCHECKED_COMMITMENT]
    ctx.out.write(json.dumps(report, indent=2) + "\n")
    return EXIT_ERROR if "MISMATCH" in checks.values() else EXIT_OK


UNCHECKED_COMMITMENT = (
    "shown_before_bet: give the hash the game showed before the bet (--shown-hash, or shown_server_seed_hash in "
    "the JSON) to check that this round used the committed seed"
)


# --- entry point -----------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    store: SecretStore | None = None,
    transport: Transport | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clock: Clock | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one command; answers the exit code. Everything from outside can be injected for tests."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except UsageError as usage:
        err.write(usage.parser.format_usage())
        err.write(f"{usage.parser.prog}: error: {_KEY_LIKE.sub('<redacted>', usage.message)}\n")
        return EXIT_USAGE
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else EXIT_OK

    ctx = Context(
        environ=environ if environ is not None else os.environ,
        store_factory=(lambda: store) if store is not None else default_store,
        transport=transport,
        clock=clock or time.time,
        out=out,
        err=err,
        timeout=getattr(args, "timeout", DEFAULT_TIMEOUT_SECONDS),
        stdin=stdin if stdin is not None else sys.stdin,
    )
    try:
        code: int = args.handler(args, ctx)
        return code
    except (CliError, CroupierError) as error:
        err.write(f"croupier: error: {ctx.scrub(_one_line(str(error)))}\n")
    except Exception as error:  # one line, never a traceback that could carry a value
        err.write(f"croupier: error: unexpected {type(error).__name__}: {ctx.scrub(_one_line(str(error)))}\n")
    return EXIT_ERROR


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


if __name__ == "__main__":
    raise SystemExit(main())
