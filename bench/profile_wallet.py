"""Where a Ruby debit's CPU goes (the store answering at once, as in bench/wallet.py's CPU figures).

Three views, each per call in CPU microseconds (best of several repeats), next to bench/wallet.py's floor of one
HMAC-SHA256 plus one ``json.loads`` of the same body:

1. each stage alone, on prepared input, in a tight loop (its caches hot);
2. each large stage *in the flow*: the whole debit with that stage replaced by its precomputed answer, subtracted
   from the whole debit (what the stage really costs where it runs, caches shared with every other stage);
3. the Lambda handler's layers around the logic (Powertools' resolver, logger and metrics, the counts).

Run: ``PYTHONPATH=layers/croupier:local .venv/bin/python -m bench.profile_wallet`` (``--cprofile`` adds cProfile's
table of the whole handler). Prints figures only; nothing here asserts a time.
"""

from __future__ import annotations

import cProfile
import hashlib
import hmac
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from bench.signing import REPEATS, per_call

CALLS = 4_000
SWEEP = bytes(1024 * 1024)
"""Copying this evicts the L1 and most of the L2 cache: a stage timed after it runs about as cold as in the flow."""


def us(fn: Callable[[], object], calls: int = CALLS) -> float:
    return per_call(fn, calls) * 1e6


def after_sweep_us(fn: Callable[[], object], calls: int = 300, pairs: int = 15) -> float:
    """``fn``'s CPU us a call right after a cache sweep: the median, over adjacent pairs of rounds, of (sweep + fn)
    minus (sweep alone), so that the sweep's own cost and the machine's drift cancel."""
    differences = []
    for _ in range(pairs):
        alone = time.process_time()
        for _ in range(calls):
            bytearray(SWEEP)
        alone = time.process_time() - alone
        both = time.process_time()
        for _ in range(calls):
            bytearray(SWEEP)
            fn()
        differences.append((time.process_time() - both - alone) / calls)
    return statistics.median(differences) * 1e6


@contextmanager
def replaced(owner: object, name: str, value: object) -> Iterator[None]:
    real = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, real)


