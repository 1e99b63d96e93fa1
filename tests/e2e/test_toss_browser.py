"""End to end in a real browser with Toss Payments: the app starts a payment, the buyer pays
on the checkout page FunSun hosts (the local Toss server's stand-in SDK plays the window), the
app approves and credits it; then the contribution is refunded at Toss."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from rest_framework_simplejwt.tokens import RefreshToken

from payments.models import Payment, PaymentState
from tests.e2e.conftest import ARTIFACTS
from tests.factories import AccountFactory, FundingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = (390, 844)  # the app opens the page in a phone's web view


def bearer(account) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(account).access_token}"}


def test_a_toss_payment_in_chromium_then_its_refund(toss, open_page, http, site):
    payer = AccountFactory()
    funding = FundingFactory(title="엄마 생신 선물: 안마의자", goal_amount=300_000)
    as_payer = bearer(payer)

    # 1. ready, as the app sends it.
    started = http.post(
        "/remit/kakaopay/ready", data={"amount": "25000", "funding": funding.pk}, headers=as_payer
    )
    assert started.status_code == 200, started.text
    url = started.json()["url"]
    assert url.startswith(f"{site}/payments/toss/checkout/")

    violations: list[str] = []
    with open_page(*PHONE) as page:
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        # 2. the checkout page: what for, how much; the window opens from it.
        page.goto(url)
        expect(page.locator("#item_name")).to_have_text("엄마 생신 선물: 안마의자")
        expect(page.locator("#amount")).to_contain_text("25,000원")
        expect(page.locator("#pay")).to_be_enabled()
        page.screenshot(path=ARTIFACTS / "toss-checkout-390.png", full_page=True)
        # Nothing is cut off or wider than the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
        box = page.locator("#pay").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]

        # The buyer closes the window once: the page says so and offers it again.
        toss.next_buyer("close")
        page.click("#pay")
        expect(page.locator("#closed")).to_be_visible()
        expect(page.locator("#pay")).to_be_enabled()

        # 3. pay: Toss sends the browser to our success route, which confirms and passes
        # the buyer on to the approval URL with a pg_token, as Kakao Pay does.
        page.click("#pay")
        page.wait_for_url(lambda address: "/remit/kakaopay/approval?pg_token=" in address)
        token = parse_qs(urlsplit(page.url).query)["pg_token"][0]
        expect(page.locator("#pg_token")).to_have_text(token)
        page.screenshot(path=ARTIFACTS / "toss-approved-390.png", full_page=True)
    assert violations == []

    # 4. the app's steps 3 to 5, unchanged.
    stored = http.post("/remit/kakaopay/approve", data={"pg_token": token}, headers=as_payer)
    assert stored.status_code == 200, stored.text
    approved = http.get("/remit/kakaopay/approve", headers=as_payer)
    assert approved.json()["detail"] == "approved"
    credited = http.post(
        "/remit/",
        json={"funding": funding.pk, "amount": 25_000, "message": "생신 축하드려요"},
        headers=as_payer,
    )
    assert credited.status_code == 201, credited.text
    payment = Payment.objects.get()
    assert payment.state == PaymentState.CREDITED
    assert toss.by_order(payment.partner_order_id).status == "DONE"
    assert toss.sdk_requests[-1]["amount"] == {"currency": "KRW", "value": 25_000}

    # 5. the contributor takes it back: refunded at Toss, once.
    refunded = http.request(
        "DELETE",
        "/remit/",
        content=f"id={credited.json()['id']}",
        headers={**as_payer, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refunded.json() == {"detail": "refunded"}
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    at_toss = toss.by_order(payment.partner_order_id)
    assert at_toss.status == "CANCELED" and len(at_toss.cancels) == 1
    assert toss.count("cancel") == 1
