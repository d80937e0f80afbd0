"""The session's emulators run in this process (moto's ThreadedMotoServer): moto's in-process ``mock_aws``
resets every backend of the process when it exits, the session's server included. It once wiped the local
stack's dev secrets mid-run, and every test after the secret cache's five minutes failed. No test may use it."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
FORBIDDEN = re.compile(r"\bmock_aws\b|\bmock_(secretsmanager|sqs|dynamodb)\b")


def test_no_test_uses_motos_in_process_mocks() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if FORBIDDEN.search(line) and not line.lstrip().startswith(("#", '"', "The "))
    ]
    assert offenders == [], offenders
