"""A gift from the browser with Toss Payments: Toss approves at its own return, which ends at
the app's approval URL; the web buyer is brought back to the web and credited."""

import pytest
from django.test import Client

from fundings.models import Contribution
from payments.models import PaymentState
from payments.tests.toss_fixtures import checkout, path_of, window
from tests.factories import AccountFactory, FundingFactory

pytestmark = pytest.mark.django_db


def follow(client: Client, location: str):
    response = client.get(path_of(location))
    while response.status_code == 302:
        response = client.get(path_of(response["Location"]))
    return response


def test_a_web_gift_through_toss(toss, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    funding = FundingFactory(goal_amount=100_000)
    client = Client()
    client.force_login(AccountFactory())
    client.get(f"/f/{funding.pk}/")
    started = client.post(f"/f/{funding.pk}/give", {"amount": "30000", "message": "토스로 보내요"})
    assert started.status_code == 302
    assert "/payments/toss/checkout/" in started["Location"]
    location = window(toss, checkout(started["Location"]))
    thanks = follow(client, location)
    assert thanks.status_code == 200
    assert "30,000원" in thanks.content.decode()
    contribution = Contribution.objects.get(funding=funding)
    assert contribution.message == "토스로 보내요"
    assert contribution.payment.state == PaymentState.CREDITED
    funding.refresh_from_db()
    assert funding.current_amount == 30_000
