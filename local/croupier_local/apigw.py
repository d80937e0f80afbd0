"""What Amazon API Gateway (HTTP API, Lambda proxy integration, payload format 2.0) does around a function.

* :class:`Router` picks the route like HTTP API: exact paths beat ``{param}`` paths, which beat greedy
  ``{name+}`` paths; a method-specific route beats ``ANY``; ``$default`` catches the rest.
* :func:`build_event` turns an HTTP request into the 2.0 event, as API Gateway builds it: lower-case
  headers with duplicates comma-joined, the ``cookie`` header moved to ``cookies``, decoded path and query
  values, and the body as text only for textual content types (else base64).
* :func:`to_http_response` turns what the handler returned into the HTTP response, as API Gateway
  interprets a 2.0 response: a dict with ``statusCode`` is a response; anything else is a 200 JSON body.
* :class:`LocalLambdaContext` is the context object the Lambda Python runtime passes to handlers.

Reference: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

PAYLOAD_VERSION = "2.0"
DEFAULT_ROUTE = "$default"
DEFAULT_STAGE = "$default"
ANY_METHOD = "ANY"
LOCAL_API_ID = "local"
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_REGION = "us-east-1"

JSON_CONTENT_TYPE = "application/json"
# The content types HTTP API hands to Lambda as text; every other type (including a missing Content-Type
# and application/x-www-form-urlencoded) arrives base64-encoded with isBase64Encoded true.
TEXT_CONTENT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

T = TypeVar("T")


# --- Requests and responses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as received: ``raw_path`` still percent-encoded, header pairs in arrival order."""

    method: str
    raw_path: str
    raw_query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def path(self) -> str:
        """The decoded path HTTP API routes on and hands to Lambda as ``rawPath``."""
        return unquote(self.raw_path) or "/"

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def _message(status: int, message: str) -> HttpResponse:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status=status, headers=[("Content-Type", JSON_CONTENT_TYPE)], body=body)


def not_found() -> HttpResponse:
    return _message(404, "Not Found")


def internal_server_error() -> HttpResponse:
    return _message(500, "Internal Server Error")


def request_too_large() -> HttpResponse:
    return _message(413, "Request Entity Too Large")


def service_unavailable() -> HttpResponse:
    return _message(503, "Service Unavailable")


# --- Routing -------------------------------------------------------------------------------------------------

_PARAM = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")


@dataclass(frozen=True)
class RouteMatch(Generic[T]):
    target: T
    route_key: str
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _CompiledRoute(Generic[T]):
    method: str
    path: str
    target: T
    segments: tuple[tuple[str, str], ...]  # ("literal", text) | ("param", name) | ("greedy", name)
    order: int

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"

    def specificity(self) -> tuple[int, tuple[int, ...], int, int]:
        """Lower is more specific: no greedy variable, literal segments first, a named method, then template order."""
        kinds = {"literal": 0, "param": 1, "greedy": 2}
        greedy = any(kind == "greedy" for kind, _ in self.segments)
        return (
            int(greedy),
            tuple(kinds[kind] for kind, _ in self.segments),
            int(self.method == ANY_METHOD),
            self.order,
        )

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (ANY_METHOD, method):
            return None
        parts = path[1:].split("/") if path.startswith("/") else path.split("/")
        parameters: dict[str, str] = {}
        for index, (kind, text) in enumerate(self.segments):
            if kind == "greedy":
                rest = "/".join(parts[index:])
                if not rest:
                    return None
                parameters[text] = rest
                return parameters
            if index >= len(parts):
                return None
            if kind == "literal":
                if parts[index] != text:
                    return None
            elif not parts[index]:
                return None
            else:
                parameters[text] = parts[index]
        return parameters if len(parts) == len(self.segments) else None


def _compile(method: str, path: str, target: T, order: int) -> _CompiledRoute[T]:
    method = method.upper()
    if path == DEFAULT_ROUTE:
        return _CompiledRoute(ANY_METHOD, path, target, (), order)
    if not path.startswith("/"):
        raise ValueError(f"route path must start with '/': {path!r}")
    raw_segments = path[1:].split("/")
    segments: list[tuple[str, str]] = []
    for index, segment in enumerate(raw_segments):
        param = _PARAM.match(segment)
        if param is None:
            if "{" in segment or "}" in segment:
                raise ValueError(f"unsupported path segment {segment!r} in {path!r}")
            segments.append(("literal", segment))
        elif param.group(2):
            if index != len(raw_segments) - 1:
                raise ValueError(f"a greedy path variable must be the last segment: {path!r}")
            segments.append(("greedy", param.group(1)))
        else:
            segments.append(("param", param.group(1)))
    return _CompiledRoute(method, path, target, tuple(segments), order)


class Router(Generic[T]):
    """HTTP API route selection over ``(method, path template, target)`` triples."""

    def __init__(self, routes: Iterable[tuple[str, str, T]]) -> None:
        compiled = [_compile(method, path, target, order) for order, (method, path, target) in enumerate(routes)]
        self._default = next((route for route in compiled if route.path == DEFAULT_ROUTE), None)
        self._routes = sorted((route for route in compiled if route.path != DEFAULT_ROUTE), key=_specificity)

    def match(self, method: str, path: str) -> RouteMatch[T] | None:
        method = method.upper()
        for route in self._routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return RouteMatch(route.target, route.route_key, parameters)
        if self._default is not None:
            return RouteMatch(self._default.target, DEFAULT_ROUTE, {})
        return None


