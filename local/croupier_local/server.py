"""The local stack: every function of ``template.yaml`` behind an HTTP API look-alike on loopback.

Concurrency is modelled on Lambda's: each function has a pool of *execution environments*, each a separately
loaded instance of the handler module serving one request at a time. Powertools resolvers keep the current
event on the module-global ``app``, so one module instance must never serve two requests at once. The pool
grows on demand (each new instance is a cold start) up to ``LOCAL_MAX_CONCURRENCY`` (default 10); past that
a request waits for a free instance, for at most the HTTP API integration timeout (30 s, then 503).

In front of the pools, at most ``HTTP_WORKERS`` (64) connections are served at once, each on a thread; more
wait unaccepted in a listen backlog of ``LISTEN_BACKLOG`` (1024) instead of being reset, a kept-alive connection
answers ``Connection: close`` and makes way when others wait, and an idle one closes after 60 s.

What is shared, unlike Lambda: one process, so one ``os.environ`` (the functions' variables are merged and
must agree) and one copy of the layer's modules (``croupier``): module-level state in the layer, such as the
Powertools Logger's appended keys, is shared by concurrent requests. Handler files must be self-contained
(siblings in the CodeUri folder are not importable: function folders are never put on ``sys.path``).
Authorizers are not enforced: the stack serves loopback only.

    with LocalStack(repo_root) as stack:
        urlopen(stack.base_url + "/health")
"""

from __future__ import annotations

import functools
import importlib.util
import io
import itertools
import json
import logging
import os
import select
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from croupier.secrets import SecretsManagerStore
from croupier_local.apigw import (
    HttpRequest,
    HttpResponse,
    LocalLambdaContext,
    Router,
    build_event,
    internal_server_error,
    new_log_stream_name,
    new_request_id,
    not_found,
    request_too_large,
    service_unavailable,
    to_http_response,
)
from croupier_local.aws_services import (
    ENDPOINT_ENV,
    SEED_KEY,
    LocalQueue,
    SqsEventSource,
    create_queues,
    create_seed_key,
    read_secrets_file,
    secret_store,
    secrets_prefix,
    seed_secrets,
)
from croupier_local.dynamodb import (
    DEV_ONLY_ACCESS_KEY_ID,
    DEV_ONLY_SECRET_ACCESS_KEY,
    DynamoDBLocal,
    MotoDynamoDB,
    create_tables,
    local_dynamodb,
)
from croupier_local.moto_server import MotoServer
from croupier_local.streams import StreamEventSource
from croupier_local.template import (
    LOCAL_ACCOUNT_ID,
    LOCAL_REGION,
    LOCAL_STACK_NAME,
    FunctionSpec,
    Template,
    load_draft_template,
    load_template,
)

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_MAX_CONCURRENCY = 10
MAX_CONCURRENCY_ENV = "LOCAL_MAX_CONCURRENCY"
MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API's payload limit
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024  # a synchronous invocation's request payload
INTEGRATION_TIMEOUT = 30.0  # HTTP API's maximum integration timeout
HTTP_WORKERS = 64
"""Connections served at once; more wait in the listen backlog until one closes."""
LISTEN_BACKLOG = 1024  # the kernel caps it at net.core.somaxconn (4096 on current Linux)
KEEP_ALIVE_IDLE_SECONDS = 60.0
"""A kept-alive connection idle this long is closed (sooner when every worker is busy and others wait)."""
READ_TIMEOUT_SECONDS = 30.0
"""A request whose bytes stop arriving for this long is dropped: a stalled client must not hold a worker."""
SERVE_POLL_SECONDS = 0.2
SECRETS_FILE_ENV = "CROUPIER_SECRETS_FILE"
DEV_SECRETS_FILE = Path("local") / "dev-secrets.json"
"""The committed dev-only secrets, seeded into the stack's Secrets Manager (moto's server) at every start: the
functions read them through ``SecretsManagerStore`` as in AWS, and what the handlers write (provisioned
operators, the demo's wallet credentials) lands in that emulator, never in a tracked file."""


