"""The wallet retry queue through the very SDK calls the functions make in AWS, against moto's SQS over HTTP.

``SqsRetryQueue.enqueue`` sends through the layer's own client (``croupier.aws.sqs``, endpoint from
``AWS_ENDPOINT_URL_SQS``) to the template's WalletRetryQueue; the worker (``RgsWalletRetryFunction``) gets a
batch built from messages really received there, and its ``ChangeMessageVisibility`` lands on a real receipt
handle. No stub: a wrong queue URL, a wrong parameter or a wrong receipt handle fails here as it would in AWS.

The session's other tests may leave messages of their own in the queue (a failed win is queued for real); a
test here only hands the worker messages it sent, and makes any other one visible again at once.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto.sqs.models import sqs_backends

from croupier import aws
from croupier.rgs.curve import time_to_reach
from croupier.rgs.retries import BASE_DELAY_SECONDS, SqsRetryQueue, backoff_seconds
from croupier_local.aws_services import LocalQueue, client, sqs_event
from croupier_local.server import LocalStack
from croupier_local.template import LOCAL_ACCOUNT_ID, LOCAL_REGION
from tests.fakes.operator_wallet_server import FakeOperatorWallet
from tests.support.rgs_http import Player, RgsOperator, crash_point

QUEUE = "WalletRetryQueue"
WORKER = "RgsWalletRetryFunction"


@pytest.fixture
def queue(local_stack: LocalStack) -> LocalQueue:
    return local_stack.queues[QUEUE]


@pytest.fixture
def sqs(local_stack: LocalStack) -> Any:
    """The test's own SQS client on the stack's moto server (not the layer's cached one)."""
    return client("sqs", local_stack.aws_endpoint)


def moto_message(queue: LocalQueue, message_id: str) -> Any:
    """The emulator's record of one message (moto's server runs in this process)."""
    name = queue.url.rsplit("/", 1)[1]
    (message,) = [m for m in sqs_backends[LOCAL_ACCOUNT_ID][LOCAL_REGION].queues[name]._messages if m.id == message_id]
    return message


def round_status(round_id: str) -> str:
    item = aws.dynamodb().get_item(
        TableName="RgsTable", Key={"pk": {"S": f"ROUND#{round_id}"}, "sk": {"S": "ROUND"}}, ConsistentRead=True
    )["Item"]
    return str(item["status"]["S"])


def send(sqs: Any, queue: LocalQueue, body: str) -> str:
    return str(sqs.send_message(QueueUrl=queue.url, MessageBody=body)["MessageId"])


def receive(sqs: Any, queue: LocalQueue, wanted: set[str], *, tries: int = 5) -> list[dict[str, Any]]:
    """Receive until every wanted message came (a bounded number of long polls); other tests' messages are made
    visible again at once."""
    got: dict[str, dict[str, Any]] = {}
    for _ in range(tries):
        answer = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        for message in answer.get("Messages") or []:
            if message["MessageId"] in wanted:
                got[message["MessageId"]] = message
            else:
                sqs.change_message_visibility(
                    QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        if set(got) == wanted:
            break
    return [got[message_id] for message_id in sorted(got)]


def receivable(sqs: Any, queue: LocalQueue, message_id: str) -> bool:
    return bool(receive(sqs, queue, {message_id}, tries=1))


def test_the_functions_queue_url_is_the_templates_wallet_retry_queue(
    local_stack: LocalStack, queue: LocalQueue
) -> None:
    assert os.environ["RETRY_QUEUE_URL"] == queue.url
    assert aws.sqs().meta.endpoint_url == local_stack.aws_endpoint
    assert aws.sqs().meta.config.read_timeout <= 1.5


def test_enqueue_sends_to_the_retry_queue_held_back_ten_seconds(sqs: Any, queue: LocalQueue) -> None:
    round_id = "r_" + uuid.uuid4().hex
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    layer_client = aws.sqs()
    layer_client.meta.events.register("provide-client-params.sqs.SendMessage", record)
    try:
        SqsRetryQueue(os.environ["RETRY_QUEUE_URL"], aws.sqs).enqueue("win", round_id)
    finally:
        layer_client.meta.events.unregister("provide-client-params.sqs.SendMessage", record)
    (call,) = calls
    assert call["DelaySeconds"] == BASE_DELAY_SECONDS == 10

    name = queue.url.rsplit("/", 1)[1]
    stored = [
        m
        for m in sqs_backends[LOCAL_ACCOUNT_ID][LOCAL_REGION].queues[name]._messages
        if json.loads(m.body) == {"kind": "win", "round_id": round_id}
    ]
    assert len(stored) == 1, "SQS holds the message once, with the body the worker parses"
    (message,) = stored
    assert message.delayed
    assert 9_000 <= message.delayed_until - message.sent_timestamp <= 10_100
    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert int(attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"]) >= 1
    assert not receivable(sqs, queue, message.id)  # not delivered before its delay


def test_an_unknown_kind_is_refused_before_any_call(sqs: Any) -> None:
    with pytest.raises(ValueError, match="kind"):
        SqsRetryQueue("http://127.0.0.1:9/nowhere", aws.sqs).enqueue("bet", "r_x")


def test_malformed_messages_and_unknown_rounds_are_dropped_not_retried(
    local_stack: LocalStack, sqs: Any, queue: LocalQueue
) -> None:
    bodies = [
        "not json",
        json.dumps({"kind": "bet", "round_id": "r_1"}),
        json.dumps({"kind": "win"}),
        json.dumps({"kind": "win", "round_id": 42}),
        json.dumps({"kind": "win", "round_id": "r_" + uuid.uuid4().hex}),  # no such round
        json.dumps({"kind": "refund", "round_id": "r_" + uuid.uuid4().hex}),
    ]
    ids = {send(sqs, queue, body) for body in bodies}
    messages = receive(sqs, queue, ids)
    assert {m["MessageId"] for m in messages} == ids
    answer = local_stack.invoke(WORKER, sqs_event(messages, queue.arn))
    assert answer == {"batchItemFailures": []}  # the event source deletes them: they never come back


@dataclass
class FailingWin:
    wallet: FakeOperatorWallet
    player: Player
    player_id: str
    round_id: str
    payout_minor: int


@pytest.fixture
def failing_win(local_stack: LocalStack) -> Iterator[FailingWin]:
    """A round cashed out whose win the operator's wallet refused once (it stays ``cashed_out``), played over
    HTTP on the local stack against a fake operator wallet on a real socket."""
    wallet = FakeOperatorWallet().start()
    try:
        operator = RgsOperator.provision(local_stack, wallet.url)
        wallet.operator_id, wallet.api_key, wallet.hmac_secret = (
            operator.operator_id,
            operator.api_key,
            operator.hmac_secret,
        )
        player_id = f"p-{uuid.uuid4().hex[:10]}"
        wallet.fund(player_id, 100_000, "USD")
        player = operator.launch(player_id)
        for _ in range(30):
            bet = player.bet(1_000).json()
            crash = crash_point(local_stack, bet["round_id"])
            if crash >= 120:
                time.sleep(max(0, bet["started_at_ms"] + time_to_reach(102) - int(time.time() * 1000)) / 1000)
                break
            time.sleep(time_to_reach(max(crash, 100)) / 1000 + 0.02)
            player.cash_out(bet["round_id"])
        else:
            raise AssertionError("no round reached 1.20x in 30 bets")
        wallet.fail_next(1, 503)
        cashed = player.cash_out(bet["round_id"]).json()
        assert cashed["status"] == "cashed_out"  # the win failed: not paid
        yield FailingWin(wallet, player, player_id, bet["round_id"], cashed["payout_minor"])
    finally:
        wallet.stop()


def test_a_win_still_failing_is_reported_and_held_back_then_paid_once_it_goes_through(
    local_stack: LocalStack, sqs: Any, queue: LocalQueue, failing_win: FailingWin
) -> None:
    body = json.dumps({"kind": "win", "round_id": failing_win.round_id})
    name = queue.url.rsplit("/", 1)[1]
    queued_by_cash_out = [
        m for m in sqs_backends[LOCAL_ACCOUNT_ID][LOCAL_REGION].queues[name]._messages if m.body == body
    ]
    assert len(queued_by_cash_out) == 1  # the cash-out route's SendMessage, through the layer's client
    assert queued_by_cash_out[0].delayed
    malformed = send(sqs, queue, "{")
    retry = send(sqs, queue, body)
    messages = receive(sqs, queue, {malformed, retry})
    assert len(messages) == 2
    failing_win.wallet.fail_next(1, 503)

    answer = local_stack.invoke(WORKER, sqs_event(messages, queue.arn))

    assert answer == {"batchItemFailures": [{"itemIdentifier": retry}]}  # the malformed one is dropped
    held = moto_message(queue, retry)
    expected = backoff_seconds(1)  # first receive: 10 s
    assert expected * 1000 - 1500 <= held.visible_at - time.time() * 1000 <= expected * 1000
    assert not receivable(sqs, queue, retry)  # ChangeMessageVisibility took the real receipt handle
    assert round_status(failing_win.round_id) == "cashed_out"  # not paid: the queue pays it

    # What SQS does after the backoff, without waiting for it: the message is visible again
    sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=held.receipt_handle, VisibilityTimeout=0)
    (again,) = receive(sqs, queue, {retry})
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    before = failing_win.wallet.balance(failing_win.player_id, "USD")

    assert local_stack.invoke(WORKER, sqs_event([again], queue.arn)) == {"batchItemFailures": []}

    assert round_status(failing_win.round_id) == "paid"
    assert failing_win.wallet.balance(failing_win.player_id, "USD") == before + failing_win.payout_minor
    sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=again["ReceiptHandle"])  # what the event source does


def test_a_second_failure_doubles_the_backoff(
    local_stack: LocalStack, sqs: Any, queue: LocalQueue, failing_win: FailingWin
) -> None:
    retry = send(sqs, queue, json.dumps({"kind": "win", "round_id": failing_win.round_id}))
    (first,) = receive(sqs, queue, {retry})
    sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    (second,) = receive(sqs, queue, {retry})
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    failing_win.wallet.fail_next(1, 503)

    assert local_stack.invoke(WORKER, sqs_event([second], queue.arn)) == {
        "batchItemFailures": [{"itemIdentifier": retry}]
    }

    held = moto_message(queue, retry)
    assert 20_000 - 1500 <= held.visible_at - time.time() * 1000 <= 20_000
    assert not receivable(sqs, queue, retry)
    sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=held.receipt_handle, VisibilityTimeout=0)
    (last,) = receive(sqs, queue, {retry})
    sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=last["ReceiptHandle"])


