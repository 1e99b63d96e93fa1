"""Fixtures for money tests, shared with the tests of the apps above payments.

Import the fixture functions into a test module (`from payments.tests.fixtures import
kakaopay_fixture  # noqa: F401`) and ask for them by name (`kakaopay`).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from rest_framework.test import APIClient

from payments.tests.kakaopay_server import FakeKakaoPay

SECRET_KEY = "test-kakaopay-secret"
CID = "TC0ONETIME"
PAST_TIMEOUT = 1.5  # seconds the fake server sleeps to outlast the short time-out


@pytest.fixture(name="kakaopay")
def kakaopay_fixture(settings):
    """A local Kakao Pay, with the server configured to use it (short time-out)."""
    server = FakeKakaoPay(secret_key=SECRET_KEY, cid=CID).start()
    settings.PAYMENT_PROVIDER = "kakaopay"
    settings.KAKAOPAY_API_BASE_URL = server.base_url
    settings.KAKAOPAY_SECRET_KEY = SECRET_KEY
    settings.KAKAOPAY_CID = CID
    # Generous: a loaded test machine must not turn a slow answer into a time-out.
    settings.KAKAOPAY_TIMEOUT_SECONDS = 10.0
    yield server
    server.stop()


@pytest.fixture(name="short_timeout")
def short_timeout_fixture(settings):
    """For time-out tests: the fake server is told to sleep PAST_TIMEOUT seconds."""
    settings.KAKAOPAY_TIMEOUT_SECONDS = 0.5
    return PAST_TIMEOUT


@pytest.fixture(name="sandbox")
def sandbox_fixture(settings):
    settings.PAYMENT_PROVIDER = "sandbox"
    return settings


def ready(client: APIClient, amount: int, **extra) -> dict:
    """Step 1 as the app sends it (a form)."""
    response = client.post("/remit/kakaopay/ready", {"amount": str(amount), **extra})
    assert response.status_code == 200, response.content
    return response.json()


def buyer_pays(url: str, client: APIClient | None = None) -> str:
    """The buyer opens the payment URL and pays; returns the pg_token of the redirect.

    Kakao Pay's URL (the fake server) is opened with a real HTTP client; the sandbox's
    checkout page is this server's own, so it goes through `client`.
    """
    parsed = urlparse(url)
    if parsed.path.startswith("/payments/sandbox/checkout/"):
        assert client is not None
        page = client.get(parsed.path)
        assert page.status_code == 200
        response = client.post(parsed.path, {"action": "pay"})
        assert response.status_code == 302, response.content
        location = response["Location"]
    else:
        response = httpx.get(url, follow_redirects=False)
        assert response.status_code == 302
        location = response.headers["location"]
    assert "/remit/kakaopay/approval" in location
    return parse_qs(urlparse(location).query)["pg_token"][0]


def pay(client: APIClient, amount: int, **extra) -> dict:
    """Steps 1-4 of the app's journey; returns step 1's answer. Step 4 answered 200."""
    started = ready(client, amount, **extra)
    token = buyer_pays(started["url"], client)
    stored = client.post("/remit/kakaopay/approve", {"pg_token": token})
    assert stored.status_code == 200, stored.content
    approved = client.get("/remit/kakaopay/approve")
    assert approved.status_code == 200, approved.content
    return started
