"""The app's payment journey with Toss Payments, against a local server that speaks Toss's
protocol (payments/tests/toss_server.py): real HTTP both ways, our code unmocked.

Every test ends by comparing our books with the fake's: each payment credited or approved is
DONE at Toss, each refunded one CANCELED there once, each failed, expired or waiting one never
took money.
"""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from payments.models import Payment, PaymentEvent, PaymentState
from payments.providers import toss as provider
from payments.reconciliation import reconcile
from payments.tests.toss_fixtures import (
    browser_returns,
    checkout,
    path_of,
    pay_with_toss,
    ready,
    window,
)
from payments.tests.toss_server import CLIENT_KEY, SECRET_KEY, FakeToss, WindowError
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

APPROVAL = "http://127.0.0.1:8000/remit/kakaopay/approval?pg_token="
FAIL = "http://127.0.0.1:8000/remit/kakaopay/fail"
CANCEL = "http://127.0.0.1:8000/remit/kakaopay/cancel"
MONEY_MOVED = ("DONE", "CANCELED", "PARTIAL_CANCELED", "WAITING_FOR_DEPOSIT")


@pytest.fixture
def payer():
    return AccountFactory()


@pytest.fixture
def client(payer):
    return client_for(payer)


def assert_books_agree(toss: FakeToss) -> None:
    """Our books say what the fake's say, payment by payment."""
    for payment in Payment.objects.filter(provider="toss"):
        at_toss = toss.by_order(payment.partner_order_id)
        status = at_toss.status if at_toss else None
        if payment.state in (PaymentState.APPROVED, PaymentState.CREDITED):
            assert status == "DONE", (payment, status)
            assert at_toss.balance_amount == payment.amount
            assert at_toss.payment_key == payment.provider_key
        elif payment.state == PaymentState.REFUNDED:
            assert status == "CANCELED", (payment, status)
            assert len(at_toss.cancels) == 1, at_toss.cancels  # given back once
            assert payment.refunded_amount == payment.amount
        else:
            assert payment.state != PaymentState.REFUNDING, payment
            assert status not in MONEY_MOVED, (payment, status)


def success_location(toss: FakeToss, started: dict) -> str:
    """The buyer goes through the window; Toss sends the browser to our success URL."""
    location = window(toss, checkout(started["url"]))
    assert location.startswith("http://127.0.0.1:8000/payments/toss/success?")
    return location


def query_of(url: str) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def token_of(response) -> str:
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(APPROVAL), response["Location"]
    return query_of(response["Location"])["pg_token"]


def remit(client, funding, amount=10_000):
    return client.post(
        "/remit/", {"funding": funding.pk, "amount": amount, "message": "축하해"}, format="json"
    )


def kinds(payment: Payment) -> list[str]:
    return list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))


# --- the whole journey -------------------------------------------------------------------------


