"""The checks every route makes the same way: a request model validated into one documented error, and a
signature verdict turned into one documented 401."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from croupier.errors import BadRequest, Unauthorized
from croupier.observability import count
from croupier.signing import Failure, Verdict

M = TypeVar("M", bound=BaseModel)

SIGNATURE_CODES: Mapping[Failure, str] = {
    Failure.MISSING_HEADER: "SIGNATURE_MISSING",
    Failure.MALFORMED: "SIGNATURE_MALFORMED",
    Failure.STALE_TIMESTAMP: "TIMESTAMP_STALE",
    Failure.FUTURE_TIMESTAMP: "TIMESTAMP_IN_FUTURE",
    Failure.EXPIRED: "TIMESTAMP_STALE",
    Failure.BAD_SIGNATURE: "SIGNATURE_INVALID",
}


class InvalidRequest(BadRequest):
    code = "INVALID_REQUEST"


def validated(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` as ``model``, or 400 INVALID_REQUEST naming the fields (never their values)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})
        raise InvalidRequest(f"invalid or missing fields: {', '.join(fields)}") from None


def signature_refused(verdict: Verdict, unknown_key_code: str) -> Unauthorized:
    """The 401 of a failed verdict, counted; ``unknown_key_code`` names the protocol's kind of key."""
    count("SignatureFailures")
    if verdict.reason is Failure.UNKNOWN_KEY:
        return Unauthorized(verdict.detail, code=unknown_key_code)
    code = SIGNATURE_CODES.get(verdict.reason, "SIGNATURE_INVALID") if verdict.reason else "SIGNATURE_INVALID"
    return Unauthorized(verdict.detail, code=code)
