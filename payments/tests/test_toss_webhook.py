"""Toss's PAYMENT_STATUS_CHANGED webhook, posted by the local Toss server to a live server of
ours over HTTP. The body is a hint: only Toss's look-up changes our books."""

import httpx
import pytest

from payments.models import Payment, PaymentEvent, PaymentState
from payments.reconciliation import reconcile
from payments.tests.test_toss_journey import (
    assert_books_agree,
    query_of,
    remit,
    success_location,
    token_of,
)
from payments.tests.toss_fixtures import (
    browser_returns,
    pay_with_toss,
    ready,
)
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hook(live_server):
    return f"{live_server.url}/payments/toss/webhook"


@pytest.fixture
def client():
    return client_for(AccountFactory())


def lookups(toss) -> int:
    return toss.count("order") + toss.count("payment")


def test_a_replayed_webhook_changes_nothing(toss, hook, client):
    pay_with_toss(client, toss, 10_000)
    payment = Payment.objects.get()
    events = PaymentEvent.objects.count()
    for _ in range(3):  # Toss retries, or sends the same event again
        assert toss.send_webhook(hook, payment.provider_key) == 200
    assert lookups(toss) == 3  # each one asked Toss
    assert Payment.objects.get().state == PaymentState.APPROVED
    assert PaymentEvent.objects.count() == events
    assert_books_agree(toss)


def test_a_webhook_settles_a_confirm_whose_answer_was_lost(toss, hook, client):
    """Toss carried the confirm out, its answer and the look-up failed; Toss's webhook brings
    the news: the look-up it prompts approves the payment, once however often it comes."""
    funding = FundingFactory()
    started = ready(client, 10_000)
    location = success_location(toss, started)
    toss.fail("confirm", status=500, after=True)
    toss.fail("order", status=500)
    assert browser_returns(location).status_code == 202
    payment = Payment.objects.get()
    assert payment.state == PaymentState.READY and payment.needs_check

    for _ in range(2):
        assert toss.send_webhook(hook, payment.provider_key) == 200
    payment.refresh_from_db()
    assert payment.state == PaymentState.APPROVED and not payment.needs_check
    assert [e.kind for e in payment.events.all()].count("approved_per_order") == 1
    # The page's reload passes the buyer on; the app credits as usual.
    token = token_of(browser_returns(location))
    assert toss.count("confirm") == 1
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    assert client.get("/remit/kakaopay/approve").status_code == 200
    assert remit(client, funding).status_code == 201
    assert_books_agree(toss)


def test_forged_webhooks_change_nothing(toss, hook, client):
    funding = FundingFactory()
    # An authorisation we have not confirmed: "DONE" in the body does not make it paid.
    started = ready(client, 10_000)
    location = success_location(toss, started)
    key = query_of(location)["paymentKey"]
    assert toss.send_webhook(hook, key, status="DONE") == 200
    waiting = Payment.objects.get(tid=started["tid"])
    assert waiting.state == PaymentState.READY
    assert toss.by_order(waiting.partner_order_id).status == "IN_PROGRESS"

    # A credited payment "CANCELED" by a stranger stays credited.
    other = client_for(AccountFactory())
    pay_with_toss(other, toss, 20_000)
    assert remit(other, funding, 20_000).status_code == 201
    credited = Payment.objects.get(state=PaymentState.CREDITED)
    assert toss.send_webhook(hook, credited.provider_key, status="CANCELED") == 200
    credited.refresh_from_db()
    assert credited.state == PaymentState.CREDITED and not credited.needs_check

    # An order we never made: 200 (Toss must not retry), nothing else.
    forged = {"paymentKey": "tforged1", "orderId": "funsun-" + "f" * 32, "status": "DONE"}
    assert toss.send_webhook(hook, key, data=forged) == 200
    assert Payment.objects.count() == 2
    assert_books_agree(toss)


def test_webhooks_of_final_statuses(toss, hook, client):
    """EXPIRED and ABORTED at Toss, and a refund whose answer was lost, settled by the
    webhook's look-up."""
    expired = ready(client, 10_000)
    key = query_of(success_location(toss, expired))["paymentKey"]
    toss.expire(key)
    assert toss.send_webhook(hook, key) == 200
    assert Payment.objects.get(tid=expired["tid"]).state == PaymentState.EXPIRED

    funding = FundingFactory()
    pay_with_toss(client, toss, 20_000)
    contribution = remit(client, funding, 20_000).json()["id"]
    toss.fail("cancel", status=500, after=True)
    deleted = client.delete(
        "/remit/", f"id={contribution}", content_type="application/x-www-form-urlencoded"
    )
    assert deleted.status_code == 502
    refunding = Payment.objects.get(state=PaymentState.REFUNDING)
    assert toss.send_webhook(hook, refunding.provider_key) == 200
    assert Payment.objects.get(pk=refunding.pk).state == PaymentState.REFUNDED
    assert toss.count("cancel") == 1
    assert reconcile().refunds_finished == 0
    assert_books_agree(toss)


def test_a_webhook_whose_look_up_fails_is_left_to_reconciliation(toss, hook, client):
    started = ready(client, 10_000)
    location = success_location(toss, started)
    toss.fail("confirm", status=500, after=True)
    toss.fail("order", status=500, times=2)
    assert browser_returns(location).status_code == 202
    payment = Payment.objects.get()
    assert toss.send_webhook(hook, payment.provider_key) == 200  # answered: Toss retries not
    payment.refresh_from_db()
    assert payment.state == PaymentState.READY and payment.needs_check
    reconcile()
    assert Payment.objects.get().state == PaymentState.APPROVED
    assert_books_agree(toss)


@pytest.mark.parametrize(
    ("content", "status", "detail"),
    [
        (b"{not json", 400, "JSON parse error"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": {}}', 400, "orderId"),
        (b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": {"orderId": "x/y"}}', 400, "orderId"),
        (b'{"eventType": "DEPOSIT_CALLBACK", "data": {}}', 200, "ignored"),
    ],
)
def test_a_bad_body_is_a_400_json(toss, hook, content, status, detail):
    # No cookie, no CSRF token: the route is for Toss's servers.
    response = httpx.post(hook, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert detail in response.json()["detail"]


def test_the_webhook_is_rate_limited_per_address(toss, hook, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "toss_webhook_ip": "2/minute"},
    }
    body = {"eventType": "PAYMENT_STATUS_CHANGED", "data": {"orderId": "funsun-" + "0" * 32}}
    answers = [httpx.post(hook, json=body).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


@pytest.mark.django_db
def test_the_webhook_answers_before_asking_toss(toss, client, django_capture_on_commit_callbacks):
    """Toss waits for no lookup: the answer comes first, the lookup runs as a job after it."""
    pay_with_toss(client, toss, 10_000)
    payment = Payment.objects.get()
    body = {
        "eventType": "PAYMENT_STATUS_CHANGED",
        "createdAt": "2026-11-28T19:00:00.000000",
        "data": {"paymentKey": payment.provider_key, "orderId": payment.partner_order_id},
    }
    asked = lookups(toss)
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        response = client.post("/payments/toss/webhook", body, format="json")
    assert (response.status_code, response.json()) == (200, {"detail": "accepted"})
    assert lookups(toss) == asked  # nobody asked Toss while the webhook waited
    for job in jobs:
        job()
    assert lookups(toss) == asked + 1
    assert Payment.objects.get().state == PaymentState.APPROVED
    assert_books_agree(toss)
