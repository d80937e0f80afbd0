"""The verifier page's JavaScript, run by Node (no browser): its crash points, seed hashes and derived seeds are
those of ``croupier.fairness`` on many generated rounds, and it names a tampered seed and a wrong crash point."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from croupier import fairness

REPO_ROOT = Path(__file__).resolve().parents[2]
VERIFY_HTML = REPO_ROOT / "functions" / "rgs_play_page" / "verify.html"
NODE = shutil.which("node")

# Runs the page's one <script> in a fresh context without a DOM, then the requests read from stdin.
HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const html = fs.readFileSync(process.argv[1], "utf8");
const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
if (scripts.length !== 1) throw new Error("the page must hold exactly one inline script");
const context = { TextEncoder, crypto: globalThis.crypto };
context.globalThis = context;
vm.createContext(context);
vm.runInContext(scripts[0][1], context);
const requests = JSON.parse(fs.readFileSync(0, "utf8"));
(async () => {
  const out = [];
  for (const r of requests.outcomes) {
    const fair = context.CroupierFairness;
    out.push(await fair.outcome(r.server_seed, r.client_seed, r.nonce, r.rtp_target, r.max_win_multiplier));
  }
  const verdicts = [];
  for (const v of requests.verify) verdicts.push(await context.CroupierFairness.verify(v));
  process.stdout.write(JSON.stringify({ outcomes: out, verdicts }));
})().catch((error) => { console.error(error); process.exit(1); });
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on the PATH (npm installs DynamoDB Local with it)")


def rounds(count: int) -> list[dict[str, Any]]:
    rng = random.Random(2026)
    generated = []
    for _ in range(count):
        generated.append(
            {
                "server_seed": rng.getrandbits(256).to_bytes(32, "big").hex(),
                "client_seed": "".join(chr(rng.randint(0x21, 0x7E)) for _ in range(rng.randint(1, 64))),
                "nonce": rng.choice([0, 1, rng.randint(2, 10**6)]),
                "rtp_target": str(Decimal(rng.randint(5000, 10000)).scaleb(-4).normalize()),
                "max_win_multiplier": rng.choice([2, 10, 2000, 100_000]),
            }
        )
    return generated


def run_node(requests: dict[str, Any]) -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", HARNESS, str(VERIFY_HTML)],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout))


def published(data: dict[str, Any]) -> dict[str, Any]:
    outcome = fairness.outcome(
        data["server_seed"],
        data["client_seed"],
        data["nonce"],
        rtp=data["rtp_target"],
        max_win_multiplier=data["max_win_multiplier"],
    )
    return {**data, "server_seed_hash": fairness.seed_hash(data["server_seed"]), "outcome": outcome.as_dict()}


def test_the_js_verifier_agrees_with_croupier_fairness_on_2000_rounds() -> None:
    generated = rounds(2000)
    answers = run_node({"outcomes": generated, "verify": []})["outcomes"]
    for data, answer in zip(generated, answers, strict=True):
        expected = published(data)
        assert answer["server_seed_hash"] == expected["server_seed_hash"]
        assert {key: answer[key] for key in expected["outcome"]} == expected["outcome"], data


def test_the_js_verifier_names_a_hash_mismatch_and_a_crash_point_mismatch() -> None:
    data = published(rounds(1)[0])
    tampered = {**data, "server_seed": data["server_seed"][::-1]}
    wrong_crash = {**data, "outcome": {**data["outcome"], "crashPoint": "99999.99"}}
    player_view = {  # the shape of GET /rgs/play/state's rounds
        key: data[key] for key in ("server_seed", "server_seed_hash", "client_seed", "nonce", "rtp_target")
    } | {"max_win_multiplier": data["max_win_multiplier"], "crash_point": data["outcome"]["crashPoint"]}
    good, bad_seed, bad_crash, view = run_node({"outcomes": [], "verify": [data, tampered, wrong_crash, player_view]})[
        "verdicts"
    ]
    assert good["ok"]
    assert good["problems"] == []
    assert good["compared"] == 5
    assert not bad_seed["ok"]
    assert any(p.startswith("Hash mismatch") for p in bad_seed["problems"])
    assert not bad_crash["ok"]
    assert [p.split(":")[0] for p in bad_crash["problems"]] == ["Crash point mismatch"]
    assert view["ok"]
    assert view["compared"] == 2


def test_the_js_verifier_checks_the_rounds_hash_is_the_one_shown_before_the_bet() -> None:
    data = published(rounds(1)[0])
    other = fairness.seed_hash("another seed the server could have switched to")
    shown, switched, shown_only = run_node(
        {
            "outcomes": [],
            "verify": [
                {**data, "shown_server_seed_hash": data["server_seed_hash"].upper()},
                {**data, "shown_server_seed_hash": other},  # consistent seed and hash, but not the ones shown
                {**{k: v for k, v in data.items() if k != "server_seed_hash"}, "shown_server_seed_hash": other},
            ],
        }
    )["verdicts"]
    assert shown["ok"]
    assert shown["compared"] == 6
    assert not switched["ok"]
    assert [p.split(":")[0] for p in switched["problems"]] == ["Commitment mismatch"]
    assert not shown_only["ok"]  # without a published hash, the seed's own hash is compared with the shown one
    assert [p.split(":")[0] for p in shown_only["problems"]] == ["Commitment mismatch"]
