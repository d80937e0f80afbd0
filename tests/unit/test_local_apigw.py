"""The local stack's API Gateway: the 2.0 event, the response mapping, route selection, the Lambda context.

Expected shapes follow the AWS documentation of payload format 2.0 ("Create AWS Lambda proxy integrations for
HTTP APIs"). No sockets, no DynamoDB.
"""

from __future__ import annotations

import base64
import json
import textwrap
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from croupier_local.apigw import (
    HttpRequest,
    LocalLambdaContext,
    Router,
    build_event,
    invoke_through_api_gateway,
    not_found,
    query_string_parameters,
    to_http_response,
)
from croupier_local.server import FunctionPool, PoolExhausted
from croupier_local.template import (
    FunctionSpec,
    TemplateError,
    TemplateWarning,
    load_template,
    load_yaml,
    merge_environments,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2020, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)

# The documented top-level and requestContext keys of a 2.0 event (stageVariables, authentication and
# authorizer appear only when a stage variable, mTLS or an authorizer is configured).
DOCUMENTED_KEYS = {
    "version",
    "routeKey",
    "rawPath",
    "rawQueryString",
    "cookies",
    "headers",
    "queryStringParameters",
    "requestContext",
    "body",
    "pathParameters",
    "isBase64Encoded",
}
DOCUMENTED_CONTEXT_KEYS = {
    "accountId",
    "apiId",
    "domainName",
    "domainPrefix",
    "http",
    "requestId",
    "routeKey",
    "stage",
    "time",
    "timeEpoch",
}


def request(
    method: str = "GET",
    raw_path: str = "/my/path",
    raw_query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=[("Host", "127.0.0.1:3000"), ("User-Agent", "agent"), *(headers or [])],
        body=body,
        source_ip="192.0.2.1",
    )


def event_for(req: HttpRequest, route_key: str = "POST /my/path", **kwargs: Any) -> dict[str, Any]:
    return build_event(req, route_key=route_key, request_id="id", now=NOW, **kwargs)


# --- The event -----------------------------------------------------------------------------------------------


def test_a_full_request_gives_exactly_the_documented_event_shape() -> None:
    # Given a request with cookies, duplicate headers and query parameters, a path parameter and a JSON body
    req = request(
        "POST",
        "/my/path",
        "parameter1=value1&parameter1=value2&parameter2=value",
        headers=[
            ("Header1", "value1"),
            ("Header2", "value1"),
            ("header2", "value2"),
            ("Cookie", "cookie1=a; cookie2=b"),
            ("Content-Type", "application/json"),
        ],
        body=b'{"a": 1}',
    )

    # When API Gateway builds the event
    event = event_for(req, path_parameters={"parameter1": "value1"}, server_port=3000)

    # Then it has the documented keys and values
    assert set(event) == DOCUMENTED_KEYS
    assert set(event["requestContext"]) == DOCUMENTED_CONTEXT_KEYS
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /my/path"
    assert event["rawPath"] == "/my/path"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert event["cookies"] == ["cookie1=a", "cookie2=b"]
    assert event["headers"]["header1"] == "value1"
    assert event["headers"]["header2"] == "value1,value2"
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert event["pathParameters"] == {"parameter1": "value1"}
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"] == {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "127",
        "http": {
            "method": "POST",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "agent",
        },
        "requestId": "id",
        "routeKey": "POST /my/path",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1584039838390,
    }


def test_header_names_are_lower_cased_and_api_gateway_adds_its_forwarding_headers() -> None:
    event = event_for(request(headers=[("X-Forwarded-For", "198.51.100.7"), ("X-Custom", "v")]), server_port=3000)

    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["x-custom"] == "v"
    assert headers["x-forwarded-for"] == "198.51.100.7, 192.0.2.1"
    assert headers["x-forwarded-port"] == "3000"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")


def test_cookies_from_every_cookie_header_go_to_cookies_not_headers() -> None:
    event = event_for(request(headers=[("Cookie", "a=1; b=2"), ("cookie", "c=3")]))

    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_optional_fields_are_absent_when_empty() -> None:
    event = event_for(request("GET", "/health"), route_key="GET /health")

    assert "cookies" not in event
    assert "queryStringParameters" not in event
    assert "pathParameters" not in event
    assert "body" not in event
    assert event["isBase64Encoded"] is False
    assert event["rawQueryString"] == ""


def test_query_values_are_decoded_while_the_raw_query_string_is_kept() -> None:
    req = request(raw_query="name=J%C3%B6rg+M&empty=&flag&tag=a&tag=b%2Cc")
    event = event_for(req)

    assert event["rawQueryString"] == "name=J%C3%B6rg+M&empty=&flag&tag=a&tag=b%2Cc"
    assert event["queryStringParameters"] == {"name": "Jörg M", "empty": "", "flag": "", "tag": "a,b,c"}
    assert query_string_parameters("") == {}


