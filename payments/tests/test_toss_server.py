"""The local Toss Payments server itself, over real HTTP: the protocol the Toss provider will
be tested against must be Toss's, or those tests prove nothing."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from payments.tests.toss_server import (
    CLIENT_KEY,
    SECRET_KEY,
    STATUSES,
    WindowError,
    basic_auth,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, NOT_RUN

SHOP = "http://shop.test"


@pytest.fixture
def api(toss):
    """A client that talks to the fake as the provider will: Basic auth with the secret key."""
    with httpx.Client(
        base_url=toss.base_url, headers={"Authorization": basic_auth(SECRET_KEY)}, timeout=10
    ) as client:
        yield client


def window(toss, order_id="order-000001", amount=10_000, **extra) -> dict:
    """The buyer goes through the payment window; returns the successUrl's query."""
    params = {
        "method": "CARD",
        "amount": {"currency": "KRW", "value": amount},
        "orderId": order_id,
        "orderName": "생일 선물 펀딩",
        "customerKey": "customer-1",
        "successUrl": f"{SHOP}/toss/success",
        "failUrl": f"{SHOP}/toss/fail",
        **extra,
    }
    location = toss.request_payment(params)
    assert location.startswith(params["successUrl"] + "?")
    query = {name: values[0] for name, values in parse_qs(urlparse(location).query).items()}
    assert query["orderId"] == order_id
    assert query["amount"] == str(amount)
    return query


def confirm(api, paid: dict, amount: int | None = None, key: str | None = None):
    body = {
        "paymentKey": paid["paymentKey"],
        "orderId": paid["orderId"],
        "amount": int(paid["amount"]) if amount is None else amount,
    }
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/v1/payments/confirm", json=body, headers=headers)


def cancel(api, payment_key: str, amount: int | None = None, key: str | None = None, **extra):
    body = {"cancelReason": "펀딩 취소", **extra}
    if amount is not None:
        body["cancelAmount"] = amount
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/v1/payments/{payment_key}/cancel", json=body, headers=headers)


# --- confirm --------------------------------------------------------------------------------


def test_window_then_confirm_gives_a_done_payment(toss, api):
    paid = window(toss, amount=15_000)
    assert paid["paymentType"] == "NORMAL"
    before = api.get(f"/v1/payments/{paid['paymentKey']}").json()
    assert before["status"] == "IN_PROGRESS"
    assert before["approvedAt"] is None

    response = confirm(api, paid)

    assert response.status_code == 200, response.text
    payment = response.json()
    assert payment["paymentKey"] == paid["paymentKey"]
    assert payment["orderId"] == paid["orderId"]
    assert payment["orderName"] == "생일 선물 펀딩"
    assert payment["status"] == "DONE"
    assert payment["method"] == "카드"
    assert payment["currency"] == "KRW"
    assert payment["totalAmount"] == payment["balanceAmount"] == 15_000
    assert payment["suppliedAmount"] + payment["vat"] == 15_000
    assert payment["approvedAt"].endswith("+09:00")
    assert payment["requestedAt"].endswith("+09:00")
    assert payment["cancels"] is None
    assert payment["card"]["amount"] == 15_000
    assert payment["lastTransactionKey"]
    assert toss.sdk_requests[0]["clientKey"] == CLIENT_KEY
    assert toss.sdk_requests[0]["customerKey"] == "customer-1"


def test_second_confirm_is_already_processed(toss, api):
    paid = window(toss)
    assert confirm(api, paid).status_code == 200
    again = confirm(api, paid)
    assert again.status_code == 400
    assert again.json()["code"] == "ALREADY_PROCESSED_PAYMENT"
    assert toss.count("confirm") == 2


def test_confirm_with_another_amount_is_refused_and_changes_nothing(toss, api):
    paid = window(toss, amount=10_000)
    wrong = confirm(api, paid, amount=1_000)
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "INVALID_REQUEST"
    assert toss.payment_json(paid["paymentKey"])["status"] == "IN_PROGRESS"
    assert confirm(api, paid).status_code == 200


def test_confirm_of_another_order_or_unknown_key_finds_no_session(toss, api):
    paid = window(toss)
    for body in (
        {**paid, "orderId": "order-999999"},
        {**paid, "paymentKey": "no-such-payment-key"},
    ):
        response = confirm(api, body)
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND_PAYMENT_SESSION"


