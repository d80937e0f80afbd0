"""Write units of a ``TransactWriteItems`` as DynamoDB bills them, which DynamoDB Local does not report.

DynamoDB bills a transaction 2 write units per KB (rounded up) of every item it writes, plus what the writes cost
the indexes. DynamoDB Local's ``ReturnConsumedCapacity`` for a transaction is not that sum: three small puts,
or a put and an update, report 2 units (one item's), a small put and an update of a 1.5 KB item 6 (measured,
version in ``package.json``); its index figure (``INDEXES``) is the one part that follows the items written.
So the benches and the tests size each written item themselves (a put's item from the request, an update's
item read back after the transaction) and add DynamoDB Local's index units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

TRANSACTION_UNITS_PER_KB = 2
ReadItem = Callable[[str, Mapping[str, Any]], Mapping[str, Any] | None]
"""``(table, key)`` → the item as stored now (None: there is none)."""


def item_size(item: Mapping[str, Any]) -> int:
    """An upper bound of an item's size as DynamoDB counts it: attribute names plus values (a string its UTF-8
    bytes, a number at most 21 bytes, a map or a list 3 bytes plus 1 an element)."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return min(21, len(str(inner)) + 1)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + _value_size(v) + 1 for k, v in inner.items())
    if kind in ("L", "SS", "NS", "BS"):
        elements = inner if kind == "L" else [{kind[0]: e} for e in inner]
        return 3 + sum(_value_size(v) + 1 for v in elements)
    raise ValueError(f"unknown attribute type {kind!r}")


def write_units(size: int) -> int:
    return TRANSACTION_UNITS_PER_KB * max(1, math.ceil(size / 1024))


def transaction_write_units(transact_items: Sequence[Mapping[str, Any]], read_item: ReadItem) -> dict[str, int]:
    """Each written item's units (``<Put|Update|Delete|ConditionCheck> <pk>``) of a committed transaction."""
    units: dict[str, int] = {}
    for entry in transact_items:
        ((action, request),) = entry.items()
        if action == "Put":
            item: Mapping[str, Any] | None = request["Item"]
            key = {"pk": request["Item"]["pk"]}
        else:
            key = request["Key"]
            item = read_item(request["TableName"], key) if action == "Update" else None
        size = item_size(item) if item is not None else 1024
        units[f"{action} {key['pk']['S']}"] = write_units(size)
    return units


def index_units(consumed: Any) -> float:
    """The index part of DynamoDB Local's ``ConsumedCapacity`` (asked for with ``INDEXES``)."""
    total = 0.0
    for table in [consumed] if isinstance(consumed, dict) else consumed or []:
        for index in (table.get("GlobalSecondaryIndexes") or {}).values():
            total += float(index.get("CapacityUnits", 0) or 0)
        for index in (table.get("LocalSecondaryIndexes") or {}).values():
            total += float(index.get("CapacityUnits", 0) or 0)
    return total
