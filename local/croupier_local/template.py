"""Read what the local stack needs from ``template.yaml``: functions, their HTTP API routes, their
``rate(...)`` schedules, their SQS and DynamoDB stream event sources, the tables (streams included) and the
queues.

The template stays the single source of truth: the local stack and the tests create their tables from it,
so the schema never drifts. Only the intrinsics that matter locally are resolved (``Ref``, ``Fn::Sub``,
``Fn::Join``); an environment variable whose value cannot be resolved is left out with a warning.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ANY_METHOD = "ANY"
DEFAULT_ROUTE = "$default"

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_STACK_NAME = "croupier-local"

# SAM's defaults when neither the function nor Globals.Function says otherwise.
SAM_DEFAULT_TIMEOUT = 3
SAM_DEFAULT_MEMORY_SIZE = 128

_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "ForEach",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


class TemplateError(ValueError):
    """The template cannot be run locally as written."""


class TemplateWarning(UserWarning):
    """Something in the template is ignored by the local stack."""


# --- YAML with CloudFormation short tags -------------------------------------------------------------------


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that turns CloudFormation short tags into their long form (``!Ref X`` → ``{"Ref": "X"}``)."""


def _construct_node(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node!r}", node.start_mark)


def _long_form(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_node(loader, node)}

    return construct


def _construct_get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_node(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": value}


CloudFormationLoader.add_constructor("!Ref", _long_form("Ref"))
CloudFormationLoader.add_constructor("!Condition", _long_form("Condition"))
CloudFormationLoader.add_constructor("!GetAtt", _construct_get_att)
for _tag in _FN_TAGS:
    CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(f"Fn::{_tag}"))


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The template as plain data, short tags expanded."""
    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict):
        raise TemplateError(f"{path} is not a YAML mapping")
    return document


# --- What the local stack needs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One HttpApi event: ``method`` is upper case or ``ANY``; ``path`` is ``/x/{id}`` or ``$default``."""

    method: str
    path: str
    function: str
    authorizer: str | None = None

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class Schedule:
    """One ``Schedule``/``ScheduleV2`` event with a ``rate(...)`` expression (cron ones are not run locally)."""

    name: str
    expression: str
    seconds: int
    function: str


@dataclass(frozen=True)
class QueueSpec:
    """An ``AWS::SQS::Queue``: created locally under its logical id, with the attributes that shape delivery."""

    logical_id: str
    visibility_timeout: int = 30
    message_retention_period: int = 345600
    dead_letter_queue: str | None = None  # the logical id its RedrivePolicy names
    max_receive_count: int | None = None

    @property
    def queue_name(self) -> str:
        return self.logical_id


