"""Ruby's player links are cached per execution environment in a bounded LRU: a full cache forgets its least
recently used link, one at a time (it used to clear every link at once, so the next requests all read again).
Brands are made once per value of their secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from croupier.ledger import UnknownAccount
from croupier.secrets import CachedSecrets, FileSecretStore
from croupier.wallet.ruby import BrandDirectory, PlayerLinks


def test_a_full_cache_forgets_one_link_at_a_time_never_all() -> None:
    reads: list[str] = []

    def resolve(provider: str, external_id: str) -> str | None:
        reads.append(external_id)
        return f"p-{external_id}" if external_id != "404" else None

    links = PlayerLinks(resolve, size=3)
    assert [links.player_for(n) for n in (1, 2, 3)] == ["p-1", "p-2", "p-3"]
    links.player_for(1)  # 1 is now the most recently used
    links.player_for(4)  # the cache is full: 2, the least recently used, makes way
    assert reads == ["1", "2", "3", "4"]
    assert [links.player_for(n) for n in (1, 3, 4)] == ["p-1", "p-3", "p-4"]
    assert reads == ["1", "2", "3", "4"], "a link still cached was read again"
    links.player_for(2)
    assert reads[-1] == "2"
    with pytest.raises(UnknownAccount):
        links.player_for(404)
    with pytest.raises(UnknownAccount):
        links.player_for(404)
    assert reads.count("404") == 2, "an unknown id is never cached as a link"


def test_a_brand_is_made_once_per_secret_value_and_again_when_the_secret_changes(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path / "secrets.json")
    store.put("ruby/brands/b1", {"api_secret": "first", "currency": "KRW"})
    clock = [0.0]
    brands = BrandDirectory(CachedSecrets(store, ttl=60, monotonic=lambda: clock[0]))
    first = brands.get("b1")
    assert first is not None
    assert first.api_secret == "first"
    assert brands.get("b1") is first, "the same secret value: the same brand, not made again"
    store.put("ruby/brands/b1", {"api_secret": "rotated", "currency": "USD"})
    assert brands.get("b1") is first, "within the cache's time to live"
    clock[0] = 61
    rotated = brands.get("b1")
    assert rotated is not None
    assert (rotated.api_secret, rotated.currency) == ("rotated", "USD"), "a rotated secret is taken after the TTL"
    store.put("ruby/brands/b1", {"api_secret": "", "currency": "USD"})
    clock[0] = 122
    assert brands.get("b1") is None, "a secret that is no longer a brand's is not answered from the brand cache"
    assert brands.get("b2") is None
