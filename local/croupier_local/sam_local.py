"""The functions in real Lambda containers through SAM CLI, against the same emulators as the local stack.

``python -m croupier_local.sam_local test``  (``make sam-test``): after ``sam build``, every function of the
template is invoked with ``sam local invoke`` and its sample event from ``events/`` (re-signed now where
signed), in a Lambda container, against DynamoDB Local and moto's server; the same scenario runs in process on
the local stack against emulators of its own, and each answer (status and body, generated ids and times set
aside) must be the same. It prints each function and its answer, and the time it took.

``python -m croupier_local.sam_local api``  (``make sam-api``): ``sam local start-api`` with warm containers on
``PORT`` (default 3001), its backends the same emulators with the dev-only secrets seeded, so every HTTP route
runs inside Lambda containers.

Containers reach the emulators through the Docker bridge's address on this host (``docker0``), not loopback;
DynamoDB Local and moto's server therefore listen on every interface while these commands run. IAM
authorisation is not emulated by SAM: the admin routes answer without a signature locally.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from croupier.secrets import SecretStore
from croupier_local.aws_services import (
    ENDPOINT_ENV,
    SEED_KEY,
    LocalQueue,
    create_queues,
    create_seed_key,
    read_secrets_file,
    secret_store,
    secrets_prefix,
    seed_secrets,
)
from croupier_local.dynamodb import DEV_ONLY_ACCESS_KEY_ID, DEV_ONLY_SECRET_ACCESS_KEY, DynamoDBLocal, create_tables
from croupier_local.events import refresh_signature
from croupier_local.moto_server import MotoServer
from croupier_local.server import DEV_SECRETS_FILE, LocalStack
from croupier_local.template import LOCAL_REGION, Template, load_draft_template, load_template

BUILD_TEMPLATE = Path(".aws-sam") / "build" / "template.yaml"
DEFAULT_API_PORT = 3001
INVOKE_TIMEOUT = 180.0

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


class SamLocalError(RuntimeError):
    """SAM or Docker could not run a function; the message says what to do."""


# --- The emulators, reachable from containers -----------------------------------------------------------------


def read_template(repo_root: Path) -> Template:
    """The template with every queue's ``Ref`` resolvable (to its name), so its variables count as declared."""
    draft = load_draft_template(repo_root / "template.yaml")
    named = {q.logical_id: q.queue_name for q in draft.queues}
    return load_template(repo_root / "template.yaml", physical_ids={**named, SEED_KEY: SEED_KEY})


def bridge_address() -> str:
    """This host's address on the Docker bridge (``docker0``), where containers reach host services."""
    try:
        shown = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, check=False, timeout=5
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        shown = ""
    match = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", shown)
    if match is None:
        raise SamLocalError("no docker0 bridge on this host: is Docker running? (make docker)")
    return match.group(1)


@dataclass
class Backends:
    """DynamoDB Local and moto's server on every interface, with the template's tables and queues and the
    dev-only secrets; ``container_env`` is what a Lambda container needs to reach them."""

    repo_root: Path
    template: Template
    host_for_containers: str
    dynamodb: DynamoDBLocal | None = None
    moto: MotoServer | None = None
    queues: dict[str, LocalQueue] = field(default_factory=dict)
    seed_key_id: str = ""

    def start(self) -> Backends:
        self.dynamodb = DynamoDBLocal(self.repo_root).start()  # DynamoDB Local listens on every interface
        self.moto = MotoServer(host="0.0.0.0").start()  # noqa: S104 - containers reach it through docker0
        create_tables(self.dynamodb.endpoint_url, self.template.tables)
        seed_secrets(
            self.moto.endpoint_url, secrets_prefix(self.template), read_secrets_file(self.repo_root / DEV_SECRETS_FILE)
        )
        self.queues = create_queues(self.moto.endpoint_url, self.template.queues)
        self.seed_key_id = create_seed_key(self.moto.endpoint_url)
        return self

    def stop(self) -> None:
        for service in (self.moto, self.dynamodb):
            if service is not None:
                service.stop()

    def _container_url(self, port: int | None) -> str:
        return f"http://{self.host_for_containers}:{port}"

    def container_env(self) -> dict[str, str]:
        assert self.dynamodb is not None
        assert self.moto is not None
        aws = self._container_url(self.moto.port)
        env = {"AWS_ENDPOINT_URL_DYNAMODB": self._container_url(self.dynamodb.port)}
        env.update(dict.fromkeys(ENDPOINT_ENV, aws))
        retry = self.queues.get("WalletRetryQueue")
        if retry is not None:
            env["RETRY_QUEUE_URL"] = re.sub(r"^http://[^/]+", aws, retry.url)
        env["RGS_SEED_KEY_ID"] = self.seed_key_id  # the key created on moto's server (its KMS too)
        return env

    def secret_store(self) -> SecretStore:
        assert self.moto is not None
        return secret_store(self.moto.endpoint_url, secrets_prefix(self.template))


