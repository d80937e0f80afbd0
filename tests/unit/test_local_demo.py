"""The local stack's runtime secrets: a fresh copy of the committed dev secrets, which are only ever read."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from croupier.secrets import FileSecretStore
from croupier_local.server import DEV_SECRETS_FILE, RUNTIME_SECRETS_FILE, fresh_runtime_secrets

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_runtime_secrets_are_a_fresh_private_copy_of_the_committed_file(tmp_path: Path) -> None:
    committed = tmp_path / DEV_SECRETS_FILE
    committed.parent.mkdir(parents=True)
    committed.write_text(json.dumps({"secrets": {"a": {"k": "v"}}}), encoding="utf-8")
    runtime = fresh_runtime_secrets(tmp_path)
    assert runtime == tmp_path / RUNTIME_SECRETS_FILE
    FileSecretStore(runtime).put("rgs-wallet/operators/x", {"api_key": "k", "hmac_secrets": ["s"]})
    assert json.loads(committed.read_text(encoding="utf-8")) == {"secrets": {"a": {"k": "v"}}}
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o600

    again = fresh_runtime_secrets(tmp_path)  # the next start forgets what the last one wrote
    assert FileSecretStore(again).get("a") == {"k": "v"}
    assert "rgs-wallet/operators/x" not in json.loads(again.read_text(encoding="utf-8"))["secrets"]


def test_the_runtime_copy_is_gitignored() -> None:
    assert ".local/" in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
