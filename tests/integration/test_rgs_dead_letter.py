"""A win the operator's wallet never takes: the retry queue of the template (its redrive policy, on moto's
SQS) receives it ``maxReceiveCount`` times through the worker's own batch logic, then moves it to the
dead-letter queue, which the template's alarm watches. The sweeper keeps sending it after that.

The queues live on the session's moto server, as everything else: never moto's in-process ``mock_aws``, whose
exit resets every backend of this process, the session's server included (it wiped the stack's dev secrets,
and every test after the secret cache's five minutes answered UNKNOWN_BRAND_KEY)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from croupier import observability
from croupier.rgs.retries import SqsRetryQueue, process_batch
from croupier_local.moto_server import MotoServer
from croupier_local.template import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_yaml(REPO_ROOT / "template.yaml")["Resources"]


class NeverPaid:
    def __init__(self) -> None:
        self.tries: list[str] = []

    def pay_win(self, round_id: str) -> bool:
        self.tries.append(round_id)
        return False

    def retry_refund(self, round_id: str) -> bool:
        raise AssertionError("only a win here")


@pytest.fixture
def sqs(moto_server: MotoServer) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=moto_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="devonlytestkey",
        aws_secret_access_key="devonlytestsecret",
    )


def lambda_records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQS messages as the Lambda event source hands them to the worker."""
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {"ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"]},
            "eventSource": "aws:sqs",
        }
        for m in messages
    ]


def test_a_win_that_always_fails_ends_in_the_dead_letter_queue_that_the_alarm_watches(sqs: Any) -> None:
    redrive = TEMPLATE["WalletRetryQueue"]["Properties"]["RedrivePolicy"]
    max_receives = int(redrive["maxReceiveCount"])
    suffix = uuid.uuid4().hex[:12]
    dead = sqs.create_queue(QueueName=f"dead-{suffix}")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=f"retries-{suffix}",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": max_receives}),
        },
    )["QueueUrl"]
    sent: list[dict[str, Any]] = []

    class Undelayed:
        """The queue's client, but the first delivery is not held back 10 s (moto would wait for real)."""

        def send_message(self, **kwargs: Any) -> Any:
            sent.append(kwargs)
            return sqs.send_message(**{k: v for k, v in kwargs.items() if k != "DelaySeconds"})

    SqsRetryQueue(queue, Undelayed).enqueue("win", "r_" + "a" * 32)
    assert [m["DelaySeconds"] for m in sent] == [10]
    game = NeverPaid()
    delays: list[int] = []

    def change_visibility(receipt: str, seconds: int) -> None:
        delays.append(seconds)  # the real worker sets this backoff; here it is visible again at once
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=receipt, VisibilityTimeout=0)

    observability._counts.counter = None
    for _ in range(max_receives + 3):
        messages = sqs.receive_message(
            QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"], MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            continue
        answer = process_batch(lambda_records(messages), game, change_visibility)
        assert answer == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert len(game.tries) == max_receives
    assert delays == [min(900, 10 * 2**i) for i in range(max_receives)]
    assert observability._counts.counter["WalletRetriesFailed"] == max_receives
    dead_letters = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"]) for m in dead_letters] == [{"kind": "win", "round_id": "r_" + "a" * 32}]

    alarm = TEMPLATE["WalletRetryDeadLetterAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    (dimension,) = alarm["Dimensions"]
    assert dimension["Value"] == {"Fn::GetAtt": ["WalletRetryDeadLetterQueue", "QueueName"]}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["WalletRetryDeadLetterQueue", "Arn"]}
