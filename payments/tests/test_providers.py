"""The providers answer the core in neutral terms: what a lookup says, and which kind of
error a refusal is. Kakao Pay's own codes stay inside payments/providers/kakaopay.py."""

from datetime import timedelta

import httpx
import pytest

from payments import services
from payments.models import Payment
from payments.providers import (
    PROVIDERS,
    OrderStatus,
    OutcomeUnknown,
    PaymentDeclined,
    PaymentExpired,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderUnavailable,
    RefundRefused,
    get_provider,
)
from payments.tests.fixtures import buyer_pays, pay, ready
from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_every_provider_says_how_long_an_unpaid_order_stays_valid():
    for name in PROVIDERS:
        assert get_provider(name).order_validity() == timedelta(minutes=15)


@pytest.fixture
def authorised(kakaopay):
    """A Kakao Pay payment the buyer authorised, with its pg_token stored."""
    client = client_for(AccountFactory())
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    return Payment.objects.get(tid=started["tid"])


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        ({"status": 400, "error_code": -723}, PaymentExpired),
        ({"status": 400, "error_code": -780}, PaymentDeclined),
        ({"status": 400, "error_code": -721}, PaymentDeclined),
        ({"status": 400, "error_code": -702}, OutcomeUnknown),
        ({"status": 400, "error_code": -785}, OutcomeUnknown),
        ({"status": 400, "error_code": -780, "method_result_code": "USER_LOCKED"}, OutcomeUnknown),
        ({"status": 400, "error_code": -701}, ProviderRefused),
        ({"status": 400, "error_code": -708}, ProviderRefused),
        ({"status": 401, "error_code": -401}, ProviderMisconfigured),
        ({"status": 500}, ProviderUnavailable),
    ],
)
def test_kakao_pay_approve_errors_in_neutral_terms(kakaopay, authorised, failure, kind):
    kakaopay.fail("approve", **failure)
    with pytest.raises(kind) as raised:
        get_provider("kakaopay").approve(authorised)
    assert type(raised.value) is kind
    # The raw answer is kept for the event log.
    assert raised.value.raw["http_status"] == failure["status"]


def test_a_refused_cancel_is_a_refund_refusal(kakaopay):
    client = client_for(AccountFactory())
    pay(client, 10_000)
    payment = Payment.objects.get()
    kakaopay.fail("cancel", status=400, error_code=-710)
    with pytest.raises(RefundRefused):
        get_provider("kakaopay").refund(payment, 10_000)


def test_kakao_pay_lookup_in_neutral_terms(kakaopay):
    client = client_for(AccountFactory())
    started = ready(client, 10_000)
    payment = Payment.objects.get(tid=started["tid"])
    provider = get_provider("kakaopay")
    lookup = provider.lookup(payment)
    assert (lookup.status, lookup.refundable, lookup.provider_status) == (
        OrderStatus.NOT_PAID_YET,
        0,
        "READY",
    )
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    client.get("/remit/kakaopay/approve")
    assert provider.lookup(payment).status == OrderStatus.PAID
    provider.refund(payment, 4_000)
    payment.refunded_amount = 4_000
    lookup = provider.lookup(payment)
    assert (lookup.status, lookup.refundable) == (OrderStatus.PARTIALLY_REFUNDED, 6_000)
    provider.refund(payment, 6_000)
    assert provider.lookup(payment).status == OrderStatus.REFUNDED


def test_kakao_pay_lookup_of_a_quit_payment_is_failed(kakaopay):
    client = client_for(AccountFactory())
    started = ready(client, 10_000)
    # The buyer presses "cancel" on Kakao Pay's page.
    assert httpx.get(f"{started['url']}&quit=1").status_code == 302
    payment = Payment.objects.get(tid=started["tid"])
    assert get_provider("kakaopay").lookup(payment).status == OrderStatus.FAILED


def test_the_sandbox_answers_in_the_same_terms(sandbox):
    payment, _ = services.start_payment(payer=AccountFactory(), amount=10_000)
    provider = get_provider("sandbox")
    assert provider.lookup(payment).status == OrderStatus.NOT_PAID_YET
    with pytest.raises(ProviderRefused) as raised:
        provider.approve(payment)  # the buyer has not paid
    assert type(raised.value) is ProviderRefused
    Payment.objects.filter(pk=payment.pk).update(sandbox_status="QUIT_PAYMENT")
    with pytest.raises(PaymentDeclined):
        provider.approve(payment)
    assert provider.lookup(payment).status == OrderStatus.FAILED
