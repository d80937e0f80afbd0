"""Every function of template.yaml has a sample event in events/, and that event runs through its handler."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from croupier.rgs.store import revenue_rows
from croupier.rgs.wiring import rgs_store
from croupier_local.events import refresh_signature
from croupier_local.server import LocalStack
from croupier_local.template import FunctionSpec, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = load_template(REPO_ROOT / "template.yaml").functions


def event_path(code_uri: str) -> Path:
    return REPO_ROOT / "events" / f"{Path(code_uri).name}.json"


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.logical_id for f in FUNCTIONS])
def test_every_function_has_a_sample_event_for_one_of_its_routes(function: FunctionSpec) -> None:
    path = event_path(str(function.code_uri))
    assert path.exists(), f"missing sample event {path.relative_to(REPO_ROOT)}"
    event = json.loads(path.read_text(encoding="utf-8"))
    if function.schedules:  # a scheduled function: EventBridge's event
        assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")
        return
    if function.stream_sources:  # a stream consumer: a batch of DynamoDB stream records
        assert event["Records"]
        assert {record["eventSource"] for record in event["Records"]} == {"aws:dynamodb"}
        return
    if not function.routes:  # a queue worker: an SQS batch
        assert event["Records"]
        assert {record["eventSource"] for record in event["Records"]} == {"aws:sqs"}
        return
    assert event["version"] == "2.0"
    routes = {f"{route.method} {route.path}" for route in function.routes}
    assert event["routeKey"] in routes


def test_the_health_event_runs_through_its_handler(local_stack: LocalStack) -> None:
    event = json.loads(event_path("functions/health/").read_text(encoding="utf-8"))
    result = local_stack.invoke("HealthFunction", event)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["status"] == "ok"


def test_the_play_page_event_runs_through_its_handler_with_a_strict_policy(local_stack: LocalStack) -> None:
    event = json.loads(event_path("functions/rgs_play_page/").read_text(encoding="utf-8"))
    result = local_stack.invoke("RgsPlayPageFunction", event)
    assert result["statusCode"] == 200
    headers = {name.lower(): value for name, value in result["headers"].items()}
    assert headers["content-type"].startswith("text/html")
    policy = headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    assert "script-src 'sha256-" in policy
    assert "frame-ancestors *" in policy
    assert headers["referrer-policy"] == "no-referrer"
    assert "x-frame-options" not in headers
    assert "<title>Croupier crash</title>" in result["body"]


SEQUENCE = [
    ("AdminCreatePlayerFunction", "admin_create_player", 201),
    ("AdminGetPlayerFunction", "admin_get_player", 200),
    ("AdminDepositFunction", "admin_deposit", 201),
    ("AdminWithdrawFunction", "admin_withdraw", 201),
    ("RubyBalanceFunction", "ruby_balance", 200),
    ("RubyDebitFunction", "ruby_debit", 200),
    ("RubyCreditFunction", "ruby_credit", 200),
    ("RubyRollbackFunction", "ruby_rollback", 200),
    ("SportsbookTransactionFunction", "sportsbook_transaction", 200),
    ("SportsbookRollbackFunction", "sportsbook_rollback", 200),
    ("RgsWalletBetFunction", "rgs_wallet_bet", 200),
    ("RgsWalletWinFunction", "rgs_wallet_win", 200),
    ("RgsWalletRefundFunction", "rgs_wallet_refund", 200),
    ("AdminListEntriesFunction", "admin_list_entries", 200),
]


def test_the_wallet_events_run_through_their_handlers_in_a_realistic_order(local_stack: LocalStack) -> None:
    """Create the sample player, fund it, then play the Ruby samples (re-signed now) and read the statement."""
    bodies: dict[str, dict[str, object]] = {}
    for logical_id, name, status in SEQUENCE:
        event = refresh_signature(json.loads((REPO_ROOT / "events" / f"{name}.json").read_text(encoding="utf-8")))
        result = local_stack.invoke(logical_id, event)
        assert result["statusCode"] == status, (name, result["body"])
        bodies[name] = json.loads(result["body"])
    # 100000 deposited, 5000 withdrawn, 100.50 bet, 250.00 won, the bet rolled back
    assert bodies["ruby_balance"] == {"balance": "95000.00"}
    assert bodies["ruby_debit"] == {"balance": "94899.50", "balance_before": "95000.00"}
    assert bodies["ruby_credit"] == {"balance": "95149.50", "balance_before": "94899.50"}
    assert bodies["ruby_rollback"] == {"balance": "95250.00"}
    # the sportsbook's bet of 3000 and its rollback; the RGS's bet of 1000, its win of 2350, a refund of an
    # unknown bet (a tombstone, nothing moves)
    assert bodies["sportsbook_transaction"]["error"] is None
    assert bodies["sportsbook_rollback"]["error"] is None
    assert bodies["rgs_wallet_bet"] == {"ok": True, "balance_minor": 94250}
    assert bodies["rgs_wallet_win"] == {"ok": True, "balance_minor": 96600}
    assert bodies["rgs_wallet_refund"] == {"ok": True, "balance_minor": 96600}
    kinds = [item["kind"] for item in bodies["admin_list_entries"]["items"]]  # type: ignore[union-attr]
    ruby = ["credit", "debit", "debit", "credit", "reversal"]
    assert kinds == [*ruby, "debit", "reversal", "debit", "credit", "reversal"][::-1], "newest first"


PROTECTION = [
    ("AdminExcludeFunction", "admin_exclude", 201),
    ("AdminGetExclusionFunction", "admin_get_exclusion", 200),
    ("AdminLiftExclusionFunction", "admin_lift_exclusion", 409),  # COOL_OFF: set a moment ago
    ("AdminSetLimitsFunction", "admin_set_limits", 200),
    ("AdminGetLimitsFunction", "admin_get_limits", 200),
    ("AdminProtectionAuditFunction", "admin_protection_audit", 200),
]


def test_the_protection_events_run_through_their_handlers_and_audit_the_callers_iam_principal(
    local_stack: LocalStack,
) -> None:
    """The samples on a player of their own: exclude, read, an early lift refused, limits set and read, and the
    audit naming the IAM principal of the sample's authorizer context."""
    player_id = f"protect-{uuid.uuid4().hex[:12]}"
    local_stack.invoke("AdminCreatePlayerFunction", _create_player_event(player_id, 992_000 + uuid.uuid4().int % 999))
    bodies: dict[str, dict[str, object]] = {}
    for logical_id, name, status in PROTECTION:
        text = (REPO_ROOT / "events" / f"{name}.json").read_text(encoding="utf-8")
        result = local_stack.invoke(logical_id, json.loads(text.replace("player-42", player_id)))
        assert result["statusCode"] == status, (name, result["body"])
        bodies[name] = json.loads(result["body"])
    assert bodies["admin_lift_exclusion"]["error"] == "COOL_OFF"
    assert bodies["admin_get_exclusion"]["excluded"] is True
    audit = bodies["admin_protection_audit"]["items"]
    assert isinstance(audit, list)
    assert [(r["action"], r["principal"]) for r in audit] == [
        ("exclusion.set", "arn:aws:sts::123456789012:assumed-role/croupier-back-office/back-office"),
        ("limits.set", "arn:aws:sts::123456789012:assumed-role/croupier-back-office/back-office"),
    ]


