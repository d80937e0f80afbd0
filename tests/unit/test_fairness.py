"""The crash-point formula gives P(crash >= m) = rtp/m on the whole 0.01 grid, exactly as docs/fairness.md
derives; the verifiers (`croupier verify`, tools/verify_round.py) reproduce and check a round's data."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from croupier import fairness
from croupier_cli import cli

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "tools" / "verify_round.py"
RTPS = [Fraction(96, 100), Fraction(97, 100), Fraction(9875, 10_000), Fraction(1)]
CAP = 2000


def targets() -> list[int]:
    """Cash-out targets in hundredths: every one from 1.00 to 20.00, and a spread up to the cap."""
    rng = random.Random(20261121)
    return [*range(100, 2001), *sorted(rng.sample(range(2001, 100 * CAP), 2000)), 100 * CAP]


# --- exactness over the integer space ------------------------------------------------------------------------


@pytest.mark.parametrize("rtp", RTPS, ids=str)
def test_the_winning_count_is_exactly_floor_of_rtp_space_over_target(rtp: Fraction) -> None:
    """crash_cents(x) >= k exactly for x <= X*(k) = floor(100·rtp·2^52/k): checked at both sides of every
    boundary (crash_cents is non-increasing in x, so the count of winning x is exactly X*(k))."""
    for k in targets():
        boundary = fairness.winning_count(k, rtp, CAP)
        assert boundary == (100 * rtp.numerator * fairness.SPACE) // (rtp.denominator * k)
        assert fairness.crash_cents_from_x(boundary, rtp, CAP) >= k
        if boundary < fairness.SPACE:
            assert fairness.crash_cents_from_x(boundary + 1, rtp, CAP) < k


@pytest.mark.parametrize("rtp", RTPS, ids=str)
def test_every_target_returns_rtp_to_within_the_resolution_of_the_space(rtp: Fraction) -> None:
    """The return of a strategy 'cash out at m' is m·P(crash >= m) = rtp - d, with 0 <= d < m/2^52: the
    floor of the count is the only departure from rtp, and it is below 2000/2^52 ≈ 4.4e-13."""
    for k in targets():
        returned = Fraction(k, 100) * Fraction(fairness.winning_count(k, rtp, CAP), fairness.SPACE)
        shortfall = rtp - returned
        assert 0 <= shortfall < Fraction(k, 100 * fairness.SPACE)


def test_the_cap_holds_and_gathers_the_tail() -> None:
    rtp = Fraction(96, 100)
    assert fairness.crash_cents_from_x(1, rtp, CAP) == 100 * CAP  # the most extreme draw is capped
    at_cap = fairness.winning_count(100 * CAP, rtp, CAP)
    assert at_cap == (96 * fairness.SPACE) // (100 * CAP)  # floor(100 · 0.96 · 2^52 / (100 · cap))
    assert fairness.crash_cents_from_x(at_cap, rtp, CAP) == 100 * CAP


def test_the_round_busts_at_its_start_with_probability_one_minus_rtp() -> None:
    rtp = Fraction(96, 100)
    winners_at_one = fairness.winning_count(100, rtp, CAP)
    bust = Fraction(fairness.SPACE - winners_at_one, fairness.SPACE)
    assert 0 <= bust - (1 - rtp) < Fraction(1, fairness.SPACE)
    assert fairness.crash_cents_from_x(winners_at_one + 1, rtp, CAP) < 100


@settings(max_examples=300)
@given(st.integers(1, fairness.SPACE - 1), st.sampled_from(RTPS))
def test_crash_points_never_rise_as_x_grows(x: int, rtp: Fraction) -> None:
    assert fairness.crash_cents_from_x(x, rtp, CAP) >= fairness.crash_cents_from_x(x + 1, rtp, CAP)


def test_rtp_must_be_a_fraction_in_range() -> None:
    for bad in ("0", "1.0001", "-0.5", "0.96001"):
        with pytest.raises(ValueError, match="rtp"):
            fairness.rtp_fraction(bad)
    assert fairness.rtp_fraction("0.96") == Fraction(24, 25)


# --- the verifiers -------------------------------------------------------------------------------------------


def published(server_seed: str, client_seed: str, nonce: int) -> dict[str, object]:
    return {
        "server_seed": server_seed,
        "server_seed_hash": fairness.seed_hash(server_seed),
        "client_seed": client_seed,
        "nonce": nonce,
        "rtp_target": "0.96",
        "max_win_multiplier": CAP,
        "outcome": fairness.outcome(server_seed, client_seed, nonce).as_dict(),
    }


def run_cli(data: dict[str, object], tmp_path: Path) -> tuple[int, dict[str, object]]:
    path = tmp_path / "round.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = io.StringIO()
    code = cli.main(["verify", str(path)], stdout=out, stderr=io.StringIO())
    return code, json.loads(out.getvalue())


def run_script(data: dict[str, object]) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "-"], input=json.dumps(data), capture_output=True, text=True, check=False
    )
    return done.returncode, json.loads(done.stdout)


def test_both_verifiers_confirm_a_genuine_round(tmp_path: Path) -> None:
    data = published("a-revealed-server-seed", "my-seed", 7)
    for code, report in (run_cli(data, tmp_path), run_script(data)):
        assert code == 0
        assert set(report["checks"].values()) == {"MATCH"}  # type: ignore[union-attr]
        assert len(report["checks"]) == 5  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.update(server_seed=d["server_seed"] + "x"),
        lambda d: d.update(client_seed="other"),
        lambda d: d.update(nonce=8),
        lambda d: d["outcome"].update(crashPoint="999.99"),
        lambda d: d["outcome"].update(mapSeed="0" * 64),
    ],
    ids=["server-seed", "client-seed", "nonce", "crash-point", "map-seed"],
)
def test_both_verifiers_report_a_tampered_round(tamper: object, tmp_path: Path) -> None:
    data = published("a-revealed-server-seed", "my-seed", 7)
    tamper(data)  # type: ignore[operator]
    for code, report in (run_cli(data, tmp_path), run_script(data)):
        assert code == 1
        assert "MISMATCH" in report["checks"].values()  # type: ignore[union-attr]


def run_both(data: dict[str, object], tmp_path: Path, *flags: str) -> list[tuple[int, dict[str, object]]]:
    path = tmp_path / "round.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = io.StringIO()
    cli_code = cli.main(["verify", str(path), *flags], stdout=out, stderr=io.StringIO())
    done = subprocess.run([sys.executable, str(SCRIPT), str(path), *flags], capture_output=True, text=True, check=False)
    return [(cli_code, json.loads(out.getvalue())), (done.returncode, json.loads(done.stdout))]


def test_both_verifiers_confirm_the_seed_shown_before_the_bet(tmp_path: Path) -> None:
    data = published("a-revealed-server-seed", "my-seed", 7)
    shown = fairness.seed_hash("a-revealed-server-seed")
    for code, report in run_both({**data, "shown_server_seed_hash": shown}, tmp_path) + run_both(
        data, tmp_path, "--shown-hash", shown.upper()
    ):
        assert code == 0
        assert report["checks"]["shown_before_bet"] == "MATCH"  # type: ignore[index]
        assert "unchecked" not in report


def test_a_seed_swapped_after_the_bet_fails_although_the_round_is_self_consistent(tmp_path: Path) -> None:
    """The attack a commitment exists for: the server shows one hash, sees the bet, then plays (and publishes,
    consistently) another seed. Only the hash kept from before the bet can catch it."""
    shown = fairness.seed_hash("the-seed-committed-before-the-bet")
    swapped = published("a-seed-chosen-after-seeing-the-bet", "my-seed", 7)
    for flags, data in (((), {**swapped, "shown_server_seed_hash": shown}), (("--shown-hash", shown), swapped)):
        for code, report in run_both(data, tmp_path, *flags):
            assert code == 1
            assert report["checks"]["shown_before_bet"] == "MISMATCH"  # type: ignore[index]
            assert report["checks"]["server_seed_hash"] == "MATCH"  # type: ignore[index]


def test_without_the_shown_hash_the_verifiers_say_the_commitment_was_not_checked(tmp_path: Path) -> None:
    data = published("a-revealed-server-seed", "my-seed", 7)
    for code, report in run_both(data, tmp_path):
        assert code == 0
        assert "shown_before_bet" not in report["checks"]  # type: ignore[operator]
        assert [note.split(":")[0] for note in report["unchecked"]] == ["shown_before_bet"]  # type: ignore[union-attr]


def test_the_fairness_vectors_of_the_spec(tmp_path: Path) -> None:
    vectors = json.loads((REPO_ROOT / "tests" / "data" / "signing-vectors.json").read_text(encoding="utf-8"))
    for case in vectors["schemes"]["rgs_fairness_hmac"]["cases"]:
        data = {k: case[k] for k in ("server_seed", "client_seed", "nonce", "server_seed_hash")}
        for code, report in (run_cli(data, tmp_path), run_script(data)):
            assert code == 0
            assert report["checks"] == {"server_seed_hash": "MATCH"}
        assert fairness.outcome_hmac(case["server_seed"], case["client_seed"], case["nonce"]) == case["crash_hmac"]


def test_the_standalone_script_and_the_package_agree() -> None:
    """The player's script is a copy by design (standard library, one file): it must never drift."""
    namespace: dict[str, object] = {"__name__": "verify_round"}
    exec(compile(SCRIPT.read_text(encoding="utf-8"), str(SCRIPT), "exec"), namespace)  # noqa: S102
    recompute = namespace["recompute"]
    rng = random.Random(5)
    for i in range(3000):
        seed, client, nonce = f"{rng.getrandbits(128):032x}", f"c{i}", rng.randrange(10**6)
        rtp = rng.choice(["0.96", "0.97", "0.9875", "1"])
        mine = fairness.outcome(seed, client, nonce, rtp=rtp, max_win_multiplier=CAP)
        theirs = recompute(seed, client, nonce, rtp, CAP)  # type: ignore[operator]
        assert theirs == {"server_seed_hash": fairness.seed_hash(seed), **mine.as_dict()}
