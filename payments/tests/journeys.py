"""The payment journey's steps 1-4 as the app and the buyer's browser walk them, with what
each step must answer, shared by the payments tests (which stop at approval) and the
fundings tests (which go on to credit a funding)."""

import re
from urllib.parse import parse_qs, urlparse

from rest_framework.test import APIClient

from payments.models import Payment, PaymentState
from payments.tests.fixtures import CID, buyer_pays

CHECKOUT = "http://127.0.0.1:8000/payments/sandbox/checkout/"
APPROVAL = "http://127.0.0.1:8000/remit/kakaopay/approval"


def kakaopay_to_approval(kakaopay, payer, client) -> Payment:
    """Kakao Pay (the local server `kakaopay`): ready with only the amount, as a form; the
    buyer pays and Kakao sends the browser to our approval page; the app posts the pg_token
    and asks for approval. Asserts each answer and what Kakao Pay was sent; the payment."""
    # 1. ready: a form with only the amount
    started = client.post("/remit/kakaopay/ready", {"amount": "10000"})
    assert started.status_code == 200
    body = started.json()
    assert set(body) == {"url", "tid", "next_redirect_mobile_url", "next_redirect_pc_url"}
    assert body["url"].startswith(kakaopay.base_url)
    ready_call = kakaopay.calls_of("ready")[0].body
    assert ready_call["cid"] == CID
    assert ready_call["total_amount"] == 10_000
    assert ready_call["tax_free_amount"] == 0
    assert ready_call["quantity"] == 1
    assert ready_call["partner_user_id"] == payer.id
    assert ready_call["approval_url"] == APPROVAL
    payment = Payment.objects.get(payer=payer)
    assert payment.tid == body["tid"]
    assert payment.partner_order_id == ready_call["partner_order_id"]
    assert payment.state == PaymentState.READY

    # 2. the buyer pays; Kakao redirects to our approval URL, which answers 200
    token = buyer_pays(body["url"])
    page = client.get(f"/remit/kakaopay/approval?pg_token={token}")
    assert page.status_code == 200
    assert token in page.content.decode()

    # 3. the app posts the pg_token (a form)
    stored = client.post("/remit/kakaopay/approve", {"pg_token": token})
    assert stored.status_code == 200
    assert Payment.objects.get(pk=payment.pk).pg_token == token

    # 4. approve
    approved = client.get("/remit/kakaopay/approve")
    assert approved.status_code == 200
    assert approved.json() == {"detail": "approved", "tid": payment.tid, "amount": 10_000}
    approve_call = kakaopay.calls_of("approve")[0].body
    assert approve_call["pg_token"] == token
    assert approve_call["partner_order_id"] == payment.partner_order_id
    assert kakaopay.orders[payment.tid].status == "SUCCESS_PAYMENT"
    payment.refresh_from_db()
    return payment


def sandbox_checkout_to_approval(client, started, *, shows: str) -> tuple[APIClient, str]:
    """The sandbox's steps 2-4 after a ready that answered `started`: a browser, not signed
    in and checking CSRF, opens the checkout page (showing the amount and `shows`) and
    presses "pay"; the app posts the pg_token and approves 10,000. The browser and the
    checkout page's path."""
    assert started.status_code == 200
    url = started.json()["url"]
    assert url.startswith(CHECKOUT)
    path = urlparse(url).path

    browser = APIClient(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "10,000 KRW" in html
    assert shows in html
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    # Without the form's CSRF token the press is refused (Django's own check).
    assert browser.post(path, {"action": "pay"}).status_code == 403
    assert Payment.objects.get(tid=path.rstrip("/").rsplit("/", 1)[-1]).sandbox_status == "READY"
    # "pay" redirects to the approval URL with a pg_token, like Kakao Pay.
    paid = browser.post(path, {"action": "pay", "csrfmiddlewaretoken": csrf})
    assert paid.status_code == 302
    location = paid["Location"]
    assert location.startswith(f"{APPROVAL}?pg_token=")
    token = parse_qs(urlparse(location).query)["pg_token"][0]
    # Pressing again sends the browser to the same place.
    again = browser.post(path, {"action": "pay", "csrfmiddlewaretoken": csrf})
    assert again["Location"] == location
    assert browser.get(urlparse(location).path, {"pg_token": token}).status_code == 200

    assert client.post("/remit/kakaopay/approve", {"pg_token": token}).status_code == 200
    approved = client.get("/remit/kakaopay/approve")
    assert approved.status_code == 200
    assert approved.json()["amount"] == 10_000
    return browser, path
