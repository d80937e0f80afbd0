"""`make bench`: run every benchmark under bench/, print its report, and end with one ``bench-summary`` line.

``python -m bench --quick`` runs each part with tiny counts (the smoke test's: the figures mean nothing)."""

from __future__ import annotations

import os
import sys
import warnings

# Before anything imports croupier.observability: its Metrics read these once.
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from bench import coldstart, memory, settlement, signing, stack, summary, sweeper, wallet


def quick() -> None:
    """Tiny counts everywhere: the path runs end to end in a minute or two."""
    signing.REPEATS, signing.CALLS = 1, 50
    # 120 warm-up calls: past Powertools' 100 values of a metric, where it prints an EMF blob of its own
    wallet.THROUGHPUT_CALLS, wallet.ROUNDS, wallet.WARMUP_CALLS, wallet.CPU_CALLS = 2, 1, 120, 20
    coldstart.REPEATS = 1
    stack.CALLS, stack.ROUNDS, stack.WARMUP, stack.REPEATS = 2, 1, 1, 1
    settlement.ROUNDS_PER_PLAYER, settlement.REPEATS = 11, 1  # 11: past the default 10 bets a second a session
    sweeper.ROUNDS, sweeper.SEQUENTIAL_ROUNDS, sweeper.PROFILED_ROUNDS, sweeper.WARMUP_ROUNDS = 20, 4, 4, 4


MEMORY_IN_QUICK = False
"""bench/memory.py runs Docker containers for minutes: the quick run leaves it out (``python -m bench.memory --quick``
is its own smoke run)."""


def main(argv: list[str]) -> None:
    # the local template's notes (a Ref it cannot resolve) and Powertools' "no metrics to publish" are no figures
    warnings.filterwarnings("ignore", message=r".*is left out locally")
    warnings.filterwarnings("ignore", message=r"No application metrics to publish")
    quick_run = "--quick" in argv
    if quick_run:
        quick()
    figures = {
        "signing": signing.main(),
        "wallet": wallet.main(),
        "coldstart": coldstart.main(coldstart.REPEATS),
        "stack": stack.main(),
        "settlement": settlement.main(),
        "sweeper": sweeper.main(sweeper.ROUNDS, sweeper.SEQUENTIAL_ROUNDS, sweeper.PROFILED_ROUNDS),
        "memory": memory.main() if not quick_run or MEMORY_IN_QUICK else {"skipped": "quick run"},
    }
    print(summary.line(summary.summarise(figures)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
