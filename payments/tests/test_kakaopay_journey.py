"""The app's payment journey against a local server that speaks Kakao Pay's protocol."""

import pytest

from payments.models import Payment, PaymentEvent, PaymentState
from payments.tests.fixtures import buyer_pays, ready
from payments.tests.journeys import kakaopay_to_approval
from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer():
    return AccountFactory()


@pytest.fixture
def client(payer):
    return client_for(payer)


def test_happy_journey_as_the_app_sends_it(kakaopay, payer, client):
    """Steps 1-4; step 5, crediting, belongs to the app that sold something."""
    payment = kakaopay_to_approval(kakaopay, payer, client)
    assert payment.state == PaymentState.APPROVED
    kinds = list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == ["created", "ready", "pg_token", "approved"]
    approved_event = PaymentEvent.objects.get(payment=payment, kind="approved")
    assert approved_event.provider_response["tid"] == payment.tid
    assert approved_event.from_state == "ready" and approved_event.to_state == "approved"
    # What the buyer sees at checkout, for a payment started for nothing in particular.
    assert kakaopay.calls_of("ready")[0].body["item_name"] == payment.item_name == "FunSun gift"
    # Repeating step 4 is answered from our own books: Kakao hears of it once.
    assert client.get("/remit/kakaopay/approve").status_code == 200
    assert len(kakaopay.calls_of("approve")) == 1


def test_second_approve_of_the_same_tid_at_kakao_is_settled_from_order(kakaopay, client):
    """Two approves of one tid reach Kakao (e.g. two app retries at once): the second is
    refused with -702, /order says paid, and the answer is still 200, charged once."""
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    # The first approve was carried out at Kakao but its answer was lost (500 after).
    kakaopay.fail("approve", status=500, after=True)
    kakaopay.fail("order", status=500)
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 502
    payment = Payment.objects.get(tid=started["tid"])
    assert payment.state == PaymentState.READY and payment.needs_check
    # The app retries: Kakao answers -702 (already approved), /order says SUCCESS_PAYMENT.
    retry = client.get("/remit/kakaopay/approve")
    assert retry.status_code == 200
    calls = kakaopay.calls_of("approve")
    assert [c.status for c in calls] == [500, 400]
    assert calls[1].answer["error_code"] == -702
    payment.refresh_from_db()
    assert payment.state == PaymentState.APPROVED and not payment.needs_check
    assert kakaopay.orders[payment.tid].canceled_amount == 0


def test_wrong_secret_key_is_a_502_with_a_detail(kakaopay, client, settings):
    settings.KAKAOPAY_SECRET_KEY = "not-our-key"
    response = client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert response.status_code == 502
    assert "credentials" in response.json()["detail"]
    assert kakaopay.calls_of("ready")[0].status == 401
    payment = Payment.objects.get()
    assert payment.state == PaymentState.FAILED
    assert payment.tid is None
    event = PaymentEvent.objects.get(payment=payment, kind="ready_failed")
    assert event.provider_response["error_code"] == -401
    # Our key never lands in the event log.
    assert "not-our-key" not in str(event.provider_response)


def test_wrong_cid_is_refused_too(kakaopay, client, settings):
    settings.KAKAOPAY_CID = "CBADCID"
    response = client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert response.status_code == 502


def test_approve_before_the_buyer_paid_is_a_400_and_can_be_retried(kakaopay, client):
    started = ready(client, 10_000)
    client.post("/remit/kakaopay/approve", {"pg_token": "made-up"})
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 400
    assert "-701" in response.json()["detail"]
    payment = Payment.objects.get(tid=started["tid"])
    assert payment.state == PaymentState.READY
    # The buyer pays after all; the right token then approves.
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    assert client.get("/remit/kakaopay/approve").status_code == 200


def test_bad_pg_token_is_a_400(kakaopay, client):
    started = ready(client, 10_000)
    buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": "wrong-token"})
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 400
    assert "-708" in response.json()["detail"]
    assert Payment.objects.get(tid=started["tid"]).state == PaymentState.READY