def test_an_expired_session_cannot_be_confirmed(toss, api):
    expired = window(toss, order_id="order-000001")
    toss.expire(expired["paymentKey"])
    response = confirm(api, expired)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND_PAYMENT_SESSION"

    # Ten minutes after the buyer authorised, Toss has dropped the session by itself.
    late = window(toss, order_id="order-000002")
    toss.age(late["paymentKey"], minutes=11)
    assert confirm(api, late).json()["code"] == "NOT_FOUND_PAYMENT_SESSION"
    assert api.get(f"/v1/payments/{late['paymentKey']}").json()["status"] == "EXPIRED"


def test_confirm_with_an_idempotency_key_replays_the_first_answer(toss, api):
    paid = window(toss)
    first = confirm(api, paid, key="confirm-order-000001")
    second = confirm(api, paid, key="confirm-order-000001")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()  # the same approval, not ALREADY_PROCESSED_PAYMENT
    assert [call.replayed for call in toss.calls_of("confirm")] == [False, True]
    assert toss.idempotency_keys == ["confirm-order-000001", "confirm-order-000001"]
    # Toss keys on (key, API key, URL, method), not on the body: the same key with another
    # payment replays the first answer too, so a key must name one operation.
    other = window(toss, order_id="order-000002")
    replayed = confirm(api, other, key="confirm-order-000001")
    assert replayed.json()["paymentKey"] == paid["paymentKey"]
    assert toss.payment_json(other["paymentKey"])["status"] == "IN_PROGRESS"
    # Past its window the key is new again.
    toss.forget_idempotency_key("confirm-order-000001")
    assert confirm(api, other, key="confirm-order-000001").json()["orderId"] == "order-000002"


def test_an_idempotency_key_longer_than_300_characters_is_refused(toss, api):
    paid = window(toss)
    response = confirm(api, paid, key="k" * 301)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert toss.payment_json(paid["paymentKey"])["status"] == "IN_PROGRESS"


# --- cancel ---------------------------------------------------------------------------------


def test_partial_then_full_cancel(toss, api):
    paid = window(toss, amount=30_000)
    confirm(api, paid)
    key = paid["paymentKey"]

    partial = cancel(api, key, amount=10_000)
    assert partial.status_code == 200, partial.text
    body = partial.json()
    assert body["status"] == "PARTIAL_CANCELED"
    assert body["balanceAmount"] == 20_000
    assert body["totalAmount"] == 30_000
    assert len(body["cancels"]) == 1
    entry = body["cancels"][0]
    assert entry["cancelAmount"] == 10_000
    assert entry["cancelReason"] == "펀딩 취소"
    assert entry["refundableAmount"] == 20_000
    assert entry["cancelStatus"] == "DONE"
    assert entry["canceledAt"].endswith("+09:00")
    assert entry["transactionKey"] == body["lastTransactionKey"]

    too_much = cancel(api, key, amount=20_001)
    assert too_much.status_code == 403
    assert too_much.json()["code"] == "NOT_CANCELABLE_AMOUNT"

    stale = cancel(api, key, amount=1_000, refundableAmount=30_000)
    assert stale.status_code == 400
    assert stale.json()["code"] == "NOT_MATCHES_REFUNDABLE_AMOUNT"

    rest = cancel(api, key)  # no cancelAmount: the whole balance
    assert rest.status_code == 200
    assert rest.json()["status"] == "CANCELED"
    assert rest.json()["balanceAmount"] == 0
    assert [c["cancelAmount"] for c in rest.json()["cancels"]] == [10_000, 20_000]

    again = cancel(api, key)
    assert again.status_code == 400
    assert again.json()["code"] == "ALREADY_CANCELED_PAYMENT"


def test_cancel_of_an_unconfirmed_or_unknown_payment(toss, api):
    paid = window(toss)
    unconfirmed = cancel(api, paid["paymentKey"])
    assert unconfirmed.status_code == 403
    assert unconfirmed.json()["code"] == "NOT_CANCELABLE_PAYMENT"
    unknown = cancel(api, "no-such-payment-key")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "NOT_FOUND_PAYMENT"
    confirm(api, paid)
    reasonless = api.post(f"/v1/payments/{paid['paymentKey']}/cancel", json={})
    assert reasonless.status_code == 400
    assert reasonless.json()["code"] == "INVALID_REQUEST"


