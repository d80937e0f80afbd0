"""docs/openapi.json: generated, current, valid, and complete for every route of template.yaml."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from croupier.wallet.ruby import MoveRequest
from croupier_local import openapi
from croupier_local.template import TemplateWarning, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return document


def template_routes() -> list[tuple[str, str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TemplateWarning)
        return [(route.method.lower(), route.path) for route in load_template(REPO_ROOT / "template.yaml").routes]


def test_the_committed_document_is_what_the_generator_makes_now() -> None:
    fresh = openapi.render(openapi.build_document(REPO_ROOT / "template.yaml"))

    assert COMMITTED.read_text(encoding="utf-8") == fresh, "docs/openapi.json is stale: run `make openapi`"


def test_every_route_of_the_template_is_documented(committed: dict[str, Any]) -> None:
    routes = template_routes()
    assert len(routes) >= 25

    documented = {(method, path) for path, item in committed["paths"].items() for method in item}
    assert sorted(set(routes) - documented) == []
    assert sorted(documented - set(routes)) == [], "the document names routes the template does not serve"


def test_the_document_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    assert committed["openapi"].startswith("3.1")
    validate(committed)


def test_request_bodies_are_the_models_the_handlers_validate_with(committed: dict[str, Any]) -> None:
    body = committed["paths"]["/ruby/debit"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[1]

    assert committed["components"]["schemas"][name] == MoveRequest.model_json_schema(ref_template=openapi.REF)


def test_every_answer_and_refusal_is_described_and_signed_routes_document_401(committed: dict[str, Any]) -> None:
    for path, item in committed["paths"].items():
        for method, operation in item.items():
            assert operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                (media,) = response["content"].values()  # JSON everywhere but the two HTML pages
                assert media["schema"], (method, path, status)
            schemes = {name for requirement in operation["security"] for name in requirement}
            if schemes & {"RubySignature", "RgsSignature", "PlayerSession"}:
                assert "401" in operation["responses"], (method, path)


def test_rgs_errors_carry_ok_false(committed: dict[str, Any]) -> None:
    refusal = committed["paths"]["/rgs-wallet/bet"]["post"]["responses"]["402"]
    schema = refusal["content"]["application/json"]["schema"]

    assert schema["properties"]["ok"] == {"const": False}
    assert schema["properties"]["error"]["enum"] == ["INSUFFICIENT_FUNDS"]


def test_an_iam_routes_own_403_refusals_stay_beside_api_gateways_403(committed: dict[str, Any]) -> None:
    """API Gateway answers 403 for an unsigned admin call; the deposit route's own 403 codes must not vanish."""
    refusal = committed["paths"]["/admin/players/{player_id}/deposits"]["post"]["responses"]["403"]
    own, gateway = refusal["content"]["application/json"]["schema"]["anyOf"]
    assert own["properties"]["error"]["enum"] == ["DEPOSIT_LIMIT", "PLAYER_EXCLUDED"]
    assert gateway["required"] == ["message"]
    unsigned_only = committed["paths"]["/admin/players/{player_id}"]["get"]["responses"]["403"]
    assert unsigned_only["content"]["application/json"]["schema"]["required"] == ["message"]


def test_a_route_without_an_entry_fails_the_generation_and_is_named(tmp_path: Path) -> None:
    template = (REPO_ROOT / "template.yaml").read_text(encoding="utf-8")
    template = template.replace(
        "            Path: /health\n",
        "            Path: /health\n            Method: GET\n        Page:\n          Type: HttpApi\n"
        "          Properties:\n            ApiId: !Ref HttpApi\n            Path: /undocumented\n",
        1,
    )
    (tmp_path / "template.yaml").write_text(template, encoding="utf-8")

    with pytest.raises(openapi.UndocumentedRoute, match="GET /undocumented"):
        openapi.build_document(tmp_path / "template.yaml")