def test_the_path_is_handed_over_decoded_as_http_api_does() -> None:
    event = event_for(request(raw_path="/players/J%C3%B6rg%20M"))

    assert event["rawPath"] == "/players/Jörg M"
    assert event["requestContext"]["http"]["path"] == "/players/Jörg M"


@pytest.mark.parametrize(
    ("content_type", "body", "is_text"),
    [
        ("application/json", b'{"x":1}', True),
        ("application/json; charset=utf-8", '{"x":"é"}'.encode(), True),
        ("text/plain", b"hello", True),
        ("text/csv", b"a,b", True),
        ("application/xml", b"<a/>", True),
        ("application/javascript", b"x()", True),
        ("application/x-www-form-urlencoded", b"a=1&b=2", False),
        ("application/octet-stream", b"\x00\x01\xff", False),
        ("image/png", b"\x89PNG", False),
        (None, b"no content type", False),
        ("text/plain", b"\xff\xfe not utf-8", False),
    ],
)
def test_bodies_are_text_only_for_textual_utf8_content(content_type: str | None, body: bytes, is_text: bool) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    event = event_for(request("POST", headers=headers, body=body))

    assert event["isBase64Encoded"] is (not is_text)
    if is_text:
        assert event["body"] == body.decode()
    else:
        assert base64.b64decode(event["body"]) == body


def test_powertools_reads_the_event_like_a_real_one() -> None:
    # Given a Powertools HTTP API resolver, as every Croupier function uses
    app = APIGatewayHttpResolver()

    @app.post("/players/<player_id>/bets")
    def bet(player_id: str) -> dict[str, Any]:
        event = app.current_event
        return {
            "player": player_id,
            "currency": event.get_query_string_value("currency"),
            "session": event.headers.get("x-session"),
            "cookies": event.cookies,
            "amount": event.json_body["amount"],
        }

    req = request(
        "POST",
        "/players/p-1/bets",
        "currency=EUR",
        headers=[("X-Session", "s"), ("Cookie", "sid=1"), ("Content-Type", "application/json")],
        body=b'{"amount": "10.00"}',
    )
    event = event_for(req, route_key="POST /players/{player_id}/bets", path_parameters={"player_id": "p-1"})

    # When the event goes through it
    assert APIGatewayProxyEventV2(event).path == "/players/p-1/bets"
    response = to_http_response(app.resolve(event, LocalLambdaContext("Fn", timeout_seconds=3, memory_limit_in_mb=128)))

    # Then every part of the request arrived
    assert response.status == 200
    assert response.json() == {
        "player": "p-1",
        "currency": "EUR",
        "session": "s",
        "cookies": ["sid=1"],
        "amount": "10.00",
    }


# --- The response --------------------------------------------------------------------------------------------


def test_a_status_code_result_maps_headers_cookies_and_body() -> None:
    response = to_http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Count": 3, "X-Flag": True},
            "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
            "body": '{"ok":true}',
        }
    )

    assert response.status == 201
    assert response.header("content-type") == "application/json"
    assert response.header("x-count") == "3"
    assert response.header("x-flag") == "true"
    assert response.header_values("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert response.body == b'{"ok":true}'


def test_a_base64_body_is_decoded() -> None:
    payload = bytes(range(256))
    response = to_http_response(
        {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(payload).decode()}
    )

    assert response.body == payload


def test_a_status_code_without_body_is_an_empty_response() -> None:
    response = to_http_response({"statusCode": 204})

    assert (response.status, response.body) == (204, b"")


@pytest.mark.parametrize(
    "result",
    [{"message": "hi"}, [1, 2, 3], "plain string", 42, None, {"status": "ok", "statuscode": 201}],
    ids=["dict-without-statusCode", "list", "str", "int", "None", "lower-case-statuscode"],
)
def test_any_other_result_is_a_200_json_body(result: Any) -> None:
    response = to_http_response(result)

    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert json.loads(response.body) == result


def test_decimals_are_serialised_like_the_lambda_runtime_does() -> None:
    assert json.loads(to_http_response({"balance": Decimal("10.5")}).body) == {"balance": 10.5}


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "not a number"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"},
        {"statusCode": 200, "headers": ["x"]},
        {"unserialisable": object()},
    ],
)
def test_a_malformed_result_is_a_500(result: Any) -> None:
    response = to_http_response(result)

    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_an_exception_is_a_500_internal_server_error() -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    response = invoke_through_api_gateway(handler, {}, None)

    assert response.status == 500
    assert response.header("content-type") == "application/json"
    assert response.json() == {"message": "Internal Server Error"}


def test_no_route_is_a_404_not_found() -> None:
    response = not_found()

    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


# --- Routes --------------------------------------------------------------------------------------------------


