"""bench/memory.py's arithmetic and choice, and the template's memory sizes that cite it.

Every function of the template states its own ``MemorySize`` (none inherits Globals'), with a comment naming the
measurement it comes from (``bench/memory.py``, or the sweeper's own throughput figure), and every function but
the sweeper belongs to exactly one measured class.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import memory
from croupier_local.template import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
SIZED_APART = {"RgsSweeperFunction"}  # by its throughput at 10,000 due rounds a minute (bench/sweeper.py)


def figures(p50: float, p90: float, init: float = 500.0, rss: float = 40.0, billed: float | None = None) -> dict:
    return {"p50_ms": p50, "p90_ms": p90, "init_ms": init, "rss_mb": rss, "billed_ms": billed or p50}


def with_cost(per_size: dict[int, dict]) -> dict[int, dict]:
    for size, f in per_size.items():
        f["cost_per_million_usd"] = memory.lambda_cost_per_million(f["billed_ms"], size)
    return per_size


def test_cost_per_million_is_billed_seconds_times_gb_times_price_plus_requests() -> None:
    assert memory.lambda_cost_per_million(10, 1024) == pytest.approx(0.20 + 1_000_000 * 0.010 * 1 * 0.0000166667)
    assert memory.lambda_cost_per_million(10, 512) < memory.lambda_cost_per_million(10, 1024)


def test_the_cheapest_size_within_the_latency_bound_is_chosen() -> None:
    per_size = with_cost(
        {
            128: figures(p50=80, p90=200),  # cheapest, but 4x slower than the fastest
            256: figures(p50=24, p90=40),  # within +10 ms of the fastest p50
            512: figures(p50=20, p90=30),
            1769: figures(p50=19, p90=28),
        }
    )
    assert memory.choose(per_size) == 256


def test_a_cost_within_ten_percent_is_a_tie_won_by_the_lower_p90_then_the_smaller_size() -> None:
    # 8 ms at 256 MB and 4 ms at 512 MB bill the same GB-seconds
    tail = with_cost({256: figures(p50=6, p90=30, billed=8), 512: figures(p50=5, p90=10, billed=4)})
    assert memory.choose(tail) == 512
    same = with_cost({128: figures(p50=0.1, p90=0.1, billed=1), 256: figures(p50=0.1, p90=0.1, billed=1)})
    assert memory.choose(same) == 128


def test_a_size_too_slow_to_start_or_too_small_for_the_process_is_not_chosen() -> None:
    slow_init = with_cost({256: figures(20, 30, init=5_000), 512: figures(20, 30, init=900)})
    assert memory.choose(slow_init) == 512
    too_small = with_cost({128: figures(20, 30, rss=90), 256: figures(20, 30, rss=90)})
    assert memory.choose(too_small) == 256


def template_functions() -> dict[str, dict]:
    resources = load_yaml(TEMPLATE)["Resources"]
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def test_every_function_but_the_sweeper_is_in_exactly_one_measured_class() -> None:
    listed = [fn for c in memory.CLASSES for fn in c.functions]
    assert len(listed) == len(set(listed))
    assert set(listed) | SIZED_APART == set(template_functions())
    for c in memory.CLASSES:
        assert c.measured in c.functions
        assert (REPO_ROOT / "functions" / c.folder / "app.py").is_file()


def test_every_function_states_a_measured_memory_size_and_cites_it() -> None:
    lines = TEMPLATE.read_text().splitlines()
    for name, properties in template_functions().items():
        assert "MemorySize" in properties, name
        size = int(properties["MemorySize"])
        assert size in memory.SIZES_MB or name in SIZED_APART, (name, size)
        start = lines.index(f"  {name}:")
        block = lines[start + 1 : next(i for i in range(start + 1, len(lines)) if re.match(r"  \S", lines[i]))]
        at = next(i for i, line in enumerate(block) if line.strip().startswith("MemorySize:"))
        comment = " ".join(line.strip() for line in block[max(0, at - 4) : at + 1] if "#" in line)
        assert "bench/memory.py" in comment or "make bench" in comment, name
