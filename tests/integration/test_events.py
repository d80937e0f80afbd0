"""Every function of template.yaml has a sample event in events/, and that event runs through its handler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from croupier_local.server import LocalStack
from croupier_local.template import FunctionSpec, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = load_template(REPO_ROOT / "template.yaml").functions


def event_path(code_uri: str) -> Path:
    return REPO_ROOT / "events" / f"{Path(code_uri).name}.json"


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.logical_id for f in FUNCTIONS])
def test_every_function_has_a_sample_event_for_one_of_its_routes(function: FunctionSpec) -> None:
    path = event_path(str(function.code_uri))
    assert path.exists(), f"missing sample event {path.relative_to(REPO_ROOT)}"
    event = json.loads(path.read_text(encoding="utf-8"))
    assert event["version"] == "2.0"
    routes = {f"{route.method} {route.path}" for route in function.routes}
    assert event["routeKey"] in routes


def test_the_health_event_runs_through_its_handler(local_stack: LocalStack) -> None:
    event = json.loads(event_path("functions/health/").read_text(encoding="utf-8"))
    result = local_stack.invoke("HealthFunction", event)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["status"] == "ok"