def test_the_whole_journey_as_the_app_walks_it(toss, payer, client):
    funding = FundingFactory(title="생일 선물: 자전거", goal_amount=100_000)

    # 1. ready, a form with the amount (and here the funding): the answer's shape is Kakao's.
    started = client.post("/remit/kakaopay/ready", {"amount": "10000", "funding": funding.pk})
    assert started.status_code == 200, started.content
    body = started.json()
    assert set(body) == {"url", "tid", "next_redirect_mobile_url", "next_redirect_pc_url"}
    payment = Payment.objects.get(payer=payer)
    assert payment.provider == "toss" and payment.state == PaymentState.READY
    assert body["tid"] == payment.tid == payment.partner_order_id
    assert provider.ORDER_ID.fullmatch(payment.partner_order_id)
    checkout_url = f"http://127.0.0.1:8000/payments/toss/checkout/{payment.partner_order_id}"
    assert body["url"] == body["next_redirect_mobile_url"] == body["next_redirect_pc_url"]
    assert body["url"] == checkout_url
    assert toss.calls == []  # nothing is opened at Toss before the buyer opens the window

    # 2. the checkout page, as a browser opens it: what for, how much, and the window's request.
    page = APIClient().get(path_of(body["url"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "생일 선물: 자전거" in html and "10,000원" in html
    assert f'<script src="{toss.sdk_url}"></script>' in html
    policy = page["Content-Security-Policy"]
    assert f"script-src 'self' {toss.base_url};" in policy
    assert f"connect-src 'self' {toss.base_url};" in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert page["X-Frame-Options"] == "DENY"
    config = checkout(body["url"])
    assert config["clientKey"] == CLIENT_KEY
    assert config["request"] == {
        "method": "CARD",
        "amount": {"currency": "KRW", "value": 10_000},
        "orderId": payment.partner_order_id,
        "orderName": "생일 선물: 자전거",
        "successUrl": "http://127.0.0.1:8000/payments/toss/success",
        "failUrl": "http://127.0.0.1:8000/payments/toss/fail",
    }
    # The buyer's key is opaque and stable: never the account id or the email address.
    customer = config["customerKey"]
    assert payer.id not in customer and payer.email not in customer
    assert customer == provider.customer_key(payer.id)
    assert customer != provider.customer_key(AccountFactory().id)

    # 3. the window; Toss sends the browser to our success URL, we confirm and pass the app on.
    location = window(toss, config)
    returned = query_of(location)
    assert returned["orderId"] == payment.partner_order_id and returned["amount"] == "10000"
    back = browser_returns(location)
    token = token_of(back)
    confirm = toss.calls_of("confirm")
    assert len(confirm) == 1 and confirm[0].status == 200
    assert confirm[0].body == {
        "paymentKey": returned["paymentKey"],
        "orderId": payment.partner_order_id,
        "amount": 10_000,
    }
    assert confirm[0].idempotency_key == (
        f"confirm-{payment.partner_order_id}-{returned['paymentKey']}"
    )
    payment.refresh_from_db()
    assert payment.state == PaymentState.APPROVED
    assert payment.provider_key == returned["paymentKey"]
    approved = PaymentEvent.objects.get(payment=payment, kind="approved")
    assert approved.provider_response["method"] == "카드"
    assert approved.provider_response["approvedAt"]
    assert approved.provider_response["status"] == "DONE"
    # The approval page opens like Kakao Pay's, the token in it.
    assert token in APIClient().get(path_of(back["Location"])).content.decode()

    # 4. the app's steps 3 and 4, unchanged: already confirmed, Toss is not asked again.
    stored = client.post("/remit/kakaopay/approve", {"pg_token": token, "tid": body["tid"]})
    assert stored.json() == {"detail": "pg_token stored", "tid": body["tid"]}
    approve = client.get("/remit/kakaopay/approve")
    assert approve.json() == {"detail": "approved", "tid": body["tid"], "amount": 10_000}
    assert toss.count("confirm") == 1

    # 5. credit.
    credited = remit(client, funding)
    assert credited.status_code == 201, credited.content
    assert remit(client, funding).status_code == 402  # never twice
    payment.refresh_from_db()
    assert payment.state == PaymentState.CREDITED
    assert kinds(payment) == ["created", "ready", "authorised", "approved", "credited"]
    # Our secret key never lands in the event log.
    assert not any(
        SECRET_KEY in json.dumps(raw)
        for raw in PaymentEvent.objects.values_list("provider_response", flat=True)
    )
    assert_books_agree(toss)


def test_refunds_go_back_once_each(toss, client, django_capture_on_commit_callbacks):
    """DELETE /remit/, over the goal, funding canceled: each a Toss cancel with its own key."""
    funding = FundingFactory(goal_amount=30_000)
    pay_with_toss(client, toss, 10_000)
    contribution = remit(client, funding).json()["id"]

    deleted = client.delete(
        "/remit/", f"id={contribution}", content_type="application/x-www-form-urlencoded"
    )
    assert deleted.json() == {"detail": "refunded"}
    payment = Payment.objects.get()
    assert payment.state == PaymentState.REFUNDED
    cancel = toss.calls_of("cancel")[0]
    assert cancel.path == f"/v1/payments/{payment.provider_key}/cancel"
    assert cancel.body["cancelAmount"] == 10_000 and cancel.body["refundableAmount"] == 10_000
    assert cancel.body["cancelReason"]
    assert cancel.idempotency_key == f"refund-{payment.pk}-1" == payment.refund_key
    again = client.delete(
        "/remit/", f"id={contribution}", content_type="application/x-www-form-urlencoded"
    )
    assert again.json() == {"detail": "refunded"}
    assert toss.count("cancel") == 1

    # Over the goal: refunded before the 409.
    pay_with_toss(client, toss, 40_000)
    over = remit(client, funding, 40_000)
    assert over.status_code == 409 and "refunded" in over.json()["detail"]

    # The author cancels a funding: every contribution goes back.
    payers = [client_for(AccountFactory()) for _ in range(2)]
    for other in payers:
        pay_with_toss(other, toss, 10_000)
        assert remit(other, funding).status_code == 201
    author = client_for(funding.author)
    with django_capture_on_commit_callbacks(execute=True):  # the refund jobs, inline
        canceled = author.delete(
            "/funding/", f"id={funding.pk}", content_type="application/x-www-form-urlencoded"
        )
    assert canceled.json() == {"detail": "canceled"}
    assert Payment.objects.filter(state=PaymentState.REFUNDED).count() == 4
    assert toss.count("cancel") == 4
    assert_books_agree(toss)


def test_approved_but_never_credited_is_refunded_by_reconciliation(toss, client):
    pay_with_toss(client, toss, 10_000)
    Payment.objects.update(approved_on=timezone.now() - timedelta(minutes=10))
    report = reconcile()
    assert report.refunded == 1
    assert Payment.objects.get().state == PaymentState.REFUNDED
    assert_books_agree(toss)


# --- the buyer does not pay ---------------------------------------------------------------------


@pytest.mark.parametrize(("code", "goes_to"), [("PAY_PROCESS_CANCELED", CANCEL), ("", FAIL)])
def test_the_fail_url_fails_the_payment(toss, client, code, goes_to):
    started = ready(client, 10_000)
    toss.next_buyer("fail", code=code)
    location = window(toss, checkout(started["url"]))
    assert location.startswith("http://127.0.0.1:8000/payments/toss/fail?")
    back = browser_returns(location)
    assert back.status_code == 302 and back["Location"] == goes_to
    payment = Payment.objects.get()
    assert payment.state == PaymentState.FAILED
    event = PaymentEvent.objects.get(payment=payment, kind="failed_at_return")
    assert event.provider_response["code"] == (code or "PAY_PROCESS_ABORTED")
    # The app's pages answer as today; the checkout page offers nothing more.
    assert APIClient().get(path_of(goes_to)).status_code == 200
    page = APIClient().get(path_of(started["url"]))
    assert 'id="pay"' not in page.content.decode() and "failed" in page.content.decode()
    # Nothing to approve or credit.
    assert client.get("/remit/kakaopay/approve").status_code == 404
    assert remit(client, FundingFactory()).status_code == 402
    assert toss.calls_of("confirm") == []
    assert_books_agree(toss)


def test_the_buyer_closing_the_window_changes_nothing(toss, client):
    started = ready(client, 10_000)
    toss.next_buyer("close")
    with pytest.raises(WindowError) as closed:
        window(toss, checkout(started["url"]))
    assert closed.value.code == "USER_CANCEL"
    assert Payment.objects.get().state == PaymentState.READY
    # The buyer tries again from the same page and pays.
    token = token_of(browser_returns(window(toss, checkout(started["url"]))))
    assert client.post("/remit/kakaopay/approve", {"pg_token": token}).status_code == 200
    assert client.get("/remit/kakaopay/approve").status_code == 200
    assert_books_agree(toss)


def test_a_fail_return_does_not_undo_an_authorisation_being_confirmed(toss, client):
    started = ready(client, 10_000)
    location = success_location(toss, started)
    toss.fail("confirm", status=500, after=True)
    toss.fail("order", status=500)
    assert browser_returns(location).status_code == 202
    fail = "/payments/toss/fail?" + urlencode(
        {"code": "PAY_PROCESS_ABORTED", "message": "x", "orderId": started["tid"]}
    )
    assert APIClient().get(fail)["Location"] == FAIL
    payment = Payment.objects.get()
    assert payment.state == PaymentState.READY and payment.needs_check
    reconcile()  # the look-up says DONE
    assert Payment.objects.get().state == PaymentState.APPROVED
    assert_books_agree(toss)


# --- the return's address is the buyer's to change ----------------------------------------------


def test_a_tampered_amount_is_refused_before_toss_hears_of_it(toss, client):
    started = ready(client, 10_000)
    location = success_location(toss, started)
    query = query_of(location)
    for amount in ("100", "10001"):
        tampered = "/payments/toss/success?" + urlencode({**query, "amount": amount})
        refused = APIClient().get(tampered)
        assert refused.status_code == 400
        assert "Amount mismatch" in refused.content.decode()
    assert toss.calls_of("confirm") == []
    payment = Payment.objects.get()
    assert payment.state == PaymentState.READY and payment.provider_key == ""
    assert kinds(payment).count("return_refused") == 2
    # The real return still goes through.
    token_of(browser_returns(location))
    assert_books_agree(toss)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"orderId": "short", "paymentKey": "k", "amount": "10000"},
        {"orderId": "funsun-" + "0" * 32, "paymentKey": "k", "amount": "-5"},
        {
            "orderId": "funsun-" + "0" * 32,
            "paymentKey": "k",
            "amount": "\uff11\uff10",
        },  # full-width digits
        {"orderId": "funsun-" + "0" * 32, "paymentKey": "k/../x", "amount": "10"},
    ],
)
def test_a_broken_return_is_a_clear_400_page(toss, query):
    response = APIClient().get("/payments/toss/success?" + urlencode(query))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert toss.calls == []


