"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Run them with `.ci/install-browser && .venv/bin/pytest -m browser tests/e2e`. Where
/usr/bin/chromium is missing they are skipped with a reason that says so; Playwright's own
browser downloads are never used.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings

CHROMIUM = Path("/usr/bin/chromium")
NOT_RUN = f"chromium not found at {CHROMIUM}: browser tests not run"
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
ARTIFACTS = Path(django_settings.BASE_DIR) / "artifacts"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
        return
    skip = pytest.mark.skip(reason=NOT_RUN)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def site(live_server, settings):
    """The live server's base URL, with the settings a plain-http local site needs.

    Payment URLs are built from PUBLIC_BASE_URL, so it points at the live server; cookies
    cannot be Secure-only over plain http (production serves https).
    """
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return live_server.url


@pytest.fixture
def http(site):
    """Real HTTP to the live server, as the app talks to it."""
    with httpx.Client(base_url=site, timeout=15, follow_redirects=False) as client:
        yield client


@pytest.fixture
def open_page(site):
    """`with open_page() as page:` a fresh headless chromium page on the live server
    (`open_page(width, height)`: another window size than 1600 x 900).

    Inside the block Playwright's event loop runs in this thread, and Django refuses ORM
    calls there (they would also open a second, never closed connection): prepare data
    before the block, check the database after it, and talk HTTP inside it.
    Screenshots go to artifacts/ (gitignored).
    """
    if not CHROMIUM.exists():
        pytest.skip(NOT_RUN)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)

    @contextmanager
    def opened(width: int = 1600, height: int = 900):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            viewport = {"width": width, "height": height}
            context = browser.new_context(base_url=site, viewport=viewport)
            context.set_default_timeout(15_000)
            try:
                yield context.new_page()
            finally:
                context.close()
                browser.close()

    return opened