class Debit:
    """One Ruby debit's pieces, prepared: the wallet of bench/wallet.py's CPU figure and the inputs of each stage."""

    def __init__(self) -> None:
        os.environ.update(
            {
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "WALLET_TABLE": "WalletTable",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        from bench.wallet import BRAND_SECRET, ROOT, Context, InstantClient, load_handler, ruby_event
        from croupier.checks import validated
        from croupier.jsonbody import parse_object
        from croupier.ledger import AccountKey, AccountState, Kind, Ledger, Movement, signature_digest
        from croupier.ledger.dynamo import DynamoLedgerStore
        from croupier.secrets import CachedSecrets, FileSecretStore
        from croupier.signing import RawRequest, ruby_callback
        from croupier.wallet.ruby import BrandDirectory, MoveRequest, PlayerLinks, RubyWallet

        self.store = DynamoLedgerStore("WalletTable", lambda: InstantClient())
        self.ledger = Ledger(self.store)
        self.brands = BrandDirectory(CachedSecrets(FileSecretStore(ROOT / "local" / "dev-secrets.json")))
        self.links = PlayerLinks(lambda p, e: "bench")
        self.wallet = RubyWallet(self.ledger, self.brands, self.links)
        self.account = AccountKey("bench", "KRW")
        self.state = AccountState(10**15, 1)
        self.ledger.snapshots.put(self.account, self.state)
        self.raw = json.dumps(
            {"player_id": 1, "amount": "1.00", "transaction_id": "t", "round_id": "r"}, separators=(",", ":")
        )
        self.secret = BRAND_SECRET.encode()
        self.event = ruby_event("debit", json.loads(self.raw))
        self.request = RawRequest.from_apigw_v2(self.event)
        self.data = parse_object(self.request.body)
        self.body = validated(MoveRequest, self.data)
        brand = self.brands.get(self.request.headers[ruby_callback.KEY_HEADER])
        assert brand is not None
        self.brand = brand
        self.signature = signature_digest(self.request.headers[ruby_callback.SIGNATURE_HEADER])
        self.movement = Movement(
            "ruby", "t", self.account, Kind.DEBIT, 10_000, meta=self.body.meta(), signature=self.signature
        )
        self.plan = self.ledger._movement_plan(self.movement, self.state)
        self.handler = load_handler("ruby_debit")
        setattr(self.handler, "ruby_wallet", lambda: self.wallet)  # noqa: B010 - this wallet answers at once
        self.context = Context()

    def floor(self) -> object:
        hmac.new(self.secret, self.raw.encode(), hashlib.sha256).hexdigest()
        return json.loads(self.raw)

    def logic(self) -> object:
        return self.wallet.debit(self.request)

    def whole_handler(self) -> object:
        return self.handler.handler(self.event, self.context)

    def stages(self) -> list[tuple[str, Callable[[], object]]]:
        """Each stage alone, none inside another (the plan's own work excludes the clock and protection)."""
        from croupier import money
        from croupier.checks import validated
        from croupier.jsonbody import parse_object
        from croupier.ledger import Kind, Movement, protection, signature_digest
        from croupier.ledger.service import _after, utc_now_iso
        from croupier.signing import ruby_callback
        from croupier.wallet.ruby import MoveRequest

        ledger, state, movement = self.ledger, self.state, self.movement
        now = protection.parse_time(utc_now_iso())
        secret = self.brand.api_secret

        def plan_own() -> object:  # timed with the clock and the protection answering at once (see main)
            return ledger._movement_plan(movement, state)

        return [
            (
                "signature verify (headers, window, HMAC)",
                lambda: ruby_callback.verify(self.request, lambda _: [secret]),
            ),
            ("brand (cached secret)", lambda: self.brands.get(self.brand.api_key)),
            ("body parse (strict JSON)", lambda: parse_object(self.request.body)),
            ("validation (pydantic MoveRequest)", lambda: validated(MoveRequest, self.data)),
            ("amount (decimal string -> units)", lambda: money.from_decimal_string(self.body.amount, max_places=2)),
            ("player link (cached)", lambda: self.links.player_for(1)),
            ("signature digest", lambda: signature_digest(self.request.headers[ruby_callback.SIGNATURE_HEADER])),
            (
                "movement",
                lambda: Movement(
                    "ruby", "t", self.account, Kind.DEBIT, 10_000, meta=self.body.meta(), signature=self.signature
                ),
            ),
            ("snapshot get", lambda: ledger.snapshots.get(self.account)),
            ("clock (created_at)", utc_now_iso),
            ("protection decide", lambda: protection.decide(state.protection, protection.Purpose.STAKE, 10_000, now)),
            ("plan (entry, fingerprint, CommitPlan)", plan_own),
            ("item serialisation (store.commit)", lambda: self.store.commit(self.plan)),
            ("snapshot put", lambda: ledger.snapshots.put(self.account, _after(self.plan))),
            (
                "answer (two decimal strings)",
                lambda: (money.to_decimal_string(10**15), money.to_decimal_string(10**15 - 10_000)),
            ),
        ]

    def in_flow(self) -> list[tuple[str, object, str, object]]:
        """The large stages, each with its precomputed answer (to take it out of the whole debit)."""
        from croupier.ledger import protection
        from croupier.ledger.dynamo import OK
        from croupier.signing import ruby_callback
        from croupier.wallet import ruby

        verdict = ruby_callback.verify(self.request, lambda _: [self.brand.api_secret])
        decided = protection.decide(
            self.state.protection, protection.Purpose.STAKE, 10_000, protection.parse_time(self.plan.entry.created_at)
        )
        outcome = self.ledger.move(self.movement)

        def verified(_request: Any, secrets_for: Callable[[str], object], **_: Any) -> object:
            secrets_for(self.brand.api_key)  # the brand is still looked up, as the real verify does
            return verdict

        return [
            ("signature verify (with its brand lookup)", ruby_callback, "verify", verified),
            ("body parse", ruby, "parse_object", lambda _body: self.data),
            ("validation", ruby, "validated", lambda _model, _data: self.body),
            ("protection decide", protection, "decide", lambda *_: decided),
            ("item serialisation (store.commit)", self.store, "commit", lambda _plan: OK),
            ("ledger.move (all of the ledger)", self.ledger, "move", lambda *_, **__: outcome),
        ]


def main() -> dict[str, float]:
    from bench.quiet import handler_output_sunk
    from croupier import observability, web
    from croupier.signing import RawRequest

    debit = Debit()
    figures: dict[str, float] = {}
    floor = us(debit.floor, CALLS * 4)
    logic = us(debit.logic)
    print(f"one Ruby debit, CPU us a call (best of {REPEATS}); floor (1 HMAC-SHA256 + 1 json.loads) {floor:.2f} us")
    print(f"{'1. each stage alone (caches hot)':<46}{'us':>8}{'x floor':>9}")
    total = 0.0
    from croupier.ledger import protection

    for name, fn in debit.stages():
        if name.startswith("plan"):  # its own work: the clock and the protection (timed above) answer at once
            with (
                replaced(debit.ledger, "now", lambda: "2026-11-29T12:00:00.000000Z"),
                replaced(protection, "decide", lambda state, *_: state),
            ):
                cost = us(fn)
        else:
            cost = us(fn)
        figures[name] = cost
        total += cost
        print(f"  {name:<44}{cost:>8.2f}{cost / floor:>9.2f}")
    print(f"  {'sum of the stages':<44}{total:>8.2f}{total / floor:>9.2f}")
    print(f"  {'wallet logic (RubyWallet.debit)':<44}{logic:>8.2f}{logic / floor:>9.2f}")
    print(f"  {'  not in any stage alone: the flow, caches':<44}{logic - total:>8.2f}{(logic - total) / floor:>9.2f}")
    print(f"{'2. in the flow (debit minus debit without it)':<46}{'us':>8}{'alone':>9}")
    for name, owner, attribute, answer in debit.in_flow():
        with replaced(owner, attribute, answer):
            without = us(debit.logic)
        figures[f"in flow: {name}"] = logic - without
        print(f"  {name:<44}{logic - without:>8.2f}")
    name, verify = debit.stages()[0]
    cold = after_sweep_us(verify)
    print(f"  {'signature verify alone, after a cache sweep':<44}{cold:>8.2f}  (alone, hot: {figures[name]:.2f})")

    app = web.build_resolver()

    @app.post("/ruby/debit")
    def _constant() -> dict[str, str]:
        return {"balance": "9999999999.00", "balance_before": "10000000000.00"}

    @web.instrumented
    def _nothing(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
        return {}

    def counted() -> None:
        observability.count_movement(False)
        observability.publish_counts()

    layers = [
        ("event -> RawRequest (from_apigw_v2)", lambda: RawRequest.from_apigw_v2(debit.event)),
        ("Powertools resolver, a constant route", lambda: app.resolve(debit.event, cast(Any, debit.context))),
        ("instrumented (logger context, metrics flush)", lambda: _nothing(debit.event, debit.context)),
        ("a count published (Metrics.add_metric)", counted),
        ("whole Lambda handler", debit.whole_handler),
    ]
    print(f"{'3. the handler around the logic':<46}{'us':>8}{'x floor':>9}")
    with handler_output_sunk():
        handler_layers = [(name, us(fn)) for name, fn in layers]
    for name, cost in handler_layers:
        figures[name] = cost
        print(f"  {name:<44}{cost:>8.2f}{cost / floor:>9.2f}")
    figures.update({"floor": floor, "logic": logic})
    return figures


def profile_handler(calls: int = 20_000) -> None:
    """cProfile's table of the whole handler (its own overhead inflates small calls: read it for the shape)."""
    from bench.quiet import handler_output_sunk

    debit = Debit()
    profiler = cProfile.Profile()
    with handler_output_sunk():
        for _ in range(2_000):
            debit.whole_handler()
        profiler.enable()
        for _ in range(calls):
            debit.whole_handler()
        profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    if "--cprofile" in sys.argv:
        profile_handler()
    else:
        main()
