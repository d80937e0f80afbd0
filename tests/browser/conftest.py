"""The browser tests' fixtures: one headless Chromium per session (a fresh user-data-dir), a page per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, FLAGS, Screenshots


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if os.environ.get("REQUIRE_CHROMIUM") != "1":
        pytest.importorskip("playwright", reason="playwright is not installed (pinned in requirements/dev.txt)")
    from playwright.sync_api import sync_playwright  # imported here: collecting without Chromium needs nothing

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 980, "height": 760},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A new tab; the test fails if the page raised a JavaScript error."""
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        page.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(request.node.name)
