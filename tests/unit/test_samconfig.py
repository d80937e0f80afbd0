"""samconfig.toml's environments deploy this template: every override names a parameter of template.yaml with a
value the template allows, and prod reviews its change sets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from croupier_local.template import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
PARAMETERS: dict[str, Any] = load_yaml(REPO_ROOT / "template.yaml")["Parameters"]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_overrides_are_parameters_of_the_template_with_allowed_values(environment: str) -> None:
    deploy = CONFIG[environment]["deploy"]["parameters"]
    overrides = dict(item.split("=", 1) for item in deploy["parameter_overrides"])
    assert overrides["Stage"] == environment
    assert deploy["stack_name"] == f"croupier-{environment}"
    assert deploy["resolve_s3"] is True
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    for name, value in overrides.items():
        parameter = PARAMETERS[name]
        if "AllowedValues" in parameter:
            assert value in [str(v) for v in parameter["AllowedValues"]], (name, value)
        if "AllowedPattern" in parameter:
            assert re.fullmatch(parameter["AllowedPattern"], value), (name, value)
        if parameter["Type"] == "Number":
            assert float(value) >= parameter.get("MinValue", float("-inf")), (name, value)


def test_prod_confirms_every_change_set() -> None:
    assert CONFIG["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
