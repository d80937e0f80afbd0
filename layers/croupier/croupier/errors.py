"""Typed domain errors. The domain raises these; :mod:`croupier.web` maps them to HTTP in one place."""

from __future__ import annotations


class CroupierError(Exception):
    """Base of every error Croupier answers on purpose. ``code`` is stable and documented."""

    status: int = 500
    code: str = "INTERNAL_ERROR"
    metric: str | None = None  # counted (croupier.observability) when the error is answered, if set

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(CroupierError):
    status = 400
    code = "BAD_REQUEST"


class Unauthorized(CroupierError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(CroupierError):
    status = 403
    code = "FORBIDDEN"


class NotFound(CroupierError):
    status = 404
    code = "NOT_FOUND"


class Conflict(CroupierError):
    status = 409
    code = "CONFLICT"


class PayloadTooLarge(CroupierError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UpstreamError(CroupierError):
    """A provider we called failed or answered something we cannot use."""

    status = 502
    code = "UPSTREAM_ERROR"


class Unavailable(CroupierError):
    """A transient failure on our side (throttling, conflicts past the retry budget): safe to retry."""

    status = 503
    code = "UNAVAILABLE"
