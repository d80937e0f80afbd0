"""Player protection's rules in time, on DynamoDB Local with injected clocks (no sleeping): cooling-off to the
microsecond, limit increases pending 24 hours, windows that start from zero (UTC day, ISO week, calendar month),
exclusions written to every account of the player, and bad input answered with a documented 4xx, nothing written.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from croupier.checks import InvalidRequest
from croupier.errors import CroupierError
from croupier.jsonbody import InvalidJson
from croupier.ledger import AccountKey, Kind, Ledger, Movement
from croupier.ledger.protection import (
    DepositLimitReached,
    PlayerExcluded,
    WagerLimitReached,
    format_time,
    window_key,
)
from croupier.money import InvalidAmount, UnknownCurrency
from croupier.protection import CoolingOff, ExclusionActive, InvalidUntil, NotExcluded, PlayerProtection
from croupier.wallet import wiring
from croupier_local.server import LocalStack

pytestmark = pytest.mark.dynamodb_local

T0 = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # a Sunday: the ISO week 2026-W48 ends at midnight


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def iso(self) -> str:
        return format_time(self.at)


@pytest.fixture
def clock(local_stack: LocalStack) -> Clock:
    return Clock(T0)


def new_player(currencies: tuple[str, ...] = ("EUR",)) -> str:
    player_id = f"pr-{uuid.uuid4().hex[:16]}"
    wiring.admin().create_player(json.dumps({"player_id": player_id, "currencies": list(currencies)}).encode())
    for currency in currencies:
        seed = Movement("admin", f"seed-{player_id}-{currency}", AccountKey(player_id, currency), Kind.CREDIT, 10**12)
        Ledger(wiring.ledger_store(), now=lambda: "2026-01-01T00:00:00.000000Z").move(seed)
    return player_id


def admin(clock: Clock) -> PlayerProtection:
    return PlayerProtection(wiring.ledger_store(), now=clock)


def ledger(clock: Clock) -> Ledger:
    return Ledger(wiring.ledger_store(), now=clock.iso)


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def stake(player_id: str, cents: int, currency: str = "EUR", provider: str = "ruby") -> Movement:
    return Movement(provider, uuid.uuid4().hex, AccountKey(player_id, currency), Kind.DEBIT, cents * 100)


# --- exclusions ----------------------------------------------------------------------------------------------


def test_an_exclusion_reaches_every_account_and_lifts_only_after_its_cooling_off(clock: Clock) -> None:
    player = new_player(("EUR", "KRW"))
    until = format_time(T0 + timedelta(days=30))
    view = admin(clock).exclude(player, body({"kind": "self_exclusion", "until": until}), "arn:test")
    assert view["exclusion"] is not None
    assert view["exclusion"]["lift_allowed_from"] == format_time(T0 + timedelta(hours=24))
    for currency in ("EUR", "KRW"):
        with pytest.raises(PlayerExcluded):
            ledger(clock).move(stake(player, 1, currency))

    clock.at = T0 + timedelta(hours=24) - timedelta(microseconds=1)
    with pytest.raises(CoolingOff):
        admin(clock).lift(player, "arn:test")
    clock.at = T0 + timedelta(hours=24)
    assert admin(clock).lift(player, "arn:test")["exclusion"] is None
    ledger(clock).move(stake(player, 1, "KRW"))
    with pytest.raises(NotExcluded):
        admin(clock).lift(player, "arn:test")


def test_an_indefinite_exclusion_cools_off_for_seven_days_and_cannot_be_shortened(clock: Clock) -> None:
    player = new_player()
    admin(clock).exclude(player, body({"kind": "self_exclusion", "until": None}), "arn:test")
    with pytest.raises(ExclusionActive):
        admin(clock).exclude(player, body({"kind": "time_out", "until": format_time(T0 + timedelta(days=365))}), "x")
    clock.at = T0 + timedelta(days=7) - timedelta(microseconds=1)
    with pytest.raises(CoolingOff):
        admin(clock).lift(player, "arn:test")
    with pytest.raises(PlayerExcluded):
        ledger(clock).move(stake(player, 1))
    clock.at = T0 + timedelta(days=7)
    admin(clock).lift(player, "arn:test")
    page = admin(clock).audit(player, {})
    assert [(r["action"], r["principal"]) for r in page["items"]] == [
        ("exclusion.set", "arn:test"),
        ("exclusion.lift", "arn:test"),
    ]


def test_a_time_out_ends_by_itself_at_its_until(clock: Clock) -> None:
    player = new_player()
    admin(clock).exclude(player, body({"kind": "time_out", "until": format_time(T0 + timedelta(hours=6))}), "x")
    clock.at = T0 + timedelta(hours=6) - timedelta(microseconds=1)
    with pytest.raises(PlayerExcluded):
        ledger(clock).move(stake(player, 1))
    clock.at = T0 + timedelta(hours=6)
    ledger(clock).move(stake(player, 1))


# --- limits --------------------------------------------------------------------------------------------------


def test_an_increase_waits_24_hours_a_decrease_applies_at_once(clock: Clock) -> None:
    player = new_player()
    admin(clock).set_limits(player, body({"currency": "EUR", "wager": {"month": "10.00"}}), "x")
    answer = admin(clock).set_limits(player, body({"currency": "EUR", "wager": {"month": "20.00"}}), "x")
    assert answer["limits"]["wager"]["month"] == {
        "value": "10.00",
        "pending": {"value": "20.00", "effective_at": format_time(T0 + timedelta(hours=24))},
    }
    ledger(clock).move(stake(player, 1000))
    with pytest.raises(WagerLimitReached):
        ledger(clock).move(stake(player, 1))
    clock.at = T0 + timedelta(hours=24)
    ledger(clock).move(stake(player, 1000))  # the increase has come: 20.00 in the month
    with pytest.raises(WagerLimitReached):
        ledger(clock).move(stake(player, 1))
    answer = admin(clock).set_limits(player, body({"currency": "EUR", "wager": {"month": None}}), "x")
    assert answer["limits"]["wager"]["month"]["pending"]["value"] is None, "a removal waits 24 hours too"
    answer = admin(clock).set_limits(player, body({"currency": "EUR", "wager": {"month": "5.00"}}), "x")
    assert answer["limits"]["wager"]["month"] == {"value": "5.00"}, "a decrease replaces a pending removal at once"


def test_windows_start_from_zero_the_day_the_iso_week_and_the_month_after(clock: Clock) -> None:
    player = new_player()
    limits = {"currency": "EUR", "wager": {"day": "1.00", "week": "2.00", "month": "3.00"}}
    admin(clock).set_limits(player, body(limits), "x")
    ledger(clock).move(stake(player, 100))  # Sunday 23:00: day, week 48 and November each at 1.00
    with pytest.raises(WagerLimitReached):
        ledger(clock).move(stake(player, 1))
    clock.at = T0 + timedelta(hours=1)  # Monday 2026-11-30 00:00: a new day and a new ISO week, still November
    assert (window_key("day", clock.at), window_key("week", clock.at)) == ("2026-11-30", "2026-W49")
    ledger(clock).move(stake(player, 100))  # day 1.00, week 49 1.00, November 2.00
    ledger(clock).move(stake(player, 0))
    with pytest.raises(WagerLimitReached):
        ledger(clock).move(stake(player, 1))
    clock.at = datetime(2026, 12, 1, tzinfo=UTC)  # Tuesday: a new day and a new month, week 49 at 1.00
    ledger(clock).move(stake(player, 100))  # week 49 at its 2.00
    clock.at = datetime(2026, 12, 2, tzinfo=UTC)  # Wednesday: a new day, but the week's limit binds
    with pytest.raises(WagerLimitReached):
        ledger(clock).move(stake(player, 1))
    usage = admin(clock).limits(player)["currencies"]["EUR"]["usage"]
    assert usage["month"] == {"window": "2026-12", "wagered": "1.00", "net_loss": "1.00", "deposited": "0.00"}
    assert usage["week"]["wagered"] == "2.00"


def test_deposits_bind_at_the_deposit_limit_and_withdrawals_are_never_refused(clock: Clock) -> None:
    player = new_player()
    admin(clock).set_limits(player, body({"currency": "EUR", "deposit": {"day": "10.00"}}), "x")
    account = AccountKey(player, "EUR")
    ledger(clock).move(Movement("admin", uuid.uuid4().hex, account, Kind.CREDIT, 1000 * 100))
    with pytest.raises(DepositLimitReached):
        ledger(clock).move(Movement("admin", uuid.uuid4().hex, account, Kind.CREDIT, 1))
    admin(clock).exclude(player, body({"kind": "self_exclusion", "until": None}), "x")
    with pytest.raises(PlayerExcluded):  # excluded: no deposit at all, limit or not
        ledger(clock).move(Movement("admin", uuid.uuid4().hex, account, Kind.CREDIT, 1))
    ledger(clock).move(Movement("admin", uuid.uuid4().hex, account, Kind.DEBIT, 5000 * 100))  # a withdrawal


# --- bad input: a documented 4xx, nothing written ----------------------------------------------------------------


BAD_EXCLUSIONS = [
    ({"kind": "ban", "until": None}, InvalidRequest),
    ({"kind": "time_out"}, InvalidRequest),
    ({"kind": "time_out", "until": None, "extra": 1}, InvalidRequest),
    ({"kind": "time_out", "until": "2026-12-01T00:00:00"}, InvalidUntil),
    ({"kind": "time_out", "until": "2026-12-01T00:00:00+01:00"}, InvalidUntil),
    ({"kind": "time_out", "until": "2026-11-29T22:59:59Z"}, InvalidUntil),
    ({"kind": "time_out", "until": "2026-13-01T00:00:00Z"}, InvalidUntil),
    ({"kind": "time_out", "until": 1796000000}, InvalidRequest),
    ([], InvalidJson),
]


@pytest.mark.parametrize(("data", "error"), BAD_EXCLUSIONS, ids=[json.dumps(d)[:60] for d, _ in BAD_EXCLUSIONS])
def test_a_bad_exclusion_is_refused_and_writes_nothing(clock: Clock, data: Any, error: type[CroupierError]) -> None:
    player = new_player()
    with pytest.raises(error) as refused:
        admin(clock).exclude(player, body(data), "x")
    assert 400 <= refused.value.status < 500
    assert admin(clock).exclusion(player)["exclusion"] is None
    assert admin(clock).audit(player, {})["items"] == []


BAD_LIMITS = [
    ({"currency": "EUR"}, InvalidRequest),
    ({"currency": "EUR", "wager": {}}, InvalidRequest),
    ({"currency": "EUR", "wager": {"year": "1.00"}}, InvalidRequest),
    ({"currency": "EUR", "bets": {"day": "1.00"}}, InvalidRequest),
    ({"currency": "EUR", "wager": {"day": 1}}, InvalidRequest),
    ({"currency": "EUR", "wager": {"day": "1.001"}}, InvalidAmount),
    ({"currency": "EUR", "wager": {"day": "-1.00"}}, InvalidAmount),
    ({"currency": "EUR", "wager": {"day": "1e3"}}, InvalidAmount),
    ({"currency": "KRW", "wager": {"day": "1.5"}}, InvalidAmount),
    ({"currency": "XXX", "wager": {"day": "1"}}, UnknownCurrency),
    ({"currency": "eur", "wager": {"day": "1"}}, InvalidRequest),
    ({"currency": "USD", "wager": {"day": "1"}}, CroupierError),  # no USD account: 404 UNKNOWN_ACCOUNT
]


@pytest.mark.parametrize(("data", "error"), BAD_LIMITS, ids=[json.dumps(d)[:60] for d, _ in BAD_LIMITS])
def test_bad_limits_are_refused_and_write_nothing(clock: Clock, data: Any, error: type[CroupierError]) -> None:
    player = new_player(("EUR", "KRW"))
    with pytest.raises(error) as refused:
        admin(clock).set_limits(player, body(data), "x")
    assert 400 <= refused.value.status < 500
    assert all(not c["limits"] for c in admin(clock).limits(player)["currencies"].values())
    assert admin(clock).audit(player, {})["items"] == []


@pytest.mark.parametrize(
    ("raw_player_id", "query", "code"),
    [
        ("no such player", {}, "INVALID_REQUEST"),
        ("pr-unknown-player", {}, "UNKNOWN_PLAYER"),
        (None, {"limit": "0"}, "INVALID_REQUEST"),
        (None, {"limit": "101"}, "INVALID_REQUEST"),
        (None, {"cursor": "not-a-cursor"}, "INVALID_CURSOR"),
        (None, {"cursor": "eyJwayI6eyJTIjoiQVVESVQjc29tZW9uZSJ9LCJzayI6eyJTIjoieCJ9fQ"}, "INVALID_CURSOR"),
    ],
)
def test_bad_audit_reads_are_a_documented_4xx(
    clock: Clock, raw_player_id: str | None, query: dict[str, str], code: str
) -> None:
    player = raw_player_id or new_player()
    with pytest.raises(CroupierError) as refused:
        admin(clock).audit(player, query)
    assert (refused.value.status // 100, refused.value.code) == (4, code)