class PoolExhausted(RuntimeError):
    """Every execution environment stayed busy for the whole wait."""


# --- Execution environments ----------------------------------------------------------------------------------

_module_counter = itertools.count(1)


class ExecutionEnvironment:
    """One loaded instance of a function's handler module; serves one request at a time."""

    def __init__(self, function: FunctionSpec, instance: int) -> None:
        self.function = function
        self.instance = instance
        self.module_name = f"_croupier_local_{function.logical_id}_{instance}_{next(_module_counter)}"
        self.log_stream_name = new_log_stream_name()
        self.invocations = 0
        started = time.perf_counter()
        self.module = _load_module(self.module_name, function.module_path)
        handler = getattr(self.module, function.handler_name, None)
        if not callable(handler):
            self.unload()
            raise AttributeError(f"{function.module_path} has no callable {function.handler_name!r}")
        self.handler: Callable[[dict[str, Any], Any], Any] = handler
        self.init_duration_ms = (time.perf_counter() - started) * 1000

    def invoke(self, event: dict[str, Any], *, request_id: str | None = None) -> Any:
        self.invocations += 1
        context = LocalLambdaContext(
            self.function.logical_id,
            timeout_seconds=self.function.timeout,
            memory_limit_in_mb=self.function.memory_size,
            aws_request_id=request_id,
            log_stream_name=self.log_stream_name,
        )
        return self.handler(event, context)

    def unload(self) -> None:
        sys.modules.pop(self.module_name, None)


