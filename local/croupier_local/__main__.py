"""``python -m croupier_local`` / ``croupier-local``: serve the whole API on loopback until Ctrl-C or SIGTERM.

DynamoDB Local holds the tables; moto's server is Secrets Manager (seeded at every start with the committed
dev-only ``local/dev-secrets.json``) and SQS (the template's queues, drained into their functions as Lambda's
event source mapping would). The functions reach both through the AWS SDK, as in AWS. The endpoints are written
to ``.local/stack.json`` for ``make demo`` and other tools.

Environment: ``PORT`` (default 3000), ``LOCAL_MAX_CONCURRENCY`` (execution environments per function,
default 10), ``LOCAL_SCHEDULE_SECONDS`` (run the template's ``rate(...)`` schedules this often instead of their own
period), ``LOCAL_AWS_HOST`` (where moto's server listens, default 127.0.0.1; ``0.0.0.0`` lets Lambda containers
reach it).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from types import FrameType

from croupier_local.demo import STACK_FILE
from croupier_local.dynamodb import MOTO_WARNING, DynamoDBLocalError, MotoFallbackWarning, java_available
from croupier_local.server import DEV_SECRETS_FILE, LocalStack
from croupier_local.template import TemplateError

DEFAULT_PORT = 3000


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest folder holding ``template.yaml``: from the working directory up, then from this package."""
    candidates = [start or Path.cwd(), Path(__file__).resolve().parent]
    for candidate in candidates:
        for folder in (candidate, *candidate.parents):
            if (folder / "template.yaml").is_file():
                return folder
    raise SystemExit("croupier-local: no template.yaml here or in any parent folder")


def _banner(stack: LocalStack) -> str:
    assert stack.template is not None
    dynamodb = stack.dynamodb
    if dynamodb is None:
        backend = "given endpoint"
    elif dynamodb.pid is not None:
        backend = f"{dynamodb.kind}, java pid {dynamodb.pid}"
    else:
        backend = f"{dynamodb.kind}, in-process: NOT for concurrency tests"
    lines = [
        "Croupier local stack (DEV ONLY, loopback)",
        f"  API:       {stack.base_url}",
        f"  DynamoDB:  {stack.dynamodb_endpoint} ({backend})",
        f"  Tables:    {', '.join(table.table_name for table in stack.template.tables) or '-'}",
        f"  Secrets Manager, SQS: {stack.aws_endpoint} (moto's server)",
        f"  Queues:    {', '.join(stack.queues) or '-'}",
        f"  Dev-only secrets: seeded from {DEV_SECRETS_FILE} under {stack.secrets_prefix} "
        "(public values: never use them anywhere real)",
        f"  Concurrency: up to {stack.max_concurrency} execution environments per function",
        "  Routes:",
    ]
    routes = sorted(stack.template.routes, key=lambda route: (route.path, route.method))
    width = max((len(route.route_key) for route in routes), default=0)
    for route in routes:
        function = stack.template.function(route.function)
        handler = (
            function.module_path.relative_to(stack.repo_root)
            if function.module_path.is_relative_to(stack.repo_root)
            else function.module_path
        )
        auth = f"  [{route.authorizer} auth: not enforced locally]" if route.authorizer else ""
        lines.append(
            f"    {route.route_key:<{width}}  -> {function.logical_id} ({handler}:{function.handler_name}){auth}"
        )
    if not routes:
        lines.append("    (none)")
    for source in stack.template.sqs_sources:
        lines.append(f"  Queue:     {source.queue} -> {source.function} (batches of {source.batch_size})")
    for stream in stack.template.stream_sources:
        lines.append(f"  Stream:    {stream.table} -> {stream.function} (batches of {stream.batch_size})")
    for schedule in stack.template.schedules:
        every = f"every {stack.schedule_seconds:g} s" if stack.schedule_seconds else schedule.expression
        lines.append(f"  Schedule:  {schedule.function} {every}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def write_stack_file(path: Path, stack: LocalStack) -> None:
    """The running stack's endpoints (no secret in it), for ``make demo`` and other local tools."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "base_url": stack.base_url,
        "dynamodb_endpoint": stack.dynamodb_endpoint,
        "aws_endpoint": stack.aws_endpoint,
        "secrets_prefix": stack.secrets_prefix,
        **{f"queue_url_{name}": queue.url for name, queue in stack.queues.items()},
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _configure_logging() -> None:
    """The stack's own log lines on stderr (handler output stays on stdout, as Lambda's goes to CloudWatch).

    The ``croupier_local`` logger gets its own handler: Powertools' Logger (service ``croupier``) filters
    every record whose logger name contains ``croupier`` out of the root handlers.
    """
    level = os.environ.get("LOCAL_LOG_LEVEL", "INFO").upper()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    own = logging.getLogger("croupier_local")
    own.addHandler(handler)
    own.setLevel(level)
    own.propagate = False
    # Metrics are disabled locally, so Powertools' "no metrics" warning after every request is noise.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def main() -> int:
    _configure_logging()
    port = int(os.environ.get("PORT") or DEFAULT_PORT)
    repo_root = find_repo_root()
    if not java_available():
        print("\n" + "!" * 100 + f"\n{MOTO_WARNING}\n" + "!" * 100 + "\n", file=sys.stderr, flush=True)
        warnings.filterwarnings("ignore", category=MotoFallbackWarning)  # the banner above says it once

    stop_requested = threading.Event()
    serving = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop_requested.is_set() or not serving.is_set():
            raise KeyboardInterrupt  # a second signal, or one during start-up: stop now
        stop_requested.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)

    every = os.environ.get("LOCAL_SCHEDULE_SECONDS")
    stack = LocalStack(
        repo_root,
        port=port,
        run_schedules=True,
        schedule_seconds=float(every) if every else None,
        run_event_sources=True,
        aws_host=os.environ.get("LOCAL_AWS_HOST") or "127.0.0.1",
    )
    try:
        try:
            stack.start()
        except (DynamoDBLocalError, TemplateError) as exc:
            print(f"croupier-local: {exc}", file=sys.stderr, flush=True)
            return 1
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            print(f"croupier-local: port {port} is in use; set PORT to another one", file=sys.stderr, flush=True)
            return 1
        serving.set()
        write_stack_file(repo_root / STACK_FILE, stack)
        print(_banner(stack), flush=True)
        while not stop_requested.wait(0.5):
            pass
        print("Stopping the local stack...", flush=True)
    except KeyboardInterrupt:
        print("Interrupted; stopping the local stack...", flush=True)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # stop() is bounded: let it finish and stop Java
        stack.stop()
        (repo_root / STACK_FILE).unlink(missing_ok=True)
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