def test_cancel_twice_with_the_same_key_cancels_once(toss, api):
    paid = window(toss, amount=30_000)
    confirm(api, paid)
    first = cancel(api, paid["paymentKey"], amount=10_000, key="refund-1")
    second = cancel(api, paid["paymentKey"], amount=10_000, key="refund-1")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    payment = toss.payment_json(paid["paymentKey"])
    assert payment["balanceAmount"] == 20_000
    assert len(payment["cancels"]) == 1
    assert toss.count("cancel") == 2
    assert toss.idempotency_keys == ["refund-1", "refund-1"]


# --- look-ups -------------------------------------------------------------------------------


def test_look_up_by_payment_key_and_by_order_id(toss, api):
    paid = window(toss, order_id="order-lookup-1")
    confirm(api, paid)
    by_key = api.get(f"/v1/payments/{paid['paymentKey']}")
    by_order = api.get("/v1/payments/orders/order-lookup-1")
    assert by_key.status_code == by_order.status_code == 200
    assert by_key.json() == by_order.json()
    assert by_key.json()["status"] == "DONE"
    for path in ("/v1/payments/no-such-key", "/v1/payments/orders/no-such-order"):
        missing = api.get(path)
        assert missing.status_code == 404
        assert missing.json()["code"] == "NOT_FOUND_PAYMENT"
    assert toss.count("payment") == 2
    assert toss.count("order") == 2


def test_every_status_can_be_forced_and_is_reported(toss, api):
    paid = window(toss)
    for status in STATUSES:
        toss.force_status(paid["paymentKey"], status)
        assert api.get(f"/v1/payments/{paid['paymentKey']}").json()["status"] == status
    with pytest.raises(ValueError):
        toss.force_status(paid["paymentKey"], "PAID")


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 401, "UNAUTHORIZED_KEY"),
        (basic_auth("test_sk_someoneElsesKey000000000"), 401, "UNAUTHORIZED_KEY"),
        ("Bearer " + SECRET_KEY, 401, "UNAUTHORIZED_KEY"),
        (basic_auth(CLIENT_KEY), 400, "INVALID_API_KEY"),
        (
            "Basic " + base64.b64encode(SECRET_KEY.encode()).decode(),
            403,
            "INCORRECT_BASIC_AUTH_FORMAT",
        ),
        ("Basic not-base64!", 403, "INCORRECT_BASIC_AUTH_FORMAT"),
    ],
)
def test_a_wrong_secret_key_is_refused(toss, authorization, status, code):
    paid = window(toss)
    headers = {"Authorization": authorization} if authorization else {}
    for response in (
        httpx.post(f"{toss.base_url}/v1/payments/confirm", json=paid, headers=headers),
        httpx.get(f"{toss.base_url}/v1/payments/{paid['paymentKey']}", headers=headers),
    ):
        assert response.status_code == status
        assert response.json()["code"] == code
        assert response.json()["message"]
    assert toss.payment_json(paid["paymentKey"])["status"] == "IN_PROGRESS"


# --- scripted behaviours --------------------------------------------------------------------


def test_scripted_error_codes_are_answered_with_tosss_status(toss, api):
    paid = window(toss)
    toss.fail("confirm", code="PROVIDER_ERROR")
    toss.fail("confirm", code="INVALID_API_KEY")
    toss.fail("confirm", status=500)
    answers = [confirm(api, paid) for _ in range(3)]
    assert [(r.status_code, r.json()["code"]) for r in answers] == [
        (400, "PROVIDER_ERROR"),
        (400, "INVALID_API_KEY"),
        (500, "FAILED_INTERNAL_SYSTEM_PROCESSING"),
    ]
    assert toss.payment_json(paid["paymentKey"])["status"] == "IN_PROGRESS"
    assert confirm(api, paid).status_code == 200
    assert toss.count("confirm") == 4
    assert len(toss.calls_of("confirm", ok=True)) == 1


