"""The events only AWS delivers, in the shapes AWS delivers them: an HTTP API (payload 2.0) request that the
IAM authorizer let through, and EventBridge's "Scheduled Event". The samples in ``events/`` and what the local
stack builds are read by Powertools' own data classes, then run through the handlers.

What the local stack does not do: it enforces no authorizer (loopback only) and invents no identity; an
admin route's local event has no ``requestContext.authorizer`` at all, and the stack's banner says so.
Only player protection's audit reads the caller's identity
(``test_only_player_protection_reads_the_callers_identity``).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, EventBridgeEvent

from croupier_local.__main__ import _banner
from croupier_local.apigw import HttpRequest, build_event
from croupier_local.server import LocalStack, scheduled_event
from croupier_local.template import FunctionSpec, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(REPO_ROOT / "template.yaml")
IAM_FUNCTIONS = [f for f in TEMPLATE.functions if any(r.authorizer == "AWS_IAM" for r in f.routes)]
OTHER_HTTP_FUNCTIONS = [f for f in TEMPLATE.functions if f.routes and f not in IAM_FUNCTIONS]
IAM_KEYS = {"accessKey", "accountId", "callerId", "cognitoIdentity", "principalOrgId", "userArn", "userId"}
ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def sample(function: FunctionSpec) -> dict[str, Any]:
    path = REPO_ROOT / "events" / f"{Path(str(function.code_uri)).name}.json"
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


# --- the IAM-authorised HTTP API event -----------------------------------------------------------------------


def test_the_admin_routes_are_the_iam_authorised_ones() -> None:
    assert {f.logical_id for f in IAM_FUNCTIONS} >= {
        "AdminCreatePlayerFunction",
        "AdminGetPlayerFunction",
        "AdminDepositFunction",
        "AdminWithdrawFunction",
        "AdminListEntriesFunction",
        "RgsAdminCreateOperatorFunction",
        "RgsAdminRotateKeyFunction",
    }


@pytest.mark.parametrize("function", IAM_FUNCTIONS, ids=[f.logical_id for f in IAM_FUNCTIONS])
def test_an_iam_routes_sample_carries_the_authorizers_identity_and_powertools_reads_it(function: FunctionSpec) -> None:
    event = sample(function)
    iam = event["requestContext"]["authorizer"]["iam"]
    assert set(iam) == IAM_KEYS  # what HTTP API puts there for an IAM-authorised request
    assert iam["accountId"] == event["requestContext"]["accountId"]

    parsed = APIGatewayProxyEventV2(event).request_context.authorizer.iam
    assert re.fullmatch(r"arn:aws:(iam|sts)::\d{12}:\S+", parsed.user_arn)
    assert parsed.account_id == event["requestContext"]["accountId"]
    assert parsed.access_key.startswith(("AKIA", "ASIA"))
    assert all((parsed.user_id, parsed.caller_id, parsed.principal_org_id))
    assert parsed.cognito_identity_id == ""  # an IAM principal, not a Cognito identity: null in the event


@pytest.mark.parametrize("function", OTHER_HTTP_FUNCTIONS, ids=[f.logical_id for f in OTHER_HTTP_FUNCTIONS])
def test_a_route_without_an_authorizer_has_no_identity_in_its_sample(function: FunctionSpec) -> None:
    assert "authorizer" not in sample(function)["requestContext"]


def test_only_player_protection_reads_the_callers_identity() -> None:
    """A finding, pinned: player protection's audit records the IAM principal of every change (issue 16); the
    other admin actions (deposits, withdrawals, operator keys) still do not. Whatever starts reading it next
    must be tested with the sample events above, as the audit is below."""
    sources = [*(REPO_ROOT / "layers").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]
    readers = [p for p in sources if re.search(r"authorizer|userArn|user_arn", p.read_text(encoding="utf-8"))]
    assert [p.relative_to(REPO_ROOT).as_posix() for p in readers] == ["layers/croupier/croupier/protection.py"]


def test_the_protection_audit_records_the_iam_principal_of_the_sample_event(local_stack: LocalStack) -> None:
    """The sample events carry the identity HTTP API's IAM authorizer puts on a request; the audit keeps it."""
    by_id = {f.logical_id: f for f in IAM_FUNCTIONS}
    player_id = f"audit-{uuid.uuid4().hex[:8]}"
    created = local_stack.handle(
        HttpRequest(
            "POST",
            "/admin/players",
            headers=[("Host", "127.0.0.1"), ("Content-Type", "application/json")],
            body=json.dumps({"player_id": player_id, "currency": "KRW"}).encode(),
        )
    )
    assert created.status == 201, created.body

    def for_player(logical_id: str) -> dict[str, Any]:
        event = json.loads(json.dumps(sample(by_id[logical_id])).replace("player-42", player_id))
        return event

    exclude = for_player("AdminExcludeFunction")
    principal = exclude["requestContext"]["authorizer"]["iam"]["userArn"]
    assert local_stack.invoke("AdminExcludeFunction", exclude)["statusCode"] == 201
    audit = local_stack.invoke("AdminProtectionAuditFunction", for_player("AdminProtectionAuditFunction"))
    assert audit["statusCode"] == 200, audit["body"]
    assert [(r["action"], r["principal"]) for r in json.loads(audit["body"])["items"]] == [("exclusion.set", principal)]


