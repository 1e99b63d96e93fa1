"""The payments admin: read-only money, the event log, and the refund action."""

import pytest
from django.test import Client

from accounts.models import Account
from payments.models import Payment, PaymentState
from payments.tests.fixtures import pay
from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client():
    operator = Account.objects.create_superuser("ops@example.com", "a-strong-password-1")
    client = Client()
    client.force_login(operator)
    return client


def test_payment_pages_show_events_and_no_editable_money(kakaopay, operator_client):
    pay(client_for(AccountFactory()), 10_000)
    payment = Payment.objects.get()
    listing = operator_client.get("/admin/payments/payment/?state__exact=approved")
    assert listing.status_code == 200
    assert payment.tid in listing.content.decode()
    page = operator_client.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "approved" in html and "pg_token" in html  # the event log
    assert 'name="amount"' not in html  # read-only
    assert operator_client.get("/admin/payments/payment/add/").status_code == 403


def test_refund_action_refunds_an_uncredited_payment_once(kakaopay, operator_client):
    pay(client_for(AccountFactory()), 10_000)
    payment = Payment.objects.get()
    for _ in range(2):
        response = operator_client.post(
            "/admin/payments/payment/",
            {"action": "refund_uncredited", "_selected_action": [payment.pk]},
        )
        assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert len(kakaopay.calls_of("cancel")) == 1
