"""Debian's headless Chromium driven by Playwright for Python (no browser download).

The tests use the system's ``chromium`` package (``apt-get install chromium``; `.ci/run`
installs it when missing). Without it they are skipped locally and fail in CI.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str:
    """The system Chromium, or skip (fail in CI) when there is none."""
    for candidate in (os.environ.get("MOTCUA_TEST_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: apt-get install -y chromium")
    pytest.skip("Chromium is not installed (apt-get install -y chromium)")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    """A headless Chromium browser (Playwright's async API)."""
    playwright_api = pytest.importorskip("playwright.async_api")
    executable = chromium_path()
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            await browser.close()
