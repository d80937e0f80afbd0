"""Strict JSON request bodies: exact decimals, no NaN/Infinity, no duplicate keys, bounded size."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from croupier.errors import BadRequest, PayloadTooLarge

MAX_BODY_BYTES = 16 * 1024


class InvalidJson(BadRequest):
    code = "INVALID_JSON"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise InvalidJson(f"duplicate key {duplicate!r}")
    return result


def _no_constants(name: str) -> Any:
    raise InvalidJson(f"{name} is not a number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)


def refuse_oversized(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> None:
    """413 for a body over the limit, read or not: a route that takes no body refuses one this big too."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"body is larger than {max_bytes} bytes")


def parse_object(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """A JSON object from raw bytes; numbers with a fraction or exponent become ``Decimal``."""
    refuse_oversized(body, max_bytes=max_bytes)
    try:
        value = _DECODER.decode(body.decode("utf-8"))  # strict UTF-8, as RFC 8259 requires
    except InvalidJson:
        raise
    except (ValueError, UnicodeDecodeError):
        raise InvalidJson("body is not valid JSON") from None
    except RecursionError:
        raise InvalidJson("body is nested too deeply") from None
    except ArithmeticError:  # decimal.InvalidOperation: an exponent beyond Decimal's range
        raise InvalidJson("body holds a number out of range") from None
    if not isinstance(value, dict):
        raise InvalidJson("body must be a JSON object")
    return value


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
