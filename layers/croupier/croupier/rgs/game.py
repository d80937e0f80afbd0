"""The crash game: a session's bets and cash-outs, the settlement of its rounds exactly once, the win paid
until it is paid, and the sweeper that acts on every round the server still owes something (each round's life
is :mod:`croupier.rgs.rounds`; the curve and the arithmetic :mod:`croupier.rgs.curve`).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from croupier import fairness, money
from croupier.checks import InvalidRequest, validated
from croupier.clients.operator_wallet import DEFAULT_TIMEOUT_SECONDS, WalletAnswer, WalletCall
from croupier.errors import BadRequest, Conflict, CroupierError, NotFound, Unauthorized, Unavailable
from croupier.jsonbody import parse_object
from croupier.observability import CountsFromThreads, count, logger
from croupier.rgs.attempts import time_budget
from croupier.rgs.credentials import new_server_seed, token_hash
from croupier.rgs.curve import auto_cash_out, manual_cash_out, payout_minor
from croupier.rgs.operators import DEFAULT_HOUSE_SHARE, OperatorSettings
from croupier.rgs.rounds import (
    BACKSTOP_MS,
    PLACING_TIMEOUT_MS,
    BetAnswer,
    PlayerRound,
    Round,
    SessionState,
    Settlement,
    StoredRound,
    iso_ms,
    last_balance,
    next_check_ms,
    player_view,
    settles_after_ms,
)
from croupier.rgs.store import RgsStore

MAX_BET_MINOR = 10**12
_CLIENT_SEED = re.compile(r"[\x21-\x7e]{1,64}")
DEFAULT_BUDGET_MS = 10_000
"""A request's time where no Lambda context tells it: the API functions' timeout in template.yaml."""
ANSWER_MARGIN_MS = 2_000
"""Kept after the last wallet call of a request: one DynamoDB write or SQS send (each at most 2 s) and the answer."""
MIN_WALLET_CALL_MS = 1_000
"""A wallet call is not started with less than this (after the margin): a refund is queued instead."""
SWEEP_WORKERS = 32
"""Rounds a sweeper run works on at once. 10,000 due rounds a minute are ~170 a second; on AWS a round takes
~25 ms of DynamoDB (2 to 4 calls of 5-10 ms) plus, for a win or refund, one call of the operator's wallet
(~100-200 ms): ~170 rounds/s x ~0.1-0.2 s = 17-34 in flight. 32 workers keep up with wallets answering in
~0.2 s on average; what limits a run beyond that is one core's CPU (Python's GIL: see the README's figures).
Each worker's DynamoDB calls need a connection: ``croupier.aws.CLIENT_CONFIG`` pools at least this many."""
SWEEP_MARGIN_MS = 12_000
"""A run picks no new round with less than this left: the longest one round can take (a read, a settlement,
a read and the move to paid, each at most 1.5 s with ``croupier.aws``'s timeouts, and the wallet's 5 s: 11 s)
and a second for the answer. What is not picked stays due for the next run."""
SWEEP_LIMIT = 20_000
"""Due rounds one run reads (twice the 10,000 a minute it is sized for); the rest waits for the next run."""


