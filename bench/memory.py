"""Lambda memory per function, chosen by measurement: each function class's real handler, warm, under the CPU
share Lambda gives each memory size, and what a million invocations would cost at each.

Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB. So each size in ``SIZES_MB`` is
emulated by a Docker container started with ``--cpus=<size / 1769>`` (a CFS quota, as Lambda's; 1,769 MB gets one
whole vCPU) from the Lambda-compatible base image ``make sam-test`` builds (``public.ecr.aws/lambda/python:3.11``:
Debian's python3.11, as tools/lambda-base-image.sh makes it). Inside, the local stack's in-process runner
(``LocalStack.invoke``) calls the real handlers with API Gateway events, against DynamoDB Local and moto's server
running on the host (the container on the host's network), so only the function's own work is under the quota, as
in Lambda, where DynamoDB and the operator's wallet are other machines. The RGS bet's and cash-out's operator
wallet is Croupier's own ``/rgs-wallet`` adapter, served by the host's stack.

Per class and size: ``CALLS`` warm invocations after ``WARMUP`` (caches and connections filled, as a warm Lambda
has them), each timed from the event to the answer; billed duration is that rounded up to the millisecond; cost
per million = billed seconds x GB x the GB-second price + the request price (ASSUMED us-east-1 x86 prices, below).
Each size runs ``REPEATS`` times, in alternating order, and the figures are medians over the repeats of each
run's median (p90 likewise): the machine is small and shared, so single runs drift. Init: a fresh interpreter
importing the function's ``app`` (start-up included, bytecode cached as ``make build`` ships it) at each size,
and its peak RSS, which the size must hold with room to spare.

The choice: the cheapest size whose warm p50 is at most ``LATENCY_SLACK`` x the fastest size's p50 or
``LATENCY_SLACK_MS`` more (whichever is looser), whose p90 at most ``P90_SLACK`` x the fastest p90 or
``P90_SLACK_MS`` more (CFS throttling shows in the tail first), whose cold init stays under ``INIT_BOUND_MS`` (or
``INIT_SLACK`` x the fastest init, when the shared machine makes even that slower: a cold start must stay well
inside the providers' deadlines of seconds), and whose memory is at least twice the import's peak RSS; a cost
within ``COST_TIE`` of the cheapest is a tie, which goes to the lowest p90. DynamoDB
Local on this machine is slower than DynamoDB in a region (milliseconds more per call), which makes waiting a
larger share here than there: sizes chosen here lean towards less memory than AWS's latencies alone would.

``python -m bench.memory`` prints the table and the chosen sizes; ``make bench`` runs it when Docker and the
image are there (``memory_mb`` in the bench-summary line), and says it skipped otherwise; ``--quick`` leaves it
out (``python -m bench.memory --quick``: 128 and 1,769 MB, 3 calls, its own smoke run).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "public.ecr.aws/lambda/python:3.11-x86_64"
SIZES_MB = (128, 256, 512, 1024, 1769)
FULL_VCPU_MB = 1769
CALLS = 30
WARMUP = 10
REPEATS = 2
INIT_RUNS = 2
CONTAINER_MEMORY_FLOOR_MB = 1024
"""The container's memory limit: the size, but at least this. The runner holds every handler and the local stack
in one process, more than one function's Lambda does; what is emulated is the CPU share, and each function's own
footprint is checked apart (its import's peak RSS)."""

# --- public prices, us-east-1 x86_64: ASSUMPTIONS as published by AWS (checked 2025-06); verify before use ---
PRICES_AS_OF = "2025-06"
LAMBDA_PER_GB_SECOND = 0.0000166667
LAMBDA_PER_MILLION_REQUESTS = 0.20

LATENCY_SLACK = 1.25
LATENCY_SLACK_MS = 10.0
P90_SLACK = 1.5
P90_SLACK_MS = 25.0
INIT_BOUND_MS = 2_000.0
INIT_SLACK = 1.5
RSS_HEADROOM = 2.0
COST_TIE = 0.10
"""Costs within 10 % of the cheapest are a tie (the run-to-run noise here; a few cents a million, against a
request price of $0.20): the tie goes to the lowest p90 (within 10 % or 1 ms of it, the smallest size)."""

BRAND_KEY = "dev-ruby-brand-key"


@dataclass(frozen=True)
class FunctionClass:
    """A kind of work, measured through one function, standing for the template's functions in ``functions``."""

    name: str
    measured: str  # the function whose handler is timed
    folder: str  # its folder under functions/ (for the init measurement)
    functions: tuple[str, ...]  # every template function of this class (MemorySize set from the measurement)


CLASSES = (
    FunctionClass(
        "ruby_debit",
        "RubyDebitFunction",
        "ruby_debit",
        (
            "RubyBalanceFunction",
            "RubyDebitFunction",
            "RubyCreditFunction",
            "RubyRollbackFunction",
            "RgsWalletBetFunction",
            "RgsWalletWinFunction",
            "RgsWalletRefundFunction",
        ),
    ),
    FunctionClass(
        "sportsbook_transaction",
        "SportsbookTransactionFunction",
        "sportsbook_transaction",
        ("SportsbookTransactionFunction", "SportsbookRollbackFunction"),
    ),
    FunctionClass("rgs_bet", "RgsPlayBetFunction", "rgs_play_bet", ("RgsPlayBetFunction", "RgsWalletRetryFunction")),
    FunctionClass("rgs_cashout", "RgsPlayCashoutFunction", "rgs_play_cashout", ("RgsPlayCashoutFunction",)),
    FunctionClass(
        "launch",
        "RgsPublicLaunchFunction",
        "rgs_public_launch",
        ("RgsPublicLaunchFunction", "RgsLaunchFunction", "SportsbookLaunchFunction"),
    ),
    FunctionClass(
        "admin_read",
        "AdminGetPlayerFunction",
        "admin_get_player",
        (
            "AdminCreatePlayerFunction",
            "AdminGetPlayerFunction",
            "AdminDepositFunction",
            "AdminWithdrawFunction",
            "AdminListEntriesFunction",
            "AdminExcludeFunction",
            "AdminGetExclusionFunction",
            "AdminLiftExclusionFunction",
            "AdminSetLimitsFunction",
            "AdminGetLimitsFunction",
            "AdminProtectionAuditFunction",
            "RgsAdminCreateOperatorFunction",
            "RgsAdminRotateKeyFunction",
            "RgsAdminUpdateOperatorFunction",
            "RgsPublicRoundFunction",
            "RgsPublicRevenueFunction",
            "RgsPublicEndSessionFunction",
            "RgsPublicRecallFunction",
            "RgsPlayStateFunction",
            "RgsRevenueFunction",
        ),
    ),
    FunctionClass("page", "RgsPlayPageFunction", "rgs_play_page", ("RgsPlayPageFunction",)),
    FunctionClass("health", "HealthFunction", "health", ("HealthFunction",)),
)


# --- on the host ---------------------------------------------------------------------------------------------


def lambda_cost_per_million(billed_ms: float, memory_mb: int) -> float:
    return LAMBDA_PER_MILLION_REQUESTS + 1_000_000 * (billed_ms / 1000) * (memory_mb / 1024) * LAMBDA_PER_GB_SECOND


def docker_ready() -> str | None:
    """Why the bench cannot run here, or None."""
    if shutil.which("docker") is None:
        return "no docker command"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)  # noqa: S607
    if info.returncode != 0:
        return "no Docker engine answering (make docker starts one)"
    image = subprocess.run(  # noqa: S603
        ["docker", "image", "inspect", IMAGE],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if image.returncode != 0:
        return f"no image {IMAGE} (make lambda-image builds it)"
    return None


def site_packages() -> Path:
    """The dev virtualenv's packages (the layer's pins and moto), mounted read-only into the container."""
    import pydantic

    return Path(pydantic.__file__).resolve().parents[1]


def provision(stack: Any) -> dict[str, Any]:
    """On the host's stack: a Ruby-linked player in KRW, a USD player, an RGS operator whose wallet is the host
    stack's own ``/rgs-wallet``, and the secrets to sign with."""
    from bench.stack import _post, prepare
    from croupier_local.demo import accept_own_wallet_calls

    fx = prepare(stack, stack.secret_store)
    rgs_player = f"bench-rgs-{uuid.uuid4().hex[:8]}"
    for path, data in (
        ("/admin/players", {"player_id": rgs_player, "currency": "USD"}),
        (f"/admin/players/{rgs_player}/deposits", {"currency": "USD", "amount": "1000000000", "reference": "m"}),
    ):
        answer = stack.handle(_post(path, data))
        assert answer.status == 201, answer.body
    created = stack.handle(
        _post(
            "/admin/rgs/operators",
            {
                "wallet_callback_url": f"{stack.base_url}/rgs-wallet",
                "allowed_currencies": ["USD"],
                "max_bets_per_second": 100,
            },
        )
    )
    assert created.status in (200, 201), created.body
    operator = json.loads(created.body)
    accept_own_wallet_calls(stack.secret_store, operator["operator_id"], operator["api_key"], operator["hmac_secret"])
    return {
        "ruby_id": fx.ruby_id,
        "player_id": fx.player_id,
        "ruby_secret": fx.ruby_secret,
        "sportsbook_hash": fx.sportsbook_hash,
        "rgs_player": rgs_player,
        "operator": {k: operator[k] for k in ("operator_id", "api_key", "hmac_secret")},
    }


def run_container(size_mb: int, spec: dict[str, Any], site: Path) -> dict[str, Any]:
    cpus = min(size_mb / FULL_VCPU_MB, 1.0)
    command = [
        "docker",
        "run",
        "--rm",
        "--network=host",
        f"--cpus={cpus:.4f}",
        f"--memory={max(size_mb, CONTAINER_MEMORY_FLOOR_MB)}m",
        "-v",
        f"{ROOT}:/repo:ro",
        "-v",
        f"{site}:/opt/site:ro",
        "-w",
        "/repo",
        "-e",
        "PYTHONPATH=/repo/layers/croupier:/repo/local:/repo:/opt/site",
        "-e",
        "PYTHONPYCACHEPREFIX=/tmp/pyc",
        "-e",
        "PYTHONDONTWRITEBYTECODE=",
        "--entrypoint",
        "/usr/bin/python3.11",
        IMAGE,
        "-m",
        "bench.memory",
        "--worker",
        json.dumps({**spec, "size_mb": size_mb}),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"the {size_mb} MB container failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def choose(per_size: dict[int, dict[str, float]]) -> int:
    """The cheapest size within the latency, init and footprint bounds (the fastest size when none is)."""
    best_p50 = min(figures["p50_ms"] for figures in per_size.values())
    best_p90 = min(figures["p90_ms"] for figures in per_size.values())
    best_init = min(figures["init_ms"] for figures in per_size.values())
    fit = [
        size
        for size, figures in per_size.items()
        if figures["p50_ms"] <= max(best_p50 * LATENCY_SLACK, best_p50 + LATENCY_SLACK_MS)
        and figures["p90_ms"] <= max(best_p90 * P90_SLACK, best_p90 + P90_SLACK_MS)
        and figures["init_ms"] <= max(INIT_BOUND_MS, best_init * INIT_SLACK)
        and size >= RSS_HEADROOM * figures["rss_mb"]
    ]
    if not fit:
        return min(per_size, key=lambda size: per_size[size]["p50_ms"])
    cheapest = min(per_size[size]["cost_per_million_usd"] for size in fit)
    tied = [size for size in fit if per_size[size]["cost_per_million_usd"] <= cheapest * (1 + COST_TIE)]
    fastest = min(per_size[size]["p90_ms"] for size in tied)
    return min(size for size in tied if per_size[size]["p90_ms"] <= max(fastest * 1.1, fastest + 1.0))


def aggregate(runs: dict[int, list[dict[str, Any]]]) -> dict[str, dict[int, dict[str, float]]]:
    """Per class and size: medians over the repeats of each run's p50 and p90, billed ms, cost, init and RSS."""
    table: dict[str, dict[int, dict[str, float]]] = {}
    for function_class in CLASSES:
        name = function_class.name
        table[name] = {}
        for size, results in runs.items():
            p50 = statistics.median(r["warm"][name]["p50_ms"] for r in results)
            p90 = statistics.median(r["warm"][name]["p90_ms"] for r in results)
            billed = statistics.median(r["warm"][name]["billed_ms"] for r in results)
            table[name][size] = {
                "p50_ms": p50,
                "p90_ms": p90,
                "billed_ms": billed,
                "cost_per_million_usd": lambda_cost_per_million(billed, size),
                "init_ms": statistics.median(r["init"][name]["ms"] for r in results),
                "rss_mb": max(r["init"][name]["rss_mb"] for r in results),
            }
    return table


def report(table: dict[str, dict[int, dict[str, float]]], repeats: int, calls: int) -> dict[str, Any]:
    print(
        f"Lambda memory per function class: warm handler under --cpus=size/{FULL_VCPU_MB} (Docker, {IMAGE}), "
        f"{calls} calls x {repeats} runs a size, medians of the runs' p50/p90"
    )
    print(
        f"cost per million = mean billed ms (rounded up) x GB x ${LAMBDA_PER_GB_SECOND}/GB-s + "
        f"${LAMBDA_PER_MILLION_REQUESTS}/M requests (ASSUMED us-east-1 x86 prices as of {PRICES_AS_OF})"
    )
    print(
        f"choice: cheapest size with p50 <= max({LATENCY_SLACK}x, +{LATENCY_SLACK_MS:g} ms) of the fastest, "
        f"p90 <= max({P90_SLACK}x, +{P90_SLACK_MS:g} ms), init <= max({INIT_BOUND_MS:g} ms, {INIT_SLACK}x the "
        f"fastest), memory >= {RSS_HEADROOM:g}x import RSS; costs within {COST_TIE:.0%} of the cheapest tie, "
        "the lowest p90 wins"
    )
    print(f"{'class':<24}{'MB':>6}{'p50 ms':>9}{'p90 ms':>9}{'billed':>8}{'$/M':>8}{'init ms':>9}{'RSS MB':>8}")
    chosen: dict[str, int] = {}
    for name, per_size in table.items():
        chosen[name] = choose(per_size)
        for size, f in sorted(per_size.items()):
            mark = "  <- chosen" if size == chosen[name] else ""
            print(
                f"{name:<24}{size:>6}{f['p50_ms']:>9.1f}{f['p90_ms']:>9.1f}{f['billed_ms']:>8.0f}"
                f"{f['cost_per_million_usd']:>8.2f}{f['init_ms']:>9.0f}{f['rss_mb']:>8.0f}{mark}"
            )
    return {
        "chosen_mb": chosen,
        "figures": {name: {str(size): f for size, f in per_size.items()} for name, per_size in table.items()},
        "functions": {fn: chosen[c.name] for c in CLASSES for fn in c.functions},
    }


def main(
    sizes: tuple[int, ...] = SIZES_MB, calls: int = CALLS, repeats: int = REPEATS, save: Path | None = None
) -> dict[str, Any]:
    why_not = docker_ready()
    if why_not is not None:
        print(f"Lambda memory per function: skipped ({why_not})")
        return {"skipped": why_not}
    import warnings

    from bench.quiet import handler_output_sunk
    from croupier_local.server import LocalStack

    os.environ.update(
        {
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "LOCAL_LOG_LEVEL": "WARNING",
        }
    )
    site = site_packages()
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LocalStack(ROOT, port=0) as stack:
            spec = {
                "dynamodb": stack.dynamodb_endpoint,
                "aws": stack.aws_endpoint,
                "seed_key_id": stack.seed_key_id,
                "calls": calls,
                "warmup": WARMUP,
                "fixture": provision(stack),
            }
            with handler_output_sunk():  # the host stack's wallet adapter prints its logs and metrics
                for repeat in range(repeats):
                    for size in sizes if repeat % 2 == 0 else tuple(reversed(sizes)):
                        runs[size].append(run_container(size, spec, site))
    if save is not None:
        save.write_text(json.dumps({"calls": calls, "runs": runs}))
    return report(aggregate(runs), repeats, calls)


def from_saved(*paths: Path) -> dict[str, Any]:
    """The report of runs saved by earlier ``--save`` invocations, pooled (more repeats on a noisy machine)."""
    runs: dict[int, list[dict[str, Any]]] = {}
    calls = 0
    for path in paths:
        saved = json.loads(path.read_text())
        calls = saved["calls"]
        for size, results in saved["runs"].items():
            runs.setdefault(int(size), []).extend(results)
    return report(aggregate(runs), min(len(results) for results in runs.values()), calls)


# --- in the container ----------------------------------------------------------------------------------------


def _event(method: str, path: str, raw: bytes, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    from croupier_local.apigw import HttpRequest, build_event

    route_key = extra.pop("route_key", f"{method} {path}")
    query = extra.pop("query", "")
    request = HttpRequest(method, path, raw_query=query, headers=list(headers.items()), body=raw)
    return build_event(request, route_key=route_key, request_id=uuid.uuid4().hex, **extra)


def cases(stack: Any, fx: dict[str, Any]) -> dict[str, tuple[str, Callable[[], dict[str, Any]]]]:
    """Per class: the function timed and a maker of its next event (fresh ids; what it needs done untimed)."""
    from bench.stack import ruby_event
    from croupier.signing import rgs, sportsbook

    op = fx["operator"]
    json_headers = {"Content-Type": "application/json"}

    def ruby_debit() -> dict[str, Any]:
        body = {"player_id": fx["ruby_id"], "amount": "1.00", "transaction_id": f"m-{uuid.uuid4().hex[:12]}"}
        raw, headers = ruby_event("debit", body, fx["ruby_secret"])
        return _event("POST", "/ruby/debit", raw, headers)

    def sportsbook_bet() -> dict[str, Any]:
        body = {
            "transaction_id": f"msb-{uuid.uuid4().hex[:12]}",
            "action": "bet",
            "user_id": fx["player_id"],
            "currency": "KRW",
            "amount": 1,
        }
        raw = json.dumps(body).encode()
        headers = {**sportsbook.headers(fx["sportsbook_hash"], raw), **json_headers}
        return _event("POST", "/sportsbook/transaction", raw, headers)

    def launch_event() -> dict[str, Any]:
        path = "/api/public/rgs/launch"
        raw = json.dumps({"operator_player_id": fx["rgs_player"], "currency": "USD"}).encode()
        signed = rgs.headers(op["operator_id"], op["api_key"], op["hmac_secret"], "POST", path, raw)
        return _event("POST", path, raw, {**signed, **json_headers})

    def launch_session() -> str:
        answer = stack.invoke("RgsPublicLaunchFunction", launch_event())
        assert answer["statusCode"] in (200, 201), answer
        from urllib.parse import parse_qs, urlsplit

        token: str = parse_qs(urlsplit(json.loads(answer["body"])["launch_url"]).query)["session"][0]
        return token

    token = launch_session()

    def bet_event() -> dict[str, Any]:
        raw = json.dumps({"amount_minor": 10}).encode()  # the minimum bet
        return _event("POST", "/rgs/play/bet", raw, {"Authorization": f"Bearer {token}", **json_headers})

    def cashout_event() -> dict[str, Any]:
        placed = stack.invoke("RgsPlayBetFunction", bet_event())  # untimed: the round to cash out
        assert placed["statusCode"] in (200, 201), placed
        raw = json.dumps({"round_id": json.loads(placed["body"])["round_id"]}).encode()
        return _event("POST", "/rgs/play/cashout", raw, {"Authorization": f"Bearer {token}", **json_headers})

    def admin_read() -> dict[str, Any]:
        path = f"/admin/players/{fx['player_id']}"
        return _event(
            "GET",
            path,
            b"",
            {},
            route_key="GET /admin/players/{player_id}",
            path_parameters={"player_id": fx["player_id"]},
        )

    return {
        "ruby_debit": ("RubyDebitFunction", ruby_debit),
        "sportsbook_transaction": ("SportsbookTransactionFunction", sportsbook_bet),
        "rgs_bet": ("RgsPlayBetFunction", bet_event),
        "rgs_cashout": ("RgsPlayCashoutFunction", cashout_event),
        "launch": ("RgsPublicLaunchFunction", launch_event),
        "admin_read": ("AdminGetPlayerFunction", admin_read),
        "page": ("RgsPlayPageFunction", lambda: _event("GET", "/play", b"", {}, query=f"session={token}")),
        "health": ("HealthFunction", lambda: _event("GET", "/health", b"", {})),
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def warm(stack: Any, fx: dict[str, Any], calls: int, warmup: int) -> dict[str, dict[str, float]]:
    from bench.quiet import handler_output_sunk

    found: dict[str, dict[str, float]] = {}
    with handler_output_sunk():
        for name, (function, make) in cases(stack, fx).items():
            durations = []
            for index in range(warmup + calls):
                event = make()
                start = time.perf_counter()
                answer = stack.invoke(function, event)
                elapsed = (time.perf_counter() - start) * 1000
                assert answer["statusCode"] < 500, (name, answer)
                if name != "rgs_cashout":  # a round may crash before its cash-out: a 4xx then, still timed
                    assert answer["statusCode"] < 300, (name, answer)
                if index >= warmup:
                    durations.append(elapsed)
            found[name] = {
                "p50_ms": statistics.median(durations),
                "p90_ms": _percentile(durations, 0.9),
                "billed_ms": statistics.mean(math.ceil(ms) for ms in durations),
            }
    return found


INIT_SCRIPT = (
    "import resource, time; t = time.perf_counter(); import app; ms = (time.perf_counter() - t) * 1000; "
    "print(ms, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def init(runs: int) -> dict[str, dict[str, float]]:
    """A fresh interpreter importing each class's ``app`` (start-up included), as Lambda's init; bytecode cached
    by an untimed first run. The median ms, the largest peak RSS."""
    found: dict[str, dict[str, float]] = {}
    for function_class in CLASSES:
        folder = ROOT / "functions" / function_class.folder
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "croupier"), str(folder), "/opt/site"]),
            "PYTHONPYCACHEPREFIX": os.environ.get("PYTHONPYCACHEPREFIX", "/tmp/pyc"),  # noqa: S108
            "AWS_DEFAULT_REGION": "us-east-1",
            "WALLET_TABLE": "WalletTable",
            "RGS_TABLE": "RgsTable",
            "CROUPIER_XRAY_SDK": "false",
            "LAMBDA_TASK_ROOT": str(folder),
            "AWS_LAMBDA_FUNCTION_NAME": function_class.measured,
        }
        times, rss = [], []
        for index in range(runs + 1):
            start = time.perf_counter()
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-c", INIT_SCRIPT], cwd=folder, env=env, capture_output=True, text=True, check=True
            )
            elapsed = (time.perf_counter() - start) * 1000
            if index:
                times.append(elapsed)
                rss.append(int(done.stdout.split()[-1]) / 1024)
        found[function_class.name] = {"ms": statistics.median(times), "rss_mb": max(rss)}
    return found


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    import warnings

    from croupier_local.server import LocalStack

    os.environ.update(
        {
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "LOCAL_LOG_LEVEL": "WARNING",
        }
    )
    init_figures = init(INIT_RUNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LocalStack(
            ROOT, port=0, dynamodb_endpoint=spec["dynamodb"], aws_endpoint=spec["aws"], seed_key_id=spec["seed_key_id"]
        ) as stack:
            warm_figures = warm(stack, spec["fixture"], spec["calls"], spec["warmup"])
    return {"size_mb": spec["size_mb"], "warm": warm_figures, "init": init_figures}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(json.loads(sys.argv[2]))), flush=True)
    elif sys.argv[1:2] == ["--from"]:
        from_saved(*(Path(arg) for arg in sys.argv[2:]))
    elif "--quick" in sys.argv:
        main((128, 1769), calls=3, repeats=1)
    else:
        at = sys.argv.index("--save") + 1 if "--save" in sys.argv else 0
        main(repeats=int(os.environ.get("MEMORY_REPEATS", REPEATS)), save=Path(sys.argv[at]) if at else None)
