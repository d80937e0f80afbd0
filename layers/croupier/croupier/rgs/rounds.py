"""A crash-game round: what it is (:class:`Round`, typed; :class:`StoredRound`, with its status and what
happened to it), its life (:data:`TRANSITIONS`), when the server acts on it, and how its player sees it. The game
that moves it is :mod:`croupier.rgs.game`; the curve and the arithmetic :mod:`croupier.rgs.curve`.

A round's life (its ``status``): ``placing`` (stored before the operator's wallet is called) → ``open``
(the wallet took the bet; the round started at that server time) → ``crashed`` or ``cashed_out`` (settled
once, by a conditional write that also adds the round to the day's revenue) → ``paid`` (the win reached the
wallet). A bet the wallet refuses is ``void``; a bet whose answer is unclear is refunded (``refunded``, or
``refund_pending`` until the retry queue gets it through). The server's clock is the only clock.

Every round the server still has to act on is in the store's ``due`` index with the time to act, and the
scheduled sweeper (:meth:`croupier.rgs.game.Game.sweep`) acts on those whose time has come, so nothing waits
for a player to come back: an open round is settled at its automatic cash-out or its crash point, looked at on
a schedule that does not depend on its outcome (:func:`next_check_ms`: the index is readable to whoever reads
the table, and the crash point is sealed); a round still ``placing`` a minute after it was stored (its request
died between storing the round and hearing from the wallet) is refunded; a win or refund still unpaid 15
minutes after it was due (the queue's tries failed, or the message was lost or dead-lettered) is sent again,
then every 15 minutes until the wallet takes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from croupier.rgs.curve import auto_cash_out, multiplier_cents, time_to_reach

TRANSITIONS: dict[str, frozenset[str]] = {
    "placing": frozenset({"open", "void", "refund_pending"}),
    "open": frozenset({"crashed", "cashed_out"}),
    "cashed_out": frozenset({"paid"}),
    "refund_pending": frozenset({"refunded"}),
}
"""Every change of a round's status (the docstring above, as data): ``crashed``, ``paid``, ``void`` and
``refunded`` are final. The data layer refuses any other move before it writes (a move to the same status only
changes when the sweeper looks at it next)."""
REVEALED = frozenset({"crashed", "cashed_out", "paid", "refunded"})


def may_move(expected: str, status: str) -> bool:
    """Whether a round in ``expected`` may be moved to ``status`` (:data:`TRANSITIONS`, or left where it is)."""
    return status == expected or status in TRANSITIONS.get(expected, frozenset())


PLACING_TIMEOUT_MS = 60_000
"""A round still ``placing`` this long after it was stored lost its request (functions time out after 10 s)."""
BACKSTOP_MS = 15 * 60_000
"""When the sweeper sends an unpaid win or refund again (the retry queue tries sooner, and keeps trying)."""


@dataclass(frozen=True, slots=True)
class Round:
    """What a round is from its bet on (its ``round`` attribute, as JSON); its status and what happened to it
    since are beside it (:class:`StoredRound`). ``server_seed`` and ``crash_cents`` are None while they are
    sealed and the round is not opened (:meth:`RgsStore.opened`). ``max_payout_minor`` and ``created_at_ms``
    are None in rounds stored before they were kept (and then left out of the JSON, as they were)."""

    round_id: str
    operator_id: str
    session_id: str
    operator_player_id: str
    currency: str
    bet_minor: int
    client_seed: str
    nonce: int
    server_seed_hash: str
    rtp_target: str
    max_win_multiplier: int
    auto_cash_out_cents: int | None = None
    max_payout_minor: int | None = None
    created_at_ms: int | None = None
    server_seed: str | None = None
    crash_cents: int | None = None

    @classmethod
    def from_json(cls, text: str, revealed: str | None = None) -> Round:
        """A round from its stored JSON (and, once settled, the JSON of its revealed fields); names a round
        does not know (none are written) are left aside."""
        data = json.loads(text)
        if revealed is not None:
            data.update(json.loads(revealed))
        return cls(**{name: data[name] for name in _ROUND_NAMES if name in data})

    def public_json(self) -> str:
        """The ``round`` attribute: every field but the sealed ones, sorted, as it has always been written."""
        data: dict[str, Any] = {
            "round_id": self.round_id,
            "operator_id": self.operator_id,
            "session_id": self.session_id,
            "operator_player_id": self.operator_player_id,
            "currency": self.currency,
            "bet_minor": self.bet_minor,
            "client_seed": self.client_seed,
            "nonce": self.nonce,
            "server_seed_hash": self.server_seed_hash,
            "auto_cash_out_cents": self.auto_cash_out_cents,
            "rtp_target": self.rtp_target,
            "max_win_multiplier": self.max_win_multiplier,
        }
        if self.max_payout_minor is not None:
            data["max_payout_minor"] = self.max_payout_minor
        if self.created_at_ms is not None:
            data["created_at_ms"] = self.created_at_ms
        return json.dumps(data, sort_keys=True)

    def sealed_part(self) -> dict[str, Any]:
        """The fields sealed until it settles (and revealed when it does): the round must be opened."""
        if self.server_seed is None or self.crash_cents is None:
            raise ValueError(f"round {self.round_id} is sealed: open it first")
        return {"server_seed": self.server_seed, "crash_cents": self.crash_cents}

    @property
    def opened_crash_cents(self) -> int:
        """The crash point of an opened (or settled) round."""
        if self.crash_cents is None:
            raise ValueError(f"round {self.round_id} is sealed: open it first")
        return self.crash_cents

    @property
    def opened_server_seed(self) -> str:
        if self.server_seed is None:
            raise ValueError(f"round {self.round_id} is sealed: open it first")
        return self.server_seed


_ROUND_NAMES = frozenset(Round.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a round was settled (its ``settlement`` attribute, as JSON): the cash-out's multiplier in hundredths
    (0: it crashed), the payout, and, for rounds settled since they were kept, when, the house's share fixed
    then, and the id that tells this settlement from any other."""

    cash_out_cents: int
    payout_minor: int
    settled_at_ms: int | None = None
    house_share: str | None = None
    settlement_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settlement:
        return cls(**{name: data[name] for name in _SETTLEMENT_NAMES if name in data})

    def as_dict(self) -> dict[str, Any]:
        """As stored: the fields it has (a settlement of before lacks the later ones)."""
        return {name: getattr(self, name) for name in sorted(_SETTLEMENT_NAMES) if getattr(self, name) is not None}

    @property
    def cash_out(self) -> str | None:
        """The cash-out's multiplier as shown (``"1.50"``), None for a crash."""
        return f"{Decimal(self.cash_out_cents).scaleb(-2):.2f}" if self.cash_out_cents else None


