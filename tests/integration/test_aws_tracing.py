"""X-Ray tracing as it runs in AWS (``Tracing: Active``): the local stack sets ``POWERTOOLS_TRACE_DISABLED``, and
Powertools turns tracing off anywhere ``LAMBDA_TASK_ROOT`` is unset, so that path never ran in a test.

Here a handler runs in a fresh Python process with Lambda's variables (``LAMBDA_TASK_ROOT``, ``_X_AMZN_TRACE_ID``,
``AWS_XRAY_DAEMON_ADDRESS`` pointing at a UDP socket of the test) and without ``POWERTOOLS_TRACE_DISABLED``.

* With the X-Ray SDK on (template parameter ``XRaySdk=true``, ``CROUPIER_XRAY_SDK=true``): the Tracer is on,
  aws-xray-sdk patches botocore and http.client at import, and every SDK call reaches the emulators through the
  patched client. The tests check the handler's answer, that the segments really reach the "daemon", and that
  nothing on stderr says a segment was missing or a call failed.
* With it off (the template's default): the same handler answers the same, aws-xray-sdk is never imported and
  the code sends no segment (Lambda's own service records the invocation's segments).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from croupier_local.aws_services import client, sqs_event
from croupier_local.events import refresh_signature
from croupier_local.server import LocalStack

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_SUBSEGMENT = "## wrapper"
"""Powertools names the handler's subsegment after the function it wraps: the instrumentation's inner
``wrapper`` (``functools.wraps`` sits outside ``capture_lambda_handler``), the same name in every function."""

RUNNER = """
import json, sys
from croupier_local.server import _load_module
from croupier_local.apigw import LocalLambdaContext
module_path, handler_name, function_name, event_file = sys.argv[1:5]
module = _load_module("traced_handler", module_path)
event = json.load(open(event_file, encoding="utf-8"))
context = LocalLambdaContext(function_name, timeout_seconds=60, memory_limit_in_mb=512)
result = getattr(module, handler_name)(event, context)
print("RESULT " + json.dumps(result))
print("XRAY_SDK_IMPORTED " + json.dumps(any(name.startswith("aws_xray_sdk") for name in sys.modules)))
"""


def run_traced(
    stack: LocalStack, logical_id: str, event: dict[str, Any], tmp_path: Path, *, xray_sdk: bool = True
) -> tuple[Any, list[Any], str]:
    """Run ``logical_id``'s handler on ``event`` in a process set up as Lambda with active tracing and the X-Ray SDK
    on (or off); answers its result, the X-Ray documents the daemon received and stderr. Asserts that the process
    imported aws-xray-sdk exactly when the SDK was on."""
    assert stack.template is not None
    function = stack.template.function(logical_id)
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(0.5)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    trace_id = f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(function.module_path.parent),
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "_X_AMZN_TRACE_ID": f"Root={trace_id};Parent={uuid.uuid4().hex[:16]};Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "CROUPIER_XRAY_SDK": "true" if xray_sdk else "false",
            "PYTHONPATH": os.pathsep.join([*(str(p) for p in stack.template.layer_dirs), str(REPO_ROOT / "local")]),
        }
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                RUNNER,
                str(function.module_path),
                function.handler_name,
                logical_id,
                str(event_file),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        documents: list[Any] = []
        while True:
            try:
                packet = daemon.recv(65536).decode()
            except TimeoutError:
                break
            header, _, body = packet.partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            document = json.loads(body)
            assert document["trace_id"] == trace_id  # the segments join Lambda's trace
            documents.append(document)
    finally:
        daemon.close()
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    (imported,) = [line for line in done.stdout.splitlines() if line.startswith("XRAY_SDK_IMPORTED ")]
    assert json.loads(imported.removeprefix("XRAY_SDK_IMPORTED ")) is xray_sdk
    return json.loads(line.removeprefix("RESULT ")), documents, done.stderr


def subsegment_names(documents: list[Any]) -> set[str]:
    names: set[str] = set()

    def walk(document: Any) -> None:
        names.add(document.get("name", ""))
        for child in document.get("subsegments", []):
            walk(child)

    for document in documents:
        walk(document)
    return names


def assert_clean(stderr: str) -> None:
    for sign in ("cannot find the current segment", "Traceback", "SegmentNotFoundException", "failed to send"):
        assert sign.lower() not in stderr.lower(), stderr


def test_an_http_handler_with_active_tracing_reads_its_secret_and_dynamodb_through_the_patched_sdk(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    event = json.loads((REPO_ROOT / "events" / "ruby_balance.json").read_text(encoding="utf-8"))
    result, documents, stderr = run_traced(local_stack, "RubyBalanceFunction", refresh_signature(event), tmp_path)
    assert result["statusCode"] in (200, 404), result["body"]  # verified with the brand secret: not 401 or 500
    assert_clean(stderr)
    names = subsegment_names(documents)
    assert HANDLER_SUBSEGMENT in names  # Powertools' handler subsegment
    assert {"secretsmanager", "dynamodb"} <= names  # botocore patched: each SDK call traced


def test_the_retry_worker_with_active_tracing_reads_sqs_messages_and_dynamodb(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    sqs = client("sqs", local_stack.aws_endpoint)
    url = sqs.create_queue(QueueName=f"traced-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "win", "round_id": "r_" + uuid.uuid4().hex}))
    sqs.send_message(QueueUrl=url, MessageBody="{")
    messages: list[dict[str, Any]] = []
    for _ in range(5):
        messages += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if len(messages) == 2:
            break
    result, documents, stderr = run_traced(local_stack, "RgsWalletRetryFunction", sqs_event(messages, arn), tmp_path)
    assert result == {"batchItemFailures": []}
    assert_clean(stderr)
    assert {HANDLER_SUBSEGMENT, "dynamodb"} <= subsegment_names(documents)


@pytest.mark.parametrize("origin", ["events/rgs_sweeper.json"])
def test_the_sweeper_with_active_tracing(local_stack: LocalStack, tmp_path: Path, origin: str) -> None:
    event = json.loads((REPO_ROOT / origin).read_text(encoding="utf-8"))
    result, documents, stderr = run_traced(local_stack, "RgsSweeperFunction", event, tmp_path)
    assert set(result) == {"settled", "paid", "refunded", "postponed", "failed"}
    assert_clean(stderr)
    assert HANDLER_SUBSEGMENT in subsegment_names(documents)


def test_the_template_deploys_without_the_xray_sdk_and_lambda_still_traces(local_stack: LocalStack) -> None:
    """The default is written down: active tracing on every function, the SDK off (README "Tracing")."""
    assert local_stack.template is not None
    for logical_id in ("RubyBalanceFunction", "RgsWalletRetryFunction", "RgsSweeperFunction"):
        function = local_stack.template.function(logical_id)
        assert function.environment["CROUPIER_XRAY_SDK"] == "false"


def test_without_the_xray_sdk_a_handler_answers_the_same_and_never_imports_it(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    event = json.loads((REPO_ROOT / "events" / "ruby_balance.json").read_text(encoding="utf-8"))
    result, documents, stderr = run_traced(
        local_stack, "RubyBalanceFunction", refresh_signature(event), tmp_path, xray_sdk=False
    )
    assert result["statusCode"] in (200, 404), result["body"]
    assert_clean(stderr)
    assert documents == []  # no segment from the code: Lambda records the invocation's own


def test_a_scheduled_job_without_the_xray_sdk(local_stack: LocalStack, tmp_path: Path) -> None:
    event = json.loads((REPO_ROOT / "events" / "rgs_sweeper.json").read_text(encoding="utf-8"))
    result, documents, stderr = run_traced(local_stack, "RgsSweeperFunction", event, tmp_path, xray_sdk=False)
    assert set(result) == {"settled", "paid", "refunded", "postponed", "failed"}
    assert_clean(stderr)
    assert documents == []
