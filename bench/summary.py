"""The one ``bench-summary: {json}`` line that ends ``make bench``: every ratio of the run, and each goal of
issue 17 next to its figure. Keys are sorted and the fields documented in README ("The bench-summary line")."""

from __future__ import annotations

import json
from typing import Any

PREFIX = "bench-summary: "

# issue 17's goals (and the goals the benches state of their own), as (figure's path in the summary, bound)
COLD_IMPORT_GOAL = 1.3  # x the bare boto3 import, every function
AT_MOST = {"wallet_cpu_x_floor.logic": 8.0, "wru.ruby_debit": 4.0}
AT_LEAST = {
    "throughput_ratio.debit": 0.95,
    "throughput_ratio.credit": 0.95,
    "throughput_ratio.replay": 0.95,
    "protection_ratio": 0.90,
    "sweeper.workers_per_minute": 10_000.0,
}


def _key(operation: str) -> str:
    return operation.replace(" ", "_")


def _r(value: float) -> float:
    return round(float(value), 3)


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    """The summary of the figures each bench's ``main()`` returned (keyed by bench name)."""
    cold, wallet, stack = figures["coldstart"], figures["wallet"], figures["stack"]
    settlement, sweeper = figures["settlement"], figures["sweeper"]
    cpu = wallet["cpu"]
    operations = stack["operations"]
    summary: dict[str, Any] = {
        "cold_import": {
            "baseline_ms": _r(cold["baseline_ms"]),
            "ratio": {name: _r(ratio) for name, ratio in cold["ratio"].items()},
        },
        "signing_x_floor": {name: _r(x) for name, x in figures["signing"]["x_floor"].items()},
        "wallet_cpu_x_floor": {
            "floor_us": _r(cpu["floor_us"]),
            "logic": _r(cpu["logic_us"] / cpu["floor_us"]),
            "handler": _r(cpu["handler_us"] / cpu["floor_us"]),
        },
        "throughput_ratio": {name: _r(t["ratio"]) for name, t in wallet["throughput"].items()},
        "protection_ratio": _r(wallet["protection"]["ratio"]),
        "http_ratio": _r(stack["http_ratio"]),
        "wru": {_key(name): _r(op["wru"]) for name, op in operations.items()},
        "rru": {_key(name): _r(op["rru"]) for name, op in operations.items()},
        "round_trips": {_key(name): op["round_trips"] for name, op in operations.items()},
        "cost_per_million_usd": {_key(name): _r(op["cost_per_million_usd"]) for name, op in operations.items()},
        "dynamodb_share": {_key(name): _r(op["dynamodb_share"]) for name, op in operations.items()},
        "settlement": {
            "cash_out_x_bare_write": _r(settlement["cash_outs_per_second"] / settlement["bare_writes_per_second"]),
            "old_transaction_x_bare_write": _r(
                settlement["old_transactions_per_second"] / settlement["bare_writes_per_second"]
            ),
        },
        "sweeper": {
            "workers_x_one_thread": _r(sweeper["ratio"]),
            "workers_per_minute": _r(sweeper["workers_per_minute"]),
            "left_due": sweeper["left_due"],
        },
    }
    chosen = figures.get("memory", {}).get("chosen_mb")
    summary["memory_mb"] = chosen if chosen else {"skipped": figures.get("memory", {}).get("skipped", "not run")}
    summary["goals"] = goals(summary)
    return summary


def _at(summary: dict[str, Any], path: str) -> float:
    value: Any = summary
    for part in path.split("."):
        value = value[part]
    return float(value)


def goals(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, ratio in summary["cold_import"]["ratio"].items():
        found[f"cold_import.{name}"] = {
            "value": ratio,
            "goal": f"<= {COLD_IMPORT_GOAL}",
            "met": ratio <= COLD_IMPORT_GOAL,
        }
    for path, bound in AT_MOST.items():
        value = _at(summary, path)
        found[path] = {"value": value, "goal": f"<= {bound:g}", "met": value <= bound}
    for path, bound in AT_LEAST.items():
        value = _at(summary, path)
        found[path] = {"value": value, "goal": f">= {bound:g}", "met": value >= bound}
    return found


def line(summary: dict[str, Any]) -> str:
    return PREFIX + json.dumps(summary, sort_keys=True, separators=(",", ":"))