def env_vars_document(template: Template, overrides: dict[str, str]) -> dict[str, Any]:
    """``--env-vars`` for SAM: every override under ``Parameters`` (all functions). SAM drops a variable the
    template does not declare, so a missing declaration is an error here rather than a silent miss."""
    declared = set(template.merged_environment())
    missing = sorted(set(overrides) - declared)
    if missing:
        raise SamLocalError(f"template.yaml must declare {', '.join(missing)} for sam local to override them")
    return {"Parameters": overrides}


def sam_environment() -> dict[str, str]:
    """The SAM CLI's environment: dev-only credentials (handed to the containers) and no telemetry."""
    return {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_ACCESS_KEY_ID": DEV_ONLY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DEV_ONLY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
    }


def sam_executable(repo_root: Path) -> str:
    found = repo_root / ".venv-sam" / "bin" / "sam"
    if found.is_file():
        return str(found)
    on_path = shutil.which("sam")
    if on_path is None:
        raise SamLocalError("no SAM CLI: run `make setup` (it installs .venv-sam)")
    return on_path


# --- sam local invoke -----------------------------------------------------------------------------------------


class ContainerInvoker:
    """``sam local invoke`` of one function with one event, in a Lambda container; answers what it returned."""

    def __init__(self, repo_root: Path, env_file: Path) -> None:
        self.repo_root = repo_root
        self.env_file = env_file
        self.sam = sam_executable(repo_root)
        self.template = repo_root / BUILD_TEMPLATE
        if not self.template.is_file():
            raise SamLocalError(f"no {BUILD_TEMPLATE}: run `make build` (sam build) first")
        self.seconds: dict[str, float] = {}

    def __call__(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="event-", delete=False) as handle:
            json.dump(event, handle)
        started = time.perf_counter()
        try:
            completed = subprocess.run(
                [
                    self.sam, "local", "invoke", logical_id,
                    "--template", str(self.template),
                    "--event", handle.name,
                    "--env-vars", str(self.env_file),
                    "--skip-pull-image",
                    "--region", LOCAL_REGION,
                ],
                cwd=self.repo_root,
                capture_output=True,
                text=True,
                env=sam_environment(),
                timeout=INVOKE_TIMEOUT,
                check=False,
            )  # fmt: skip
        finally:
            Path(handle.name).unlink(missing_ok=True)
        self.seconds[logical_id] = time.perf_counter() - started
        answer = _last_json_line(completed.stdout)
        if completed.returncode != 0 or answer is None:
            tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-25:])
            raise SamLocalError(f"sam local invoke {logical_id} failed (exit {completed.returncode}):\n{tail}")
        return answer


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


# --- The scenario: every function once, in an order where each sample event makes sense ----------------------


