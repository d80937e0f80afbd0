"""``Operators``' per-environment cache under a flood of unknown operator ids: the unknown ones are
remembered in a bounded LRU apart from the known operators, so a flood never pushes out a known operator and
never clears the cache wholesale (each unknown id costs at most one read of the table)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from croupier.rgs.operators import Operators
from croupier.secrets import SecretNotFound

KNOWN = str(uuid.uuid4())
PROFILE = {
    "operator_id": KNOWN,
    "settings": {"enabled": True},
    "keys": [{"api_key": "rgs_live_k", "created_at": "2024-01-01T00:00:00Z", "retires_at": None}],
}


class CountingRgsStore:
    def __init__(self) -> None:
        self.reads: Counter[str] = Counter()

    def read_operator(self, operator_id: str) -> tuple[dict[str, Any], int] | None:
        self.reads[operator_id] += 1
        return (PROFILE, 1) if operator_id == KNOWN else None


class Secrets:
    def __init__(self) -> None:
        self.reads = 0

    def get(self, name: str, *, fresh: bool = False) -> dict[str, Any]:
        self.reads += 1
        if name.endswith(KNOWN):
            return {"keys": {"rgs_live_k": "secret"}}
        raise SecretNotFound(name)

    def put(self, name: str, value: dict[str, Any]) -> str:
        return name


def test_a_flood_of_unknown_operators_never_evicts_a_known_one() -> None:
    store, secrets = CountingRgsStore(), Secrets()
    operators = Operators(store, secrets)  # type: ignore[arg-type]
    assert operators.signing_key(KNOWN) == ("rgs_live_k", "secret")
    flood = [str(uuid.uuid4()) for _ in range(3000)]
    for operator_id in flood:
        assert operators.secrets_for(operator_id, "rgs_live_k") == []
        assert operators.secrets_for(operator_id, "rgs_live_k") == []  # the repeat is cached
    assert operators.signing_key(KNOWN) == ("rgs_live_k", "secret")
    assert store.reads[KNOWN] == 1
    assert secrets.reads == 1  # an unknown operator never costs a secret read
    assert sum(store.reads.values()) == 1 + len(flood)
