"""The crash game in headless Chromium against the local stack: a real session (``croupier_local.demo``), bets,
the multiplier rising, a cash-out, the balance and the ledger, the verifier; in an operator's iframe too; and
the messages for a bad or expired session, insufficient funds and a lost connection."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from croupier import fairness
from croupier.rgs.credentials import new_server_seed, token_hash
from croupier_local import demo
from croupier_local.server import LocalStack
from tests.support.browser import BROWSER, Screenshots
from tests.support.rgs_http import stack_store

pytestmark = BROWSER

BET = "1.00"
BET_MINOR = 100


def token_of(launch_url: str) -> str:
    return parse_qs(urlsplit(launch_url).query)["session"][0]


def player_state(stack: LocalStack, token: str) -> dict[str, Any]:
    """The session as the server sees it (the same call the page makes)."""
    request = urllib.request.Request(f"{stack.base_url}/rgs/play/state", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def entries(stack: LocalStack, player_id: str) -> list[dict[str, Any]]:
    url = f"{stack.base_url}/admin/players/{player_id}/entries?currency=USD&limit=100"
    with urllib.request.urlopen(url, timeout=10) as response:
        return list(json.loads(response.read())["items"])


def balance_of(frame: Any) -> int | None:
    shown = frame.locator("#balance").get_attribute("data-minor")
    return int(shown) if shown else None


def multiplier_of(frame: Any) -> int:
    return int(frame.locator("#multiplier").get_attribute("data-cents"))


def phase_of(frame: Any) -> str:
    return str(frame.locator("#stage").get_attribute("data-phase"))


def wait_for_phase(frame: Any, *phases: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        phase = phase_of(frame)
        if phase in phases:
            return phase
        time.sleep(0.05)
    raise AssertionError(f"the stage stayed {phase_of(frame)!r}, not one of {phases}")


def bet_and_watch(frame: Any, page: Any) -> tuple[int, int]:
    """Bet, then read the multiplier twice, 700 ms apart, while the round is open."""
    frame.locator("#amount").fill(BET)
    frame.locator("#bet").click()
    wait_for_phase(frame, "open", "crashed")
    page.wait_for_timeout(100)
    first = multiplier_of(frame)
    page.wait_for_timeout(700)
    return first, multiplier_of(frame)


def play_until_a_win(frame: Any, page: Any, shot: Screenshots, label: str) -> tuple[int, int]:
    """Rounds until one is cashed out (a round crashing first is lost and another starts): the multiplier
    readings of the winning round and the balance just before its bet."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # only where the browser tests run

    for _ in range(15):
        before = balance_of(frame)
        assert before is not None
        first, second = bet_and_watch(frame, page)
        if phase_of(frame) == "open" and frame.locator("#cashout").is_enabled():
            shot(page, f"{label}-in-play")
            with contextlib.suppress(PlaywrightTimeout):  # it crashed between the check and the click: lost
                frame.locator("#cashout").click(timeout=2_000)
        if wait_for_phase(frame, "won", "crashed") == "won":
            assert second > first >= 100, "the multiplier rises while the round is open"
            return before, first
        wait_for_bet_enabled(frame)
    raise AssertionError("no round could be cashed out in 15 tries")


def wait_for_bet_enabled(frame: Any) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not frame.locator("#bet").is_enabled():
        time.sleep(0.05)


def wait_for_balance(frame: Any, expected: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and balance_of(frame) != expected:
        time.sleep(0.05)
    assert balance_of(frame) == expected


def wait_for_round_status(stack: LocalStack, token: str, status: str) -> dict[str, Any]:
    """The session's newest round once it reads ``status`` (10 s at the most)."""
    deadline = time.monotonic() + 10
    newest = player_state(stack, token)["rounds"][0]
    while newest["status"] != status and time.monotonic() < deadline:
        time.sleep(0.05)
        newest = player_state(stack, token)["rounds"][0]
    assert newest["status"] == status, newest
    return dict(newest)


def test_a_player_bets_watches_the_multiplier_cashes_out_and_verifies_the_round(
    local_stack: LocalStack, page: Any, shot: Screenshots
) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store)
    token = token_of(game.launch_url)

    page.goto(game.launch_url)
    assert "session=" not in page.url, "the token leaves the address bar at once"
    wait_for_balance(page, 100_000)
    shot(page, "launched")

    before, _ = play_until_a_win(page, page, shot, "page")
    # The page shows the win as soon as the round is cashed out (a state poll can see it while the cash-out
    # request is still paying the win): the round reads paid once the operator's wallet has answered.
    won = wait_for_round_status(local_stack, token, "paid")
    payout = won["payout_minor"]
    assert payout == BET_MINOR * int(Decimal(won["cash_out"]) * 100) // 100
    wait_for_balance(page, before - BET_MINOR + payout)
    assert player_state(local_stack, token)["balance_minor"] == before - BET_MINOR + payout
    assert "Cashed out at " + won["cash_out"] in page.locator("#round-status").inner_text()
    page.wait_for_selector(f"tr[data-round-id='{won['round_id']}'][data-status='paid'] a.verify")
    shot(page, "cashed-out")

    # the ledger: the round's bet and its win, exactly
    moves = [e for e in entries(local_stack, game.player_id) if won["round_id"] in json.dumps(e)]
    assert sorted(Decimal(e["delta"]) for e in moves) == sorted(
        [Decimal(-BET_MINOR).scaleb(-2), Decimal(payout).scaleb(-2)]
    )

    # the round's row links to the verifier with its revealed data; the verifier reproduces it
    row = page.locator(f"tr[data-round-id='{won['round_id']}']")
    assert won["server_seed_hash"][:10] in row.inner_text()
    assert won["crash_point"] in row.inner_text()
    href = row.locator("a.verify").get_attribute("href")
    verifier = page.context.new_page()
    try:
        verifier.goto(local_stack.base_url + href)
        verifier.wait_for_selector("#verdict[data-result='match']")
        assert won["crash_point"] in verifier.locator("#verdict").inner_text()
        shot(verifier, "verified")

        # a tampered seed: reported as not matching
        tampered = won["server_seed"][:-1] + ("0" if won["server_seed"][-1] != "0" else "1")
        verifier.locator("#server_seed").fill(tampered)
        verifier.locator("#verify").click()
        verifier.wait_for_selector("#verdict[data-result='mismatch']")
        problems = verifier.locator("#problems").inner_text()
        assert "Hash mismatch" in problems
        tampered_crash = fairness.outcome(
            tampered, won["client_seed"], won["nonce"], rtp=won["rtp_target"], max_win_multiplier=2000
        ).crash_point
        assert ("Crash point mismatch" in problems) == (f"{tampered_crash:.2f}" != won["crash_point"])
        shot(verifier, "tampered")
    finally:
        verifier.close()