def test_an_unknown_order_is_a_404_page(toss):
    query = {"orderId": "funsun-" + "0" * 32, "paymentKey": "tfuns1", "amount": "10000"}
    response = APIClient().get("/payments/toss/success?" + urlencode(query))
    assert response.status_code == 404
    assert toss.calls == []


def test_a_replayed_success_url_confirms_nothing_again(toss, client):
    funding = FundingFactory()
    started = ready(client, 10_000)
    location = success_location(toss, started)
    first = browser_returns(location)
    token = token_of(first)
    # A reload, or the app following the redirect twice: the same approval URL, no call.
    again = browser_returns(location)
    assert token_of(again) == token
    assert toss.count("confirm") == 1
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    client.get("/remit/kakaopay/approve")
    assert remit(client, funding).status_code == 201
    # Once credited, the order no longer waits: a clear page, still no call.
    late = browser_returns(location)
    assert late.status_code == 409
    assert toss.count("confirm") == 1
    # Another authorisation of the same order is refused the same way.
    other = "/payments/toss/success?" + urlencode({**query_of(location), "paymentKey": "tother"})
    assert APIClient().get(other).status_code == 409
    assert toss.count("confirm") == 1
    assert_books_agree(toss)


# --- Toss says no -------------------------------------------------------------------------------


