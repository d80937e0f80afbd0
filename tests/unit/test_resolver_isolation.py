"""Powertools keeps the event being resolved on a class attribute (``BaseRouter.current_event``), shared by every
resolver in the process. In Lambda one process serves one request at a time, so that is harmless; the local
stack serves many execution environments in one process, on threads, and there another environment's request
replaced the one a route was reading: a debit answered ``404 ROUTE_NOT_FOUND`` under load (CI, 2026-11-29), and
a route could have read another request's body. Each of Croupier's resolvers keeps its own event."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from croupier.web import build_resolver, json_response


def event(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": path,
            "routeKey": f"POST {path}",
            "stage": "$default",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def test_a_request_resolved_meanwhile_by_another_resolver_does_not_replace_the_one_a_route_reads() -> None:
    # Given two functions' resolvers in one process (the local stack's execution environments)
    debit, balance = build_resolver(), build_resolver()

    @balance.post("/ruby/balance")
    def answer_balance() -> Response[str]:
        return json_response(200, {"seen": balance.current_event.json_body})

    @debit.post("/ruby/debit")
    def answer_debit() -> Response[str]:
        # When the other environment resolves its own request while this route runs (a thread switch)
        other = balance.resolve(event("/ruby/balance", {"player_id": 2}), None)
        assert json.loads(other["body"]) == {"seen": {"player_id": 2}}
        # Then this route still reads its own request
        return json_response(200, {"seen": debit.current_event.json_body, "path": debit.current_event.path})

    answer = debit.resolve(event("/ruby/debit", {"player_id": 1, "amount": "1.00"}), None)

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"seen": {"player_id": 1, "amount": "1.00"}, "path": "/ruby/debit"}


def test_the_route_is_matched_against_the_resolvers_own_request() -> None:
    # Given a request that another resolver replaces between this resolver's start and its route matching
    first, second = build_resolver(), build_resolver()
    reached: list[str] = []

    @first.post("/ruby/debit")
    def debit_route() -> Response[str]:
        reached.append("debit")
        return json_response(200, {})

    @second.post("/ruby/balance")
    def balance_route() -> Response[str]:
        return json_response(200, {})

    original = first._resolve

    def interleaved() -> Any:
        second.resolve(event("/ruby/balance", {}), None)  # another thread's request lands first
        return original()

    first._resolve = interleaved  # type: ignore[method-assign]

    answer = first.resolve(event("/ruby/debit", {}), None)

    assert (answer["statusCode"], reached) == (200, ["debit"]), answer