@pytest.fixture
def router() -> Router[str]:
    return Router(
        [
            ("ANY", "/{proxy+}", "catch-all"),
            ("GET", "/pets/{proxy+}", "pets-greedy"),
            ("GET", "/pets/{id}", "pet-by-id"),
            ("GET", "/pets/dog/1", "dog-one"),
            ("ANY", "/pets/dog/{id}", "any-dog"),
            ("POST", "/pets/dog/{id}", "post-dog"),
            ("GET", "/health", "health"),
            ("GET", "/", "root"),
        ]
    )


@pytest.mark.parametrize(
    ("method", "path", "target", "route_key", "parameters"),
    [
        ("GET", "/pets/dog/1", "dog-one", "GET /pets/dog/1", {}),
        ("GET", "/pets/dog/2", "any-dog", "ANY /pets/dog/{id}", {"id": "2"}),
        ("POST", "/pets/dog/2", "post-dog", "POST /pets/dog/{id}", {"id": "2"}),
        ("GET", "/pets/7", "pet-by-id", "GET /pets/{id}", {"id": "7"}),
        ("GET", "/pets/cat/7/toys", "pets-greedy", "GET /pets/{proxy+}", {"proxy": "cat/7/toys"}),
        ("DELETE", "/pets/7", "catch-all", "ANY /{proxy+}", {"proxy": "pets/7"}),
        ("GET", "/health", "health", "GET /health", {}),
        ("GET", "/", "root", "GET /", {}),
    ],
)
def test_the_most_specific_route_wins(
    router: Router[str], method: str, path: str, target: str, route_key: str, parameters: dict[str, str]
) -> None:
    match = router.match(method, path)

    assert match is not None
    assert (match.target, match.route_key, match.path_parameters) == (target, route_key, parameters)


def test_a_method_that_no_route_serves_is_not_found() -> None:
    router = Router([("GET", "/health", "health")])

    assert router.match("POST", "/health") is None
    assert router.match("GET", "/health/") is None
    assert router.match("GET", "/healthz") is None


def test_a_path_variable_needs_a_non_empty_segment_and_a_greedy_one_at_least_one() -> None:
    router = Router([("GET", "/items/{id}", "item"), ("GET", "/files/{path+}", "file")])

    assert router.match("GET", "/items/") is None
    assert router.match("GET", "/items/a/b") is None
    assert router.match("GET", "/files/") is None
    match = router.match("GET", "/files/a/b.txt")
    assert match is not None
    assert match.path_parameters == {"path": "a/b.txt"}


def test_the_default_route_catches_what_nothing_else_matches() -> None:
    router = Router([("GET", "/health", "health"), ("ANY", "$default", "default")])

    health, other = router.match("GET", "/health"), router.match("PUT", "/anything/else")

    assert health is not None
    assert health.target == "health"
    assert other is not None
    assert (other.target, other.route_key, other.path_parameters) == ("default", "$default", {})


def test_a_greedy_variable_must_be_last() -> None:
    with pytest.raises(ValueError, match="greedy"):
        Router([("GET", "/{proxy+}/x", "bad")])


# --- The Lambda context --------------------------------------------------------------------------------------


def test_the_context_carries_the_function_and_counts_down_from_its_timeout() -> None:
    now = [100.0]
    context = LocalLambdaContext(
        "HealthFunction", timeout_seconds=10, memory_limit_in_mb=256, aws_request_id="r-1", clock=lambda: now[0]
    )

    assert context.function_name == "HealthFunction"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:HealthFunction"
    assert context.memory_limit_in_mb == 256
    assert context.aws_request_id == "r-1"
    assert context.log_group_name == "/aws/lambda/HealthFunction"
    assert "[$LATEST]" in context.log_stream_name
    assert context.get_remaining_time_in_millis() == 10_000
    now[0] += 2.5
    assert context.get_remaining_time_in_millis() == 7_500
    now[0] += 60
    assert context.get_remaining_time_in_millis() == 0


# --- The template ---------------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_cloudformation_short_tags_load_as_their_long_form(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.yaml",
        """
        A: !Ref Stage
        B: !Sub "x-${Stage}"
        C: !GetAtt Table.Arn
        D: !If [IsProd, 1, 2]
        E: !Join [",", [a, b]]
        F: !Select [0, !Split [",", "a,b"]]
        """,
    )

    document = load_yaml(path)

    assert document == {
        "A": {"Ref": "Stage"},
        "B": {"Fn::Sub": "x-${Stage}"},
        "C": {"Fn::GetAtt": ["Table", "Arn"]},
        "D": {"Fn::If": ["IsProd", 1, 2]},
        "E": {"Fn::Join": [",", ["a", "b"]]},
        "F": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
    }


