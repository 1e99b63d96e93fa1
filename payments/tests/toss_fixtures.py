"""The app's journey with Toss Payments, as the app and the buyer walk it, for tests here and in
the apps above payments (the fake Toss itself is payments/tests/toss_server.py).

The root conftest.py registers this module as a plugin: a test asks for the fixtures by name
(`toss`, `toss_gives_up`) and imports only the helpers.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db.models.signals import post_save
from rest_framework.test import APIClient

from payments.models import PaymentEvent
from payments.tests.fixtures import ready
from payments.tests.toss_server import FakeToss, toss_fixture

__all__ = [
    "GIVE_UP_SECONDS",
    "browser_returns",
    "checkout",
    "path_of",
    "pay_with_toss",
    "ready",
    "toss_fixture",
    "toss_gives_up_fixture",
    "window",
]

# Our client's time-out while it gives up on a call the fake holds. The held answer never
# comes before the test releases it, so any value would do; short keeps the tests quick.
GIVE_UP_SECONDS = 0.5
WINDOW_JSON = re.compile(r'<script id="toss-window" type="application/json">(.*?)</script>', re.S)


def path_of(url: str) -> str:
    """The path and query of one of our URLs, for Django's test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def checkout(url: str) -> dict:
    """A browser opens the checkout page of step 1's `url`; returns what the page hands to
    the SDK (clientKey, customerKey, request)."""
    page = APIClient().get(path_of(url))
    assert page.status_code == 200, page.content
    found = WINDOW_JSON.search(page.content.decode())
    assert found, "the checkout page offers no payment window"
    return json.loads(unescape(found.group(1)))


def window(toss: FakeToss, config: dict) -> str:
    """The SDK's requestPayment, as the page calls it; returns where the window sends the
    browser (our success or fail URL)."""
    params = {**config["request"], "customerKey": config["customerKey"]}
    return toss.request_payment(params, client_key=config["clientKey"])


def browser_returns(location: str):
    """The buyer's browser (not signed in) follows Toss's redirect to one of our routes."""
    return APIClient().get(path_of(location))


def pay_with_toss(client: APIClient, toss: FakeToss, amount: int, **extra) -> dict:
    """Steps 1-4 with Toss: ready as the app sends it, the checkout page, the window, the
    return to our success route, then the pg_token and approve; returns step 1's answer."""
    started = ready(client, amount, **extra)
    location = window(toss, checkout(started["url"]))
    back = browser_returns(location)
    assert back.status_code == 302, back.content
    approval = back["Location"]
    assert "/remit/kakaopay/approval?pg_token=" in approval, approval
    token = parse_qs(urlsplit(approval).query)["pg_token"][0]
    stored = client.post("/remit/kakaopay/approve", {"pg_token": token})
    assert stored.status_code == 200, stored.content
    approved = client.get("/remit/kakaopay/approve")
    assert approved.status_code == 200, approved.content
    return started


@pytest.fixture(name="toss_gives_up")
def toss_gives_up_fixture(toss, settings):
    """`with toss_gives_up(endpoint, after=False) as held:` around the request in which our
    client gives up on Toss's `endpoint`: Toss holds its answer (with `after`, once the work
    is done) and our client, given GIVE_UP_SECONDS inside the block, times out first however
    slow the machine; `until_event`: the generous time-out is back as soon as our books record
    an event of this kind (the time-out noticed), for a later call in the same request (the
    look-up that follows). Leaving the block brings the generous time-out back, releases the held
    call and waits until Toss finished it, so that its books are final."""
    generous = settings.TOSS_TIMEOUT_SECONDS

    @contextmanager
    def gives_up(endpoint: str, *, after: bool = False, until_event: str | None = None):
        held = toss.hold(endpoint, after=after)

        def noticed(sender, instance, created, **kwargs):
            if created and instance.kind == until_event:
                settings.TOSS_TIMEOUT_SECONDS = generous

        settings.TOSS_TIMEOUT_SECONDS = GIVE_UP_SECONDS
        post_save.connect(noticed, sender=PaymentEvent, weak=False)
        try:
            yield held
        finally:
            post_save.disconnect(noticed, sender=PaymentEvent)
            settings.TOSS_TIMEOUT_SECONDS = generous
            held.release()
        assert held.wait_arrived(), f"Toss never received the held {endpoint}"
        assert held.wait_finished(), f"Toss did not finish the held {endpoint}"

    return gives_up
