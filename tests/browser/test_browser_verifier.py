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
        expected = fairness.outcome(
            data["server_seed"],
            data["client_seed"],
            data["nonce"],
            rtp=data["rtp_target"],
            max_win_multiplier=data["max_win_multiplier"],
        ).as_dict()
        assert answer["server_seed_hash"] == fairness.seed_hash(data["server_seed"])
        assert {key: answer[key] for key in expected} == expected, data


def test_the_verifier_works_from_a_file_on_pasted_json(page: Any, shot: Screenshots) -> None:
    data = generated_rounds(1, seed=61)[0]
    published = {
        **data,
        "server_seed_hash": fairness.seed_hash(data["server_seed"]),
        "outcome": fairness.outcome(
            data["server_seed"],
            data["client_seed"],
            data["nonce"],
            rtp=data["rtp_target"],
            max_win_multiplier=data["max_win_multiplier"],
        ).as_dict(),
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
