"""Sealed seeds (issue "Provable before the bet"): no unsettled round's or committed next seed is stored in
plain text, nor an open round's crash point, nor a due time that depends on the outcome. An insider who reads
the whole table (a consistent scan) learns nothing of an open round: the scan below is the arbiter.

The seeds the server draws are recorded as they are drawn (``new_server_seed`` wrapped); a seed is *open*
until its round is settled (``crashed``, ``cashed_out``, ``paid``, ``refunded``, ``void``, ``refund_pending``:
its outcome can no longer be played on). Every string stored anywhere in the table, and every string inside
a stored JSON document, is checked: none contains an open seed (hex, either case, or its bytes in base64),
and none hashes to an open seed's commitment (so no encoding of the seed itself slips through)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier import fairness
from croupier.clients.operator_wallet import WalletAnswer, WalletCall
from croupier.rgs import game, sessions
from croupier.rgs.curve import time_to_reach
from croupier.rgs.game import Game, Wallet
from croupier.rgs.sealing import Sealer
from croupier_local.dynamodb import LocalDynamoDB
from tests.support.rgs_game import World, bet, cash_out, crash_of, winning_round, world_of_its_own

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTLED = frozenset({"crashed", "cashed_out", "paid", "refunded", "refund_pending", "void"})


@pytest.fixture
def world(dynamodb_local: LocalDynamoDB, real_client: Any, tmp_path: Path, rgs_sealer: Sealer) -> Iterator[World]:
    """A table of its own: the scan must see only this test's items."""
    with world_of_its_own(dynamodb_local.endpoint_url, real_client, tmp_path, rgs_sealer, "RgsSealed") as created:
        yield created


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every server seed drawn during the test, in order."""
    seeds: list[str] = []
    original = game.new_server_seed

    def recording() -> str:
        seed = original()
        seeds.append(seed)
        return seed

    monkeypatch.setattr(game, "new_server_seed", recording)
    monkeypatch.setattr(sessions, "new_server_seed", recording)
    return seeds


def scan(world: World) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": world.table, "ConsistentRead": True}
    while True:
        page = world.store.client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def stored_text(value: Any) -> Iterator[tuple[bool, str]]:
    """Every name (``True, name``) and string (``False, text``) in a stored attribute value, and in any JSON
    document such a string holds."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield True, str(key)
            yield from stored_text(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from stored_text(inner)
    elif isinstance(value, str):
        yield False, value
        try:
            decoded = json.loads(value)
        except ValueError:
            return
        if isinstance(decoded, dict | list | str):
            yield from stored_text(decoded)


def open_seeds(world: World, drawn: list[str], items: list[dict[str, Any]]) -> set[str]:
    """The drawn seeds not of a settled round (a settled round's seed is revealed on it: the store says which)."""
    revealed = set()
    for item in items:
        if item["sk"]["S"] == "ROUND" and item["status"]["S"] in SETTLED:
            stored = world.store.read_round(item["pk"]["S"].removeprefix("ROUND#"))
            assert stored is not None
            revealed.add(stored.round.server_seed)
    return set(drawn) - revealed


def assert_nothing_open_is_readable(world: World, drawn: list[str]) -> None:
    items = scan(world)
    seeds = open_seeds(world, drawn, items)
    assert seeds, "the scenario has open seeds"
    hashes = {fairness.seed_hash(seed) for seed in seeds}
    encodings = {seed: (seed.lower(), seed.upper(), base64.b64encode(bytes.fromhex(seed)).decode()) for seed in seeds}
    leaks = []
    for item in items:
        where = f"{item['pk']['S']}/{item['sk']['S']}"
        for is_name, text in stored_text(item):
            if is_name:
                continue
            if hashlib.sha256(text.encode()).hexdigest() in hashes:
                leaks.append(f"{where}: a stored string is an open seed")
            for seed, forms in encodings.items():
                if any(form in text for form in forms):
                    leaks.append(f"{where}: holds open seed {seed[:8]}...")
        if item["sk"]["S"] == "ROUND" and item["status"]["S"] not in SETTLED:
            crash_keys = [text for is_name, text in stored_text(item) if is_name and "crash" in text]
            if crash_keys:
                leaks.append(f"{where} ({item['status']['S']}): stores {crash_keys}")
    assert leaks == []


def due_after_start(world: World, round_id: str) -> int:
    (item,) = [
        i
        for i in scan(world)
        if i["pk"]["S"] == f"ROUND#{round_id}" and i["sk"]["S"] == "ROUND"  # the raw item, as an insider sees it
    ]
    return int(item["due_at"]["N"]) - int(json.loads(item["started_at_ms"]["S"]))


class Hooked:
    """The operator's wallet, with ``before`` called as each call of ``route`` reaches it."""

    def __init__(self, inner: Wallet, route: str, before: Callable[[], None]) -> None:
        self.inner, self.route, self.before = inner, route, before

    def bet(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        if self.route == "bet":
            self.before()
        return self.inner.bet(call, timeout=timeout)

    def win(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        if self.route == "win":
            self.before()
        return self.inner.win(call, timeout=timeout)

    def refund(self, call: WalletCall, *, timeout: float | None = None) -> WalletAnswer:
        return self.inner.refund(call, timeout=timeout)


def hooked_game(world: World, route: str, before: Callable[[], None]) -> Game:
    return Game(
        world.store,
        world.operators.settings,
        lambda operator_id: Hooked(world.game.wallet_for(operator_id), route, before),
        world.retries,
        clock_ms=lambda: world.clock.ms,
    )


def test_a_scan_of_the_whole_table_shows_no_open_seed_crash_point_or_outcome_dependent_due_time(
    world: World, drawn: list[str]
) -> None:
    first, second, third = (world.launch(player) for player in ("p1", "p2", "p3"))
    assert_nothing_open_is_readable(world, drawn)  # committed seeds of fresh sessions

    manual = [bet(world, first, 100)["round_id"] for _ in range(6)]  # same clock: same start
    auto = [bet(world, first, 100, auto_cash_out="2.00")["round_id"] for _ in range(6)]
    assert_nothing_open_is_readable(world, drawn)
    crashes = {crash_of(world, round_id) for round_id in manual + auto}
    assert len(crashes) > 1  # the rounds differ in outcome ...
    assert len({due_after_start(world, round_id) for round_id in manual}) == 1  # ... not in when they are due
    assert len({due_after_start(world, round_id) for round_id in auto}) == 1

    placing_checked: list[bool] = []
    placing = hooked_game(
        world, "bet", lambda: placing_checked.append(assert_nothing_open_is_readable(world, drawn) is None)
    )
    placing.bet(second, json.dumps({"amount_minor": 100}).encode())
    assert placing_checked == [True]  # checked while the round was ``placing``

    won = winning_round(world, third)
    world.clock.ms += time_to_reach(150)
    unpaid_checked: list[bool] = []
    unpaying = hooked_game(
        world, "win", lambda: unpaid_checked.append(assert_nothing_open_is_readable(world, drawn) is None)
    )
    world.wallet.fail_next(1)
    assert unpaying.cash_out(third, json.dumps({"round_id": won["round_id"]}).encode())["status"] == "cashed_out"
    assert unpaid_checked == [True]  # checked while cashed out and not yet paid
    assert_nothing_open_is_readable(world, drawn)

    world.clock.ms += 10 * 60_000  # every round is over: the player's reads settle and reveal them
    for token, round_ids in ((first, manual + auto),):
        for round_id in round_ids:
            view = cash_out(world, token, round_id)
            assert view["status"] in ("crashed", "cashed_out", "paid")
            assert fairness.seed_hash(view["server_seed"]) == view["server_seed_hash"]
            assert view["crash_point"] == f"{crash_of(world, round_id) / 100:.2f}"
    assert_nothing_open_is_readable(world, drawn)  # the committed next seeds are still sealed