def test_a_stale_receipt_handle_fails_only_its_own_message(
    local_stack: LocalStack, sqs: Any, queue: LocalQueue, failing_win: FailingWin, caplog: pytest.LogCaptureFixture
) -> None:
    """A receipt handle SQS no longer knows (the message was deleted): ChangeMessageVisibility is a real call
    and its error is logged, but it fails that message only (reported in batchItemFailures), not the batch."""
    retry = send(sqs, queue, json.dumps({"kind": "win", "round_id": failing_win.round_id}))
    (message,) = receive(sqs, queue, {retry})
    sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    failing_win.wallet.fail_next(1, 503)
    answer = local_stack.invoke(WORKER, sqs_event([message], queue.arn))
    assert answer == {"batchItemFailures": [{"itemIdentifier": retry}]}
    assert "could not hold a failed retry back" in caplog.text


def test_reading_the_session_never_queues_a_retry_nor_calls_the_wallet(
    local_stack: LocalStack, queue: LocalQueue, failing_win: FailingWin
) -> None:
    """The win that failed was queued once, by the cash-out that settled it; reading the session while the
    wallet is still down sends no message more (nor any wallet call): the queue and the sweeper pay it."""
    body = json.dumps({"kind": "win", "round_id": failing_win.round_id})
    name = queue.url.rsplit("/", 1)[1]

    def queued() -> int:
        return sum(1 for m in sqs_backends[LOCAL_ACCOUNT_ID][LOCAL_REGION].queues[name]._messages if m.body == body)

    assert queued() == 1
    wins = len(failing_win.wallet.calls("win"))
    failing_win.wallet.fail_next(5, 503)  # the wallet is still down
    for _ in range(5):
        state = failing_win.player.state().json()
        (shown,) = [r for r in state["rounds"] if r["round_id"] == failing_win.round_id]
        assert shown["status"] == "cashed_out"
    assert queued() == 1
    assert len(failing_win.wallet.calls("win")) == wins