def _load_module(name: str, path: Path) -> ModuleType:
    """Execute ``path`` as a fresh module called ``name`` (registered in sys.modules while loaded)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a handler from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic and dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


class FunctionPool:
    """A function's execution environments: grows on demand up to ``max_concurrency``, reuses warm ones first."""

    def __init__(
        self, function: FunctionSpec, max_concurrency: int, *, acquire_timeout: float = INTEGRATION_TIMEOUT
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.function = function
        self.max_concurrency = max_concurrency
        self.acquire_timeout = acquire_timeout
        self._condition = threading.Condition()
        self._idle: list[ExecutionEnvironment] = []
        self._all: list[ExecutionEnvironment] = []
        self._size = 0  # environments created or being created
        self._instances = itertools.count(1)
        self._closed = False

    @property
    def size(self) -> int:
        with self._condition:
            return self._size

    @property
    def environments(self) -> list[ExecutionEnvironment]:
        with self._condition:
            return list(self._all)

    def _acquire(self) -> ExecutionEnvironment:
        deadline = time.monotonic() + self.acquire_timeout
        with self._condition:
            while True:
                if self._closed:
                    raise PoolExhausted(f"{self.function.logical_id} is shut down")
                if self._idle:
                    return self._idle.pop()  # the most recently used, like Lambda's warm reuse
                if self._size < self.max_concurrency:
                    self._size += 1
                    instance = next(self._instances)
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolExhausted(
                        f"all {self.max_concurrency} environments of {self.function.logical_id} stayed busy "
                        f"for {self.acquire_timeout:.0f} s"
                    )
                self._condition.wait(remaining)
        try:
            environment = ExecutionEnvironment(self.function, instance)
        except BaseException:
            with self._condition:
                self._size -= 1
                self._condition.notify()
            logger.exception("init of %s (environment #%d) failed", self.function.logical_id, instance)
            raise
        logger.info(
            "cold start: %s environment #%d loaded in %.0f ms",
            self.function.logical_id,
            instance,
            environment.init_duration_ms,
        )
        with self._condition:
            self._all.append(environment)
        return environment

    def _release(self, environment: ExecutionEnvironment) -> None:
        with self._condition:
            self._idle.append(environment)
            self._condition.notify()

    def invoke(self, event: dict[str, Any], *, request_id: str | None = None) -> Any:
        """Run the handler on a free environment (creating one if the pool may grow), as Lambda would."""
        environment = self._acquire()
        started = time.perf_counter()
        try:
            return environment.invoke(event, request_id=request_id)
        finally:
            elapsed = time.perf_counter() - started
            if elapsed > self.function.timeout:
                logger.warning(
                    "%s took %.1f s, over its Timeout of %d s: Lambda would have stopped it",
                    self.function.logical_id,
                    elapsed,
                    self.function.timeout,
                )
            self._release(environment)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            environments, self._all, self._idle = self._all, [], []
            self._condition.notify_all()
        for environment in environments:
            environment.unload()


# --- The stack -----------------------------------------------------------------------------------------------


def _max_concurrency_from_env() -> int:
    raw = os.environ.get(MAX_CONCURRENCY_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_CONCURRENCY
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_CONCURRENCY_ENV} must be a positive integer, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{MAX_CONCURRENCY_ENV} must be a positive integer, not {raw!r}")
    return value


class LocalStack:
    """The template's functions and routes on ``http://127.0.0.1:<port>``, backed by a local DynamoDB.

    ``port=0`` picks a free port. Without ``dynamodb_endpoint`` the stack starts DynamoDB Local itself (or
    the moto fallback when Java 17+ is missing) and stops it again; with one, it only creates the missing
    tables there. ``start()`` returns once the stack serves; ``stop()`` (or leaving the ``with`` block)
    stops the HTTP server and whatever the stack started, and restores ``os.environ`` and ``sys.path``.

    The layer's modules stay imported after ``stop()``: a client the layer cached (a lazily created boto3
    client) keeps the DynamoDB endpoint of the first stack in this process, so tests should share one
    DynamoDB per session rather than start a new one per stack.
    """

    def __init__(
        self,
        repo_root: str | Path,
        port: int = 0,
        dynamodb_endpoint: str | None = None,
        *,
        host: str = DEFAULT_HOST,
        max_concurrency: int | None = None,
        template: str | Path = "template.yaml",
        allow_moto_fallback: bool = True,
        run_schedules: bool = False,
        schedule_seconds: float | None = None,
        aws_endpoint: str | None = None,
        aws_host: str = DEFAULT_HOST,
        run_event_sources: bool = False,
        seed_key_id: str | None = None,
    ) -> None:
        self.repo_root = Path(repo_root).resolve()
        self.host = host
        self.requested_port = port
        self._given_endpoint = dynamodb_endpoint
        self.max_concurrency = max_concurrency if max_concurrency is not None else _max_concurrency_from_env()
        self.template_path = self.repo_root / template
        self.allow_moto_fallback = allow_moto_fallback
        self.template: Template | None = None
        self.dynamodb: DynamoDBLocal | MotoDynamoDB | None = None
        self.pools: dict[str, FunctionPool] = {}
        self.router: Router[FunctionSpec] | None = None
        self._endpoint: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._saved_environ: dict[str, str | None] = {}
        self._added_sys_path: list[str] = []
        self._lock = threading.Lock()
        self.run_schedules = run_schedules
        self.schedule_seconds = schedule_seconds
        self._scheduler: threading.Thread | None = None
        self._scheduler_stop = threading.Event()
        self._given_aws_endpoint = aws_endpoint
        self.aws_host = aws_host
        self.moto: MotoServer | None = None
        self._aws_endpoint: str | None = None
        self.queues: dict[str, LocalQueue] = {}
        self._given_seed_key_id = seed_key_id
        self.seed_key_id = ""  # the KMS key sealing the RGS's seeds: given (on aws_endpoint's KMS), or created at start
        self.run_event_sources = run_event_sources
        self.event_sources: list[SqsEventSource] = []
        self.stream_sources: list[StreamEventSource] = []

    # -- lifecycle --

    def start(self) -> Self:
        """Load the template, start DynamoDB (unless given), create the tables, and serve in a thread."""
        with self._lock:
            if self._server is not None:
                return self
            try:
                self._start()
            except BaseException:
                self._stop()
                raise
        return self

    def _start(self) -> None:
        draft = load_draft_template(self.template_path)  # the queues' URLs are not known yet
        draft.merged_environment()  # fails loudly before anything starts
        self._server = _Server((self.host, self.requested_port), self)  # bind first: a taken port fails fast
        self._start_aws_services(draft)
        template = load_template(
            self.template_path,
            physical_ids={
                **{logical_id: queue.url for logical_id, queue in self.queues.items()},
                SEED_KEY: self.seed_key_id,
            },
        )
        environment = template.merged_environment()
        self.template = template
        if self._given_endpoint is None:
            self.dynamodb = local_dynamodb(self.repo_root, allow_moto_fallback=self.allow_moto_fallback)
            self.dynamodb.start()
            self._endpoint = self.dynamodb.endpoint_url
        else:
            self._endpoint = self._given_endpoint
        created = create_tables(self._endpoint, template.tables)
        if created:
            logger.info("created tables %s in %s", ", ".join(created), self._endpoint)
        self._apply_environment(environment, self._endpoint)
        self._add_layers(template)
        for function in template.functions:
            _check_runtime(function)
            if not function.module_path.is_file():
                raise FileNotFoundError(f"{function.logical_id}: no handler file {function.module_path}")
            self.pools[function.logical_id] = FunctionPool(function, self.max_concurrency)
        self.router = Router((route.method, route.path, template.function(route.function)) for route in template.routes)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SERVE_POLL_SECONDS},
            name="croupier-local-http",
            daemon=True,
        )
        self._thread.start()
        logger.info("local stack serving %s", self.base_url)
        if self.run_event_sources:
            for source in template.sqs_sources:
                event_source = SqsEventSource(
                    source,
                    self.queues[source.queue],
                    self.aws_endpoint,
                    functools.partial(self.invoke, source.function),
                )
                self.event_sources.append(event_source.start())
            for stream in template.stream_sources:
                self.stream_sources.append(self.stream_source(stream.function).start())
        if self.run_schedules and template.schedules:
            self._scheduler_stop.clear()
            self._scheduler = threading.Thread(target=self._run_schedules, name="croupier-local-schedules", daemon=True)
            self._scheduler.start()

    def stream_source(self, function: str) -> StreamEventSource:
        """A new event source (not started) on the stream that feeds ``function``, invoking it as Lambda would:
        ``drain()`` it to hand the function everything the stream holds now."""
        assert self.template is not None
        assert self._endpoint is not None
        (spec,) = [source for source in self.template.stream_sources if source.function == function]
        return StreamEventSource(spec, self._endpoint, functools.partial(self.invoke, function))

    def _start_aws_services(self, template: Template) -> None:
        """moto's server (unless given) with the dev-only secrets seeded and the template's queues created."""
        if self._given_aws_endpoint is None:
            self.moto = MotoServer(host=self.aws_host).start()
            self._aws_endpoint = self.moto.endpoint_url
        else:
            self._aws_endpoint = self._given_aws_endpoint
        dev_secrets = self.repo_root / DEV_SECRETS_FILE
        if dev_secrets.is_file():  # a template of the tests' own may come without secrets
            seed_secrets(self._aws_endpoint, secrets_prefix(template), read_secrets_file(dev_secrets))
        self.queues = create_queues(self._aws_endpoint, template.queues)
        self.seed_key_id = self._given_seed_key_id or create_seed_key(self._aws_endpoint)

    def _run_schedules(self) -> None:
        """Invoke each ``rate(...)`` function on its period (or every ``schedule_seconds``), as EventBridge would:
        with a "Scheduled Event", one run at a time per schedule, a failure logged and the next run kept."""
        assert self.template is not None
        schedules = self.template.schedules
        period = {s.name + s.function: float(self.schedule_seconds or s.seconds) for s in schedules}
        due = {key: time.monotonic() + seconds for key, seconds in period.items()}
        while not self._scheduler_stop.is_set():
            now = time.monotonic()
            for schedule in schedules:
                key = schedule.name + schedule.function
                if now < due[key]:
                    continue
                due[key] = now + period[key]
                try:
                    self.invoke(schedule.function, scheduled_event(schedule.function, schedule.name))
                except Exception:
                    logger.exception("scheduled run of %s failed", schedule.function)
            self._scheduler_stop.wait(max(0.05, min(due.values()) - time.monotonic()))

    def stop(self) -> None:
        """Stop serving, stop what the stack started, restore the environment. Safe to call twice."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        sources, self.event_sources = self.event_sources, []
        for source in sources:
            source.stop()
        streams, self.stream_sources = self.stream_sources, []
        for stream in streams:
            stream.stop()
        self._scheduler_stop.set()
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.join(timeout=70)
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        self.router = None
        dynamodb, self.dynamodb = self.dynamodb, None
        moto, self.moto = self.moto, None
        try:
            if server is not None:
                if thread is not None:  # shutdown() waits for serve_forever(), so only once it runs
                    server.shutdown()
                    thread.join(timeout=10)
                server.server_close()
            for pool in self.pools.values():
                pool.close()
            self.pools = {}
        finally:
            try:
                if dynamodb is not None:
                    dynamodb.stop()
                if moto is not None:
                    moto.stop()
            finally:
                self._endpoint = None
                self._aws_endpoint = None
                self.queues = {}
                self._restore_environment()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- what it serves --

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def dynamodb_endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return self._endpoint

    @property
    def aws_endpoint(self) -> str:
        """moto's server: Secrets Manager and SQS."""
        if self._aws_endpoint is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return self._aws_endpoint

    @property
    def secrets_prefix(self) -> str:
        if self.template is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return secrets_prefix(self.template)

    @property
    def secret_store(self) -> SecretsManagerStore:
        """The stack's Secrets Manager, through the very store the functions use (uncached: always fresh)."""
        return secret_store(self.aws_endpoint, self.secrets_prefix)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke one function directly with ``event`` (e.g. a sample from ``events/``), through its pool."""
        return self.pools[logical_id].invoke(event)

    def handle(self, request: HttpRequest) -> HttpResponse:
        """What API Gateway and Lambda do with one HTTP request, without sockets."""
        request_id = new_request_id()
        response = self._handle(request, request_id)
        response.headers.append(("apigw-requestid", request_id))
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if len(request.body) > MAX_BODY_BYTES:
            return request_too_large()
        if self.router is None:
            raise RuntimeError("the local stack is not running; call start() first")
        match = self.router.match(request.method, request.path)
        if match is None:
            return not_found()
        function = match.target
        event = build_event(
            request,
            route_key=match.route_key,
            path_parameters=match.path_parameters,
            request_id=request_id,
            server_port=self.port if self._server is not None else None,
        )
        if len(json.dumps(event)) > LAMBDA_PAYLOAD_LIMIT:
            logger.warning("the event for %s is over Lambda's 6 MB invocation limit", function.logical_id)
            return request_too_large()
        try:
            result = self.pools[function.logical_id].invoke(event)
        except PoolExhausted as exc:
            logger.warning("%s", exc)
            return service_unavailable()
        except Exception:
            logger.exception("%s raised on %s", function.logical_id, match.route_key)
            return internal_server_error()
        return to_http_response(result)

    # -- environment --

    def _set_env(self, name: str, value: str) -> None:
        if name not in self._saved_environ:
            self._saved_environ[name] = os.environ.get(name)
        os.environ[name] = value

    def _unset_env(self, name: str) -> None:
        if name in os.environ:
            if name not in self._saved_environ:
                self._saved_environ[name] = os.environ.get(name)
            del os.environ[name]

    def _set_env_default(self, name: str, value: str) -> None:
        if not os.environ.get(name):
            self._set_env(name, value)

    def _apply_environment(self, environment: dict[str, str], endpoint: str) -> None:
        for name, value in environment.items():
            self._set_env(name, value)
        self._set_env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        self._set_env_default("AWS_DEFAULT_REGION", LOCAL_REGION)
        self._set_env_default("AWS_REGION", LOCAL_REGION)
        # DEV-ONLY dummy credentials: DynamoDB Local accepts any; nothing real is behind them.
        self._set_env_default("AWS_ACCESS_KEY_ID", DEV_ONLY_ACCESS_KEY_ID)
        self._set_env_default("AWS_SECRET_ACCESS_KEY", DEV_ONLY_SECRET_ACCESS_KEY)
        for variable in ENDPOINT_ENV:
            self._set_env(variable, self.aws_endpoint)
        self._unset_env(SECRETS_FILE_ENV)  # secrets come from Secrets Manager, as in AWS
        self._set_env("POWERTOOLS_TRACE_DISABLED", "true")
        self._set_env_default("POWERTOOLS_METRICS_DISABLED", "true")
        self._set_env("POWERTOOLS_DEV", "false")

    def _add_layers(self, template: Template) -> None:
        """Put the layers' packages first on sys.path, as Lambda puts /opt/python before the runtime's."""
        for layer in reversed(template.layer_dirs):
            entry = str(layer)
            if layer.is_dir() and entry not in sys.path:
                sys.path.insert(0, entry)
                self._added_sys_path.append(entry)

    def _restore_environment(self) -> None:
        for name, previous in self._saved_environ.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
        self._saved_environ = {}
        for entry in self._added_sys_path:
            if entry in sys.path:
                sys.path.remove(entry)
        self._added_sys_path = []


def _check_runtime(function: FunctionSpec) -> None:
    if function.runtime and function.runtime.startswith("python"):
        local = f"python{sys.version_info.major}.{sys.version_info.minor}"
        if function.runtime != local:
            logger.warning("%s runs on %s in AWS but on %s here", function.logical_id, function.runtime, local)


# --- HTTP ----------------------------------------------------------------------------------------------------

_HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive", "date"})


class _Server(ThreadingHTTPServer):
    """At most ``HTTP_WORKERS`` connections served at once, each on a thread of its own; the others wait in the
    listen backlog (``request_queue_size``), unaccepted, until a worker is free: under a burst, connections
    queue instead of overflowing socketserver's backlog of 5, which the kernel answered by dropping or
    resetting them."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], stack: LocalStack, workers: int = HTTP_WORKERS) -> None:
        self.stack = stack
        self.workers = workers
        self._free = threading.BoundedSemaphore(workers)
        self._busy = 0
        self._busy_lock = threading.Lock()
        self.closing = threading.Event()
        super().__init__(address, _RequestHandler)

    def get_request(self) -> tuple[Any, Any]:
        """Accept only with a worker free; else leave the connection in the backlog (serve_forever comes back)."""
        if not self._free.acquire(timeout=SERVE_POLL_SECONDS):
            raise OSError("every HTTP worker is busy")  # _handle_request_noblock ignores it; the next poll retries
        try:
            request, address = super().get_request()
        except BaseException:
            self._free.release()
            raise
        with self._busy_lock:
            self._busy += 1
        return request, address

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._done()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done()

    def _done(self) -> None:
        with self._busy_lock:
            self._busy -= 1
        self._free.release()

    def others_waiting(self) -> bool:
        """Every worker busy and a connection waiting in the backlog: a kept-alive connection should make way."""
        with self._busy_lock:
            if self._busy < self.workers:
                return False
        try:
            readable, _, _ = select.select([self.socket], [], [], 0)
        except (OSError, ValueError):  # the listening socket is closed
            return False
        return bool(readable)

    def server_close(self) -> None:
        self.closing.set()  # idle kept-alive connections close at their next poll
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):  # the client went away or stalled
            logger.debug("client %s disconnected: %s", client_address, error)
            return
        logger.exception("error serving %s", client_address)