def test_a_declined_card_aborts_the_payment(toss, api):
    paid = window(toss)
    toss.decline("REJECT_CARD_PAYMENT")
    refused = confirm(api, paid)
    assert refused.status_code == 403
    assert refused.json()["code"] == "REJECT_CARD_PAYMENT"
    payment = api.get(f"/v1/payments/{paid['paymentKey']}").json()
    assert payment["status"] == "ABORTED"
    assert payment["failure"]["code"] == "REJECT_CARD_PAYMENT"
    assert confirm(api, paid).json()["code"] == "NOT_FOUND_PAYMENT_SESSION"


def test_malformed_json_answer(toss, api):
    paid = window(toss)
    toss.fail("payment", malformed=True)
    garbled = api.get(f"/v1/payments/{paid['paymentKey']}")
    assert garbled.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        garbled.json()
    assert api.get(f"/v1/payments/{paid['paymentKey']}").json()["status"] == "IN_PROGRESS"


def test_confirm_carried_out_then_answered_500(toss, api):
    paid = window(toss)
    toss.fail("confirm", status=500, after=True)
    lost = confirm(api, paid, key="confirm-1")
    assert lost.status_code == 500
    assert toss.payment_json(paid["paymentKey"])["status"] == "DONE"
    # Retried with the same key: the approval Toss made is replayed.
    retried = confirm(api, paid, key="confirm-1")
    assert retried.status_code == 200
    assert retried.json()["status"] == "DONE"
    # Without a key Toss says it was done already.
    assert confirm(api, paid).json()["code"] == "ALREADY_PROCESSED_PAYMENT"


def test_cancel_carried_out_then_the_connection_dropped(toss, api):
    paid = window(toss, amount=20_000)
    confirm(api, paid)
    toss.fail("cancel", drop=True, after=True)
    with pytest.raises(httpx.RemoteProtocolError):
        cancel(api, paid["paymentKey"], amount=5_000, key="refund-1")
    assert toss.payment_json(paid["paymentKey"])["balanceAmount"] == 15_000
    retried = cancel(api, paid["paymentKey"], amount=5_000, key="refund-1")
    assert retried.status_code == 200
    assert retried.json()["balanceAmount"] == 15_000
    assert len(toss.payment_json(paid["paymentKey"])["cancels"]) == 1


def test_cancel_carried_out_then_answered_malformed(toss, api):
    paid = window(toss, amount=20_000)
    confirm(api, paid)
    toss.fail("cancel", malformed=True, after=True)
    garbled = cancel(api, paid["paymentKey"], key="refund-1")
    with pytest.raises(json.JSONDecodeError):
        garbled.json()
    assert toss.payment_json(paid["paymentKey"])["status"] == "CANCELED"


def test_a_held_confirm_waits_for_release_and_then_answers(toss, api):
    paid = window(toss)
    held = toss.hold("confirm")
    answers = []
    client = threading.Thread(target=lambda: answers.append(confirm(api, paid)))
    client.start()
    assert held.wait_arrived()
    # Held before the work: nothing is approved yet.
    assert toss.payment_json(paid["paymentKey"])["status"] == "IN_PROGRESS"
    assert toss.count("confirm") == 1
    held.release()
    client.join(10)
    assert answers[0].status_code == 200
    assert answers[0].json()["status"] == "DONE"


def test_a_client_time_out_on_a_held_call(toss):
    """The client gives up on a call Toss holds; released, Toss still carries it out."""
    paid = window(toss)
    held = toss.hold("confirm")
    with httpx.Client(
        base_url=toss.base_url, headers={"Authorization": basic_auth(SECRET_KEY)}, timeout=0.2
    ) as impatient:
        with pytest.raises(httpx.TimeoutException):
            confirm(impatient, paid)
    assert held.wait_arrived()
    assert toss.payment_json(paid["paymentKey"])["status"] == "IN_PROGRESS"
    held.release()
    assert held.wait_finished()
    assert toss.payment_json(paid["paymentKey"])["status"] == "DONE"


def test_a_held_answer_after_the_work(toss, api):
    paid = window(toss, amount=20_000)
    confirm(api, paid)
    held = toss.hold("cancel", after=True)
    answers = []
    client = threading.Thread(
        target=lambda: answers.append(cancel(api, paid["paymentKey"], key="refund-1"))
    )
    client.start()
    assert held.wait_arrived()
    assert toss.payment_json(paid["paymentKey"])["status"] == "CANCELED"
    assert answers == []
    held.release()
    client.join(10)
    assert answers[0].json()["status"] == "CANCELED"