def test_a_declined_card_fails_the_payment(toss, client):
    started = ready(client, 10_000)
    location = success_location(toss, started)
    toss.decline("REJECT_CARD_PAYMENT")
    back = browser_returns(location)
    assert back.status_code == 302 and back["Location"] == FAIL
    payment = Payment.objects.get()
    assert payment.state == PaymentState.FAILED
    refused = PaymentEvent.objects.get(payment=payment, kind="approve_refused")
    assert refused.provider_response["code"] == "REJECT_CARD_PAYMENT"
    assert toss.by_order(payment.partner_order_id).status == "ABORTED"
    # The app's next steps answer as for any failed payment; nothing to credit.
    token = payment.pg_token
    assert client.post("/remit/kakaopay/approve", {"pg_token": token}).status_code == 200
    assert client.get("/remit/kakaopay/approve").status_code == 400
    assert remit(client, FundingFactory()).status_code == 402
    assert_books_agree(toss)


def test_a_session_toss_dropped_expires_the_payment(toss, client):
    started = ready(client, 10_000)
    location = success_location(toss, started)
    toss.age(query_of(location)["paymentKey"], minutes=11)  # past Toss's 10 minutes
    back = browser_returns(location)
    assert back["Location"] == FAIL
    payment = Payment.objects.get()
    assert payment.state == PaymentState.EXPIRED
    assert toss.calls_of("confirm")[0].answer["code"] == "NOT_FOUND_PAYMENT_SESSION"
    assert_books_agree(toss)