def test_expired_tid_is_a_400_and_the_payment_expires(kakaopay, client):
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    kakaopay.age(started["tid"], 16)
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 400
    assert "-723" in response.json()["detail"]
    assert Payment.objects.get(tid=started["tid"]).state == PaymentState.EXPIRED
    # Asking again: still a clear 400, no new call to Kakao.
    assert client.get("/remit/kakaopay/approve").status_code == 400
    assert len(kakaopay.calls_of("approve")) == 1


@pytest.mark.parametrize("code", [-702, -785])
def test_ambiguous_codes_ask_order(kakaopay, client, code):
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    kakaopay.fail("approve", status=400, error_code=code, after=True)
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 200
    assert len(kakaopay.calls_of("order")) == 1
    assert Payment.objects.get(tid=started["tid"]).state == PaymentState.APPROVED


def test_user_locked_asks_order_and_leaves_the_payment_waiting(kakaopay, client):
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    kakaopay.fail("approve", status=400, error_code=-780, method_result_code="USER_LOCKED")
    response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 400
    assert len(kakaopay.calls_of("order")) == 1
    assert Payment.objects.get(tid=started["tid"]).state == PaymentState.READY
    # Once the other transaction is over, approving works.
    assert client.get("/remit/kakaopay/approve").status_code == 200


# --- provider 500s and time-outs on each call ------------------------------------------------


def test_ready_500_is_a_502_and_nothing_is_left_open(kakaopay, client):
    kakaopay.fail("ready", status=500)
    response = client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert response.status_code == 502
    assert response.json()["detail"]
    assert Payment.objects.get().state == PaymentState.FAILED


def test_ready_time_out_is_a_502(kakaopay, client, kakaopay_fails):
    with kakaopay_fails("ready", "time-out"):
        response = client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert response.status_code == 502
    assert "in time" in response.json()["detail"]
    assert Payment.objects.get().state == PaymentState.FAILED


@pytest.mark.parametrize("how", ["500", "time-out"])
def test_approve_500_or_time_out_when_kakao_did_capture(kakaopay, client, how, kakaopay_fails):
    """The approve went through at Kakao but we never heard: /order says paid -> 200."""
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    # /order, asked once the approve's time-out is noticed, has the generous time-out.
    with kakaopay_fails("approve", how, after=True, until_event="approve_unknown"):
        response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 200
    payment = Payment.objects.get(tid=started["tid"])
    assert payment.state == PaymentState.APPROVED
    assert PaymentEvent.objects.filter(payment=payment, kind="approve_unknown").exists()
    assert PaymentEvent.objects.filter(payment=payment, kind="approved_per_order").exists()


@pytest.mark.parametrize("how", ["500", "time-out"])
def test_approve_500_or_time_out_when_kakao_did_not_capture(kakaopay, client, how, kakaopay_fails):
    """Kakao had not captured when /order was asked (a time-out: it was still working)."""
    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    with kakaopay_fails("approve", how):
        response = client.get("/remit/kakaopay/approve")
    assert response.status_code == 502
    assert Payment.objects.get(tid=started["tid"]).state == PaymentState.READY
    # Retrying captures it.
    assert client.get("/remit/kakaopay/approve").status_code == 200


def test_order_500_during_reconciliation_is_retried_next_run(kakaopay, client):
    from payments.reconciliation import reconcile

    started = ready(client, 10_000)
    token = buyer_pays(started["url"])
    client.post("/remit/kakaopay/approve", {"pg_token": token})
    kakaopay.fail("approve", status=500, after=True)
    kakaopay.fail("order", status=500, times=2)
    assert client.get("/remit/kakaopay/approve").status_code == 502
    report = reconcile()
    assert report.errors == 1
    payment = Payment.objects.get()
    assert payment.state == PaymentState.READY and payment.needs_check
    report = reconcile()
    payment.refresh_from_db()
    assert payment.state == PaymentState.APPROVED
    assert report.approved == 1


def test_unreachable_kakao_is_a_502(kakaopay, client, settings):
    settings.KAKAOPAY_API_BASE_URL = "http://127.0.0.1:9"
    response = client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert response.status_code == 502
