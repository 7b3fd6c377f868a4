"""Browser fixtures: a live ``cccd serve --simulated`` process (the helper of
``tests/service``) and Debian's headless Chromium driven by Playwright for Python.

Playwright's own browser download is never used (``executable_path``). Without Chromium or
Playwright the tests skip, unless ``CCCD_REQUIRE_BROWSER=1`` (CI), where they fail.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import KEYS, LiveServer, start_server, stop_server

CHROMIUM = Path(os.environ.get("CCCD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
DESK_KEY = KEYS["desk-1"]
# One simulated reader per test module, so the cards one module puts on never meet another's.
READERS = tuple(f"Simulated reader {n}" for n in range(1, 9))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("CCCD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (CCCD_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def desk_server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("desk"),
        CCCD_SIMULATED_READERS=",".join(READERS),
        CCCD_DESK_READERS=(
            f"desk-1={'|'.join(READERS[:7])},desk-2={READERS[0]}|{READERS[1]},"
            f"desk-flood={READERS[7]}"
        ),
    )
    yield server
    stop_server(server)


@pytest.fixture
def page(chromium: Any, desk_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (its own sessionStorage) at 1366x768, with page errors kept."""
    context = chromium.new_context(viewport=VIEWPORT, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # HTTP errors the page handles (401 on a wrong key, 422) are logged by Chromium as
    # "Failed to load resource"; anything else on the console is a page bug.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    page.errors = errors  # type: ignore[attr-defined]
    page.base_url = desk_server.url  # type: ignore[attr-defined]
    yield page
    context.close()