@pytest.mark.parametrize(
    ("secret", "code"),
    [("test_sk_notOursAtAll000000000000", "UNAUTHORIZED_KEY"), (CLIENT_KEY, "INVALID_API_KEY")],
)
def test_a_bad_secret_key_charges_nothing(toss, client, settings, secret, code):
    started = ready(client, 10_000)
    location = success_location(toss, started)
    settings.TOSS_SECRET_KEY = secret
    back = browser_returns(location)
    assert back["Location"] == FAIL
    payment = Payment.objects.get()
    assert payment.state == PaymentState.READY and not payment.needs_check
    event = PaymentEvent.objects.get(payment=payment, kind="approve_error")
    assert event.provider_response["code"] == code
    assert secret not in json.dumps(event.provider_response)
    # The app's approve is a 502 that names no key.
    client.post("/remit/kakaopay/approve", {"pg_token": payment.pg_token})
    answer = client.get("/remit/kakaopay/approve")
    assert answer.status_code == 502 and secret not in answer.json()["detail"]
    assert_books_agree(toss)


def test_missing_keys_refuse_ready_with_a_502(toss, client, settings):
    settings.TOSS_CLIENT_KEY = ""
    response = client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert response.status_code == 502
    assert "TOSS_CLIENT_KEY" in response.json()["detail"]
    assert Payment.objects.get().state == PaymentState.FAILED


# --- answers that never came ------------------------------------------------------------------


def test_confirm_time_out_is_settled_by_the_look_up(toss, client, toss_gives_up):
    """Toss holds the confirm before doing it; our client gives up. The look-up says the
    authorisation still waits: nothing is guessed, the page checks again, and once Toss has
    carried the held confirm out, reconciliation's look-up approves it."""
    funding = FundingFactory()
    started = ready(client, 10_000)
    location = success_location(toss, started)
    with toss_gives_up("confirm", until_event="approve_unknown") as held:
        back = browser_returns(location)
        assert held.wait_arrived()
        assert back.status_code == 202 and back["Refresh"] == "5"
        payment = Payment.objects.get()
        assert payment.state == PaymentState.READY and payment.needs_check
        assert toss.by_order(payment.partner_order_id).status == "IN_PROGRESS"
    assert toss.by_order(payment.partner_order_id).status == "DONE"
    report = reconcile()
    assert report.approved == 1
    # The page reloads: approved, passed on to the app without another confirm.
    token = token_of(browser_returns(location))
    assert toss.count("confirm") == 1
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    assert client.get("/remit/kakaopay/approve").status_code == 200
    assert remit(client, funding).status_code == 201
    assert_books_agree(toss)


def test_confirm_done_but_its_answer_lost_is_approved_from_the_look_up(toss, client, toss_gives_up):
    started = ready(client, 10_000)
    location = success_location(toss, started)
    with toss_gives_up("confirm", after=True, until_event="approve_unknown"):
        token = token_of(browser_returns(location))
    payment = Payment.objects.get()
    assert kinds(payment)[-2:] == ["approve_unknown", "approved_per_order"]
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    assert client.get("/remit/kakaopay/approve").status_code == 200
    assert_books_agree(toss)


def test_a_reload_replays_toss_first_answer_under_the_same_key(toss, client):
    """The confirm's answer was lost (500 after the work), the look-up failed too; the reload
    sends the same Idempotency-Key and Toss answers what it did the first time."""
    started = ready(client, 10_000)
    location = success_location(toss, started)
    toss.fail("confirm", status=500, after=True)
    toss.fail("order", status=500)
    assert browser_returns(location).status_code == 202
    token_of(browser_returns(location))
    calls = toss.calls_of("confirm")
    assert [call.status for call in calls] == [500, 200] and calls[1].replayed
    assert len({call.idempotency_key for call in calls}) == 1
    assert_books_agree(toss)


