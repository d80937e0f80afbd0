"""Player protection on the account: exclusion, limits and the window counters a movement decides them from.

Everything here is plain data and arithmetic. The state lives on the account item the movement's transaction
already writes (:mod:`croupier.ledger.dynamo`), so the decision taken here from the account's snapshot is proved
by that transaction's own condition (the account's ``version`` and protection ``revision``): a stake is one round
trip, and two concurrent stakes can never pass a limit together (the second one's snapshot is stale, its
transaction is cancelled, and it is decided again on the state the first one left).

Windows are UTC: the calendar day, the ISO week (Monday to Sunday, ``2026-W48``) and the calendar month. A
window's counters start from zero in a new window: they are kept under the window's key and a key other than the
current one counts as zero. Counters: ``wager`` (stakes), ``loss`` (net loss: stakes minus wins, may be
negative) and ``deposit``. A limit binds when the total *after* the movement would pass it: a stake that makes
the total exactly equal to the limit passes, one unit more is refused. Every limit applies (day, week and month
each against its own window), so the lowest one binds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from croupier.errors import Forbidden

METRICS = ("deposit", "loss", "wager")
PERIODS = ("day", "week", "month")
INCREASE_DELAY = timedelta(hours=24)
"""A limit's increase or removal takes effect this long after it was asked for (a decrease: at once)."""


class Purpose(StrEnum):
    """What a movement is to player protection."""

    STAKE = "stake"
    """A bet: refused while excluded or past a wager or loss limit; counts as wagered and lost."""
    WIN = "win"
    """Money owed to the player (a win, a credit): never refused; reduces the net loss."""
    DEPOSIT = "deposit"
    """Refused while excluded or past a deposit limit; counted as deposited."""
    WITHDRAWAL = "withdrawal"
    """Never refused by protection, not counted."""


class ExclusionKind(StrEnum):
    SELF_EXCLUSION = "self_exclusion"
    TIME_OUT = "time_out"


def parse_time(text: str) -> datetime:
    """An ISO-8601 time with a zone (``Z`` or an offset), as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is UTC:  # what format_time and the ledger's clock write: nothing to convert
        return moment
    if moment.tzinfo is None:
        raise ValueError("a time needs its zone")
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def window_key(period: str, moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = moment.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period == "month":
        return moment.strftime("%Y-%m")
    raise ValueError(f"unknown period {period!r}")


_KEYS: dict[int, tuple[str, ...]] = {}
_KEYS_KEPT = 64


def window_keys(moment: datetime) -> tuple[str, ...]:
    """The keys of the windows of :data:`PERIODS` that ``moment`` lies in (day, ISO week, month), as
    :func:`window_key` gives them; worked out once per UTC day and kept (a movement pays a dict lookup, not three
    calendar computations)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    day = moment.toordinal()
    keys = _KEYS.get(day)
    if keys is None:
        keys = tuple(window_key(period, moment) for period in PERIODS)
        if len(_KEYS) >= _KEYS_KEPT:
            _KEYS.clear()
        _KEYS[day] = keys
    return keys


@dataclass(frozen=True, slots=True)
class Exclusion:
    kind: ExclusionKind
    until: str | None
    """UTC end (exclusive), or None: indefinite."""
    set_at: str

    def active(self, now: datetime) -> bool:
        return self.until is None or now < parse_time(self.until)


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit (a metric over a period) in units: the value in force and a pending increase or removal."""

    metric: str
    period: str
    value: int | None
    pending: int | None = None
    """The value once ``pending_at`` has come (None: the limit is removed then)."""
    pending_at: str | None = None

    def at(self, now: datetime) -> int | None:
        if self.pending_at is not None and now >= parse_time(self.pending_at):
            return self.pending
        return self.value

    def settled(self, now: datetime) -> Limit:
        """The same limit with a pending change that has come folded in."""
        if self.pending_at is not None and now >= parse_time(self.pending_at):
            return Limit(self.metric, self.period, self.pending)
        return self


@dataclass(frozen=True, slots=True)
class Window:
    """A window's counters under its key (``2026-11-29``, ``2026-W48``, ``2026-11``)."""

    period: str
    key: str
    wager: int = 0
    loss: int = 0
    deposit: int = 0

    def get(self, metric: str) -> int:
        return int(getattr(self, metric))


@dataclass(frozen=True, slots=True)
class Protection:
    """An account's protection state. ``revision`` counts the admin changes to exclusion and limits."""

    revision: int = 0
    exclusion: Exclusion | None = None
    limits: tuple[Limit, ...] = ()
    windows: tuple[Window, ...] = ()

    def window(self, period: str, now: datetime) -> Window:
        """The current window of ``period`` (zero when the stored one is of an earlier key)."""
        key = window_keys(now)[PERIODS.index(period)] if period in PERIODS else window_key(period, now)
        return self.window_at(period, key)

    def window_at(self, period: str, key: str) -> Window:
        """The window of ``period`` under ``key`` (zero when the stored one is of another key)."""
        for window in self.windows:
            if window.period == period and window.key == key:
                return window
        return Window(period, key)

    def limit(self, metric: str, period: str) -> Limit | None:
        for limit in self.limits:
            if limit.metric == metric and limit.period == period:
                return limit
        return None

    def excluded(self, now: datetime) -> bool:
        return self.exclusion is not None and self.exclusion.active(now)