def test_the_same_key_while_the_first_call_is_held_is_a_409(toss, api):
    paid = window(toss)
    held = toss.hold("confirm")
    answers = []
    client = threading.Thread(target=lambda: answers.append(confirm(api, paid, key="c-1")))
    client.start()
    assert held.wait_arrived()
    racing = confirm(api, paid, key="c-1")
    assert racing.status_code == 409
    assert racing.json()["code"] == "IDEMPOTENT_REQUEST_PROCESSING"
    held.release()
    client.join(10)
    assert answers[0].status_code == 200


def test_wait_for_calls_returns_once_they_arrived(toss, api):
    paid = window(toss)
    assert toss.wait_for_calls("confirm", 1, timeout=0) == []
    confirm(api, paid)
    calls = toss.wait_for_calls("confirm", 1)
    assert [call.status for call in calls] == [200]
    assert calls[0].body["paymentKey"] == paid["paymentKey"]


# --- the payment window ---------------------------------------------------------------------


def test_the_window_checks_its_request(toss):
    good = {
        "method": "CARD",
        "amount": {"currency": "KRW", "value": 10_000},
        "orderId": "order-000001",
        "orderName": "선물",
        "customerKey": "customer-1",
        "successUrl": f"{SHOP}/ok",
        "failUrl": f"{SHOP}/fail",
    }
    bad = [
        ({"amount": 10_000}, "INVALID_AMOUNT"),
        ({"amount": {"currency": "USD", "value": 10}}, "INVALID_AMOUNT"),
        ({"amount": {"currency": "KRW", "value": 0}}, "INVALID_AMOUNT"),
        ({"orderId": "short"}, "INVALID_ORDER_ID"),
        ({"orderName": ""}, "INVALID_ORDER_NAME"),
        ({"customerKey": "x"}, "INVALID_CUSTOMER_KEY"),
        ({"method": "BITCOIN"}, "INVALID_METHOD"),
        ({"successUrl": "/relative"}, "INVALID_URL"),
    ]
    for change, code in bad:
        with pytest.raises(WindowError) as refused:
            toss.request_payment({**good, **change})
        assert refused.value.code == code
    with pytest.raises(WindowError) as wrong_key:
        toss.request_payment(good, client_key="test_ck_someoneElses")
    assert wrong_key.value.code == "INVALID_CLIENT_KEY"
    assert toss.payments == {}
    assert len(toss.sdk_requests) == len(bad) + 1


