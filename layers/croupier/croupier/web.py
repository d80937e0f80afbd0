"""What every HTTP handler shares: the resolver with its error mapping, and the instrumentation wrapper.

An HTTP function's ``app.py`` is its route and its logic call; :func:`function` makes the rest::

    app, handler = function()

    @app.post("/admin/players/<player_id>/deposits")
    def deposit(player_id: str) -> Response[str]:
        result, replayed = admin().deposit(player_id, request(app).body)
        return json_response(200 if replayed else 201, result)
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from typing_extensions import TypedDict

from croupier.errors import CroupierError
from croupier.observability import count, logger, metrics, publish_counts, traced

if TYPE_CHECKING:
    from croupier.signing import RawRequest

Handler = TypeVar("Handler", bound=Callable[[dict[str, Any], LambdaContext], dict[str, Any]])

JSON = "application/json"


class HealthAnswer(TypedDict):
    status: str
    service: str
    version: str


def error_response(status: int, code: str, message: str, extra: Mapping[str, Any] | None = None) -> Response[str]:
    """The one shape of every error body: ``{"error": CODE, "message": "..."}`` (plus a protocol's own
    fields, such as the RGS wallet's ``"ok": false``)."""
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps({**(extra or {}), "error": code, "message": message}, separators=(",", ":")),
    )


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body, separators=(",", ":")))


class OwnEventResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver, reading only its own request.

    Powertools keeps the request being resolved on a class attribute (``BaseRouter.current_event``), shared by
    every resolver in the process. One Lambda environment serves one request at a time, so there it is
    harmless. The local stack runs many environments in one process, on threads, and there another function's
    request replaced the one a route was matching and reading (a debit answered 404, or read another body).
    The same values set on the instance shadow the class's for every read through this resolver; the event is
    kept where Powertools builds it, so it is built once."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.lambda_context = context
        return super().resolve(event, context)

    def _to_proxy_event(self, event: dict[str, Any]) -> BaseProxyEvent:
        self.current_event = cast(APIGatewayProxyEventV2, super()._to_proxy_event(event))
        return self.current_event


def build_resolver(*, error_fields: Mapping[str, Any] | None = None) -> APIGatewayHttpResolver:
    """A resolver with Croupier's error mapping registered once; ``error_fields`` join every error body."""
    app = OwnEventResolver()

    @app.exception_handler(CroupierError)  # type: ignore[untyped-decorator]
    def _domain_error(error: CroupierError) -> Response[str]:
        if error.metric:
            count(error.metric)
        if error.status >= 500:
            logger.warning("request failed", extra={"error_code": error.code, "status": error.status})
        return error_response(error.status, error.code, error.message, error_fields)

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return error_response(404, "ROUTE_NOT_FOUND", "no such route", error_fields)

    return app


def correlation_id(event: Mapping[str, Any], context: LambdaContext) -> str:
    """API Gateway's request id (the ``apigw-requestid`` a caller sees, and the access logs' ``requestId``);
    the Lambda request id for events that do not come through API Gateway (an SQS batch)."""
    request_context = event.get("requestContext")
    if isinstance(request_context, Mapping):
        request_id = request_context.get("requestId")
        if isinstance(request_id, str) and request_id:
            return request_id
    return str(getattr(context, "aws_request_id", "") or "")


def instrumented(handler: Handler) -> Handler:
    """Wrap a Lambda handler with structured logging (every line carries ``correlation_id``, see
    :func:`correlation_id`, next to Powertools' ``function_request_id``), tracing and metrics (this
    invocation's counts published once, at the end); traced as :func:`croupier.observability.traced` says."""

    @functools.wraps(handler)
    @logger.inject_lambda_context
    @traced
    @metrics.log_metrics
    def wrapper(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        logger.set_correlation_id(correlation_id(event, context))
        try:
            return handler(event, context)
        finally:
            publish_counts()

    return wrapper  # type: ignore[return-value]


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def function(*, error_fields: Mapping[str, Any] | None = None) -> tuple[APIGatewayHttpResolver, LambdaHandler]:
    """An HTTP function's resolver (:func:`build_resolver`, ``error_fields`` as there) and its Lambda handler,
    which resolves each event through it, :func:`instrumented`. Routes are added to the resolver afterwards."""
    app = build_resolver(error_fields=error_fields)

    @instrumented
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return app, handler


def request(app: APIGatewayHttpResolver) -> RawRequest:
    """The request being resolved as it was received: the raw body bytes (what signatures cover), the headers
    case-insensitive, the source address."""
    from croupier.signing import RawRequest  # loaded by every function that reads a body; not by /health

    return RawRequest.from_apigw_v2(app.current_event.raw_event)
