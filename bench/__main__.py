"""`make bench`: run every benchmark under bench/ and print its report."""

from __future__ import annotations

import os

# Before anything imports croupier.observability: its Metrics read these once.
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from bench import coldstart, settlement, signing, stack, sweeper, wallet


def main() -> None:
    signing.main()
    wallet.main()
    coldstart.main()
    stack.main()
    settlement.main()
    sweeper.main()


if __name__ == "__main__":
    main()
