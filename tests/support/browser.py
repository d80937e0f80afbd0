"""Headless Chromium (Debian's ``chromium``, never a downloaded browser) for the browser tests.

``make test`` installs Chromium first (``make browser``), so in CI the browser tests always run; elsewhere they
are skipped, saying why, only when ``/usr/bin/chromium`` is absent. Every step's screenshot is saved under
``test-artifacts/browser/`` (gitignored); ``UPDATE_README_IMAGES=1`` also refreshes the README's pictures in
``docs/img/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
README_IMAGES = REPO_ROOT / "docs" / "img"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file() and os.environ.get("REQUIRE_CHROMIUM") != "1",
        reason=f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)",
    ),
]
"""Every browser test module's ``pytestmark``: skipped without Chromium, except under ``make test``
(``REQUIRE_CHROMIUM=1``), where a missing browser fails instead."""


class Screenshots:
    """``shot(page, "in-play")`` saves ``test-artifacts/browser/<test>-NN-in-play.png``."""

    def __init__(self, test_name: str) -> None:
        self.prefix = test_name.removeprefix("test_")
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Any, step: str, *, readme: str | None = None) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        if readme and os.environ.get("UPDATE_README_IMAGES") == "1":
            README_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_IMAGES / readme)
        return path
