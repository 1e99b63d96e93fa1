"""The Toss provider answers the core in neutral terms (Toss's codes and statuses stay in
payments/providers/toss.py), and the checkout page it needs is safe to show."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from payments import services
from payments.models import Payment
from payments.providers import (
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
from payments.providers import toss as provider
from payments.tests.toss_fixtures import (
    checkout,
    path_of,
    pay_with_toss,
    ready,
    window,
)
from payments.tests.toss_server import CUSTOMER_KEY, ORDER_ID, STATUSES
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorised(toss):
    """A Toss payment the buyer authorised in the window, its paymentKey stored as the
    success return stores it (without the confirm)."""
    started = ready(client_for(AccountFactory()), 10_000)
    location = window(toss, checkout(started["url"]))
    key = re.search(r"paymentKey=([^&]+)", location).group(1)
    Payment.objects.filter(tid=started["tid"]).update(provider_key=key)
    return Payment.objects.get(tid=started["tid"])


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        ({"code": "NOT_FOUND_PAYMENT_SESSION"}, PaymentExpired),
        ({"code": "REJECT_CARD_PAYMENT"}, PaymentDeclined),
        ({"code": "REJECT_CARD_COMPANY"}, PaymentDeclined),
        ({"code": "FORBIDDEN_REQUEST"}, PaymentDeclined),
        ({"code": "INVALID_STOPPED_CARD"}, PaymentDeclined),
        ({"code": "BELOW_MINIMUM_AMOUNT"}, PaymentDeclined),
        ({"code": "ALREADY_PROCESSED_PAYMENT"}, OutcomeUnknown),
        ({"code": "PROVIDER_ERROR"}, ProviderRefused),
        ({"code": "INVALID_REQUEST"}, ProviderRefused),
        ({"code": "UNAUTHORIZED_KEY"}, ProviderMisconfigured),
        ({"code": "INVALID_API_KEY"}, ProviderMisconfigured),
        ({"code": "INCORRECT_BASIC_AUTH_FORMAT"}, ProviderMisconfigured),
        ({"code": "IDEMPOTENT_REQUEST_PROCESSING"}, ProviderUnavailable),
        ({"code": "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING"}, ProviderUnavailable),
        ({"status": 500}, ProviderUnavailable),
        ({"malformed": True}, ProviderUnavailable),
        ({"drop": True}, ProviderUnavailable),
    ],
)
def test_confirm_errors_in_neutral_terms(toss, authorised, failure, kind):
    toss.fail("confirm", **failure)
    with pytest.raises(kind) as raised:
        get_provider("toss").approve(authorised)
    assert type(raised.value) is kind
    if "code" in failure:  # the raw answer is kept for the event log
        assert raised.value.raw["code"] == failure["code"]


def test_approve_without_an_authorisation_is_not_paid_yet(toss):
    payment, _ = services.start_payment(payer=AccountFactory(), amount=10_000)
    with pytest.raises(ProviderRefused) as raised:
        get_provider("toss").approve(payment)
    assert type(raised.value) is ProviderRefused
    assert toss.calls == []


@pytest.mark.parametrize(
    "code", ["NOT_CANCELABLE_PAYMENT", "NOT_CANCELABLE_AMOUNT", "ALREADY_CANCELED_PAYMENT"]
)
def test_refused_cancels_are_refund_refusals(toss, code):
    client = client_for(AccountFactory())
    pay_with_toss(client, toss, 10_000)
    payment = Payment.objects.get()
    toss.fail("cancel", code=code)
    with pytest.raises(RefundRefused):
        get_provider("toss").refund(payment, 10_000)
    # The next attempt will carry a key of its own: Toss remembers the refusal under this one.
    assert Payment.objects.get().refund_key == f"refund-{payment.pk}-2"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("READY", OrderStatus.NOT_PAID_YET),
        ("IN_PROGRESS", OrderStatus.NOT_PAID_YET),
        ("WAITING_FOR_DEPOSIT", OrderStatus.NOT_PAID_YET),
        ("DONE", OrderStatus.PAID),
        ("CANCELED", OrderStatus.REFUNDED),
        ("PARTIAL_CANCELED", OrderStatus.PARTIALLY_REFUNDED),
        ("ABORTED", OrderStatus.FAILED),
        ("EXPIRED", OrderStatus.EXPIRED),
    ],
)
def test_every_status_in_neutral_terms(toss, authorised, status, expected):
    assert set(STATUSES) >= {status}
    toss.force_status(authorised.provider_key, status)
    lookup = get_provider("toss").lookup(authorised)
    assert (lookup.status, lookup.provider_status) == (expected, status)
    assert toss.calls_of("order")[-1].path == f"/v1/payments/orders/{authorised.tid}"


def test_lookup_amounts_and_partial_refunds(toss):
    client = client_for(AccountFactory())
    pay_with_toss(client, toss, 10_000)
    payment = Payment.objects.get()
    toss_provider = get_provider("toss")
    assert (toss_provider.lookup(payment).status, toss_provider.lookup(payment).refundable) == (
        OrderStatus.PAID,
        10_000,
    )
    toss_provider.refund(payment, 4_000)
    payment.refunded_amount = 4_000
    payment.refund_key = ""  # a refund of its own
    lookup = toss_provider.lookup(payment)
    assert (lookup.status, lookup.refundable) == (OrderStatus.PARTIALLY_REFUNDED, 6_000)


def test_an_order_nobody_paid_is_not_paid_yet(toss):
    payment, _ = services.start_payment(payer=AccountFactory(), amount=10_000)
    lookup = get_provider("toss").lookup(payment)
    assert (lookup.status, lookup.provider_status) == (
        OrderStatus.NOT_PAID_YET,
        "NOT_FOUND_PAYMENT",
    )


def test_a_refund_finds_the_payment_key_by_the_order(toss):
    """Approved from a look-up, before the buyer's return reached us: the refund still names
    the payment that went through."""
    client = client_for(AccountFactory())
    pay_with_toss(client, toss, 10_000)
    Payment.objects.update(provider_key="")
    payment = Payment.objects.get()
    get_provider("toss").refund(payment, 10_000)
    assert toss.by_order(payment.partner_order_id).status == "CANCELED"
    assert Payment.objects.get().provider_key == payment.provider_key != ""


def test_our_keys_fit_toss(toss):
    payment, _ = services.start_payment(payer=AccountFactory(), amount=10_000)
    assert ORDER_ID.fullmatch(payment.partner_order_id)
    assert CUSTOMER_KEY.fullmatch(provider.customer_key(payment.payer_id))
    assert len(provider.confirm_key(payment)) <= 300


# --- the checkout page ----------------------------------------------------------------------


def test_the_page_puts_values_in_json_never_in_markup(toss):
    title = '</script><script>alert("x")</script> & <b>'
    funding = FundingFactory(title=title)
    started = ready(client_for(AccountFactory()), 10_000, funding=funding.pk)
    html = APIClient().get(path_of(started["url"])).content.decode()
    assert "<script>alert" not in html and "<b>" not in html
    assert checkout(started["url"])["request"]["orderName"] == title


def test_an_expired_or_finished_order_offers_no_window(toss):
    client = client_for(AccountFactory())
    started = ready(client, 10_000)
    Payment.objects.update(created_on=timezone.now() - timedelta(minutes=16))
    page = APIClient().get(path_of(started["url"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="expired"' in html and "toss-window" not in html and toss.sdk_url not in html
    paid = pay_with_toss(client, toss, 20_000)
    html = APIClient().get(path_of(paid["url"])).content.decode()
    assert 'id="finished"' in html and "approved" in html and "toss-window" not in html


def test_an_unknown_order_is_a_404_page(toss):
    page = APIClient().get("/payments/toss/checkout/funsun-" + "0" * 32)
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    assert page["Content-Security-Policy"].startswith("default-src 'none'")
