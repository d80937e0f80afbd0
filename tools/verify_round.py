#!/usr/bin/env python3
"""Verify a Croupier crash round yourself. Standard library only; read it, it is short.

    python3 verify_round.py round.json           # the JSON of GET /api/public/rgs/round/{round_id}
    python3 verify_round.py round.json --shown-hash H   # H: next_server_seed_hash the game showed before the bet
    python3 verify_round.py --server-seed S --client-seed C --nonce N [--rtp 0.96] [--max-win 2000]

It recomputes sha256(server_seed) and compares it with the hash shown before the bet (--shown-hash, or the
JSON's shown_server_seed_hash: the game page keeps it for every bet) and with the round's published
server_seed_hash, then the crash point and the derived seeds from
HMAC_SHA256(key=server_seed, msg="<client_seed>:<nonce>:<purpose>"), and says MATCH or MISMATCH for each.
Without the shown hash it says the commitment was not checked: only the hash you saw before betting proves
the seed was not chosen after your bet. The formula is derived in docs/fairness.md:

    h = first 52 bits of the "crash" HMAC;  X = 2^52 - h   (uniform on 1..2^52)
    crash point (hundredths) = min(floor(100 * rtp * 2^52 / X), 100 * max_win_multiplier)

Exit status 0 when everything published matches, 1 when anything does not, 2 on bad input.
"""

import argparse
import hashlib
import hmac
import json
import sys
from decimal import Decimal
from fractions import Fraction

SPACE = 2**52


def hmac_hex(server_seed, client_seed, nonce, purpose):
    message = f"{client_seed}:{nonce}:{purpose}".encode()
    return hmac.new(server_seed.encode("utf-8"), message, hashlib.sha256).hexdigest()


def crash_point(server_seed, client_seed, nonce, rtp, max_win):
    rate = Fraction(Decimal(rtp))
    x = SPACE - int(hmac_hex(server_seed, client_seed, nonce, "crash")[:13], 16)
    cents = min((100 * rate.numerator * SPACE) // (rate.denominator * x), 100 * int(max_win))
    return f"{Decimal(cents).scaleb(-2):.2f}"


def recompute(server_seed, client_seed, nonce, rtp="0.96", max_win=2000):
    return {
        "server_seed_hash": hashlib.sha256(server_seed.encode("utf-8")).hexdigest(),
        "crashPoint": crash_point(server_seed, client_seed, nonce, rtp, max_win),
        "mapSeed": hmac_hex(server_seed, client_seed, nonce, "map"),
        "lootSeed": hmac_hex(server_seed, client_seed, nonce, "loot"),
        "guardSeed": hmac_hex(server_seed, client_seed, nonce, "guard"),
    }


def published_values(round_data):
    found = {"server_seed_hash": round_data.get("server_seed_hash")}
    found.update(round_data.get("outcome") or {})
    return {key: value for key, value in found.items() if value is not None}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a Croupier crash round.")
    parser.add_argument("round_json", nargs="?", help="a file with the round's published JSON ('-' for stdin)")
    parser.add_argument("--server-seed")
    parser.add_argument("--client-seed")
    parser.add_argument("--nonce", type=int)
    parser.add_argument("--rtp", default=None, help="the operator's rtp_target (default 0.96)")
    parser.add_argument("--max-win", default=None, help="the operator's max_win_multiplier (default 2000)")
    parser.add_argument("--shown-hash", help="the next_server_seed_hash shown before the bet")
    args = parser.parse_args(argv)
    data = {}
    if args.round_json == "-":
        data = json.loads(sys.stdin.read())
    elif args.round_json:
        with open(args.round_json, encoding="utf-8") as handle:
            data = json.load(handle)
    server_seed = args.server_seed or data.get("server_seed")
    client_seed = args.client_seed if args.client_seed is not None else data.get("client_seed")
    nonce = args.nonce if args.nonce is not None else data.get("nonce")
    if not server_seed or client_seed is None or not isinstance(nonce, int) or nonce < 0:
        print("need the server seed (revealed after the round), the client seed and the nonce", file=sys.stderr)
        return 2
    rtp = args.rtp or data.get("rtp_target") or "0.96"
    max_win = args.max_win or data.get("max_win_multiplier") or 2000
    computed = recompute(server_seed, client_seed, nonce, str(rtp), max_win)
    verdicts = {}
    for key, value in published_values(data).items():
        if key in computed:
            verdicts[key] = "MATCH" if str(value) == computed[key] else "MISMATCH"
    report = {"computed": computed, "checks": verdicts}
    shown = args.shown_hash or data.get("shown_server_seed_hash")
    if shown:
        verdicts["shown_before_bet"] = "MATCH" if str(shown).lower() == computed["server_seed_hash"] else "MISMATCH"
    else:
        report["unchecked"] = [
            "shown_before_bet: give the hash the game showed before the bet (--shown-hash, or "
            "shown_server_seed_hash in the JSON) to check that this round used the committed seed"
        ]
    print(json.dumps(report, indent=2))
    return 1 if "MISMATCH" in verdicts.values() else 0


if __name__ == "__main__":
    sys.exit(main())
