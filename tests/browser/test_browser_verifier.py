"""The verifier page on its own, opened as a plain file (no server at all): it agrees with ``croupier.fairness``
on many generated rounds, verifies pasted JSON and names what does not match."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

from croupier import fairness
from tests.support.browser import BROWSER, REPO_ROOT, Screenshots

pytestmark = BROWSER

VERIFY_FILE = (REPO_ROOT / "functions" / "rgs_play_page" / "verify.html").as_uri()


def generated_rounds(count: int, seed: int = 6) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rounds = []
    for index in range(count):
        server_seed = rng.getrandbits(256).to_bytes(32, "big").hex()
        client_seed = "".join(chr(rng.randint(0x21, 0x7E)) for _ in range(rng.randint(1, 64)))
        rtp = str(Decimal(rng.randint(5000, 10000)).scaleb(-4).normalize())
        max_win = rng.choice([2, 10, 100, 2000, 100_000])
        rounds.append(
            {
                "server_seed": server_seed,
                "client_seed": client_seed,
                "nonce": index * 7919 % 100_003,
                "rtp_target": rtp,
                "max_win_multiplier": max_win,
            }
        )
    return rounds


def outcome_of(data: dict[str, Any]) -> dict[str, str]:
    """What ``croupier.fairness`` computes for a generated round (the verifier's reference)."""
    return fairness.outcome(
        data["server_seed"],
        data["client_seed"],
        data["nonce"],
        rtp=data["rtp_target"],
        max_win_multiplier=data["max_win_multiplier"],
    ).as_dict()


def test_the_browser_verifier_agrees_with_croupier_fairness_on_generated_rounds(page: Any) -> None:
    rounds = generated_rounds(300)
    page.goto(VERIFY_FILE)
    computed = page.evaluate(
        """async (rounds) => {
             const out = [];
             for (const r of rounds) {
               out.push(await CroupierFairness.outcome(r.server_seed, r.client_seed, r.nonce, r.rtp_target,
                                                       r.max_win_multiplier));
             }
             return out;
           }""",
        rounds,
    )
    for data, answer in zip(rounds, computed, strict=True):
        expected = outcome_of(data)
        assert answer["server_seed_hash"] == fairness.seed_hash(data["server_seed"])
        assert {key: answer[key] for key in expected} == expected, data


def test_the_verifier_works_from_a_file_on_pasted_json(page: Any, shot: Screenshots) -> None:
    data = generated_rounds(1, seed=61)[0]
    published = {
        **data,
        "server_seed_hash": fairness.seed_hash(data["server_seed"]),
        "outcome": outcome_of(data),
    }  # the operator's shape: GET /api/public/rgs/round/{round_id}
    page.goto(VERIFY_FILE)
    page.locator("#paste").fill(json.dumps(published))
    page.locator("#load").click()
    page.wait_for_selector("#verdict[data-result='match']")
    assert page.locator("tr[data-check='map seed'] td").last.inner_text() == "MATCH"
    shot(page, "file-match")

    page.locator("#claimed_crash").fill("1234.56")
    page.locator("#verify").click()
    page.wait_for_selector("#verdict[data-result='mismatch']")
    problems = page.locator("#problems").inner_text()
    assert "Crash point mismatch" in problems
    assert "Hash mismatch" not in problems
    shot(page, "file-crash-mismatch")


def test_the_verifier_flags_a_round_whose_hash_is_not_the_one_shown_before_its_bet(
    page: Any, shot: Screenshots
) -> None:
    data = generated_rounds(1, seed=62)[0]
    crash_point = outcome_of(data)["crashPoint"]
    round_json = {
        **data,
        "server_seed_hash": fairness.seed_hash(data["server_seed"]),
        "crash_point": crash_point,
        # the round is consistent in itself (seed, hash, crash point), but its hash is not the one shown before
        # the bet: the server switched seeds after the player saw the commitment
        "shown_server_seed_hash": fairness.seed_hash("the seed whose hash the player was shown"),
    }
    page.goto(VERIFY_FILE)
    page.locator("#paste").fill(json.dumps(round_json))
    page.locator("#load").click()
    page.wait_for_selector("#verdict[data-result='mismatch']")
    assert page.locator("#shown_server_seed_hash").input_value() == round_json["shown_server_seed_hash"]
    problems = page.locator("#problems").inner_text()
    assert problems.startswith("Commitment mismatch")
    assert "Hash mismatch" not in problems
    assert "Crash point mismatch" not in problems
    assert page.locator("tr[data-check='shown before the bet'] td").last.inner_text() == "MISMATCH"
    shot(page, "file-commitment-mismatch")

    page.locator("#shown_server_seed_hash").fill(round_json["server_seed_hash"].upper())  # the one shown: match
    page.locator("#verify").click()
    page.wait_for_selector("#verdict[data-result='match']")
    assert "shown before the bet" in page.locator("#verdict").inner_text()
