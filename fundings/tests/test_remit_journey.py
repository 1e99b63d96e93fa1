"""The whole journey, ready to credit, as the app walks it: payments bound to fundings,
credits after the provider's failures, and what reconciliation leaves creditable or not."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from fundings.models import Contribution, Funding, FundingPayment, FundingState
from payments.models import Payment, PaymentEvent, PaymentState
from payments.tests.fixtures import (
    buyer_pays,
    pay,
    ready,
)
from payments.tests.journeys import kakaopay_to_approval, sandbox_checkout_to_approval
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer():
    return AccountFactory()


@pytest.fixture
def client(payer):
    return client_for(payer)


def backdate(payment: Payment, minutes: float, *fields: str) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        **{name: getattr(payment, name) - timedelta(minutes=minutes) for name in fields}
    )


def run_command() -> str:
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    return out.getvalue()


def test_happy_journey_as_the_app_sends_it(kakaopay, payer, client):
    funding = FundingFactory(goal_amount=50_000)

    payment = kakaopay_to_approval(kakaopay, payer, client)

    # 5. credit: JSON with the funding id as a string
    remit = client.post(
        "/remit/",
        {"funding": str(funding.pk), "amount": 10000, "message": "생일 축하해!"},
        format="json",
    )
    assert remit.status_code == 201, remit.content
    data = remit.json()
    assert data["message"] == "생일 축하해!"
    assert data["amount"] == 10_000
    assert data["author"] == {"id": payer.id, "username": payer.username, "image": None}
    assert data["created_on"].endswith("+09:00")
    assert remit["Content-Type"] == "application/json; charset=utf-8"
    funding.refresh_from_db()
    assert funding.current_amount == 10_000
    contribution = Contribution.objects.get(pk=data["id"])
    assert contribution.payment_id == payment.pk
    payment.refresh_from_db()
    assert payment.state == PaymentState.CREDITED
    kinds = list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == ["created", "ready", "pg_token", "approved", "credited"]
    approved_event = PaymentEvent.objects.get(payment=payment, kind="approved")
    assert approved_event.provider_response["tid"] == payment.tid
    assert approved_event.from_state == "ready" and approved_event.to_state == "approved"


def test_every_step_repeated_charges_and_credits_once(kakaopay, client):
    funding = FundingFactory(goal_amount=50_000)
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    for _ in range(2):
        assert client.post("/remit/kakaopay/approve", {"pg_token": token}).status_code == 200
    for _ in range(2):
        assert client.get("/remit/kakaopay/approve").status_code == 200
    # Our second approve is answered from our own books: Kakao hears of it once.
    assert len(kakaopay.calls_of("approve")) == 1
    first = client.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "hi"}, format="json"
    )
    second = client.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "hi"}, format="json"
    )
    assert first.status_code == 201
    assert second.status_code == 402
    assert Contribution.objects.count() == 1
    assert Funding.objects.get(pk=funding.pk).current_amount == 10_000
    # Posting the old token again after approval changes nothing.
    assert client.post("/remit/kakaopay/approve", {"pg_token": token}).status_code == 200
    assert client.get("/remit/kakaopay/approve").status_code == 200
    assert len(kakaopay.calls_of("approve")) == 1


@pytest.mark.parametrize("how", ["500", "time-out"])
def test_approve_and_order_both_failing_leave_it_for_reconciliation(
    kakaopay, client, how, kakaopay_fails
):
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    with kakaopay_fails("approve", how, after=True), kakaopay_fails("order", how):
        response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 502
    assert "checked again" in response.json()["detail"]
    payment = Payment.objects.get(tid=started["tid"])
    assert payment.state == PaymentState.READY
    assert payment.needs_check
    # Nothing to credit until someone knows: 402.
    funding = FundingFactory()
    assert (
        client.post(
            "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
        ).status_code
        == 402
    )


@pytest.mark.parametrize("how", ["500", "time-out"])
def test_cancel_500_or_time_out_on_a_closed_funding(kakaopay, client, how, kakaopay_fails):
    """409 all the same; the refund is left `refunding` for reconciliation to finish."""
    from payments.reconciliation import reconcile

    funding = FundingFactory(state=FundingState.CANCELED)
    pay(client, 10_000)
    with kakaopay_fails("cancel", how):
        response = client.post(
            "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
        )
    assert response.status_code == 409
    assert "will be refunded" in response.json()["detail"]
    payment = Payment.objects.get()
    assert payment.state == PaymentState.REFUNDING and payment.needs_check
    assert payment.claimed_until is None
    # The next reconciliation asks /order, then cancels once.
    reconcile()
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert kakaopay.orders[payment.tid].status == "CANCEL_PAYMENT"
    assert kakaopay.orders[payment.tid].canceled_amount == 10_000


def test_approve_failed_at_kakao_fails_the_payment(kakaopay, client):
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    kakaopay.fail("approve", status=400, error_code=-780)
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 400
    assert Payment.objects.get(tid=started["tid"]).state == PaymentState.FAILED
    assert (
        client.post(
            "/remit/", {"funding": FundingFactory().pk, "amount": 10_000, "message": "x"}
        ).status_code
        == 402
    )


@pytest.mark.django_db
def test_crash_between_approve_and_credit_is_refunded_once(kakaopay):
    """Approved, and the app never called POST /remit/ (it crashed): refunded after the
    grace period, and running the job again refunds nothing more."""
    client = client_for(AccountFactory())
    pay(client, 10_000)
    payment = Payment.objects.get()
    assert "refunded 0" in run_command()  # within the grace period: the app may still credit
    assert Payment.objects.get().state == PaymentState.APPROVED

    backdate(payment, 6, "approved_on")
    assert "refunded 1" in run_command()
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert payment.refunded_amount == 10_000
    assert kakaopay.orders[payment.tid].status == "CANCEL_PAYMENT"
    cancel = kakaopay.calls_of("cancel")[0].body
    assert cancel["cancel_amount"] == 10_000
    assert cancel["cancel_available_amount"] == 10_000
    assert cancel["cancel_tax_free_amount"] == 0

    run_command()
    run_command()
    assert len(kakaopay.calls_of("cancel")) == 1
    # The refunded payment cannot be credited any more.
    response = client.post(
        "/remit/", {"funding": FundingFactory().pk, "amount": 10_000, "message": "x"}, format="json"
    )
    assert response.status_code == 402
    event = PaymentEvent.objects.get(payment=payment, kind="refunded")
    assert event.provider_response["status"] == "CANCEL_PAYMENT"


@pytest.mark.django_db
def test_a_late_remit_after_the_refund_gets_402(kakaopay):
    client = client_for(AccountFactory())
    funding = FundingFactory()
    pay(client, 10_000)
    backdate(Payment.objects.get(), 6, "approved_on")
    run_command()
    response = client.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
    )
    assert response.status_code == 402
    funding.refresh_from_db()
    assert funding.current_amount == 0


@pytest.mark.django_db
def test_credited_payments_are_left_alone(kakaopay):
    client = client_for(AccountFactory())
    funding = FundingFactory()
    pay(client, 10_000)
    client.post("/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json")
    backdate(Payment.objects.get(), 60, "approved_on")
    run_command()
    assert Payment.objects.get().state == PaymentState.CREDITED
    assert kakaopay.calls_of("cancel") == []


@pytest.mark.django_db
def test_needs_check_payment_is_settled_from_order(kakaopay):
    client = client_for(AccountFactory())
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    kakaopay.fail("approve", status=500, after=True)
    kakaopay.fail("order", status=500)
    assert client.get("/remit/kakaopay/approve").status_code == 502
    assert Payment.objects.get().needs_check
    run_command()
    payment = Payment.objects.get()
    assert payment.state == PaymentState.APPROVED and not payment.needs_check
    # Now it can be credited like any approved payment.
    funding = FundingFactory()
    response = client.post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
    )
    assert response.status_code == 201


def test_sandbox_journey_end_to_end(sandbox, client, payer):
    funding = FundingFactory(title="닌텐도 스위치", goal_amount=30_000)
    started = client.post(
        "/remit/kakaopay/ready",
        {"amount": "10000", "funding": str(funding.pk), "message": "축하해"},
    )
    browser, path = sandbox_checkout_to_approval(client, started, shows="닌텐도 스위치")

    remit = client.post(
        "/remit/",
        {"funding": str(funding.pk), "amount": 10_000, "message": "축하해"},
        format="json",
    )
    assert remit.status_code == 201
    assert Funding.objects.get(pk=funding.pk).current_amount == 10_000
    payment = Payment.objects.get(payer=payer)
    assert payment.state == PaymentState.CREDITED
    assert payment.sandbox_status == "SUCCESS_PAYMENT"
    # Bound at ready on the fundings side; the payment itself knows only the item name.
    assert FundingPayment.objects.get(payment=payment).funding_id == funding.pk
    assert payment.item_name == "닌텐도 스위치"
    # After payment the checkout page offers no button any more.
    after = browser.get(path)
    assert after.status_code == 200
    assert "<form" not in after.content.decode()


def test_sandbox_payment_for_another_payer_is_not_mine(sandbox):
    alice, bob = AccountFactory(), AccountFactory()
    funding = FundingFactory()
    pay(client_for(alice), 10_000)
    response = client_for(bob).post(
        "/remit/", {"funding": funding.pk, "amount": 10_000, "message": "x"}, format="json"
    )
    assert response.status_code == 402
    assert not Contribution.objects.exists()
