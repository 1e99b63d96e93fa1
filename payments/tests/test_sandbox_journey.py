"""The sandbox provider: the whole journey through HTTP, checkout page included."""

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from rest_framework.test import APIClient

from payments.models import Payment, PaymentState
from payments.reconciliation import reconcile
from payments.tests.fixtures import pay, ready
from payments.tests.journeys import sandbox_checkout_to_approval
from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer():
    return AccountFactory()


@pytest.fixture
def client(payer):
    return client_for(payer)


def test_sandbox_journey_to_approval(sandbox, client, payer):
    """Steps 1-4 through HTTP, the checkout page in a browser that checks CSRF."""
    started = client.post("/remit/kakaopay/ready", {"amount": "10000", "message": "축하해"})
    browser, path = sandbox_checkout_to_approval(client, started, shows="FunSun gift")
    payment = Payment.objects.get(payer=payer)
    assert payment.state == PaymentState.APPROVED
    assert payment.sandbox_status == "SUCCESS_PAYMENT"
    # After payment the checkout page offers no button any more.
    after = browser.get(path)
    assert after.status_code == 200
    assert "<form" not in after.content.decode()
    assert "SUCCESS_PAYMENT" in after.content.decode()


def test_the_checkout_page_escapes_the_item_name(sandbox, client):
    from payments import services

    _, result = services.start_payment(
        payer=AccountFactory(), amount=5_000, item_name="<script>alert(1)</script>"
    )
    html = APIClient().get(urlparse(result.next_redirect_pc_url).path).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_sandbox_cancel_button_goes_to_the_cancel_url_and_nothing_can_be_approved(sandbox, client):
    started = ready(client, 10_000)
    path = urlparse(started["url"]).path
    response = APIClient().post(path, {"action": "cancel"})
    assert response.status_code == 302
    assert response["Location"] == "http://127.0.0.1:8000/remit/kakaopay/cancel"
    assert APIClient().get("/remit/kakaopay/cancel").status_code == 200
    client.post("/remit/kakaopay/approve", {"pg_token": "anything"})
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 400
    assert Payment.objects.get().state == PaymentState.FAILED


def test_sandbox_approve_before_paying_and_with_a_wrong_token(sandbox, client):
    started = ready(client, 10_000)
    client.post("/remit/kakaopay/approve", {"pg_token": "guess"})
    assert client.get("/remit/kakaopay/approve").status_code == 400  # -701: not paid yet
    path = urlparse(started["url"]).path
    APIClient().post(path, {"action": "pay"})
    client.post("/remit/kakaopay/approve", {"pg_token": "guess-again"})
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 400
    assert "-708" in response.json()["detail"]
    assert Payment.objects.get().state == PaymentState.READY


def test_unknown_checkout_page_is_404(sandbox):
    assert APIClient().get("/payments/sandbox/checkout/T000").status_code == 404
    assert APIClient().post("/payments/sandbox/checkout/T000", {"action": "pay"}).status_code == 404


def test_bad_checkout_action_is_400(sandbox, client):
    started = ready(client, 10_000)
    response = APIClient().post(urlparse(started["url"]).path, {"action": "steal"})
    assert response.status_code == 400


def test_sandbox_refund_and_reconciliation(sandbox, client, settings):
    """Approved, never credited: reconciliation refunds it at the sandbox provider."""
    pay(client, 10_000)
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(
        approved_on=payment.approved_on.replace(year=payment.approved_on.year - 1)
    )
    report = reconcile()
    assert report.refunded == 1
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert payment.sandbox_status == "CANCEL_PAYMENT"
    assert payment.sandbox_canceled_amount == 10_000
    assert reconcile().refunded == 0


def test_an_expired_checkout_offers_no_button_and_paying_fails(sandbox, client):
    started = ready(client, 10_000)
    path = urlparse(started["url"]).path
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(
        created_on=payment.created_on - timedelta(minutes=16)
    )
    page = APIClient().get(path)
    assert page.status_code == 200
    assert "expired" in page.content.decode()
    assert "<form" not in page.content.decode()
    response = APIClient().post(path, {"action": "pay"})
    assert response["Location"] == "http://127.0.0.1:8000/remit/kakaopay/fail"