def test_the_buyer_fails_or_closes_the_window(toss):
    params = {
        "method": "CARD",
        "amount": {"currency": "KRW", "value": 10_000},
        "orderId": "order-000001",
        "orderName": "선물",
        "customerKey": "customer-1",
        "successUrl": f"{SHOP}/ok?funding=7",
        "failUrl": f"{SHOP}/fail?funding=7",
    }
    toss.next_buyer("fail", code="PAY_PROCESS_CANCELED", message="사용자에 의해 취소")
    location = toss.request_payment(params)
    url = urlparse(location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{SHOP}/fail"
    assert parse_qs(url.query) == {
        "funding": ["7"],
        "code": ["PAY_PROCESS_CANCELED"],
        "message": ["사용자에 의해 취소"],
        "orderId": ["order-000001"],
    }
    toss.next_buyer("close")
    with pytest.raises(WindowError) as closed:
        toss.request_payment(params)
    assert closed.value.code == "USER_CANCEL"
    assert toss.payments == {}
    # The next buyer pays; the successUrl keeps its own query.
    success = parse_qs(urlparse(toss.request_payment(params)).query)
    assert success["funding"] == ["7"]
    assert success["amount"] == ["10000"]


def test_an_order_id_already_paid_cannot_open_another_window(toss, api):
    paid = window(toss, order_id="order-000001")
    second = window(toss, order_id="order-000001")  # not confirmed yet: another window is fine
    confirm(api, paid)
    with pytest.raises(WindowError) as refused:
        window(toss, order_id="order-000001")
    assert refused.value.code == "DUPLICATED_ORDER_ID"
    # The order went through once: the other window's payment cannot be confirmed.
    assert confirm(api, second).json()["code"] == "ALREADY_PROCESSED_PAYMENT"
    assert api.get("/v1/payments/orders/order-000001").json()["paymentKey"] == paid["paymentKey"]


def test_the_sdk_script_and_session_endpoint_allow_another_origin(toss):
    script = httpx.get(toss.sdk_url, headers={"Origin": SHOP})
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["access-control-allow-origin"] == "*"
    assert "window.TossPayments" in script.text
    assert f'"{toss.base_url}/_sdk/sessions"' in script.text
    preflight = httpx.options(
        f"{toss.base_url}/_sdk/sessions",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]


# --- webhooks -------------------------------------------------------------------------------


class Receiver:
    """A merchant's webhook endpoint: records what it is sent, answers `status`."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers["Content-Length"])
                receiver.received.append(
                    {"headers": dict(self.headers), "body": json.loads(self.rfile.read(length))}
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/payments/toss/webhook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_webhook_is_sent_as_toss_sends_it(toss, api):
    paid = window(toss)
    confirm(api, paid)
    receiver = Receiver(status=200)
    try:
        assert toss.send_webhook(receiver.url, paid["paymentKey"]) == 200
        receiver.status = 500
        assert toss.send_webhook(receiver.url, paid["paymentKey"], status="CANCELED") == 500
    finally:
        receiver.stop()
    first, forged = (r["body"] for r in receiver.received)
    assert receiver.received[0]["headers"]["Content-Type"] == "application/json"
    assert first["eventType"] == "PAYMENT_STATUS_CHANGED"
    assert "+" not in first["createdAt"] and "." in first["createdAt"]
    assert first["data"]["paymentKey"] == paid["paymentKey"]
    assert first["data"]["orderId"] == paid["orderId"]
    assert first["data"]["status"] == "DONE"
    assert forged["data"]["status"] == "CANCELED"
    # The event claimed a status the payment does not have: a receiver must look it up.
    assert toss.payment_json(paid["paymentKey"])["status"] == "DONE"
    assert [w["status"] for w in toss.webhooks] == [200, 500]


# --- in a browser ---------------------------------------------------------------------------

CHECKOUT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="{sdk}"></script></head>
<body><button id="pay">pay</button><p id="error"></p>
<script>
  document.getElementById("pay").addEventListener("click", function () {{
    var payment = TossPayments("{client_key}").payment({{customerKey: "customer-1"}});
    payment.requestPayment({{
      method: "CARD",
      amount: {{currency: "KRW", value: 12000}},
      orderId: "order-browser-1",
      orderName: "생일 선물 펀딩",
      successUrl: location.origin + "/success",
      failUrl: location.origin + "/fail"
    }}).catch(function (error) {{
      document.getElementById("error").textContent = error.code;
    }});
  }});
</script></body></html>
"""


class Shop:
    """The merchant's checkout page, on an origin of its own (as the live server will be)."""

    def __init__(self, page: str):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                data = (page if self.path == "/checkout" else "<p>back at the shop</p>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=NOT_RUN)
def test_the_stand_in_sdk_in_chromium(toss):
    from playwright.sync_api import sync_playwright

    shop = Shop(CHECKOUT_PAGE.format(sdk=toss.sdk_url, client_key=CLIENT_KEY))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{shop.url}/checkout")
                page.click("#pay")
                page.wait_for_url(lambda url: url.startswith(f"{shop.url}/success?"))
                query = parse_qs(urlparse(page.url).query)

                toss.next_buyer("close")
                page.goto(f"{shop.url}/checkout")
                page.click("#pay")
                page.wait_for_function("document.getElementById('error').textContent !== ''")
                closed = page.text_content("#error")
            finally:
                browser.close()
    finally:
        shop.stop()
    payment_key = query["paymentKey"][0]
    assert query["orderId"] == ["order-browser-1"]
    assert query["amount"] == ["12000"]
    assert toss.payment_json(payment_key)["status"] == "IN_PROGRESS"
    assert toss.payment_json(payment_key)["totalAmount"] == 12_000
    assert toss.sdk_requests[0]["customerKey"] == "customer-1"
    assert toss.sdk_requests[0]["amount"] == {"currency": "KRW", "value": 12000}
    assert closed == "USER_CANCEL"