@pytest.mark.parametrize(
    ("logical_id", "name", "code"),
    [
        ("SportsbookLaunchFunction", "sportsbook_launch", "SPORTSBOOK_API_ERROR"),
        ("RgsLaunchFunction", "rgs_launch", "RGS_API_ERROR"),
    ],
)
def test_the_launch_events_run_through_their_handlers_to_a_clear_502_with_no_provider_listening(
    local_stack: LocalStack, logical_id: str, name: str, code: str
) -> None:
    """The dev secrets point at 127.0.0.1:3901/3902 where nothing listens in the tests: the handler answers
    a 502 that names the provider and the reason (the happy paths run against fakes in test_launch.py)."""
    event = json.loads((REPO_ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
    local_stack.invoke("AdminCreatePlayerFunction", _create_player_event("launch-player", 991_001))
    event["body"] = event["body"].replace("player-42", "launch-player")
    result = local_stack.invoke(logical_id, event)
    assert result["statusCode"] == 502, result["body"]
    body = json.loads(result["body"])
    assert body["error"] == code
    assert "unreachable" in body["message"] or "refused" in body["message"]


def _create_player_event(player_id: str, ruby_id: int) -> dict[str, object]:
    event = json.loads((REPO_ROOT / "events" / "admin_create_player.json").read_text(encoding="utf-8"))
    event["body"] = json.dumps({"player_id": player_id, "currency": "KRW", "links": {"ruby": ruby_id}})
    return event


def test_the_rgs_events_run_through_their_handlers(local_stack: LocalStack) -> None:
    """Provision an operator with the sample, rotate its key, then sign the public samples with it."""
    provision = _event("rgs_admin_create_operator")
    settings = json.loads(provision["body"])
    settings["wallet_callback_url"] = "http://127.0.0.1:9/rgs-wallet"  # loopback: nothing listens, nothing leaves
    provision["body"] = json.dumps(settings)
    created = local_stack.invoke("RgsAdminCreateOperatorFunction", provision)
    assert created["statusCode"] == 201, created["body"]
    operator = json.loads(created["body"])
    assert set(operator) >= {"operator_id", "api_key", "hmac_secret"}

    rotate = _event("rgs_admin_rotate_key")
    sample_id = rotate["pathParameters"]["operator_id"]
    for field in ("rawPath", "body"):
        rotate[field] = rotate[field].replace(sample_id, operator["operator_id"])
    rotate["requestContext"]["http"]["path"] = rotate["rawPath"]
    rotate["pathParameters"]["operator_id"] = operator["operator_id"]
    rotated = local_stack.invoke("RgsAdminRotateKeyFunction", rotate)
    assert rotated["statusCode"] == 201, rotated["body"]
    assert json.loads(rotated["body"])["api_key"] != operator["api_key"]

    update = _event("rgs_admin_update_operator")
    update["rawPath"] = update["rawPath"].replace(sample_id, operator["operator_id"])
    update["requestContext"]["http"]["path"] = update["rawPath"]
    update["pathParameters"]["operator_id"] = operator["operator_id"]
    updated = local_stack.invoke("RgsAdminUpdateOperatorFunction", update)
    assert updated["statusCode"] == 200, updated["body"]
    assert json.loads(updated["body"])["limits"]["USD"]["max_bet_minor"] == 50_000

    answers = {}
    for logical_id, name in (
        ("RgsPublicLaunchFunction", "rgs_public_launch"),
        ("RgsPublicRoundFunction", "rgs_public_round"),
        ("RgsPublicRevenueFunction", "rgs_public_revenue"),
    ):
        event = _event(name)
        event["headers"]["x-operator-id"] = operator["operator_id"]
        event["headers"]["x-operator-key"] = operator["api_key"]  # the old key still works during the overlap
        result = local_stack.invoke(logical_id, refresh_signature(event, store=local_stack.secret_store))
        answers[name] = (result["statusCode"], json.loads(result["body"]))
    status, launched = answers["rgs_public_launch"]
    assert status == 200
    assert launched["ok"] is True
    assert "/play?session=" in launched["launch_url"]
    assert answers["rgs_public_round"] == (404, {"ok": False, "error": "UNKNOWN_ROUND", "message": ANY_MESSAGE})
    assert answers["rgs_public_revenue"] == (200, {"ok": True, "days": []})

    # The player's API with the launched session's token. Nothing listens at the operator's wallet (a
    # loopback port), so the bet cannot be confirmed: it is refunded (or queued to be) and says so.
    token = launched["launch_url"].split("session=", 1)[1]
    played = {}
    for logical_id, name in (
        ("RgsPlayBetFunction", "rgs_play_bet"),
        ("RgsPlayStateFunction", "rgs_play_state"),
        ("RgsPlayCashoutFunction", "rgs_play_cashout"),
    ):
        event = _event(name)
        event["headers"]["authorization"] = f"Bearer {token}"
        result = local_stack.invoke(logical_id, event)
        played[name] = (result["statusCode"], json.loads(result["body"]))
    assert played["rgs_play_bet"][0] == 503
    assert played["rgs_play_bet"][1]["error"] == "BET_NOT_CONFIRMED"
    status, state = played["rgs_play_state"]
    assert status == 200
    assert [r["status"] for r in state["rounds"]] == ["refund_pending"]
    assert "server_seed" not in state["rounds"][0]
    assert played["rgs_play_cashout"] == (404, {"error": "UNKNOWN_ROUND", "message": ANY_MESSAGE})

    # the operator recalls its player's rounds: the refunded (or refunding) bet, its seed only once refunded
    recall = _event("rgs_public_recall")
    recall["headers"]["x-operator-id"] = operator["operator_id"]
    recall["headers"]["x-operator-key"] = operator["api_key"]
    recalled = local_stack.invoke("RgsPublicRecallFunction", refresh_signature(recall, store=local_stack.secret_store))
    assert recalled["statusCode"] == 200, recalled["body"]
    recalled_rounds = json.loads(recalled["body"])["rounds"]
    assert [r["round_id"] for r in recalled_rounds] == [state["rounds"][0]["round_id"]]
    assert (recalled_rounds[0]["server_seed"] is None) == (recalled_rounds[0]["status"] != "refunded")

    # the operator ends the session: its token is refused from then on
    end = _event("rgs_public_end_session")
    sample_session = end["pathParameters"]["session_id"]
    end["rawPath"] = end["rawPath"].replace(sample_session, launched["session_id"])
    end["requestContext"]["http"]["path"] = end["rawPath"]
    end["pathParameters"]["session_id"] = launched["session_id"]
    end["headers"]["x-operator-id"] = operator["operator_id"]
    end["headers"]["x-operator-key"] = operator["api_key"]
    ended = local_stack.invoke("RgsPublicEndSessionFunction", refresh_signature(end, store=local_stack.secret_store))
    assert ended["statusCode"] == 200, ended["body"]
    assert json.loads(ended["body"])["session_id"] == launched["session_id"]


class _AnyMessage(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY_MESSAGE = _AnyMessage()


def _event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO_ROOT / "events" / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def test_the_retry_worker_event_runs_through_its_handler(local_stack: LocalStack) -> None:
    """The sample names a round that does not exist: the worker drops it (nothing to retry) and reports no
    failure, so SQS does not deliver it again."""
    result = local_stack.invoke("RgsWalletRetryFunction", _event("rgs_wallet_retry"))
    assert result == {"batchItemFailures": []}


def test_the_sweeper_event_runs_through_its_handler(local_stack: LocalStack) -> None:
    """The sweeper answers what it did; whatever the other tests left due, nothing fails."""
    result = local_stack.invoke("RgsSweeperFunction", _event("rgs_sweeper"))
    assert set(result) == {"settled", "paid", "refunded", "postponed", "failed"}
    assert result["failed"] == 0


def test_the_revenue_event_runs_through_its_handler_and_counts_its_round_once(local_stack: LocalStack) -> None:
    """The sample settles a round of an operator no other test uses: its day's counters hold it once, however
    often the record is handed."""
    event = _event("rgs_revenue")
    for _ in range(2):
        assert local_stack.invoke("RgsRevenueFunction", event) == {"batchItemFailures": []}
    rows = revenue_rows(rgs_store(), "00000000-0000-4000-8000-00000000e7e7", "2026-11-18", "2026-11-18")
    assert [(r["bets_minor"], r["wins_minor"], r["rounds"], r["house_share"]) for r in rows] == [(1000, 0, 1, "0.15")]