@dataclass(frozen=True)
class SqsSource:
    """One ``SQS`` event of a function (what Lambda's event source mapping does with the queue)."""

    name: str
    function: str
    queue: str  # the queue's logical id
    batch_size: int = 10
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class StreamSource:
    """One ``DynamoDB`` event of a function: Lambda's event source mapping on a table's stream."""

    name: str
    function: str
    table: str  # the table's logical id (``Stream: !GetAtt <Table>.StreamArn``)
    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    report_batch_item_failures: bool = False
    bisect_on_error: bool = False


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """The period of an EventBridge ``rate(...)`` expression in seconds; None for anything else."""
    match = _RATE.fullmatch(expression.strip())
    if match is None or int(match.group(1)) < 1:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory_size: int
    runtime: str | None
    environment: Mapping[str, str]
    routes: tuple[Route, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    sqs_sources: tuple[SqsSource, ...] = ()
    stream_sources: tuple[StreamSource, ...] = ()

    @property
    def module_path(self) -> Path:
        """The handler's source file: ``app.handler`` → ``<CodeUri>/app.py``."""
        module, _, _ = self.handler.rpartition(".")
        return self.code_uri.joinpath(*module.split(".")).with_suffix(".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: ``create_kwargs`` go straight to ``create_table``; the local name is the logical id."""

    logical_id: str
    create_kwargs: Mapping[str, Any]
    ttl_attribute: str | None = None

    @property
    def table_name(self) -> str:
        return self.logical_id


@dataclass(frozen=True)
class Template:
    path: Path
    parameters: Mapping[str, str]
    functions: tuple[FunctionSpec, ...]
    tables: tuple[TableSpec, ...]
    layer_dirs: tuple[Path, ...] = field(default=())
    queues: tuple[QueueSpec, ...] = field(default=())

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(route for function in self.functions for route in function.routes)

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        return tuple(schedule for function in self.functions for schedule in function.schedules)

    @property
    def sqs_sources(self) -> tuple[SqsSource, ...]:
        return tuple(source for function in self.functions for source in function.sqs_sources)

    @property
    def stream_sources(self) -> tuple[StreamSource, ...]:
        return tuple(source for function in self.functions for source in function.stream_sources)

    def function(self, logical_id: str) -> FunctionSpec:
        for function in self.functions:
            if function.logical_id == logical_id:
                return function
        raise KeyError(logical_id)

    def merged_environment(self) -> dict[str, str]:
        """Every function's environment in one mapping: the local stack runs all functions in one process."""
        return merge_environments(self.functions)


def merge_environments(functions: Iterable[FunctionSpec]) -> dict[str, str]:
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for function in functions:
        for name, value in function.environment.items():
            if name in merged and merged[name] != value:
                raise TemplateError(
                    f"environment variable {name} is {merged[name]!r} in {owner[name]} but {value!r} in "
                    f"{function.logical_id}; the local stack runs every function in one process, so they must agree"
                )
            merged[name] = value
            owner.setdefault(name, function.logical_id)
    return merged


# --- Intrinsics ---------------------------------------------------------------------------------------------


class Unresolvable(Exception):
    """An intrinsic the local stack cannot evaluate."""


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class _Resolver:
    parameters: Mapping[str, str]
    tables: frozenset[str]
    region: str = LOCAL_REGION
    physical_ids: Mapping[str, str] = field(default_factory=dict)  # Ref of other resources (a queue's URL)

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::StackName": LOCAL_STACK_NAME,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def ref(self, name: Any) -> str:
        if not isinstance(name, str):
            raise Unresolvable(f"Ref to {name!r}")
        if name in self.parameters:
            return self.parameters[name]
        if name in self.tables:
            return name
        if name in self.physical_ids:
            return self.physical_ids[name]
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return pseudo
        raise Unresolvable(f"Ref {name}")

    def sub(self, argument: Any) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            argument, variables = argument
        if not isinstance(argument, str):
            raise Unresolvable(f"Fn::Sub {argument!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return self.resolve(variables[name])
            if "." in name:
                raise Unresolvable(f"Fn::Sub attribute ${{{name}}}")
            return self.ref(name)

        return _SUB_VARIABLE.sub(replace, argument)

    def resolve(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::Sub":
                return self.sub(argument)
            if key == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
                delimiter, items = argument
                if isinstance(delimiter, str) and isinstance(items, list):
                    return delimiter.join(self.resolve(item) for item in items)
        raise Unresolvable(repr(value))


# --- Parsing ------------------------------------------------------------------------------------------------


def _parameters(document: Mapping[str, Any]) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for name, spec in (document.get("Parameters") or {}).items():
        if isinstance(spec, dict) and "Default" in spec:
            default = spec["Default"]
            resolved[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
    return resolved


def _plain(value: Any, where: str) -> Any:
    """``value`` unchanged, or a TemplateError when it still holds an intrinsic (tables must be literal)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" or key == "Condition" or str(key).startswith("Fn::"):
                raise TemplateError(f"{where}: intrinsic {key} is not supported by the local stack")
            _plain(item, where)
    elif isinstance(value, list):
        for item in value:
            _plain(item, where)
    return value


def _throughput(value: Any) -> dict[str, int]:
    return {key: int(value[key]) for key in ("ReadCapacityUnits", "WriteCapacityUnits") if key in value}


def _index(index: Mapping[str, Any], *, global_index: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index["Projection"],
    }
    if global_index and "ProvisionedThroughput" in index:
        kwargs["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return kwargs


def _dynamodb_table(logical_id: str, properties: Mapping[str, Any]) -> TableSpec:
    _plain(properties, logical_id)
    kwargs: dict[str, Any] = {
        "TableName": logical_id,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
    }
    billing_mode = properties.get("BillingMode") or (
        "PROVISIONED" if "ProvisionedThroughput" in properties else "PAY_PER_REQUEST"
    )
    kwargs["BillingMode"] = billing_mode
    if billing_mode == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = _throughput(
            properties.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    if properties.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = [
            _index(index, global_index=True) for index in properties["GlobalSecondaryIndexes"]
        ]
        if billing_mode == "PROVISIONED":
            for index in kwargs["GlobalSecondaryIndexes"]:
                index.setdefault("ProvisionedThroughput", kwargs["ProvisionedThroughput"])
    if properties.get("LocalSecondaryIndexes"):
        kwargs["LocalSecondaryIndexes"] = [
            _index(index, global_index=False) for index in properties["LocalSecondaryIndexes"]
        ]
    if properties.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
        }
    ttl = properties.get("TimeToLiveSpecification") or {}
    ttl_attribute = ttl.get("AttributeName") if ttl.get("Enabled") in (True, "true", "True") else None
    return TableSpec(logical_id=logical_id, create_kwargs=kwargs, ttl_attribute=ttl_attribute)


_SIMPLE_TABLE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def _simple_table(logical_id: str, properties: Mapping[str, Any]) -> TableSpec:
    _plain(properties, logical_id)
    primary = properties.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    name, kind = primary["Name"], _SIMPLE_TABLE_TYPES[primary.get("Type", "String")]
    kwargs: dict[str, Any] = {
        "TableName": logical_id,
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind}],
        "KeySchema": [{"AttributeName": name, "KeyType": "HASH"}],
    }
    if "ProvisionedThroughput" in properties:
        kwargs["BillingMode"] = "PROVISIONED"
        kwargs["ProvisionedThroughput"] = _throughput(properties["ProvisionedThroughput"])
    else:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
    return TableSpec(logical_id=logical_id, create_kwargs=kwargs)


def _environment(logical_id: str, variables: Mapping[str, Any], resolver: _Resolver, *, origin: str) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for name, value in variables.items():
        try:
            resolved[str(name)] = resolver.resolve(value)
        except Unresolvable as exc:
            warnings.warn(
                f"{origin} environment variable {name} of {logical_id} is left out locally: cannot resolve {exc}",
                TemplateWarning,
                stacklevel=4,
            )
    return resolved


def _schedules(logical_id: str, events: Mapping[str, Any]) -> tuple[Schedule, ...]:
    schedules: list[Schedule] = []
    for event_name, event in (events or {}).items():
        if not isinstance(event, dict) or event.get("Type") not in ("Schedule", "ScheduleV2"):
            continue
        properties = event.get("Properties") or {}
        expression = properties.get("Schedule", properties.get("ScheduleExpression"))
        seconds = rate_seconds(expression) if isinstance(expression, str) else None
        if seconds is None or not isinstance(expression, str):
            warnings.warn(
                f"{logical_id} event {event_name}: only rate(...) schedules run locally, not {expression!r}",
                TemplateWarning,
                stacklevel=3,
            )
            continue
        schedules.append(Schedule(name=event_name, expression=expression, seconds=seconds, function=logical_id))
    return tuple(schedules)


def _sqs_sources(logical_id: str, events: Mapping[str, Any]) -> tuple[SqsSource, ...]:
    sources: list[SqsSource] = []
    for event_name, event in (events or {}).items():
        if not isinstance(event, dict) or event.get("Type") != "SQS":
            continue
        properties = event.get("Properties") or {}
        queue = properties.get("Queue")
        if not (isinstance(queue, dict) and "Fn::GetAtt" in queue and queue["Fn::GetAtt"][1:] == ["Arn"]):
            raise TemplateError(f"{logical_id} event {event_name}: Queue must be !GetAtt <Queue>.Arn locally")
        sources.append(
            SqsSource(
                name=event_name,
                function=logical_id,
                queue=str(queue["Fn::GetAtt"][0]),
                batch_size=_int(properties.get("BatchSize"), 10, f"{logical_id}.{event_name}.BatchSize"),
                report_batch_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
            )
        )
    return tuple(sources)


def _stream_sources(logical_id: str, events: Mapping[str, Any]) -> tuple[StreamSource, ...]:
    sources: list[StreamSource] = []
    for event_name, event in (events or {}).items():
        if not isinstance(event, dict) or event.get("Type") != "DynamoDB":
            continue
        properties = event.get("Properties") or {}
        stream = properties.get("Stream")
        if not (isinstance(stream, dict) and "Fn::GetAtt" in stream and stream["Fn::GetAtt"][1:] == ["StreamArn"]):
            raise TemplateError(f"{logical_id} event {event_name}: Stream must be !GetAtt <Table>.StreamArn locally")
        sources.append(
            StreamSource(
                name=event_name,
                function=logical_id,
                table=str(stream["Fn::GetAtt"][0]),
                batch_size=_int(properties.get("BatchSize"), 100, f"{logical_id}.{event_name}.BatchSize"),
                starting_position=str(properties.get("StartingPosition") or "TRIM_HORIZON"),
                report_batch_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
                bisect_on_error=properties.get("BisectBatchOnFunctionError") in (True, "true", "True"),
            )
        )
    return tuple(sources)


def _queue(logical_id: str, properties: Mapping[str, Any]) -> QueueSpec:
    redrive = properties.get("RedrivePolicy") or {}
    target = redrive.get("deadLetterTargetArn") if isinstance(redrive, dict) else None
    dead_letter = None
    if target is not None:
        if not (isinstance(target, dict) and "Fn::GetAtt" in target and target["Fn::GetAtt"][1:] == ["Arn"]):
            raise TemplateError(f"{logical_id}: deadLetterTargetArn must be !GetAtt <Queue>.Arn locally")
        dead_letter = str(target["Fn::GetAtt"][0])
    return QueueSpec(
        logical_id=logical_id,
        visibility_timeout=_int(properties.get("VisibilityTimeout"), 30, f"{logical_id}.VisibilityTimeout"),
        message_retention_period=_int(
            properties.get("MessageRetentionPeriod"), 345600, f"{logical_id}.MessageRetentionPeriod"
        ),
        dead_letter_queue=dead_letter,
        max_receive_count=_int(redrive.get("maxReceiveCount"), 0, f"{logical_id}.maxReceiveCount") or None
        if dead_letter
        else None,
    )


def _routes(logical_id: str, events: Mapping[str, Any]) -> tuple[Route, ...]:
    routes: list[Route] = []
    for event_name, event in (events or {}).items():
        if not isinstance(event, dict) or event.get("Type") != "HttpApi":
            if isinstance(event, dict) and event.get("Type") not in ("Schedule", "ScheduleV2", "SQS", "DynamoDB"):
                warnings.warn(
                    f"{logical_id} event {event_name} of type {event.get('Type')} is not served locally",
                    TemplateWarning,
                    stacklevel=3,
                )
            continue
        properties = event.get("Properties") or {}
        path = properties.get("Path")
        method = str(properties.get("Method") or ANY_METHOD).upper()
        if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            method = ANY_METHOD
        auth = properties.get("Auth") or {}
        authorizer = auth.get("Authorizer") if isinstance(auth, dict) else None
        if path is None:
            routes.append(Route(method=ANY_METHOD, path=DEFAULT_ROUTE, function=logical_id, authorizer=authorizer))
        elif not isinstance(path, str) or not path.startswith("/"):
            raise TemplateError(f"{logical_id} event {event_name}: Path must be a literal starting with '/'")
        else:
            routes.append(Route(method=method, path=path, function=logical_id, authorizer=authorizer))
    return tuple(routes)


def _int(value: Any, default: int, where: str) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TemplateError(f"{where} must be a literal integer, not {value!r}") from None


def _function(
    root: Path, logical_id: str, properties: Mapping[str, Any], globals_: Mapping[str, Any], resolver: _Resolver
) -> FunctionSpec:
    code_uri = properties.get("CodeUri", globals_.get("CodeUri"))
    handler = properties.get("Handler", globals_.get("Handler"))
    if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{logical_id}: the local stack needs a literal CodeUri and a module.function Handler")
    global_variables = ((globals_.get("Environment") or {}).get("Variables")) or {}
    own_variables = ((properties.get("Environment") or {}).get("Variables")) or {}
    environment = _environment(logical_id, global_variables, resolver, origin="Globals")
    environment.update(_environment(logical_id, own_variables, resolver, origin="Function"))
    runtime = properties.get("Runtime", globals_.get("Runtime"))
    return FunctionSpec(
        logical_id=logical_id,
        code_uri=(root / code_uri).resolve(),
        handler=handler,
        timeout=_int(properties.get("Timeout", globals_.get("Timeout")), SAM_DEFAULT_TIMEOUT, f"{logical_id}.Timeout"),
        memory_size=_int(
            properties.get("MemorySize", globals_.get("MemorySize")),
            SAM_DEFAULT_MEMORY_SIZE,
            f"{logical_id}.MemorySize",
        ),
        runtime=runtime if isinstance(runtime, str) else None,
        environment=environment,
        routes=_routes(logical_id, properties.get("Events") or {}),
        schedules=_schedules(logical_id, properties.get("Events") or {}),
        sqs_sources=_sqs_sources(logical_id, properties.get("Events") or {}),
        stream_sources=_stream_sources(logical_id, properties.get("Events") or {}),
    )


def _layer_dir(root: Path, resource: Mapping[str, Any]) -> Path | None:
    """Where a layer's importable packages are: its ContentUri with BuildMethod, else ContentUri/python."""
    content_uri = (resource.get("Properties") or {}).get("ContentUri")
    if not isinstance(content_uri, str):
        return None
    base = (root / content_uri).resolve()
    has_build_method = bool((resource.get("Metadata") or {}).get("BuildMethod"))
    return base if has_build_method else base / "python"


def load_draft_template(path: str | Path) -> Template:
    """The template before the local stack has created its other resources: a variable naming one (a queue's
    URL) is left out, and quietly, since :func:`load_template` with ``physical_ids`` resolves it next."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TemplateWarning)
        return load_template(path)


def load_template(path: str | Path, *, physical_ids: Mapping[str, str] | None = None) -> Template:
    """Parse ``template.yaml`` into what the local stack runs. Relative paths are resolved against its folder.

    ``physical_ids`` resolve ``Ref`` to resources the local stack created (a queue's logical id → its URL);
    without them an environment variable naming such a resource is left out with a warning."""
    path = Path(path).resolve()
    document = load_yaml(path)
    root = path.parent
    resources: Mapping[str, Any] = document.get("Resources") or {}
    parameters = _parameters(document)

    tables: list[TableSpec] = []
    queues: list[QueueSpec] = []
    for logical_id, resource in resources.items():
        kind = resource.get("Type") if isinstance(resource, dict) else None
        if kind == "AWS::SQS::Queue":
            queues.append(_queue(logical_id, resource.get("Properties") or {}))
        elif kind == "AWS::DynamoDB::Table":
            tables.append(_dynamodb_table(logical_id, resource.get("Properties") or {}))
        elif kind == "AWS::Serverless::SimpleTable":
            tables.append(_simple_table(logical_id, resource.get("Properties") or {}))

    resolver = _Resolver(
        parameters=parameters,
        tables=frozenset(table.logical_id for table in tables),
        physical_ids=dict(physical_ids or {}),
    )
    globals_: Mapping[str, Any] = (document.get("Globals") or {}).get("Function") or {}
    functions = tuple(
        _function(root, logical_id, resource.get("Properties") or {}, globals_, resolver)
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::Function"
    )
    layer_dirs = tuple(
        layer
        for resource in resources.values()
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::LayerVersion"
        for layer in [_layer_dir(root, resource)]
        if layer is not None
    )
    seen: dict[str, str] = {}
    for function in functions:
        for route in function.routes:
            if route.route_key in seen:
                raise TemplateError(
                    f"route {route.route_key} is served by both {seen[route.route_key]} and {function.logical_id}"
                )
            seen[route.route_key] = function.logical_id
    return Template(
        path=path,
        parameters=parameters,
        functions=functions,
        tables=tuple(tables),
        layer_dirs=layer_dirs,
        queues=tuple(queues),
    )