TEMPLATE_WITH_ENV = """
Parameters:
  Stage: {Type: String, Default: dev}
Globals:
  Function:
    Timeout: 7
    Environment:
      Variables:
        STAGE: !Ref Stage
        PREFIX: !Sub "croupier/${Stage}/${AWS::Region}/${AWS::StackName}/${Table}"
        TABLE: !Ref Table
        ARN: !GetAtt Table.Arn
        FLAG: true
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      ProvisionedThroughput: {ReadCapacityUnits: "5", WriteCapacityUnits: 2}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Environment:
        Variables:
          OWN: "1"
      Events:
        Get: {Type: HttpApi, Properties: {Path: "/items/{id}", Method: get}}
        Any: {Type: HttpApi, Properties: {Path: /any}}
"""


def test_environment_intrinsics_resolve_to_local_values(tmp_path: Path) -> None:
    path = write(tmp_path, "template.yaml", TEMPLATE_WITH_ENV)

    with pytest.warns(TemplateWarning, match="ARN"):
        template = load_template(path)

    (function,) = template.functions
    assert dict(function.environment) == {
        "STAGE": "dev",
        "PREFIX": "croupier/dev/us-east-1/croupier-local/Table",
        "TABLE": "Table",
        "FLAG": "true",
        "OWN": "1",
    }
    assert (function.timeout, function.memory_size) == (7, 128)
    assert function.module_path == (tmp_path / "fn" / "app.py").resolve()
    assert [route.route_key for route in function.routes] == ["GET /items/{id}", "ANY /any"]
    (table,) = template.tables
    assert table.create_kwargs["BillingMode"] == "PROVISIONED"
    assert table.create_kwargs["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}


def test_two_functions_disagreeing_on_a_variable_fail_loudly() -> None:
    def function(name: str, value: str) -> FunctionSpec:
        return FunctionSpec(name, Path(), "app.handler", 3, 128, None, {"MODE": value})

    assert merge_environments([function("A", "x"), function("B", "x")]) == {"MODE": "x"}
    with pytest.raises(TemplateError, match="MODE"):
        merge_environments([function("A", "x"), function("B", "y")])


def test_the_projects_template_has_its_tables_and_the_health_route() -> None:
    template = load_template(REPO_ROOT / "template.yaml")

    tables = {table.table_name: table for table in template.tables}
    assert {"WalletTable", "RgsTable"} <= set(tables)
    assert tables["WalletTable"].ttl_attribute == "expires_at_epoch"
    assert tables["WalletTable"].create_kwargs["GlobalSecondaryIndexes"][0]["IndexName"] == "gsi1"
    assert "GET /health" in {route.route_key for route in template.routes}
    assert template.merged_environment()["WALLET_TABLE"] == "WalletTable"


# --- Execution environments -----------------------------------------------------------------------------------

CONCURRENCY_PROBE = """
import threading
import time

busy = 0
overlaps = 0
lock = threading.Lock()


def handler(event, context):
    global busy, overlaps
    with lock:
        busy += 1
        if busy > 1:
            overlaps += 1
    time.sleep(event.get("sleep", 0.05))
    with lock:
        busy -= 1
    return {"module": __name__, "overlaps": overlaps}
"""


@pytest.fixture
def probe(tmp_path: Path) -> FunctionSpec:
    write(tmp_path, "fn/app.py", CONCURRENCY_PROBE)
    return FunctionSpec("Probe", tmp_path / "fn", "app.handler", 3, 128, None, {})


def test_each_environment_serves_one_request_at_a_time_and_the_pool_grows_to_its_cap(probe: FunctionSpec) -> None:
    # Given a pool capped at three environments
    pool = FunctionPool(probe, max_concurrency=3)
    results: list[dict[str, Any]] = []

    # When eight requests arrive at once
    def call() -> None:
        results.append(pool.invoke({"sleep": 0.1}))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then three separately loaded module instances served them, none ever two requests at once
    try:
        assert len(results) == 8
        assert pool.size == 3
        assert len({result["module"] for result in results}) == 3
        assert all(result["overlaps"] == 0 for result in results)
    finally:
        pool.close()


def test_a_warm_environment_is_reused_before_a_new_one_is_loaded(probe: FunctionSpec) -> None:
    pool = FunctionPool(probe, max_concurrency=5)
    try:
        first = pool.invoke({"sleep": 0})
        second = pool.invoke({"sleep": 0})
        assert first["module"] == second["module"]
        assert pool.size == 1
    finally:
        pool.close()


def test_a_request_that_waits_too_long_for_an_environment_is_refused(probe: FunctionSpec) -> None:
    pool = FunctionPool(probe, max_concurrency=1, acquire_timeout=0.05)
    holder = threading.Thread(target=pool.invoke, args=({"sleep": 0.5},))
    holder.start()
    try:
        time.sleep(0.1)
        with pytest.raises(PoolExhausted):
            pool.invoke({"sleep": 0})
    finally:
        holder.join()
        pool.close()
