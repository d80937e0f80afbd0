"""``CachedSecrets`` under a flood of unknown keys: absent secrets are remembered in a bounded LRU that
forgets its least recently used key one at a time, so a flood costs at most one store read per new key and
never pushes out a known key's value."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from croupier.secrets import DEFAULT_MAX_ABSENT_SECRETS, CachedSecrets, SecretNotFound


class CountingStore:
    """A store that knows a few secrets and counts every read, by name."""

    def __init__(self, known: dict[str, dict[str, Any]], *, delay: threading.Event | None = None) -> None:
        self.known = known
        self.reads: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._delay = delay

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        with self._lock:
            self.reads[name] += 1
        if self._delay is not None:
            self._delay.wait(5)
        if name not in self.known:
            raise SecretNotFound(name)
        return self.known[name]

    def put(self, name: str, value: dict[str, Any]) -> str:
        self.known[name] = value
        return name

    @property
    def total(self) -> int:
        return sum(self.reads.values())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def random_keys(n: int) -> list[str]:
    return [f"ruby/brands/{uuid.uuid4().hex}" for _ in range(n)]


BRAND = "ruby/brands/known"


def test_a_flood_of_random_keys_costs_one_read_each_and_never_evicts_a_known_value() -> None:
    # Given a known brand, read once and cached, and an absent-key cache of 100
    store = CountingStore({BRAND: {"api_secret": "s"}})
    secrets = CachedSecrets(store, max_absent=100)
    assert secrets.get(BRAND) == {"api_secret": "s"}
    # When 5,000 random keys arrive, each twice in a row
    flood = random_keys(5000)
    for name in flood:
        assert secrets.get(name) is None
        assert secrets.get(name) is None  # the repeat is answered from the cache
    # Then each new key cost exactly one read, and the known brand is still served from the cache
    assert store.total == 1 + len(flood)
    assert secrets.get(BRAND) == {"api_secret": "s"}
    assert store.reads[BRAND] == 1
    assert secrets.absent_cached() == 100  # bounded, and never emptied wholesale


def test_the_absent_cache_forgets_the_least_recently_used_key_one_at_a_time() -> None:
    store = CountingStore({})
    secrets = CachedSecrets(store, max_absent=10)
    recent = "ruby/brands/recent"
    assert secrets.get(recent) is None
    # nine others fill the cache: the recent key is still remembered
    for name in random_keys(9):
        secrets.get(name)
    assert secrets.get(recent) is None
    assert store.reads[recent] == 1
    # that read made it the most recently used: nine more (evicting the nine older ones) keep it
    for name in random_keys(9):
        secrets.get(name)
    assert secrets.get(recent) is None
    assert store.reads[recent] == 1
    assert secrets.absent_cached() == 10
    # ten more without touching it: it is the oldest, and goes
    for name in random_keys(10):
        secrets.get(name)
    assert secrets.get(recent) is None
    assert store.reads[recent] == 2


def test_an_absent_key_is_read_again_after_the_ttl_and_found_once_provisioned() -> None:
    clock = Clock()
    store = CountingStore({})
    secrets = CachedSecrets(store, ttl=60, monotonic=clock)
    assert secrets.get("rgs-wallet/operators/new") is None
    store.put("rgs-wallet/operators/new", {"api_key": "k"})
    assert secrets.get("rgs-wallet/operators/new") is None  # remembered as absent until the ttl passes
    clock.now += 61
    assert secrets.get("rgs-wallet/operators/new") == {"api_key": "k"}
    assert store.total == 2


def test_concurrent_reads_of_one_missing_key_cost_one_store_read() -> None:
    gate = threading.Event()
    store = CountingStore({}, delay=gate)
    secrets = CachedSecrets(store)
    answers: list[object] = []
    threads = [threading.Thread(target=lambda: answers.append(secrets.get("ruby/brands/x"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    assert answers == [None] * 16
    assert store.total == 1


def test_a_flood_from_many_threads_stays_bounded_and_keeps_the_known_value() -> None:
    store = CountingStore({BRAND: {"api_secret": "s"}})
    secrets = CachedSecrets(store, max_absent=50)
    secrets.get(BRAND)
    floods = [random_keys(500) for _ in range(8)]

    def run(names: list[str]) -> None:
        for name in names:
            secrets.get(name)
            secrets.get(BRAND)

    threads = [threading.Thread(target=run, args=(names,)) for names in floods]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert store.total == 1 + sum(len(names) for names in floods)
    assert store.reads[BRAND] == 1
    assert secrets.absent_cached() == 50


def test_the_size_is_configurable_and_must_be_positive() -> None:
    assert DEFAULT_MAX_ABSENT_SECRETS >= 1000
    with pytest.raises(ValueError, match="positive"):
        CachedSecrets(CountingStore({}), max_absent=0)
