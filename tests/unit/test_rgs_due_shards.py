"""The sweeper's ``due`` index shards: a round's shard is a hash of its id, spread evenly over enough shards that
no index partition runs hot at the RGS's peak write rate (the sizing is in ``croupier.rgs.store``)."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from pathlib import Path

import pytest

from croupier.aws import CLIENT_CONFIG
from croupier.rgs.game import SWEEP_WORKERS
from croupier.rgs.store import DUE_SHARDS, LEGACY_DUE_SHARDS, _due_shards, due_shard
from croupier_local.template import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_index_has_enough_shards_for_the_peak_write_rate() -> None:
    assert DUE_SHARDS == 32
    assert DUE_SHARDS >= LEGACY_DUE_SHARDS  # items written with the old "DUE#0".."DUE#7" keys are still queried


def test_a_round_s_shard_is_a_hash_of_its_whole_id() -> None:
    round_id = "r_" + uuid.uuid4().hex
    expected = int.from_bytes(hashlib.sha256(round_id.encode()).digest()[:8], "big") % DUE_SHARDS
    assert due_shard(round_id) == f"DUE#{expected}"
    assert due_shard(round_id) == due_shard(round_id)


def test_ids_that_share_their_last_digits_still_spread_over_every_shard() -> None:
    # the old scheme took the last two hex digits: these 640 ids would all have landed in one shard
    ids = [f"r_{i:030x}ff" for i in range(640)]
    shards = Counter(due_shard(round_id) for round_id in ids)
    assert set(shards) == {f"DUE#{n}" for n in range(DUE_SHARDS)}
    assert max(shards.values()) < 3 * len(ids) / DUE_SHARDS


def test_random_round_ids_spread_evenly() -> None:
    shards = Counter(due_shard("r_" + uuid.uuid4().hex) for _ in range(32_000))
    assert len(shards) == DUE_SHARDS
    mean = 32_000 / DUE_SHARDS  # 1000 a shard, a standard deviation of ~31
    assert all(abs(n - mean) < 200 for n in shards.values())


def test_the_dynamodb_connection_pool_holds_every_sweeper_worker() -> None:
    assert CLIENT_CONFIG.max_pool_connections >= SWEEP_WORKERS


@pytest.mark.parametrize("value", ["7", "0", "4097", "-8", "32.0", "lots", ""])
def test_a_shard_count_that_could_lose_items_or_is_no_number_fails_loudly(value: str) -> None:
    with pytest.raises(ValueError, match="RGS_DUE_SHARDS"):
        _due_shards({"RGS_DUE_SHARDS": value})


def test_the_shard_count_comes_from_the_template_parameter() -> None:
    assert [_due_shards({"RGS_DUE_SHARDS": v}) for v in ("8", "512", "4096")] == [8, 512, 4096]
    assert _due_shards({}) == 32
    template = load_yaml(REPO_ROOT / "template.yaml")
    assert template["Globals"]["Function"]["Environment"]["Variables"]["RGS_DUE_SHARDS"] == {"Ref": "RgsDueShards"}
    parameter = template["Parameters"]["RgsDueShards"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (32, LEGACY_DUE_SHARDS, 4096)
