"""What a function's cold start imports: each handler module is imported in a fresh interpreter, set up as Lambda
sets it up (the layer, then the function's folder, on ``PYTHONPATH``; the template's default ``XRaySdk=false``),
and the modules it loaded are checked against what it can use.

* aws-xray-sdk never (Lambda's active tracing records the invocations without it; ``test_aws_tracing.py`` runs
  the SDK's path).
* The command line and the clients only it uses (Ruby's Team API, RabbitX: ``croupier_cli``, outside the layer;
  ``test_packaging.py`` checks that ``sam build`` ships none of it) and eth-account never.
* ``croupier.launch`` only in the launch functions.
* And the other way: a function that wires the wallet or the RGS loads its logic and data layer now, in Lambda's
  init phase, not on its first request (an import made lazy only moves the cost there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYER = REPO_ROOT / "layers" / "croupier"
FUNCTIONS = sorted(path.parent.name for path in (REPO_ROOT / "functions").glob("*/app.py"))
LAUNCHES = {"rgs_launch", "sportsbook_launch"}
NEVER = ("aws_xray_sdk", "croupier_cli", "eth_account")
AT_INIT = {
    "croupier.wallet.wiring": {"croupier.ledger.dynamo", "croupier.admin", "croupier.wallet.sportsbook", "pydantic"},
    "croupier.rgs.wiring": {
        "croupier.rgs.store",
        "croupier.rgs.game",
        "croupier.rgs.rounds",
        "croupier.rgs.operators",
        "pydantic",
    },
}

SCRIPT = "import json, sys; import app; print(json.dumps(sorted(sys.modules)))"


def imported_by(function: str) -> set[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(LAYER), str(REPO_ROOT / "functions" / function)]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "WALLET_TABLE": "WalletTable",
        "RGS_TABLE": "RgsTable",
        "CROUPIER_XRAY_SDK": "false",
        "LAMBDA_TASK_ROOT": str(REPO_ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": function,
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO_ROOT / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_every_function_is_checked() -> None:
    assert len(FUNCTIONS) >= 30
    assert set(FUNCTIONS) >= LAUNCHES


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_cold_start_loads_only_what_the_function_can_use(function: str) -> None:
    modules = imported_by(function)
    assert "app" in modules
    loaded = sorted(name for name in modules if any(name == n or name.startswith(n + ".") for n in NEVER))
    assert loaded == []
    assert ("croupier.launch" in modules) is (function in LAUNCHES)
    for wiring, needed in AT_INIT.items():
        if wiring in modules:
            assert needed - modules == set(), wiring