def _specificity(route: _CompiledRoute[Any]) -> tuple[int, tuple[int, ...], int, int]:
    return route.specificity()


# --- The 2.0 event -------------------------------------------------------------------------------------------


def new_request_id() -> str:
    """An id shaped like API Gateway's ``apigw-requestid`` (16 base64 characters ending in ``=``)."""
    return base64.b64encode(os.urandom(11)).decode()


def _clf_time(moment: datetime) -> str:
    """``12/Mar/2020:19:03:58 +0000``, independent of the locale."""
    moment = moment.astimezone(UTC)
    return f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} +0000"


def _trace_id(moment: datetime) -> str:
    return f"Root=1-{int(moment.timestamp()):08x}-{os.urandom(12).hex()}"


def is_textual(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in TEXT_CONTENT_TYPES


def query_string_parameters(raw_query: str) -> dict[str, str]:
    """Decoded query parameters, duplicates comma-joined in order; blank values kept."""
    parameters: dict[str, list[str]] = {}
    for pair in raw_query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        parameters.setdefault(unquote_plus(name), []).append(unquote_plus(value))
    return {name: ",".join(values) for name, values in parameters.items()}


def event_headers(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Headers lower-cased with duplicates comma-joined, and the cookies taken out of ``cookie`` headers."""
    headers: dict[str, list[str]] = {}
    cookies: list[str] = []
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers.setdefault(key, []).append(value)
    return {key: ",".join(values) for key, values in headers.items()}, cookies


def build_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
    api_id: str = LOCAL_API_ID,
    account_id: str = LOCAL_ACCOUNT_ID,
    stage: str = DEFAULT_STAGE,
    server_port: int | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway would send for ``request`` on ``route_key``."""
    now = now or datetime.now(UTC)
    request_id = request_id or new_request_id()
    headers, cookies = event_headers(request.headers)
    forwarded_for = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip
    if server_port is not None:
        headers["x-forwarded-port"] = str(server_port)
    headers["x-forwarded-proto"] = "http"
    headers.setdefault("x-amzn-trace-id", _trace_id(now))

    host = headers.get("host", "localhost")
    domain_name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    path = request.path
    event: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = query_string_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": _clf_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if request.body:
        text = _as_text(request.body) if is_textual(headers.get("content-type")) else None
        if text is None:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
            event["isBase64Encoded"] = False
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- The handler's result ------------------------------------------------------------------------------------


def _lambda_json_default(value: Any) -> Any:
    """The Lambda Python runtime serialises Decimal as a number and fails on anything else json cannot encode."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(result: Any) -> str:
    """The JSON the Lambda Python runtime sends back for ``result`` (TypeError/ValueError when it cannot)."""
    return json.dumps(result, default=_lambda_json_default)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_http_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a handler's result (payload format 2.0)."""
    try:
        payload = marshal(result)
    except (TypeError, ValueError):
        return internal_server_error()
    data = json.loads(payload)
    if not isinstance(data, dict) or "statusCode" not in data:
        return HttpResponse(status=200, headers=[("Content-Type", JSON_CONTENT_TYPE)], body=payload.encode())

    status = data["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str):
        return internal_server_error()
    try:
        status = int(status)
    except ValueError:
        return internal_server_error()
    if not 100 <= status <= 599:
        return internal_server_error()

    headers_in = data.get("headers") or {}
    cookies = data.get("cookies") or []
    body = data.get("body")
    if not isinstance(headers_in, dict) or not isinstance(cookies, list) or not isinstance(body, str | None):
        return internal_server_error()
    headers = [(str(name), _header_value(value)) for name, value in headers_in.items()]
    headers.extend(("Set-Cookie", str(cookie)) for cookie in cookies)
    if body is None:
        return HttpResponse(status=status, headers=headers, body=b"")
    if data.get("isBase64Encoded") is True:
        try:
            return HttpResponse(status=status, headers=headers, body=base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            return internal_server_error()
    return HttpResponse(status=status, headers=headers, body=body.encode("utf-8"))


def invoke_through_api_gateway(
    handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], context: Any
) -> HttpResponse:
    """Call ``handler`` and map its result, or its exception, the way API Gateway does."""
    try:
        result = handler(event, context)
    except Exception:
        return internal_server_error()
    return to_http_response(result)


# --- The Lambda context --------------------------------------------------------------------------------------


def new_log_stream_name(now: datetime | None = None) -> str:
    """``2024/01/31/[$LATEST]<32 hex>``: one per execution environment, as in CloudWatch Logs."""
    now = now or datetime.now(UTC)
    return f"{now:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


class LocalLambdaContext(LambdaContext):
    """The context object of the Lambda Python runtime, for one invocation of ``function_name``.

    A Powertools ``LambdaContext``, so handlers typed with it accept it.
    """

    def __init__(
        self,
        function_name: str,
        *,
        timeout_seconds: float,
        memory_limit_in_mb: int,
        aws_request_id: str | None = None,
        log_stream_name: str | None = None,
        function_version: str = "$LATEST",
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._function_name = function_name
        self._function_version = function_version
        self._invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self._memory_limit_in_mb = memory_limit_in_mb
        self._aws_request_id = aws_request_id or str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = log_stream_name or new_log_stream_name()
        self._identity = None  # type: ignore[assignment]  # no Cognito identity behind an HTTP API call
        self._client_context = None  # type: ignore[assignment]  # nor a mobile client context
        self._tenant_id = None
        self._clock = clock
        self._deadline = clock() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # an instance method in Lambda too
        return max(0, int((self._deadline - self._clock()) * 1000))