class Wallet(Protocol):
    """The operator's wallet; ``timeout`` (seconds) shortens a call below the client's own timeout."""

    def bet(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer: ...

    def win(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer: ...

    def refund(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer: ...


class Budget:
    """The time a request has left: the Lambda context's ``get_remaining_time_in_millis`` where there is one,
    else :data:`DEFAULT_BUDGET_MS` from when the budget was made."""

    def __init__(
        self, time_left_ms: Callable[[], int] | None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._time_left_ms = time_left_ms
        self._monotonic = monotonic
        self._deadline = monotonic() + DEFAULT_BUDGET_MS / 1000

    def left_ms(self) -> int:
        if self._time_left_ms is not None:
            return self._time_left_ms()
        return int((self._deadline - self._monotonic()) * 1000)

    def wallet_timeout(self) -> float | None:
        """Seconds for the next wallet call (at most the client's 5 s), leaving :data:`ANSWER_MARGIN_MS`;
        ``None`` when less than :data:`MIN_WALLET_CALL_MS` would be left for it."""
        usable = self.left_ms() - ANSWER_MARGIN_MS
        if usable < MIN_WALLET_CALL_MS:
            return None
        return min(DEFAULT_TIMEOUT_SECONDS, usable / 1000)


class RetryQueue(Protocol):
    def enqueue(self, kind: str, round_id: str) -> None:
        """Ask for ``kind`` ("win" or "refund") of ``round_id`` to be tried again later, until it succeeds."""
        ...


class InvalidSession(Unauthorized):
    code = "INVALID_SESSION"


class SessionExpired(Unauthorized):
    code = "SESSION_EXPIRED"


class SessionEnded(Unauthorized):
    code = "SESSION_ENDED"


class TooManyBets(CroupierError):
    """More bets in one second than the operator's ``max_bets_per_second`` for a session: nothing is played."""

    status = 429
    code = "TOO_MANY_BETS"
    metric = "BetsRateLimited"


class BetRefused(CroupierError):
    """The operator's wallet refused the bet: the round is void."""

    status = 402
    code = "BET_REFUSED"


class BetBelowMinimum(BadRequest):
    code = "BET_BELOW_MINIMUM"


class BetAboveMaximum(BadRequest):
    code = "BET_ABOVE_MAXIMUM"


class BetNotConfirmed(Unavailable):
    """The wallet's answer was unclear: the bet was refunded (or will be), nothing is at stake."""

    code = "BET_NOT_CONFIRMED"


class CommitmentChanged(Conflict):
    """The session's committed server seed is not the one the bet was placed against (another bet of the
    session took it, or it was replaced): nothing is played; read ``next_server_seed_hash`` and bet again."""

    code = "COMMITMENT_CHANGED"


class UnknownRound(NotFound):
    code = "UNKNOWN_ROUND"


class RoundNotOpen(Conflict):
    code = "ROUND_NOT_OPEN"


class BetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount_minor: Annotated[StrictInt, Field(ge=1, le=MAX_BET_MINOR)]
    client_seed: StrictStr | None = None
    auto_cash_out: Decimal | None = Field(default=None, ge=Decimal("1.01"), decimal_places=2)
    server_seed_hash: Annotated[
        StrictStr | None,
        Field(
            default=None,
            pattern=r"^[0-9a-f]{64}$",
            description="the next_server_seed_hash the player saw: the bet is refused (409) unless it is the one used",
        ),
    ] = None

    @field_validator("client_seed")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not _CLIENT_SEED.fullmatch(value):
            raise ValueError("1 to 64 printable ASCII characters")
        return value


class CashOutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    round_id: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^r_[0-9a-f]{32}$")]


class Game:
    def __init__(
        self,
        store: RgsStore,
        settings_for: Callable[[str], OperatorSettings | None],
        wallet_for: Callable[[str], Wallet],
        retries: RetryQueue,
        *,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.store = store
        self.settings_for = settings_for
        self.wallet_for = wallet_for
        self.retries = retries
        self.clock_ms = clock_ms

    # sessions -------------------------------------------------------------------------------------

    def session(self, token: str) -> tuple[str, dict[str, Any]]:
        if not token or len(token) > 128:
            raise InvalidSession("no session token")
        hashed = token_hash(token)
        found = self.store.read_session(hashed)
        if found is None:
            raise InvalidSession("unknown session")
        session, expires = found
        if "ended_at" in session:
            raise SessionEnded("the operator ended this session")
        if self.clock_ms() >= expires * 1000:
            raise SessionExpired("the session has expired; launch the game again")
        return hashed, session

    # bet ------------------------------------------------------------------------------------------

    def bet(self, token: str, body: bytes, *, time_left_ms: Callable[[], int] | None = None) -> BetAnswer:
        """Place a bet. The operator's wallet calls fit in the request's time (``time_left_ms``, the Lambda
        context's; a 10 s budget without one): the bet waits at most what is left after a margin for the
        answer, and an unclear bet's refund is tried inline only when time is left for it, else queued."""
        budget = Budget(time_left_ms)
        with time_budget(budget.left_ms):
            return self._bet(token, body, budget)

    def _bet(self, token: str, body: bytes, budget: Budget) -> BetAnswer:
        hashed, session = self.session(token)
        request = validated(BetRequest, parse_object(body))
        settings = self.settings_for(session["operator_id"])
        if settings is None or not settings.enabled:
            raise InvalidSession("the operator is not enabled")
        cap = settings.max_win_multiplier
        if request.auto_cash_out is not None and request.auto_cash_out > cap:
            raise InvalidRequest(f"auto_cash_out must be at most the operator's cap of {cap}")
        limits = settings.limits_for(session["currency"])
        if request.amount_minor < limits.min_bet_minor:
            raise BetBelowMinimum(f"the minimum bet is {limits.min_bet_minor} minor units of {session['currency']}")
        if request.amount_minor > limits.max_bet_minor:
            raise BetAboveMaximum(f"the maximum bet is {limits.max_bet_minor} minor units of {session['currency']}")
        committed, fresh = self._commitment(hashed, session)
        if fresh:  # its player cannot have seen it: nothing is played against it yet
            raise CommitmentChanged("a server seed was committed for this session now; read it and bet again")
        if request.server_seed_hash is not None and request.server_seed_hash != committed:
            raise CommitmentChanged("the committed server seed is not the one named; read it again and bet again")
        next_seed = new_server_seed()  # the next round's, committed in the write that takes this one's
        next_hash = fairness.seed_hash(next_seed)
        taken = self.store.next_nonce(
            hashed,
            second=self.clock_ms() // 1000,
            max_per_second=settings.max_bets_per_second,
            last_second=session.get("bet_second"),
            committed_hash=committed,
            next_seed=next_seed,
            next_seed_hash=next_hash,
        )
        if taken == "moved":
            raise CommitmentChanged("the committed server seed changed (another bet took it); read it and bet again")
        if taken == "limited":
            raise TooManyBets(f"at most {settings.max_bets_per_second} bets a second in a session")
        if taken == "ended":
            raise SessionEnded("the operator ended this session")
        if not isinstance(taken, tuple):
            raise InvalidSession("unknown session")
        nonce, server_seed = taken  # the seed committed before this bet arrived: the condition held its hash
        if fairness.seed_hash(server_seed) != committed:
            raise CommitmentChanged("the committed server seed does not match its hash; nothing is played")
        client_seed = request.client_seed or session["session_id"]
        crash = fairness.crash_cents(server_seed, client_seed, nonce, rtp=settings.rtp_target, max_win_multiplier=cap)
        round_id = "r_" + uuid.uuid4().hex
        created = self.clock_ms()
        placed = Round(
            round_id=round_id,
            operator_id=session["operator_id"],
            session_id=session["session_id"],
            operator_player_id=session["operator_player_id"],
            currency=session["currency"],
            bet_minor=request.amount_minor,
            client_seed=client_seed,
            nonce=nonce,
            server_seed=server_seed,
            server_seed_hash=fairness.seed_hash(server_seed),
            crash_cents=crash,
            auto_cash_out_cents=int(request.auto_cash_out * 100) if request.auto_cash_out else None,
            rtp_target=str(settings.rtp_target),
            max_win_multiplier=cap,
            max_payout_minor=limits.max_payout_minor,
            created_at_ms=created,
        )
        self.store.create_round(placed, "placing", due_at_ms=created + PLACING_TIMEOUT_MS)
        wallet = self.wallet_for(session["operator_id"])
        timeout = budget.wallet_timeout()
        if timeout is None:  # nothing was sent: nothing is at stake
            self.store.move_round(
                round_id,
                "placing",
                "void",
                {"void_reason": "no time left to call the wallet"},
                due_at_ms=None,
                reveal=placed.sealed_part(),
            )
            raise BetNotConfirmed("too little time was left to call the operator's wallet; nothing is at stake")
        answer = wallet.bet(self._call(placed, "bet", placed.bet_minor), timeout=timeout)
        if answer.ok:
            started = self.clock_ms()
            opened = self.store.move_round(
                round_id,
                "placing",
                "open",
                {"started_at_ms": started, "bet_balance_minor": answer.balance_minor},
                due_at_ms=next_check_ms(placed, started, started),
            )
            if not opened:  # the sweeper gave this request up for lost and refunded the bet
                raise BetNotConfirmed("the bet took too long to confirm; it is refunded")
            count("RoundsStarted")
            return {
                "round_id": round_id,
                "server_seed_hash": placed.server_seed_hash,
                "client_seed": client_seed,
                "nonce": nonce,
                "started_at": iso_ms(started),
                "started_at_ms": started,
                "balance_minor": answer.balance_minor,
                "next_server_seed_hash": next_hash,
            }
        if answer.refused:
            self.store.move_round(
                round_id,
                "placing",
                "void",
                {"wallet": {"status": answer.status, "code": answer.code}},
                due_at_ms=None,
                reveal=placed.sealed_part(),
            )
            count("BetsRefused")
            raise BetRefused(
                f"the operator's wallet refused the bet ({answer.code or answer.status})",
                code="INSUFFICIENT_FUNDS" if answer.code == "INSUFFICIENT_FUNDS" else None,
            )
        self._refund(placed, budget)
        raise BetNotConfirmed("the bet could not be confirmed with the operator's wallet; it is refunded")

    def _commitment(self, hashed: str, session: dict[str, Any]) -> tuple[str, bool]:
        """The hash of the session's committed next server seed, and whether it was committed just now: a
        session launched before sessions held one gets one at its first read here."""
        committed = session.get("next_server_seed_hash")
        if isinstance(committed, str):
            return committed, False
        seed = new_server_seed()
        if self.store.commit_seed(hashed, seed, fairness.seed_hash(seed)):
            return fairness.seed_hash(seed), True
        found = self.store.read_session(hashed)  # another request committed one meanwhile
        if found is None or "next_server_seed_hash" not in found[0]:
            raise InvalidSession("unknown session")
        return str(found[0]["next_server_seed_hash"]), True

    def _refund(self, placed: Round, budget: Budget) -> None:
        round_id = placed.round_id
        if not self.store.move_round(
            round_id, "placing", "refund_pending", due_at_ms=self.clock_ms() + BACKSTOP_MS, reveal=placed.sealed_part()
        ):  # the sweeper took it first and refunds it
            return
        timeout = budget.wallet_timeout()
        if timeout is None:
            logger.warning("too little time left to refund inline; queued", extra={"round_id": round_id})
            count("RefundsDeferred")
        elif self._send_refund(placed, timeout=timeout):
            return
        else:
            logger.warning("refund not confirmed; queued", extra={"round_id": round_id})
        self.retries.enqueue("refund", round_id)

    def _send_refund(self, placed: Round, *, timeout: float | None = None) -> bool:
        call = self._call(placed, "refund", placed.bet_minor)
        answer = self.wallet_for(placed.operator_id).refund(call, timeout=timeout)
        if not answer.ok:
            return False
        self.store.move_round(
            placed.round_id,
            "refund_pending",
            "refunded",
            {"refund_balance_minor": answer.balance_minor},
            due_at_ms=None,
        )
        count("BetsRefunded")
        return True

    # cash-out and settlement ----------------------------------------------------------------------

    def cash_out(self, token: str, body: bytes, *, time_left_ms: Callable[[], int] | None = None) -> PlayerRound:
        """Cash out at the multiplier on receipt. The settling write is retried within the request's time
        (``time_left_ms``); once it is written the cash-out stands, whatever fails after (the win is then paid
        here, or by the retry queue, or by the sweeper)."""
        with time_budget(Budget(time_left_ms).left_ms):
            return self._cash_out(token, body)

    def _cash_out(self, token: str, body: bytes) -> PlayerRound:
        hashed, session = self.session(token)
        request = validated(CashOutRequest, parse_object(body))
        stored = self.store.read_round(request.round_id)
        if stored is None or stored.round.session_id != session["session_id"]:
            raise UnknownRound("no such round in this session")
        now = self.clock_ms()
        stored = self.settle_if_due(stored, now)
        if stored.status == "open":
            stored = self.store.opened(stored)
            elapsed = now - stored.opened_at_ms
            cash_out = manual_cash_out(elapsed, stored.round.opened_crash_cents)
            if cash_out.honoured:
                if self._settle(stored, "cashed_out", cash_out.cents, now):
                    self._pay_settled(request.round_id)  # only the request that settled pays; a retry is queued
            else:
                self._settle(stored, "crashed", 0, now)
            stored = self._reread(request.round_id)
        view = player_view(stored, now)
        view["next_server_seed_hash"] = self._commitment(hashed, session)[0]
        return view

    def settle_if_due(self, stored: StoredRound, now: int) -> StoredRound:
        """Settle an open round whose automatic cash-out or crash time has passed (reads and the sweeper)."""
        if self._settle_due(stored, now) is None:
            return stored
        return self._reread(stored.round.round_id)

    def _settle_due(self, stored: StoredRound, now: int) -> bool | None:
        """``None``: not open, or its time has not come; True: settled here (a won round paid, or its retry
        queued); False: a concurrent request or sweeper run settled it first, and its result stands."""
        if stored.status != "open":
            return None
        stored = self.store.opened(stored)
        placed = stored.round
        if now - stored.opened_at_ms < settles_after_ms(placed):
            return None
        target = placed.auto_cash_out_cents
        if target is not None and auto_cash_out(target, placed.opened_crash_cents).honoured:
            if not self._settle(stored, "cashed_out", target, now):
                return False
            self._pay_settled(placed.round_id)
            return True
        return self._settle(stored, "crashed", 0, now)

    def _settle(self, stored: StoredRound, status: str, cash_out_cents: int, now: int) -> bool:
        """One conditional write on the round alone (retried through throttling, conflicts and lost answers);
        the house's share is fixed on the round here, and its revenue counted later from the table's stream."""
        placed = stored.round
        payout = payout_minor(placed.bet_minor, cash_out_cents, placed.max_win_multiplier) if cash_out_cents else 0
        if placed.max_payout_minor is not None:
            payout = min(payout, placed.max_payout_minor)
        payout = min(payout, money.max_minor_units(placed.currency))
        settings = self.settings_for(placed.operator_id)
        settlement = Settlement(
            cash_out_cents=cash_out_cents,
            payout_minor=payout,
            settled_at_ms=now,
            house_share=str(settings.house_share if settings else DEFAULT_HOUSE_SHARE),
            settlement_id=uuid.uuid4().hex,
        )
        settled = self.store.settle_round(
            placed.round_id,
            status,
            settlement,
            due_at_ms=now + BACKSTOP_MS if status == "cashed_out" else None,
            reveal=placed.sealed_part(),
        )
        if settled:
            count("RoundsSettled")
        return settled  # False: a concurrent request settled it first, and its result stands

    def _pay_settled(self, round_id: str) -> None:
        """Pay the win of a round this request just settled. The cash-out stands whatever fails here: the
        round stays ``cashed_out`` and due, and the retry queue or the sweeper pays it (same operator_tx_id)."""
        try:
            self.pay_win(round_id)
        except Exception:
            logger.exception("paying a settled win failed; the sweeper pays it", extra={"round_id": round_id})
            count("WinRetries")

    def pay_win(self, round_id: str) -> bool:
        """Pay a cashed-out round's win (same operator_tx_id on every try); queue a retry when it fails."""
        stored = self._reread(round_id)
        if stored.status != "cashed_out":
            return stored.status == "paid"
        if self._send_win(stored):
            return True
        count("WinRetries")
        self.retries.enqueue("win", round_id)
        return False

    def _send_win(self, stored: StoredRound) -> bool:
        settlement = stored.settlement
        if settlement is None or settlement.cash_out is None:
            raise ValueError(f"round {stored.round.round_id} has no win to pay")
        call = self._call(stored.round, "win", settlement.payout_minor, settlement.cash_out)
        answer = self.wallet_for(stored.round.operator_id).win(call)
        if not answer.ok:
            return False
        self.store.move_round(
            stored.round.round_id,
            "cashed_out",
            "paid",
            {"win_balance_minor": answer.balance_minor},
            due_at_ms=None,
        )
        count("WinsPaid")
        return True

    def retry_refund(self, round_id: str) -> bool:
        """Send a pending refund again (same operator_tx_id); True once the wallet has taken it."""
        stored = self._reread(round_id)
        if stored.status != "refund_pending":
            return stored.status == "refunded"
        return self._send_refund(stored.round)

    # the sweeper -----------------------------------------------------------------------------------

    def sweep(
        self,
        *,
        limit: int = SWEEP_LIMIT,
        workers: int = SWEEP_WORKERS,
        time_left_ms: Callable[[], int] = lambda: 60_000,
    ) -> dict[str, int]:
        """Act on every round whose time has come: settle open rounds, refund abandoned bets, send unpaid wins
        and refunds again. ``workers`` threads take the due rounds (up to ``limit``, longest overdue first) one
        at a time while at least :data:`SWEEP_MARGIN_MS` are left; whatever is not picked stays due for the next
        run. One round's failure never stops the others, and overlapping runs are safe: each round is acted on
        by the run whose conditional write takes it (:meth:`_sweep_one`)."""
        done = {"settled": 0, "paid": 0, "refunded": 0, "postponed": 0, "failed": 0}
        if time_left_ms() < SWEEP_MARGIN_MS:
            return done
        due = iter(self.store.due_rounds(self.clock_ms(), limit))
        lock = threading.Lock()
        counts = CountsFromThreads()

        def work() -> None:
            while time_left_ms() >= SWEEP_MARGIN_MS:
                with lock:
                    round_id = next(due, None)
                if round_id is None:
                    return
                try:
                    outcome = self._sweep_one(round_id)
                except Exception:
                    logger.exception("sweeping a round failed; it stays due", extra={"round_id": round_id})
                    outcome = "failed"
                with lock:
                    done[outcome] += 1

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweeper") as pool:
            for running in [pool.submit(counts.run, work) for _ in range(workers)]:
                running.result()
        for outcome, n in done.items():
            if n:
                count(f"Sweeper{outcome.capitalize()}", n)
        return done

    def _sweep_one(self, round_id: str) -> str:
        """Act on one due round, taking it first with a conditional write, so that of two overlapping runs only
        one acts: the settlement of an open round, the move of a ``placing`` round to ``refund_pending``, or
        :meth:`RgsStore.claim` of an unpaid win or refund (which also puts it off by :data:`BACKSTOP_MS`, so a
        wallet that still fails is tried again then). A run that loses a round counts it ``postponed``."""
        stored = self._reread(round_id)
        now = self.clock_ms()
        if stored.status == "open":
            settled = self._settle_due(stored, now)
            if settled is None:  # still running: looked at again at the next check, whatever its crash point
                self.store.claim(round_id, "open", now, next_check_ms(stored.round, stored.opened_at_ms, now))
            return "settled" if settled else "postponed"
        if stored.status == "placing":
            stored = self.store.opened(stored)
            if not self.store.move_round(
                round_id, "placing", "refund_pending", due_at_ms=now + BACKSTOP_MS, reveal=stored.round.sealed_part()
            ):
                return "postponed"  # its request answered after all, or another run took it
            logger.warning("a bet lost its request; refunding it", extra={"round_id": round_id})
            return "refunded" if self._send_refund(stored.round) else "postponed"
        if stored.status in ("refund_pending", "cashed_out"):
            if not self.store.claim(round_id, stored.status, now, now + BACKSTOP_MS):
                return "postponed"
            if stored.status == "refund_pending":
                return "refunded" if self._send_refund(stored.round) else "postponed"
            return "paid" if self._send_win(stored) else "postponed"
        self.store.move_round(round_id, stored.status, stored.status, due_at_ms=None)  # nothing left to do
        return "postponed"

    def _reread(self, round_id: str) -> StoredRound:
        stored = self.store.read_round(round_id)
        if stored is None:
            raise UnknownRound("no such round")
        return stored

    @staticmethod
    def _call(placed: Round, route: str, amount: int, multiplier: str | None = None) -> WalletCall:
        return WalletCall(
            operator_tx_id=f"{route}-{placed.round_id}",
            operator_player_id=placed.operator_player_id,
            session_id=placed.session_id,
            round_id=placed.round_id,
            currency=placed.currency,
            amount_minor=amount,
            multiplier=multiplier,
        )

    def state(self, token: str, *, last: int = 10) -> SessionState:
        """The session, its last rounds (newest first) and the player's balance as the operator's wallet last
        reported it (``null`` when it never did). Reading settles the rounds whose time has passed (the read
        that settles a won round pays it, or queues its retry, once, as a cash-out would).

        A win already waiting (``cashed_out``) is not sent again from here: it was queued by whoever settled
        it, the retry worker and the sweeper pay it, and a read that called the wallet for each such round
        would queue one more message per read while the wallet is down and could spend 5 s per round."""
        hashed, session = self.session(token)
        now = self.clock_ms()
        rounds: list[PlayerRound] = []
        balances: list[int | None] = []
        for stored in self.store.session_rounds(session["session_id"], last):
            stored = self.settle_if_due(stored, now)
            rounds.append(player_view(stored, now))
            balances.append(last_balance(stored))
        reported = [balance for balance in balances if balance is not None]
        return {
            "session_id": session["session_id"],
            "currency": session["currency"],
            "currency_exponent": money.exponent(session["currency"]),
            "created_at": session["created_at"],
            "expires_at": session["expires_at"],
            "server_time_ms": now,
            "balance_minor": reported[0] if reported else session.get("balance_minor"),
            "rounds": rounds,
            "next_server_seed_hash": self._commitment(hashed, session)[0],
        }