def test_the_iam_identity_does_not_disturb_an_admin_handler(local_stack: LocalStack) -> None:
    (function,) = [f for f in IAM_FUNCTIONS if f.logical_id == "AdminGetPlayerFunction"]
    event = sample(function)
    answer = local_stack.invoke("AdminGetPlayerFunction", event)
    assert answer["statusCode"] in (200, 404), answer["body"]
    without = json.loads(json.dumps(event))
    del without["requestContext"]["authorizer"]
    assert local_stack.invoke("AdminGetPlayerFunction", without)["statusCode"] == answer["statusCode"]


def test_the_local_event_of_an_admin_route_claims_no_identity_and_the_stack_says_iam_is_not_enforced(
    local_stack: LocalStack,
) -> None:
    request = HttpRequest("GET", "/admin/players/p-1", headers=[("Host", "127.0.0.1")], body=b"")
    event = build_event(
        request, route_key="GET /admin/players/{player_id}", path_parameters={"player_id": "p-1"}, request_id="r"
    )
    assert "authorizer" not in event["requestContext"]  # no made-up principal: nothing was authorised
    assert APIGatewayProxyEventV2(event).request_context.authorizer.iam.user_arn == ""
    banner = _banner(local_stack)
    admin_lines = [line for line in banner.splitlines() if "/admin/" in line]
    assert admin_lines
    assert all("[AWS_IAM auth: not enforced locally]" in line for line in admin_lines)
    assert "(DEV ONLY, loopback)" in banner


# --- EventBridge's scheduled event ---------------------------------------------------------------------------


def sweeper_events() -> list[tuple[str, dict[str, Any]]]:
    (sweeper,) = [f for f in TEMPLATE.functions if f.schedules]
    (schedule,) = sweeper.schedules
    return [
        ("events/rgs_sweeper.json", sample(sweeper)),
        ("scheduled_event", scheduled_event(sweeper.logical_id, schedule.name)),
    ]


@pytest.mark.parametrize(("origin", "event"), sweeper_events(), ids=[o for o, _ in sweeper_events()])
def test_the_scheduled_event_has_eventbridges_shape(origin: str, event: dict[str, Any]) -> None:
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    parsed = EventBridgeEvent(event)
    assert (parsed.detail_type, parsed.source, parsed.version, parsed.detail) == (
        "Scheduled Event",
        "aws.events",
        "0",
        {},
    )
    assert ISO_Z.fullmatch(parsed.time)
    assert datetime.strptime(parsed.time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    (rule,) = parsed.resources
    assert re.fullmatch(rf"arn:aws:events:{parsed.region}:{parsed.account}:rule/[\w.-]+", rule)
    assert re.fullmatch(r"\d{12}", parsed.account)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", parsed.get_id)


@pytest.mark.parametrize(("origin", "event"), sweeper_events(), ids=[o for o, _ in sweeper_events()])
def test_the_sweeper_runs_with_the_scheduled_event(local_stack: LocalStack, origin: str, event: dict[str, Any]) -> None:
    done = local_stack.invoke("RgsSweeperFunction", event)
    assert set(done) == {"settled", "paid", "refunded", "postponed", "failed"}
    assert all(isinstance(value, int) and value >= 0 for value in done.values())
