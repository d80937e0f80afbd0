"""GET /health: a liveness probe. Touches no table and no secret."""

from __future__ import annotations

from croupier import __version__
from croupier.web import HealthAnswer, function

app, handler = function()


@app.get("/health")
def health() -> HealthAnswer:
    return {"status": "ok", "service": "croupier", "version": __version__}
