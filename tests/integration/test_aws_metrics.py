"""The CloudWatch metrics the functions publish in AWS: Powertools prints one Embedded Metric Format document
per invocation on stdout, which CloudWatch Logs turns into metrics. The local stack disables that by default
(``POWERTOOLS_METRICS_DISABLED=true``); here it is enabled, as in AWS, and each document is checked against
the EMF specification (what CloudWatch would reject or silently drop), not only for its metric names.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from croupier.observability import NAMESPACE, SERVICE, metrics
from croupier.signing import ruby_callback
from croupier_local.aws_services import client, sqs_event
from croupier_local.server import LocalStack
from tests.support.requests import BRAND_KEY, BRAND_SECRET, compact, json_post

REPO_ROOT = Path(__file__).resolve().parents[2]


def emf_documents(printed: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines printed, each checked against the specification."""
    documents = []
    for line in printed.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        meta = document["_aws"]
        assert isinstance(meta["Timestamp"], int)
        assert abs(meta["Timestamp"] - time.time() * 1000) < 60_000  # milliseconds since the epoch, now
        (directive,) = meta["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE == "Croupier"
        assert directive["Dimensions"] == [["service"]]
        assert document["service"] == SERVICE == "croupier"  # every dimension's value, a string, at the root
        assert 1 <= len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert metric["Unit"] == "Count"
            value = document[metric["Name"]]  # the value sits at the root under its name: a number or a list
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= 100
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        documents.append(document)
    return documents


def counted(document: dict[str, Any]) -> dict[str, float]:
    """Each metric's total in the document (CloudWatch sums a list of values)."""
    totals: dict[str, float] = {}
    for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
        value = document[metric["Name"]]
        totals[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return totals


@pytest.fixture
def enabled(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Metrics on, as in AWS (and nothing left over from earlier tests run with them off)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def retry_batch(local_stack: LocalStack, bodies: list[str]) -> dict[str, Any]:
    """The worker's event for ``bodies``, sent to a queue of the test's own and really received there."""
    sqs = client("sqs", local_stack.aws_endpoint)
    url = sqs.create_queue(QueueName=f"metrics-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    messages: list[dict[str, Any]] = []
    for _ in range(5):
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"])
        messages += answer.get("Messages") or []
        if len(messages) == len(bodies):
            break
    assert len(messages) == len(bodies)
    return sqs_event(messages, arn)


def test_a_queue_worker_run_prints_one_emf_document_with_what_it_counted(
    local_stack: LocalStack, enabled: None, capfd: pytest.CaptureFixture[str]
) -> None:
    unknown = json.dumps({"kind": "win", "round_id": "r_" + uuid.uuid4().hex})
    event = retry_batch(local_stack, ["not json", "{}", unknown])
    capfd.readouterr()

    assert local_stack.invoke("RgsWalletRetryFunction", event) == {"batchItemFailures": []}

    (document,) = emf_documents(capfd.readouterr().out)
    assert counted(document) == {"RetryMessagesDropped": 3}
    assert document["RetryMessagesDropped"] == [3.0]  # one value per invocation: the counts summed before


def test_an_http_handler_run_prints_its_emf_document_and_no_secret(
    local_stack: LocalStack, enabled: None, capfd: pytest.CaptureFixture[str]
) -> None:
    body = compact({"player_id": 1, "amount": "1.00", "transaction_id": f"forged-{uuid.uuid4().hex[:8]}"})
    forged = ruby_callback.headers(BRAND_KEY, "not-the-secret", body)
    capfd.readouterr()

    answer = local_stack.handle(json_post("/ruby/debit", body, forged, host=True))

    assert answer.status == 401
    out = capfd.readouterr().out
    (document,) = emf_documents(out)
    assert counted(document) == {"SignatureFailures": 1}
    for value in (BRAND_SECRET, *forged.values()):
        if len(value) >= 16:  # the brand's secret, the forged signature
            assert value not in json.dumps(document)
    assert BRAND_SECRET not in out  # nor anywhere on stdout (the logs)


def test_with_the_local_stacks_default_no_document_is_printed(
    local_stack: LocalStack, capfd: pytest.CaptureFixture[str]
) -> None:
    """Why the tests above enable metrics: the local default hides the AWS path entirely."""
    event = json.loads((REPO_ROOT / "events" / "rgs_wallet_retry.json").read_text(encoding="utf-8"))
    capfd.readouterr()
    local_stack.invoke("RgsWalletRetryFunction", event)
    assert emf_documents(capfd.readouterr().out) == []
    metrics.clear_metrics()
