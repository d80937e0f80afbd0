"""The layout, read from the source (no imports): handlers are their route and their logic call, and only the data
layer calls AWS.

* An HTTP function's ``app.py`` gets its resolver and its instrumented handler from ``croupier.web.function`` and
  adds its routes; it never builds a resolver, wraps a handler or resolves an event itself. A function no HTTP
  request triggers (a queue worker, a schedule, a stream) defines ``handler`` under ``instrumented_job`` only.
* boto3 and botocore are imported, and an AWS operation (any of DynamoDB, SQS, Secrets Manager and KMS, the services
  the template grants) or a client factory of ``croupier.aws`` is called, only in the modules listed in
  :data:`DATA_LAYER`; everywhere else (handlers, logic, wiring, clients) they take a store or queue object.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted((REPO_ROOT / "functions").glob("*/app.py"))
LAYER = REPO_ROOT / "layers" / "croupier"
JOBS = {"rgs_revenue", "rgs_sweeper", "rgs_wallet_retry"}  # a stream, a schedule, a queue
BOILERPLATE = {"build_resolver", "instrumented", "APIGatewayHttpResolver", "RawRequest"}

DATA_LAYER = {
    "croupier/aws.py": "the clients themselves, created lazily and once",
    "croupier/secrets.py": "Secrets Manager (SecretsManagerStore and its client)",
    "croupier/ledger/dynamo.py": "the ledger's DynamoDB adapter",
    "croupier/rgs/store.py": "the RGS table",
    "croupier/rgs/attempts.py": "the RGS store's retries (reads botocore's errors, calls nothing)",
    "croupier/rgs/sealing.py:Sealer": "KMS data keys of the sealed seeds",
    "croupier/rgs/retries.py:SqsRetryQueue": "the wallet-retry queue (process_batch beside it is logic)",
}
"""Module (path under ``layers/croupier``), or module and class, that may call AWS: why."""
SERVICES = ("dynamodb", "sqs", "secretsmanager", "kms")
NOT_AWS = {"sign", "verify"}  # KMS operations Croupier does not use, and the names of its own signature checks
CLIENT_FACTORIES = {"dynamodb", "sqs", "secretsmanager", "kms"}  # croupier.aws.<name>(): a client


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_names(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def _is_call_of(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


@pytest.mark.parametrize("path", FUNCTIONS, ids=lambda path: path.parent.name)
def test_a_handler_is_its_route_and_its_logic_call(path: Path) -> None:
    tree = _tree(path)
    assert _imported_names(tree) & BOILERPLATE == set(), "the factory (croupier.web.function) builds these"
    resolves = [
        node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and ast.unparse(node) == "app.resolve"
    ]
    assert resolves == [], "the factory's handler resolves the events"
    handlers = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.Assign | ast.AnnAssign)
        and "handler" in {getattr(target, "id", None) for target in _targets(node)}
    ]
    assert len(handlers) == 1, "handler is defined once, at module level"
    (defined,) = handlers
    if path.parent.name in JOBS:
        assert isinstance(defined, ast.FunctionDef)
        assert [ast.unparse(d) for d in defined.decorator_list] == ["instrumented_job"]
        assert "function" not in _imported_names(tree)
    else:  # app, handler = function(...)
        assert isinstance(defined, ast.Assign)
        assert _is_call_of(defined.value, "function"), ast.unparse(defined)
        assert [ast.unparse(target) for target in defined.targets] == ["(app, handler)"]
        routes = [
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
            and any(
                ast.unparse(d).startswith(("app.get(", "app.post(", "app.put(", "app.patch(", "app.delete("))
                for d in node.decorator_list
            )
        ]
        assert routes, "an HTTP function has at least one route"


def _targets(node: ast.stmt) -> Iterator[ast.expr]:
    if isinstance(node, ast.FunctionDef):
        yield ast.Name(id=node.name)
    elif isinstance(node, ast.AnnAssign):
        yield node.target
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            yield from target.elts if isinstance(target, ast.Tuple) else [target]


def test_every_job_is_a_function() -> None:
    assert {path.parent.name for path in FUNCTIONS} >= JOBS


def aws_operations() -> set[str]:
    session = botocore.session.get_session()
    names = {xform_name(op) for service in SERVICES for op in session.get_service_model(service).operation_names}
    return names - NOT_AWS


def _scopes(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Every node with the name of the top-level class it is in ('' outside classes)."""
    for top in tree.body:
        scope = top.name if isinstance(top, ast.ClassDef) else ""
        for node in ast.walk(top):
            yield scope, node


def aws_calls(path: Path, module: str) -> list[str]:
    """The AWS calls and imports in ``path`` outside the data layer's modules and classes."""
    operations = aws_operations()
    data_module = any(entry.partition(":")[0] == module for entry in DATA_LAYER)  # imports at its top level
    found = []
    for scope, node in _scopes(_tree(path)):
        if module in DATA_LAYER or (scope and f"{module}:{scope}" in DATA_LAYER):
            continue
        where = f"{module}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom) and not data_module:
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"{where} imports {name}" for name in names if name.split(".")[0] in ("boto3", "botocore")]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in operations:
                found.append(f"{where} calls {ast.unparse(node.func)}")
            elif (
                node.func.attr in CLIENT_FACTORIES
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "aws"
            ):
                found.append(f"{where} creates a client: {ast.unparse(node)}")
    return found


def sources() -> Iterator[tuple[Path, str]]:
    for path in sorted((LAYER / "croupier").rglob("*.py")):
        yield path, path.relative_to(LAYER).as_posix()
    for path in FUNCTIONS:
        yield path, path.relative_to(REPO_ROOT).as_posix()


def test_only_the_data_layer_calls_aws() -> None:
    found = [call for path, module in sources() for call in aws_calls(path, module)]
    assert found == []


def test_the_check_sees_a_call_outside_the_data_layer(tmp_path: Path) -> None:
    """The check itself can fail: the retry worker as it was (it called SQS), a client made in logic, an import."""
    sample = tmp_path / "app.py"
    sample.write_text(
        "import os\nfrom botocore.exceptions import ClientError\nfrom croupier import aws\n"
        "def change_visibility(handle: str, seconds: int) -> None:\n"
        "    aws.sqs().change_message_visibility(QueueUrl=os.environ['Q'], ReceiptHandle=handle, VisibilityTimeout=9)",
        encoding="utf-8",
    )
    found = aws_calls(sample, "functions/rgs_wallet_retry/app.py")
    assert [line.split(" ", 1)[1].split(":")[0] for line in found] == [
        "imports botocore.exceptions",
        "calls aws.sqs().change_message_visibility",
        "creates a client",
    ]
    assert aws_calls(sample, "croupier/ledger/dynamo.py") == []  # the data layer may


def test_every_data_layer_entry_names_a_module_or_class_that_exists() -> None:
    for entry in DATA_LAYER:
        module, _, scope = entry.partition(":")
        path = LAYER / module
        assert path.exists(), entry
        if scope:
            assert scope in {node.name for node in _tree(path).body if isinstance(node, ast.ClassDef)}, entry
