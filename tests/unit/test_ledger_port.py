"""The ledger's logic depends on its port, never on the adapter: ``croupier.ledger.service`` and
``croupier.ledger.store`` load neither boto3/botocore nor ``croupier.ledger.dynamo`` (checked in a fresh
interpreter, so that nothing another test imported hides it), and the adapter implements the port."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "croupier"
FORBIDDEN = ("boto3", "botocore", "croupier.ledger.dynamo")


@pytest.mark.parametrize("module", ["croupier.ledger.service", "croupier.ledger.store", "croupier.ledger"])
def test_the_ledgers_logic_and_port_load_no_aws_sdk_and_no_adapter(module: str) -> None:
    script = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], env={"PYTHONPATH": str(LAYER)}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert not [m for m in loaded if m.startswith(FORBIDDEN)], f"{module} loads the adapter or the AWS SDK"


def test_the_adapter_implements_the_port_and_re_exports_its_types() -> None:
    from croupier.ledger import dynamo, store

    adapter: store.LedgerStore = dynamo.DynamoLedgerStore("WalletTable", lambda: None)
    assert adapter is not None
    for name in ("CommitPlan", "CommitResult", "Failed", "TransientStoreError", "OK"):
        assert getattr(dynamo, name) is getattr(store, name)