_SETTLEMENT_NAMES = frozenset(Settlement.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class StoredRound:
    """A round as stored: what the bet fixed, its status, what happened to it since (``fields``: its start, the
    wallet's balances, its settlement; read through the properties below) and its sealed part."""

    round: Round
    status: str
    fields: dict[str, Any]
    sealed: str | None = None
    """The sealed fields of an unsettled round (:meth:`RgsStore.opened` opens them); None once revealed."""

    @property
    def started_at_ms(self) -> int | None:
        """When the wallet took the bet (server time); None before."""
        return _whole(self.fields.get("started_at_ms"))

    @property
    def opened_at_ms(self) -> int:
        """The start of a round that is open (or was): the curve runs from it."""
        started = self.started_at_ms
        if started is None:
            raise ValueError(f"round {self.round.round_id} has not started")
        return started

    @property
    def settlement(self) -> Settlement | None:
        found = self.fields.get("settlement")
        return Settlement.from_dict(found) if isinstance(found, dict) else None

    @property
    def bet_balance_minor(self) -> int | None:
        """The balance the wallet answered to the bet."""
        return _whole(self.fields.get("bet_balance_minor"))

    @property
    def win_balance_minor(self) -> int | None:
        return _whole(self.fields.get("win_balance_minor"))

    @property
    def refund_balance_minor(self) -> int | None:
        return _whole(self.fields.get("refund_balance_minor"))


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


CHECK_STEP_MS = 20_000
"""The sweeper looks at an open round every this many ms after its start (and at its automatic cash-out and at
the operator's cap, if sooner), whatever its crash point: ~29 % of rounds are still running 20 s after their
start, ~9 % after 40 s, none after the cap (2,000x: 127 s). The player's own reads and cash-outs settle a
crashed round at once; the sweeper settles it at the first step past its crash (the next run, a minute apart,
was the delay before too)."""


def next_check_ms(placed: Round, started_ms: int, now_ms: int) -> int:
    """When the sweeper looks at an open round next (unix ms): the first :data:`CHECK_STEP_MS` step after
    ``now_ms``, or its automatic cash-out's time or the cap's, if sooner. None of these depends on the outcome
    (the target is the player's, the cap the operator's, both public), so the ``due`` index shows an insider
    nothing but what the live curve shows everyone: the round had not settled by the last check."""
    elapsed = max(0, now_ms - started_ms)
    step = (elapsed // CHECK_STEP_MS + 1) * CHECK_STEP_MS
    limit = time_to_reach(100 * placed.max_win_multiplier)
    target = placed.auto_cash_out_cents
    if target is not None:
        limit = min(limit, time_to_reach(target))
    return started_ms + (step if elapsed >= limit else min(step, limit))


def settles_after_ms(placed: Round) -> int:
    """How long after its start an open round settles by itself: at its automatic cash-out when the crash
    point reaches it, else at the crash point (``placed`` opened: :meth:`RgsStore.opened`)."""
    target = placed.auto_cash_out_cents
    crash = placed.opened_crash_cents
    if target is not None and auto_cash_out(target, crash).honoured:
        return time_to_reach(target)
    return time_to_reach(max(crash, 100))


def last_balance(stored: StoredRound) -> int | None:
    """The balance the operator's wallet reported last for this round (after its win, refund or bet)."""
    for value in (stored.win_balance_minor, stored.refund_balance_minor, stored.bet_balance_minor):
        if value is not None:
            return value
    return None


_NEXT_HASH = "sha256 of the server seed committed for the session's next round, before its bet"


class BetAnswer(TypedDict):
    round_id: str
    server_seed_hash: Annotated[
        str, Field(description="sha256 of the round's server seed: the next_server_seed_hash shown before the bet")
    ]
    client_seed: str
    nonce: int
    started_at: Annotated[str, Field(description="ISO-8601 UTC, milliseconds")]
    started_at_ms: int
    balance_minor: Annotated[int | None, Field(description="the balance the operator's wallet answered")]
    next_server_seed_hash: Annotated[str, Field(description=_NEXT_HASH)]


class PlayerRound(TypedDict):
    """A round as its player sees it: the seed and the crash point only once it is settled or refunded."""

    round_id: str
    status: str
    bet_minor: int
    server_seed_hash: str
    client_seed: str
    nonce: int
    rtp_target: Annotated[str, Field(description="the operator's RTP when the round was placed (for verifying)")]
    max_win_multiplier: Annotated[int, Field(description="the cap on the crash point when the round was placed")]
    created_at_ms: NotRequired[Annotated[int, Field(description="unix ms: when the bet was stored")]]
    started_at_ms: NotRequired[int]
    settled_at_ms: NotRequired[Annotated[int, Field(description="unix ms: when it crashed or was cashed out")]]
    multiplier: NotRequired[Annotated[str, Field(description="the multiplier now, while the round is open")]]
    cash_out: NotRequired[str | None]
    payout_minor: NotRequired[int]
    server_seed: NotRequired[str]
    crash_point: NotRequired[str]
    next_server_seed_hash: NotRequired[Annotated[str, Field(description=_NEXT_HASH + " (cash-out answers)")]]


class SessionState(TypedDict):
    session_id: str
    currency: str
    currency_exponent: Annotated[int, Field(description="the currency's ISO 4217 minor-unit exponent (KRW 0, USD 2)")]
    created_at: Annotated[str, Field(description="ISO-8601 UTC: when the operator launched the session")]
    expires_at: str
    server_time_ms: int
    balance_minor: Annotated[
        int | None,
        Field(description="the balance the operator's wallet reported last (or the launch's), null if never"),
    ]
    rounds: list[PlayerRound]
    next_server_seed_hash: Annotated[str, Field(description=_NEXT_HASH)]


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def player_view(stored: StoredRound, now: int) -> PlayerRound:
    """A round as its player sees it ``now``: the seed and the crash point only once it is settled or refunded."""
    placed = stored.round
    view: PlayerRound = {
        "round_id": placed.round_id,
        "status": stored.status,
        "bet_minor": placed.bet_minor,
        "server_seed_hash": placed.server_seed_hash,
        "client_seed": placed.client_seed,
        "nonce": placed.nonce,
        "rtp_target": placed.rtp_target,
        "max_win_multiplier": placed.max_win_multiplier,
    }
    if placed.created_at_ms is not None:
        view["created_at_ms"] = placed.created_at_ms
    started = stored.started_at_ms
    if started is not None:
        view["started_at_ms"] = started
        if stored.status == "open":
            view["multiplier"] = f"{Decimal(multiplier_cents(now - started)).scaleb(-2):.2f}"
    settlement = stored.settlement
    if settlement is not None:
        view["cash_out"] = settlement.cash_out
        view["payout_minor"] = settlement.payout_minor
        if settlement.settled_at_ms is not None:
            view["settled_at_ms"] = settlement.settled_at_ms
    if stored.status in REVEALED:
        view["server_seed"] = placed.opened_server_seed
        view["crash_point"] = f"{Decimal(placed.opened_crash_cents).scaleb(-2):.2f}"
    return view
