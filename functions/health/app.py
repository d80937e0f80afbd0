"""GET /health: a liveness probe. Touches no table and no secret."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier import __version__
from croupier.web import HealthAnswer, build_resolver, instrumented

app = build_resolver()


@app.get("/health")
def health() -> HealthAnswer:
    return {"status": "ok", "service": "croupier", "version": __version__}


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