def sample(repo_root: Path, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((repo_root / "events" / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


@dataclass
class Step:
    logical_id: str
    event: dict[str, Any]
    answer: dict[str, Any]
    compare: str = "body"  # "body": status and normalised body; "keys": status and the body's keys only


def wallet_chain(repo_root: Path, invoke: Invoke, store: SecretStore) -> Iterator[Step]:
    """The sample player, funded, then every provider callback on it, its statement, both launches and its
    protection (limits, an exclusion, the refused early lift, the audit)."""
    for logical_id, name in (
        ("HealthFunction", "health"),
        ("AdminCreatePlayerFunction", "admin_create_player"),
        ("AdminGetPlayerFunction", "admin_get_player"),
        ("AdminDepositFunction", "admin_deposit"),
        ("AdminWithdrawFunction", "admin_withdraw"),
        ("RubyBalanceFunction", "ruby_balance"),
        ("RubyDebitFunction", "ruby_debit"),
        ("RubyCreditFunction", "ruby_credit"),
        ("RubyRollbackFunction", "ruby_rollback"),
        ("SportsbookTransactionFunction", "sportsbook_transaction"),
        ("SportsbookRollbackFunction", "sportsbook_rollback"),
        ("RgsWalletBetFunction", "rgs_wallet_bet"),
        ("RgsWalletWinFunction", "rgs_wallet_win"),
        ("RgsWalletRefundFunction", "rgs_wallet_refund"),
        ("AdminListEntriesFunction", "admin_list_entries"),
        ("SportsbookLaunchFunction", "sportsbook_launch"),  # no sportsbook listens: a clear 502
        ("RgsLaunchFunction", "rgs_launch"),  # no external RGS listens: a clear 502
        ("AdminSetLimitsFunction", "admin_set_limits"),  # player protection, last: an exclusion refuses stakes
        ("AdminGetLimitsFunction", "admin_get_limits"),
        ("AdminExcludeFunction", "admin_exclude"),
        ("AdminGetExclusionFunction", "admin_get_exclusion"),
        ("AdminLiftExclusionFunction", "admin_lift_exclusion"),  # within the cooling-off: 409 COOL_OFF
        ("AdminProtectionAuditFunction", "admin_protection_audit"),
    ):
        event = refresh_signature(sample(repo_root, name), store=store)
        yield Step(logical_id, event, invoke(logical_id, event))


def rgs_chain(repo_root: Path, invoke: Invoke, store: SecretStore) -> Iterator[Step]:
    """The play page, an operator provisioned and rotated, its public API, a player's session, the workers."""
    page = sample(repo_root, "rgs_play_page")
    yield Step("RgsPlayPageFunction", page, invoke("RgsPlayPageFunction", page))

    provision = sample(repo_root, "rgs_admin_create_operator")
    settings = json.loads(provision["body"])
    settings["wallet_callback_url"] = "http://127.0.0.1:9/rgs-wallet"  # loopback: nothing listens, nothing leaves
    provision["body"] = json.dumps(settings)
    created = invoke("RgsAdminCreateOperatorFunction", provision)
    yield Step("RgsAdminCreateOperatorFunction", provision, created)
    operator = json.loads(created.get("body") or "{}")
    operator_id = operator.get("operator_id", "missing")

    rotate = sample(repo_root, "rgs_admin_rotate_key")
    sample_id = rotate["pathParameters"]["operator_id"]
    for name in ("rawPath", "body"):
        rotate[name] = rotate[name].replace(sample_id, operator_id)
    rotate["requestContext"]["http"]["path"] = rotate["rawPath"]
    rotate["pathParameters"]["operator_id"] = operator_id
    yield Step("RgsAdminRotateKeyFunction", rotate, invoke("RgsAdminRotateKeyFunction", rotate))

    update = sample(repo_root, "rgs_admin_update_operator")
    update["rawPath"] = update["rawPath"].replace(sample_id, operator_id)
    update["requestContext"]["http"]["path"] = update["rawPath"]
    update["pathParameters"]["operator_id"] = operator_id
    yield Step("RgsAdminUpdateOperatorFunction", update, invoke("RgsAdminUpdateOperatorFunction", update))

    launch_url, session_id = "", "missing"
    for logical_id, name in (
        ("RgsPublicLaunchFunction", "rgs_public_launch"),
        ("RgsPublicRoundFunction", "rgs_public_round"),
        ("RgsPublicRevenueFunction", "rgs_public_revenue"),
    ):
        event = sample(repo_root, name)
        event["headers"]["x-operator-id"] = operator_id
        event["headers"]["x-operator-key"] = operator.get("api_key", "missing")  # still live during the overlap
        event = refresh_signature(event, store=store)
        answer = invoke(logical_id, event)
        if name == "rgs_public_launch":
            launched = json.loads(answer.get("body") or "{}")
            launch_url, session_id = launched.get("launch_url", ""), launched.get("session_id", "missing")
        yield Step(logical_id, event, answer)

    token = launch_url.split("session=", 1)[1] if "session=" in launch_url else "missing"
    for logical_id, name in (
        ("RgsPlayBetFunction", "rgs_play_bet"),  # the operator's wallet does not answer: refunded, 503
        ("RgsPlayStateFunction", "rgs_play_state"),
        ("RgsPlayCashoutFunction", "rgs_play_cashout"),
    ):
        event = sample(repo_root, name)
        event["headers"]["authorization"] = f"Bearer {token}"
        yield Step(logical_id, event, invoke(logical_id, event))

    recall = sample(repo_root, "rgs_public_recall")  # the operator recalls its player's rounds (the refunded bet)
    recall["headers"]["x-operator-id"] = operator_id
    recall["headers"]["x-operator-key"] = operator.get("api_key", "missing")
    recall = refresh_signature(recall, store=store)
    yield Step("RgsPublicRecallFunction", recall, invoke("RgsPublicRecallFunction", recall))

    end = sample(repo_root, "rgs_public_end_session")  # the operator ends the session
    end["rawPath"] = end["rawPath"].replace(end["pathParameters"]["session_id"], session_id)
    end["requestContext"]["http"]["path"] = end["rawPath"]
    end["pathParameters"]["session_id"] = session_id
    end["headers"]["x-operator-id"] = operator_id
    end["headers"]["x-operator-key"] = operator.get("api_key", "missing")
    end = refresh_signature(end, store=store)
    yield Step("RgsPublicEndSessionFunction", end, invoke("RgsPublicEndSessionFunction", end))

    retry = sample(repo_root, "rgs_wallet_retry")
    yield Step("RgsWalletRetryFunction", retry, invoke("RgsWalletRetryFunction", retry))
    sweep = sample(repo_root, "rgs_sweeper")
    yield Step("RgsSweeperFunction", sweep, invoke("RgsSweeperFunction", sweep), compare="keys")
    revenue = sample(repo_root, "rgs_revenue")
    yield Step("RgsRevenueFunction", revenue, invoke("RgsRevenueFunction", revenue))


def run_scenario(repo_root: Path, invoke: Invoke, store: SecretStore, *, parallel: bool) -> list[Step]:
    """Both chains (independent data), side by side when ``parallel``; the steps in a stable order."""
    chains = (wallet_chain, rgs_chain)
    if not parallel:
        return [step for chain in chains for step in chain(repo_root, invoke, store)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(chains)) as pool:
        futures = [pool.submit(_steps, chain, repo_root, invoke, store) for chain in chains]
        return [step for future in futures for step in future.result()]


def _steps(chain: Callable[[Path, Invoke, SecretStore], Iterator[Step]], *args: Any) -> list[Step]:
    return list(chain(*args))


# --- Comparing answers ------------------------------------------------------------------------------------------

_VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{32,}\b"), "<hex>"),
    (re.compile(r"(?<=session=)[A-Za-z0-9_-]+"), "<token>"),
    (
        re.compile(
            r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{22,}(?![A-Za-z0-9_-])"
        ),
        "<token>",
    ),
    (re.compile(r"'sha256-[A-Za-z0-9+/=]+'|nonce-[A-Za-z0-9+/=_-]+"), "<hash>"),
]


SECRET_FIELDS = frozenset({"api_key", "hmac_secret", "previous_api_key", "session_id", "token"})
"""Fields whose values are random tokens, whatever characters they happened to draw (a token with no digit, or
one starting with ``-``, escaped the pattern below once in a few hundred runs, and the comparison failed)."""


def normalise(value: Any) -> Any:
    """An answer with what each run generates afresh (ids, times, keys, tokens) replaced by placeholders."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict | list):
            return normalise(parsed)
        for pattern, placeholder in _VOLATILE:
            value = pattern.sub(placeholder, value)
        return value
    if isinstance(value, dict):
        return {
            key: "<clock>"
            if key.endswith(("time_ms", "_at_ms"))
            else "<token>"
            if key in SECRET_FIELDS and isinstance(item, str)
            else normalise(item)
            for key, item in value.items()
            if key not in ("headers", "multiValueHeaders")
        }
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def summary(answer: dict[str, Any]) -> str:
    status = answer.get("statusCode")
    body = answer.get("body")
    if status is None:  # a worker's answer
        return json.dumps(answer, sort_keys=True)[:100]
    text = body if isinstance(body, str) else json.dumps(body)
    if text.lstrip().startswith("<"):
        return f"{status} ({len(text)} bytes of HTML)"
    return f"{status} {text[:100]}"


def differences(in_process: list[Step], containers: list[Step]) -> list[str]:
    found: list[str] = []
    if [s.logical_id for s in in_process] != [s.logical_id for s in containers]:
        return ["the two runs invoked different functions"]
    for ours, theirs in zip(in_process, containers, strict=True):
        if ours.compare == "keys":
            a = (ours.answer.get("statusCode"), sorted(ours.answer))
            b = (theirs.answer.get("statusCode"), sorted(theirs.answer))
        else:
            a, b = normalise(ours.answer), normalise(theirs.answer)
        if a != b:
            found.append(
                f"{ours.logical_id}:\n  in process: {json.dumps(a)[:400]}\n  container:  {json.dumps(b)[:400]}"
            )
    return found


# --- Commands ----------------------------------------------------------------------------------------------------


def _repo_root() -> Path:
    from croupier_local.__main__ import find_repo_root

    return find_repo_root()


@contextmanager
def _backends(repo_root: Path, template: Template) -> Iterator[Backends]:
    backends = Backends(repo_root, template, bridge_address())
    try:
        yield backends.start()
    finally:
        backends.stop()


def invoke_every_function(repo_root: Path, *, parallel: bool = True) -> int:
    started = time.perf_counter()
    template = read_template(repo_root)
    functions = {function.logical_id for function in template.functions}
    with _backends(repo_root, template) as backends, tempfile.TemporaryDirectory() as folder:
        env_file = Path(folder) / "env.json"
        env_file.write_text(json.dumps(env_vars_document(template, backends.container_env())), encoding="utf-8")
        invoker = ContainerInvoker(repo_root, env_file)
        print(f"sam local invoke: every function in a Lambda container (emulators at {backends.host_for_containers})")
        containers = run_scenario(repo_root, invoker, backends.secret_store(), parallel=parallel)
    with LocalStack(repo_root, port=0) as stack:
        in_process = run_scenario(repo_root, stack.invoke, stack.secret_store, parallel=False)
    for step in containers:
        print(f"  {step.logical_id:<32} {invoker.seconds.get(step.logical_id, 0):5.1f} s  {summary(step.answer)}")
    problems = differences(in_process, containers)
    untested = sorted(functions - {step.logical_id for step in containers})
    if untested:
        problems.append(f"functions without a sample run: {', '.join(untested)}")
    elapsed = time.perf_counter() - started
    invokes = sorted(invoker.seconds.values())
    median = invokes[len(invokes) // 2] if invokes else 0.0
    print(f"{len(containers)} invocations in containers, median {median:.1f} s each; sam-test took {elapsed:.0f} s")
    if problems:
        print("\nThe containers answered differently from the in-process run:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print(f"{len(containers)} passed, 0 failed: every container answer matches the in-process one")
    return 0


def api(repo_root: Path, port: int) -> int:
    template = read_template(repo_root)
    sam = sam_executable(repo_root)
    build = repo_root / BUILD_TEMPLATE
    if not build.is_file():
        raise SamLocalError(f"no {BUILD_TEMPLATE}: run `make build` (sam build) first")
    with _backends(repo_root, template) as backends, tempfile.TemporaryDirectory() as folder:
        env_file = Path(folder) / "env.json"
        env_file.write_text(json.dumps(env_vars_document(template, backends.container_env())), encoding="utf-8")
        stack_file = repo_root / ".local" / "sam-api.json"
        stack_file.parent.mkdir(parents=True, exist_ok=True)
        assert backends.dynamodb is not None
        assert backends.moto is not None
        stack_file.write_text(
            json.dumps(
                {
                    "base_url": f"http://127.0.0.1:{port}",
                    "dynamodb_endpoint": backends.dynamodb.endpoint_url,
                    "aws_endpoint": backends.moto.endpoint_url,
                    "secrets_prefix": secrets_prefix(template),
                    "container_env": backends.container_env(),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        print("Croupier API in Lambda containers (sam local start-api; DEV ONLY; IAM authorisation NOT emulated)")
        print(f"  DynamoDB:  {backends.dynamodb.endpoint_url}; Secrets Manager, SQS: {backends.moto.endpoint_url}")
        print(f"  endpoints written to {stack_file.relative_to(repo_root)}", flush=True)
        command = [
            sam, "local", "start-api",
            "--template", str(build),
            "--env-vars", str(env_file),
            "--skip-pull-image",
            "--warm-containers", "LAZY",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--region", LOCAL_REGION,
        ]  # fmt: skip
        process = subprocess.Popen(command, cwd=repo_root, env=sam_environment(), start_new_session=True)

        def forward(signum: int, frame: Any) -> None:
            os.killpg(process.pid, signal.SIGTERM)

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, forward)
        try:
            return process.wait()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            stack_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m croupier_local.sam_local", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_tests = commands.add_parser("test", help="every function in a container with its sample event, compared")
    run_tests.add_argument("--serial", action="store_true", help="one invocation at a time")
    commands.add_parser("api", help="sam local start-api on PORT (default 3001) with the emulators")
    commands.add_parser("env", help="print --env-vars for `sam local invoke` against the running `make sam-api`")
    args = parser.parse_args(argv)
    repo_root = _repo_root()
    if args.command == "env":
        path = repo_root / ".local" / "sam-api.json"
        if not path.is_file():
            print(f"sam_local: no {path}: start `make sam-api` first (its emulators serve them)", file=sys.stderr)
            return 1
        print(json.dumps({"Parameters": json.loads(path.read_text(encoding="utf-8"))["container_env"]}, indent=2))
        return 0
    try:
        if args.command == "test":
            return invoke_every_function(repo_root, parallel=not args.serial)
        return api(repo_root, int(os.environ.get("PORT") or DEFAULT_API_PORT))
    except SamLocalError as error:
        print(f"sam_local: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
