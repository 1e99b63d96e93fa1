"""Fixtures for money tests, shared with the tests of the apps above payments.

The root conftest.py registers this module as a plugin: a test asks for a fixture by name
(`kakaopay`, `sandbox`) and imports only the helpers (`pay`, `ready`).
"""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from django.db.models.signals import post_save
from rest_framework.test import APIClient

from payments.models import PaymentEvent
from payments.tests.kakaopay_server import FakeKakaoPay

SECRET_KEY = "test-kakaopay-secret"
CID = "TC0ONETIME"
# Our client's time-out while it gives up on a call the fake holds. Any value would do: the
# held answer never comes before the test releases it; short keeps the tests quick.
GIVE_UP_SECONDS = 0.5


@pytest.fixture(name="kakaopay")
def kakaopay_fixture(settings):
    """A local Kakao Pay, with the server configured to use it (a generous time-out)."""
    server = FakeKakaoPay(secret_key=SECRET_KEY, cid=CID).start()
    settings.PAYMENT_PROVIDER = "kakaopay"
    settings.KAKAOPAY_API_BASE_URL = server.base_url
    settings.KAKAOPAY_SECRET_KEY = SECRET_KEY
    settings.KAKAOPAY_CID = CID
    # Generous: a loaded test machine must not turn a slow answer into a time-out.
    settings.KAKAOPAY_TIMEOUT_SECONDS = 10.0
    yield server
    server.stop()


@pytest.fixture(name="kakaopay_fails")
def kakaopay_fails_fixture(kakaopay, settings):
    """`with kakaopay_fails(call, how):` around the request in which Kakao Pay's `call` fails.

    `how`: "500", or "time-out": Kakao Pay holds its answer and our client, given
    GIVE_UP_SECONDS inside the block, gives up first however slow the machine (no sleep).
    `after`: Kakao Pay carries the call out before failing. Leaving the block brings the
    generous time-out back and releases a held call, waiting until Kakao Pay finished it, so
    that its books are final. `until_event`: the generous time-out is back as soon as our
    books record an event of this kind (the time-out noticed), for a later call in the same
    request that must succeed.
    """
    generous = settings.KAKAOPAY_TIMEOUT_SECONDS

    @contextmanager
    def fails(call: str, how: str, *, after: bool = False, until_event: str | None = None):
        if how == "500":
            kakaopay.fail(call, status=500, after=after)
            yield None
            return
        assert how == "time-out", how
        held = kakaopay.hold(call, after=after)

        def noticed(sender, instance, created, **kwargs):
            if created and instance.kind == until_event:
                settings.KAKAOPAY_TIMEOUT_SECONDS = generous

        settings.KAKAOPAY_TIMEOUT_SECONDS = GIVE_UP_SECONDS
        post_save.connect(noticed, sender=PaymentEvent, weak=False)
        try:
            yield held
        finally:
            post_save.disconnect(noticed, sender=PaymentEvent)
            settings.KAKAOPAY_TIMEOUT_SECONDS = generous
            held.release()
        assert held.wait_arrived(), f"Kakao Pay never received the held /{call}"
        assert held.wait_finished(), f"Kakao Pay did not finish the held /{call}"

    return fails


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