class _BodyTooLarge(Exception):
    pass


class _BadRequest(Exception):
    pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm the second waits for the client's delayed
    # ACK (~40 ms on Linux), which capped a keep-alive client at ~20 requests a second.
    disable_nagle_algorithm = True
    timeout = READ_TIMEOUT_SECONDS  # on the socket while a request is read: a stalled client frees its worker
    server: _Server

    def handle(self) -> None:
        """The connection's requests one after another while it is kept alive (HTTP/1.1's default)."""
        while self._request_arrives():
            self.close_connection = True  # until parse_request reads the version and Connection header
            self.handle_one_request()
            if self.close_connection:
                return

    def _request_arrives(self) -> bool:
        """Wait for a request's first bytes: True once they are there (or the client closed, which
        handle_one_request then sees), False when the connection should close instead: idle for
        ``KEEP_ALIVE_IDLE_SECONDS``, the server stopping, or every worker busy while others wait in the backlog."""
        if self._buffered():
            return True
        idle_since = time.monotonic()
        while True:
            readable, _, _ = select.select([self.connection], [], [], SERVE_POLL_SECONDS)
            if readable:
                return True
            if self.server.closing.is_set() or self.server.others_waiting():
                return False
            if time.monotonic() - idle_since >= KEEP_ALIVE_IDLE_SECONDS:
                return False

    def _buffered(self) -> bool:
        """Bytes of the next request already in ``rfile``'s buffer or the socket (a pipelining client): a
        non-blocking peek, since select() cannot see what the buffer holds."""
        if not isinstance(self.rfile, io.BufferedReader):
            return False  # unbuffered: select() sees every byte
        self.connection.setblocking(False)
        try:
            return bool(self.rfile.peek(1))
        except OSError:
            return True  # handle_one_request meets the same error and closes
        finally:
            self.connection.settimeout(self.timeout)

    def _serve(self) -> None:
        started = time.perf_counter()
        stack = self.server.stack
        target = urlsplit(self.path) if "://" in self.path else None
        raw = f"{target.path}?{target.query}" if target is not None else self.path
        raw_path, _, raw_query = raw.partition("?")
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self.close_connection = True
            response = request_too_large()
            response.headers.append(("apigw-requestid", new_request_id()))
        except _BadRequest:
            self.close_connection = True
            self.send_error(400)
            return
        else:
            request = HttpRequest(
                method=self.command,
                raw_path=raw_path or "/",
                raw_query=raw_query,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            response = stack.handle(request)
        self._write(response)
        logger.info(
            "%s %s -> %d (%.1f ms)",
            self.command,
            self.path,
            response.status,
            (time.perf_counter() - started) * 1000,
        )

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise _BadRequest from None
        if length < 0:
            raise _BadRequest
        if length > MAX_BODY_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def _write(self, response: HttpResponse) -> None:
        self.send_response_only(response.status)
        headers = [(name, value) for name, value in response.headers if name.lower() not in _HOP_BY_HOP]
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Date", formatdate(usegmt=True))
        self.send_header("Content-Length", str(len(response.body)))
        if not self.close_connection and self.server.others_waiting():
            self.close_connection = True  # make way: the client reconnects behind the connections waiting
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            self.send_header("Connection", "keep-alive")  # it asked for it; a 1.0 client assumes close otherwise
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = _serve
    do_HEAD = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve
    do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)


def scheduled_event(function: str, schedule: str) -> dict[str, Any]:
    """The EventBridge event a ``rate(...)`` schedule delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:rule/{LOCAL_STACK_NAME}-{function}{schedule}"],
        "detail": {},
    }