NO_PROTECTION = Protection()


# --- refusals ------------------------------------------------------------------------------------------


class ProtectionRefusal(Forbidden):
    """A movement refused by player protection (each provider answers it in its own decline form)."""

    metric = "Declines"


class PlayerExcluded(ProtectionRefusal):
    code = "PLAYER_EXCLUDED"


class WagerLimitReached(ProtectionRefusal):
    code = "WAGER_LIMIT"


class LossLimitReached(ProtectionRefusal):
    code = "LOSS_LIMIT"


class DepositLimitReached(ProtectionRefusal):
    code = "DEPOSIT_LIMIT"


_REFUSALS: dict[str, type[ProtectionRefusal]] = {
    "wager": WagerLimitReached,
    "loss": LossLimitReached,
    "deposit": DepositLimitReached,
}


# --- deciding a movement -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """What a movement adds to each counter (negative for a win or a reversal)."""

    wager: int = 0
    loss: int = 0
    deposit: int = 0
    checked: tuple[str, ...] = field(default=())
    """The metrics whose limits the movement must respect."""


def contribution(purpose: Purpose, amount: int) -> Contribution:
    if purpose is Purpose.STAKE:
        return Contribution(wager=amount, loss=amount, checked=("wager", "loss"))
    if purpose is Purpose.WIN:
        return Contribution(loss=-amount)
    if purpose is Purpose.DEPOSIT:
        return Contribution(deposit=amount, checked=("deposit",))
    return Contribution()


def decide(protection: Protection, purpose: Purpose, amount: int, now: datetime) -> Protection:
    """The protection state after the movement, or the refusal (nothing to write). Money owed to the player and
    withdrawals are never refused; an excluded player can neither stake nor deposit."""
    if protection.exclusion is not None and purpose in _REFUSABLE and protection.excluded(now):
        raise PlayerExcluded("the player is excluded from gambling")
    if purpose is Purpose.STAKE:  # the hot path (every bet): the contribution without building one
        return _added(protection, amount, amount, 0, _STAKE_CHECKED, now, check=True)
    return apply(protection, contribution(purpose, amount), now, check=True)


_REFUSABLE = frozenset({Purpose.STAKE, Purpose.DEPOSIT})
_STAKE_CHECKED = ("wager", "loss")


def apply(protection: Protection, add: Contribution, now: datetime, *, check: bool = False) -> Protection:
    """Add ``add`` to the current windows (checking the limits of ``add.checked`` when ``check``: a stake of 0 is
    checked too, so that a total already past its limit, after a decrease, refuses every further stake).

    Every movement of a game or the cashier comes here, limits or not (the counters must hold the stakes made
    before a limit is set), so it is kept to integer additions: the window keys come from :func:`window_keys`'
    per-day cache and an account without limits checks nothing."""
    if not (add.wager or add.loss or add.deposit or check):
        return protection
    return _added(protection, add.wager, add.loss, add.deposit, add.checked, now, check=check)


def _added(
    protection: Protection, wager: int, loss: int, deposit: int, checked: tuple[str, ...], now: datetime, *, check: bool
) -> Protection:
    checking = check and checked and protection.limits
    windows = []
    stored = protection.windows
    for period, key in zip(PERIODS, window_keys(now), strict=True):
        after = Window(period, key, wager, loss, deposit)
        for current in stored:
            if current.period == period and current.key == key:
                after = Window(period, key, current.wager + wager, current.loss + loss, current.deposit + deposit)
                break
        if checking:
            for metric in checked:
                limit = protection.limit(metric, period)
                value = None if limit is None else limit.at(now)
                if value is not None and after.get(metric) > value:
                    raise _REFUSALS[metric](f"the {period}'s {metric} limit would be passed")
        windows.append(after)
    return Protection(protection.revision, protection.exclusion, protection.limits, tuple(windows))


ADMIN_PROVIDER = "admin"


def purpose_of(provider: str, kind_is_debit: bool) -> Purpose:
    """What a movement counts as unless it says: the admin provider's entries are deposits and withdrawals, the
    game providers' are stakes and wins (also what a reversed entry had counted as)."""
    if provider == ADMIN_PROVIDER:
        return Purpose.WITHDRAWAL if kind_is_debit else Purpose.DEPOSIT
    return Purpose.STAKE if kind_is_debit else Purpose.WIN


def undo(protection: Protection, purpose: Purpose, amount: int, created_at: str, now: datetime) -> Protection:
    """Take a reversed entry's counts out of the current windows, for each window it was counted in."""
    was = contribution(purpose, amount)
    if not (was.wager or was.loss or was.deposit):
        return protection
    at = parse_time(created_at)
    windows = []
    for period in PERIODS:
        current = protection.window(period, now)
        if window_key(period, at) == current.key:
            current = Window(
                period,
                current.key,
                wager=current.wager - was.wager,
                loss=current.loss - was.loss,
                deposit=current.deposit - was.deposit,
            )
        windows.append(current)
    return replace(protection, windows=tuple(windows))