def test_already_processed_payment_is_settled_by_the_look_up(toss, client):
    """A confirm Toss carried out whose key it no longer remembers: ALREADY_PROCESSED_PAYMENT,
    then the look-up says DONE: approved, charged once."""
    started = ready(client, 10_000)
    location = success_location(toss, started)
    toss.fail("confirm", status=500, after=True)
    toss.fail("order", status=500)
    assert browser_returns(location).status_code == 202
    toss.forget_idempotency_key(toss.calls_of("confirm")[0].idempotency_key)
    token_of(browser_returns(location))
    calls = toss.calls_of("confirm")
    assert [call.status for call in calls] == [500, 400]
    assert calls[1].answer["code"] == "ALREADY_PROCESSED_PAYMENT"
    payment = Payment.objects.get()
    assert kinds(payment)[-2:] == ["approve_unknown", "approved_per_order"]
    assert_books_agree(toss)


def test_cancel_time_out_is_finished_by_reconciliation(toss, client, toss_gives_up):
    funding = FundingFactory()
    pay_with_toss(client, toss, 10_000)
    contribution = remit(client, funding).json()["id"]
    with toss_gives_up("cancel"):
        deleted = client.delete(
            "/remit/", f"id={contribution}", content_type="application/x-www-form-urlencoded"
        )
        assert deleted.status_code == 502
        payment = Payment.objects.get()
        assert payment.state == PaymentState.REFUNDING and payment.needs_check
    # Toss carried the held cancel out; reconciliation's look-up finds it canceled.
    assert toss.by_order(payment.partner_order_id).status == "CANCELED"
    report = reconcile()
    assert report.refunds_finished == 1
    assert Payment.objects.get().state == PaymentState.REFUNDED
    assert toss.count("cancel") == 1
    assert_books_agree(toss)


def test_a_cancel_that_never_reached_toss_is_retried_with_the_same_key(toss, client):
    funding = FundingFactory()
    pay_with_toss(client, toss, 10_000)
    contribution = remit(client, funding).json()["id"]
    toss.fail("cancel", drop=True)  # the connection closes before Toss did anything
    deleted = client.delete(
        "/remit/", f"id={contribution}", content_type="application/x-www-form-urlencoded"
    )
    assert deleted.status_code == 502
    reconcile()
    payment = Payment.objects.get()
    assert payment.state == PaymentState.REFUNDED
    keys = [call.idempotency_key for call in toss.calls_of("cancel")]
    assert keys == [f"refund-{payment.pk}-1"] * 2
    assert_books_agree(toss)


def test_a_refused_cancel_is_retried_under_a_new_key(toss, client):
    """Toss remembers a refusal under its key: the next attempt needs a key of its own."""
    funding = FundingFactory()
    pay_with_toss(client, toss, 10_000)
    contribution = remit(client, funding).json()["id"]
    toss.fail("cancel", code="FORBIDDEN_CONSECUTIVE_REQUEST", times=2)
    deleted = client.delete(
        "/remit/", f"id={contribution}", content_type="application/x-www-form-urlencoded"
    )
    assert deleted.status_code == 502
    payment = Payment.objects.get()
    assert payment.state == PaymentState.REFUNDING and payment.needs_check
    reconcile()
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    keys = [call.idempotency_key for call in toss.calls_of("cancel")]
    assert keys == [f"refund-{payment.pk}-{n}" for n in (1, 2, 3)]
    assert_books_agree(toss)


# --- reconciliation of orders nobody finished ---------------------------------------------------


def test_orders_past_their_validity_expire_after_asking_toss(toss, client):
    never_opened = ready(client, 10_000)
    authorised = ready(client, 20_000)
    success_location(toss, authorised)  # the buyer authorised; the return never reached us
    Payment.objects.update(created_on=timezone.now() - timedelta(minutes=16))
    report = reconcile()
    assert report.expired == 2
    assert set(Payment.objects.values_list("state", flat=True)) == {PaymentState.EXPIRED}
    assert toss.count("order") == 2
    assert never_opened["tid"] != authorised["tid"]
    assert_books_agree(toss)
    # The late return finds the order expired: nothing is confirmed.
    page = APIClient().get(path_of(authorised["url"]))
    assert "expired" in page.content.decode()
