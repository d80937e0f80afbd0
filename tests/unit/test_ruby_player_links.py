"""Ruby's player links are cached per execution environment in a bounded LRU: a full cache forgets its least
recently used link, one at a time (it used to clear every link at once, so the next requests all read again)."""

from __future__ import annotations

import pytest

from croupier.ledger import UnknownAccount
from croupier.wallet.ruby import PlayerLinks


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
