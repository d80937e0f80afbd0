"""The local stack end to end: ``python -m croupier_local`` over HTTP, its DynamoDB Local, and its shutdown.

Each test that starts Java also proves it stops it: no DynamoDB Local may outlive the stack.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from croupier_local.dynamodb import LocalDynamoDB, dynamodb_client, free_port, java_available
from croupier_local.server import LocalStack
from croupier_local.template import TemplateWarning, load_template, rate_seconds

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 90.0
SHUTDOWN_TIMEOUT = 30.0


# --- Helpers ------------------------------------------------------------------------------------------------


def dynamodb_local_pids(port: int) -> list[int]:
    """Processes running DynamoDBLocal.jar on ``port``, found through /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        is_dynamodb_local = any(arg.endswith(b"DynamoDBLocal.jar") for arg in argv)
        port_args = argv[argv.index(b"-port") + 1 :][:1] if b"-port" in argv else []
        if is_dynamodb_local and port_args == [str(port).encode()]:
            pids.append(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def get(url: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    base_url: str = ""
    dynamodb_endpoint: str = ""
    java_pid: int | None = None
    output: list[str] = field(default_factory=list)

    @property
    def dynamodb_port(self) -> int:
        return int(self.dynamodb_endpoint.rsplit(":", 1)[1])

    def log(self) -> str:
        return "".join(self.output[-80:])


def start_stack(**env_overrides: str) -> RunningStack:
    """``python -m croupier_local`` on a free port; returns once it printed its API and DynamoDB lines."""
    env = dict(os.environ)
    python_path = [str(REPO_ROOT / "layers" / "croupier"), str(REPO_ROOT / "local"), str(REPO_ROOT)]
    if env.get("PYTHONPATH"):
        python_path.append(env["PYTHONPATH"])
    env.update(PORT=str(free_port()), PYTHONPATH=os.pathsep.join(python_path), PYTHONUNBUFFERED="1")
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    env.update(env_overrides)
    process = subprocess.Popen(
        [sys.executable, "-m", "croupier_local"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = RunningStack(process)
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:  # keeps reading until EOF so the pipe never fills up
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not (stack.base_url and stack.dynamodb_endpoint):
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            stop_stack(stack)
            pytest.fail(f"the local stack did not come up:\n{stack.log()}")
        if line.strip().startswith("API:"):
            stack.base_url = line.split()[-1]
        elif line.strip().startswith("DynamoDB:"):
            stack.dynamodb_endpoint = line.split()[1]
            if "java pid" in line:
                stack.java_pid = int(line.rsplit("java pid", 1)[1].strip(" )\n"))
    return stack


def stop_stack(stack: RunningStack) -> bool:
    """Ctrl-C, then (only if it hangs) kill; True when its DynamoDB Local outlived it and had to be killed here."""
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
        try:
            stack.process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    if stack.java_pid is None or not alive(stack.java_pid):
        return False
    if stack.java_pid in dynamodb_local_pids(stack.dynamodb_port):
        os.kill(stack.java_pid, signal.SIGKILL)  # a safety net, so a failing run leaves no Java either
        return True
    return False


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    running = start_stack()
    yield running
    assert not stop_stack(running), f"DynamoDB Local outlived the stack:\n{running.log()}"


# --- Over HTTP ----------------------------------------------------------------------------------------------


def test_health_answers_ok(stack: RunningStack) -> None:
    status, headers, body = get(f"{stack.base_url}/health")

    assert status == 200, stack.log()
    assert headers["Content-Type"].startswith("application/json")
    assert headers.get("apigw-requestid")
    document = json.loads(body)
    assert document["status"] == "ok"
    assert document["service"] == "croupier"


def test_an_unknown_route_is_not_found_like_api_gateway(stack: RunningStack) -> None:
    status, headers, body = get(f"{stack.base_url}/no/such/route?x=1")

    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"message": "Not Found"}


def test_a_method_without_a_route_is_not_found(stack: RunningStack) -> None:
    request = urllib.request.Request(f"{stack.base_url}/health", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)

    assert raised.value.code == 404


def test_the_templates_tables_exist_with_its_key_schema_and_indexes(stack: RunningStack) -> None:
    client = dynamodb_client(stack.dynamodb_endpoint)
    template = load_template(REPO_ROOT / "template.yaml")
    assert template.tables

    for table in template.tables:
        expected = table.create_kwargs
        actual: dict[str, Any] = client.describe_table(TableName=table.table_name)["Table"]

        assert actual["KeySchema"] == expected["KeySchema"]
        assert sorted(actual["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
            expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
        )
        expected_indexes = {
            index["IndexName"]: (index["KeySchema"], index["Projection"])
            for index in expected.get("GlobalSecondaryIndexes", [])
        }
        actual_indexes = {
            index["IndexName"]: (index["KeySchema"], index["Projection"])
            for index in actual.get("GlobalSecondaryIndexes", [])
        }
        assert actual_indexes == expected_indexes
        if table.ttl_attribute:
            ttl = client.describe_time_to_live(TableName=table.table_name)["TimeToLiveDescription"]
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}


# --- Shutdown -----------------------------------------------------------------------------------------------


def test_ctrl_c_stops_the_stack_and_its_dynamodb_local() -> None:
    # Given a running stack with its own DynamoDB Local
    running = start_stack()
    try:
        assert get(f"{running.base_url}/health")[0] == 200
        if java_available():
            assert running.java_pid is not None, running.log()
            assert alive(running.java_pid)
            assert dynamodb_local_pids(running.dynamodb_port) == [running.java_pid]

        # When it gets SIGINT
        running.process.send_signal(signal.SIGINT)
        returncode = running.process.wait(timeout=SHUTDOWN_TIMEOUT)

        # Then it exits cleanly and leaves no Java behind
        assert returncode == 0, running.log()
        if running.java_pid is not None:
            assert not alive(running.java_pid)
        assert not dynamodb_local_pids(running.dynamodb_port)
    finally:
        stop_stack(running)


def test_without_java_the_stack_warns_and_falls_back_to_moto(tmp_path: Path) -> None:
    # Given a PATH with no java on it
    running = start_stack(PATH=str(tmp_path))
    try:
        # Then the stack still serves, on moto, and says so loudly
        assert running.java_pid is None
        status, _, body = get(f"{running.base_url}/health")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
        log = running.log().lower()
        assert "moto" in log
        assert "java" in log
        assert "concurren" in log, "the warning must say moto is unfit for concurrency tests"
    finally:
        stop_stack(running)
    assert running.process.returncode == 0


# --- In process, as tests use it ----------------------------------------------------------------------------


def test_the_stack_in_process_on_a_given_dynamodb_serves_concurrent_requests(dynamodb_local: LocalDynamoDB) -> None:
    environ_before = dict(os.environ)
    endpoint = dynamodb_local.endpoint_url
    with LocalStack(REPO_ROOT, port=0, dynamodb_endpoint=endpoint, max_concurrency=4) as stack:
        # Given the stack on an existing DynamoDB Local: it starts none of its own
        assert stack.dynamodb is None
        assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == endpoint
        tables = dynamodb_client(endpoint).list_tables()["TableNames"]
        assert {"WalletTable", "RgsTable"} <= set(tables)

        # When 24 requests arrive at once
        with ThreadPoolExecutor(max_workers=12) as executor:
            statuses = list(executor.map(lambda _: get(f"{stack.base_url}/health")[0], range(24)))

        # Then all succeed, served by at most four execution environments
        assert statuses == [200] * 24
        assert 1 <= stack.pools["HealthFunction"].size <= 4

    # And stopping the stack restores the environment and leaves the given DynamoDB alone
    assert dict(os.environ) == environ_before
    if dynamodb_local.pid is not None:
        assert alive(dynamodb_local.pid)


# --- The HTTP layer, on a throw-away template with an echo function ------------------------------------------

ECHO_TEMPLATE = """
Globals:
  Function:
    Timeout: 5
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: app.handler
      Environment:
        Variables:
          ECHO_MODE: loud
      Events:
        Echo: {Type: HttpApi, Properties: {Path: "/echo/{proxy+}", Method: ANY}}
        Plain: {Type: HttpApi, Properties: {Path: /plain, Method: GET}}
        Binary: {Type: HttpApi, Properties: {Path: /binary, Method: GET}}
        Boom: {Type: HttpApi, Properties: {Path: /boom, Method: GET}}
"""

ECHO_FUNCTION = """
import base64
import json
import os


def handler(event, context):
    path = event["rawPath"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/plain":
        return {"mode": os.environ["ECHO_MODE"], "function": context.function_name}
    if path == "/binary":
        return {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(bytes(range(256))).decode(),
                "headers": {"Content-Type": "application/octet-stream"}}
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
        "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
        "body": json.dumps({"event": event, "remaining_ms": context.get_remaining_time_in_millis()}),
    }
"""


@pytest.fixture(scope="module")
def echo_stack(tmp_path_factory: pytest.TempPathFactory, local_stack: LocalStack) -> Iterator[LocalStack]:
    """A second stack in this process. Each stack sets the functions' variables in ``os.environ`` and puts back
    what it found when it stops, so a second stack must start after the session's (``local_stack``) and stop
    before it, and name the same emulators: otherwise the session's stack loses its endpoint variables when this
    one stops, and a layer client created after that reaches for AWS."""
    root = tmp_path_factory.mktemp("echo-repo")
    (root / "template.yaml").write_text(ECHO_TEMPLATE, encoding="utf-8")
    (root / "functions" / "echo").mkdir(parents=True)
    (root / "functions" / "echo" / "app.py").write_text(ECHO_FUNCTION, encoding="utf-8")
    with LocalStack(
        root, port=0, dynamodb_endpoint=local_stack.dynamodb_endpoint, aws_endpoint=local_stack.aws_endpoint
    ) as stack:
        yield stack


def raw_http(stack: LocalStack, payload: bytes) -> bytes:
    """Send ``payload`` as-is and read the whole response (the request asks to close the connection)."""
    with socket.create_connection((stack.host, stack.port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def echo(
    stack: LocalStack, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Any:
    request = urllib.request.Request(f"{stack.base_url}{path}", data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        assert response.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
        assert response.headers["X-Echo"] == "yes"
        return json.loads(response.read())


def test_the_function_gets_a_real_2_0_event_over_http(echo_stack: LocalStack) -> None:
    document = echo(
        echo_stack,
        "POST",
        "/echo/a/b%20c?x=1&x=2",
        body=b'{"k": "v"}',
        headers={"Content-Type": "application/json", "Cookie": "sid=1; theme=dark", "X-Dup": "one"},
    )

    event = document["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /echo/{proxy+}"
    assert event["rawPath"] == "/echo/a/b c"
    assert event["pathParameters"] == {"proxy": "a/b c"}
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["cookies"] == ["sid=1", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"k": "v"}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert 0 < document["remaining_ms"] <= 5000


def test_form_and_binary_bodies_arrive_base64_encoded(echo_stack: LocalStack) -> None:
    form = echo(echo_stack, "POST", "/echo/form", b"a=1&b=2", {"Content-Type": "application/x-www-form-urlencoded"})
    binary = echo(echo_stack, "PUT", "/echo/bin", bytes(range(256)), {"Content-Type": "application/octet-stream"})

    assert form["event"]["isBase64Encoded"] is True
    assert base64.b64decode(form["event"]["body"]) == b"a=1&b=2"
    assert base64.b64decode(binary["event"]["body"]) == bytes(range(256))


def test_a_chunked_body_is_reassembled(echo_stack: LocalStack) -> None:
    response = raw_http(
        echo_stack,
        b"POST /echo/chunked HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )

    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201")
    assert json.loads(body)["event"]["body"] == "hello world"


def test_a_plain_result_is_a_200_json_body_and_base64_responses_are_decoded(echo_stack: LocalStack) -> None:
    status, headers, body = get(f"{echo_stack.base_url}/plain")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == {"mode": "loud", "function": "EchoFunction"}

    status, headers, body = get(f"{echo_stack.base_url}/binary")
    assert (status, headers["Content-Type"], body) == (200, "application/octet-stream", bytes(range(256)))


def test_an_exception_is_a_500_and_the_stack_keeps_serving(echo_stack: LocalStack) -> None:
    status, _, body = get(f"{echo_stack.base_url}/boom")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})

    assert get(f"{echo_stack.base_url}/plain")[0] == 200


def test_a_body_over_10_mib_is_refused_with_413_before_it_is_read(echo_stack: LocalStack) -> None:
    response = raw_http(
        echo_stack,
        b"POST /echo/big HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10485761\r\n\r\n",
    )

    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body) == {"message": "Request Entity Too Large"}


def test_head_gets_headers_without_a_body(echo_stack: LocalStack) -> None:
    response = raw_http(echo_stack, b"HEAD /echo/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201")
    assert b"Content-Length:" in head
    assert body == b""


SCHEDULED_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      CodeUri: functions/tick/
      Handler: app.handler
      Events:
        Often: {Type: Schedule, Properties: {Schedule: "rate(1 minute)"}}
        Never: {Type: Schedule, Properties: {Schedule: "cron(0 12 * * ? *)"}}
"""

TICK_FUNCTION = """
import json
import os


def handler(event, context):
    with open(os.path.join(os.path.dirname(__file__), "ticks.jsonl"), "a") as ticks:
        ticks.write(json.dumps(event) + "\\n")
    return {"ok": True}
"""


def test_rate_schedules_run_on_their_period_and_cron_ones_are_named_as_not_run(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(SCHEDULED_TEMPLATE, encoding="utf-8")
    (tmp_path / "functions" / "tick").mkdir(parents=True)
    (tmp_path / "functions" / "tick" / "app.py").write_text(TICK_FUNCTION, encoding="utf-8")
    with pytest.warns(TemplateWarning, match=r"only rate\(\.\.\.\) schedules run locally"):
        template = load_template(tmp_path / "template.yaml")
    (schedule,) = template.schedules
    assert (schedule.function, schedule.seconds) == ("TickFunction", 60)
    ticks = tmp_path / "functions" / "tick" / "ticks.jsonl"
    stack = LocalStack(
        tmp_path, port=0, dynamodb_endpoint="http://127.0.0.1:9", run_schedules=True, schedule_seconds=0.2
    )
    with pytest.warns(TemplateWarning):
        stack.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not ticks.exists() or len(ticks.read_text().splitlines()) < 2):
            time.sleep(0.05)
    finally:
        stack.stop()
    events = [json.loads(line) for line in ticks.read_text().splitlines()]
    assert len(events) >= 2
    assert {(e["source"], e["detail-type"]) for e in events} == {("aws.events", "Scheduled Event")}
    stopped_at = len(events)
    time.sleep(0.5)
    assert len(ticks.read_text().splitlines()) == stopped_at  # stopping the stack stops the schedule


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("rate(0 minutes)", None),
        ("cron(0 12 * * ? *)", None),
        ("rate(1 fortnight)", None),
    ],
)
def test_rate_expressions(expression: str, seconds: int | None) -> None:
    assert rate_seconds(expression) == seconds


# --- The demo -------------------------------------------------------------------------------------------------


def test_the_demo_launches_a_playable_session_on_the_stack(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m croupier_local.demo``: a funded player, Croupier as its own operator, a signed launch."""
    from croupier_local import demo

    assert demo.main(["--base-url", local_stack.base_url, "--aws-endpoint", local_stack.aws_endpoint]) == 0
    printed = capsys.readouterr().out
    play = next(line.split()[-1] for line in printed.splitlines() if line.strip().startswith("play:"))
    assert play.startswith(f"{local_stack.base_url}/play?session=")
    assert f"verify:    {local_stack.base_url}/verify" in printed
    token = play.split("session=", 1)[1]
    request = urllib.request.Request(
        f"{local_stack.base_url}/rgs/play/bet",
        data=json.dumps({"amount_minor": 250}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # the wallet call reaches /rgs-wallet, signed
        assert json.loads(response.read())["balance_minor"] == 100_000 - 250
