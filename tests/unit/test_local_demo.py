"""The running stack's endpoints file: what ``make demo`` reads to reach the stack's Secrets Manager."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from croupier_local.demo import STACK_FILE, DemoError, running_stack

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_stack_file_says_to_start_the_stack(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="start the local stack first"):
        running_stack(tmp_path / "stack.json")


def test_a_stack_file_without_an_aws_endpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"base_url": "http://127.0.0.1:3000"}), encoding="utf-8")
    with pytest.raises(DemoError, match="does not describe a running stack"):
        running_stack(path)


def test_the_stack_file_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    written = {"base_url": "http://127.0.0.1:3000", "aws_endpoint": "http://127.0.0.1:5000", "secrets_prefix": "p/"}
    path.write_text(json.dumps(written), encoding="utf-8")
    assert running_stack(path) == written


def test_the_stack_file_is_gitignored() -> None:
    assert STACK_FILE.parts[0] == ".local"
    assert ".local/" in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