def test_the_game_plays_inside_an_operators_iframe(local_stack: LocalStack, page: Any, shot: Screenshots) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store)
    lobby = f"<h1>Casino lobby</h1><iframe src='{game.launch_url}' width=940 height=640></iframe>".encode()
    with operator_site(lobby) as host:  # another origin (localhost:<port>) than the game's (127.0.0.1:<port>)
        page.goto(host)
        play_in_the_iframe(local_stack, page, shot, game)


def play_in_the_iframe(local_stack: LocalStack, page: Any, shot: Screenshots, game: demo.Demo) -> None:
    frame = page.frame_locator("iframe")
    wait_for_balance(frame, 100_000)
    assert "session=" not in page.frames[1].url
    before, _ = play_until_a_win(frame, page, shot, "iframe")
    won = player_state(local_stack, token_of(game.launch_url))["rounds"][0]
    wait_for_balance(frame, before - BET_MINOR + won["payout_minor"])
    shot(page, "iframe-cashed-out")


@contextmanager
def operator_site(html: bytes) -> Iterator[str]:
    """An operator's page embedding the game, served on loopback under another origin."""

    class Lobby(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Lobby)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/lobby"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unknown_session_is_named(local_stack: LocalStack, page: Any, shot: Screenshots) -> None:
    page.goto(f"{local_stack.base_url}/play?session=not-a-session-token")
    page.wait_for_selector("#message[data-kind='error']")
    assert "not valid" in page.locator("#message").inner_text()
    assert page.locator("#bet").is_disabled()
    shot(page, "unknown-session")

    page.goto(f"{local_stack.base_url}/play")
    assert "No game session" in page.locator("#message").inner_text()


def test_an_expired_session_is_named(local_stack: LocalStack, page: Any, shot: Screenshots) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store)
    token = "expired-" + game.session_id
    expired = int(time.time()) - 60
    session = {
        "session_id": "s_expired" + game.session_id[2:],
        "operator_id": game.operator_id,
        "operator_player_id": game.player_id,
        "currency": "USD",
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": "2026-01-01T01:00:00Z",
        "nonce": 0,
    }
    seed = new_server_seed()
    stack_store(local_stack).create_session(
        token_hash(token), session, expired, next_seed=seed, next_seed_hash=fairness.seed_hash(seed)
    )
    page.goto(f"{local_stack.base_url}/play?session={token}")
    page.wait_for_selector("#message[data-kind='error']")
    assert "expired" in page.locator("#message").inner_text()
    assert page.locator("#bet").is_disabled()
    shot(page, "expired-session")


def test_insufficient_funds_are_named(local_stack: LocalStack, page: Any, shot: Screenshots) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store, deposit="0.50")
    page.goto(game.launch_url)
    wait_for_balance(page, 50)
    page.locator("#amount").fill("1.00")
    page.locator("#bet").click()
    page.wait_for_selector("#message[data-kind='error']")
    assert "Insufficient funds" in page.locator("#message").inner_text()
    assert balance_of(page) == 50
    assert page.locator("#bet").is_enabled()
    shot(page, "insufficient-funds")


@pytest.mark.parametrize("failure", ["network", "502"])
def test_a_lost_connection_is_named_and_state_polling_retries(
    local_stack: LocalStack, page: Any, shot: Screenshots, failure: str
) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store)
    page.goto(game.launch_url)
    wait_for_balance(page, 100_000)

    def fail(route: Any) -> None:
        if failure == "network":
            route.abort("connectionfailed")
        else:
            route.fulfill(status=502, content_type="application/json", body='{"message":"Bad Gateway"}')

    page.route("**/rgs/play/state", fail)
    page.wait_for_selector("#connection:not([hidden])", timeout=10_000)
    assert "Connection lost" in page.locator("#connection").inner_text()
    shot(page, f"connection-lost-{failure}")
    page.unroute("**/rgs/play/state")
    page.wait_for_selector("#connection[hidden]", state="attached", timeout=15_000)
    assert balance_of(page) == 100_000
