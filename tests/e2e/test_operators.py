"""End to end in a real browser: an operator's day, the API docs, a sandbox payment."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Account
from fundings.models import Funding, FundingState
from payments.models import Payment, PaymentState
from reports.models import ModerationAction, Report
from tests.e2e.conftest import ARTIFACTS
from tests.factories import AccountFactory, FundingFactory, credited_contribution

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPERATOR_EMAIL = "operator@funsun.local"
OPERATOR_PASSWORD = "e2e-operator-password-1234"
BANK = "국민 123456-01-234567"


def bearer(account) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(account).access_token}"}


def run_action(page, pk: int, action: str) -> None:
    """Tick one row of an admin change list, pick the action, press Go."""
    page.check(f'input.action-select[value="{pk}"]')
    page.select_option('select[name="action"]', action)
    page.click('button[name="index"]')


def test_an_operators_day_in_the_admin(open_page, http):
    operator = Account.objects.create_superuser(
        OPERATOR_EMAIL, OPERATOR_PASSWORD, id="e2e-operator", username="operator"
    )
    reporter = AccountFactory()
    spam = FundingFactory(title="Cheap watches, click here")
    harmless = FundingFactory(title="A bicycle for my birthday")
    report_to_resolve = Report.objects.create(
        reporter=reporter, type="funding", target=str(harmless.pk), message="not sure"
    )
    report_to_act_on = Report.objects.create(
        reporter=reporter, type="funding", target=str(spam.pk), message="spam"
    )
    author = AccountFactory(bank_account=BANK)
    finished = FundingFactory(author=author, goal_amount=30_000, title="New running shoes")
    credited_contribution(finished, amount=30_000, message="축하해")
    Funding.objects.filter(pk=finished.pk).update(state=FundingState.ACHIEVED)
    as_reporter, as_operator, as_author = bearer(reporter), bearer(operator), bearer(author)

    # The author asks for the money through the API.
    asked = http.post("/funding/payout", data={"id": finished.pk}, headers=as_author)
    assert asked.status_code == 201, asked.text
    payout_id = asked.json()["id"]

    with open_page() as page:
        # Sign in to the admin.
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", OPERATOR_EMAIL)
        page.fill("#id_password", OPERATOR_PASSWORD)
        page.click('input[type="submit"]')
        page.wait_for_url(re.compile(r"/admin/$"))
        assert page.locator("#site-name").is_visible()

        # The report queue: both reports, open, with links to their fundings.
        page.goto("/admin/reports/report/")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 2
        assert page.locator(f'a[href="/admin/fundings/funding/{spam.pk}/change/"]').count() == 1
        page.screenshot(path=ARTIFACTS / "admin-reports.png", full_page=True)

        # Resolve one report as it is.
        run_action(page, report_to_resolve.pk, "resolve")
        expect(page.locator("ul.messagelist")).to_contain_text("Resolved: 1 report(s).")

        # Hide the spam funding through its report.
        run_action(page, report_to_act_on.pk, "hide_funding")
        expect(page.locator("ul.messagelist")).to_contain_text("Funding hidden: 1 report(s).")
        page.goto("/admin/reports/report/?is_solved__exact=0")
        assert page.locator("#result_list").count() == 0  # nothing left open

        # The moderation log shows what was done.
        page.goto("/admin/reports/moderationaction/")
        log_text = page.locator("#result_list").inner_text()
        assert "hide_funding" in log_text and "resolve_report" in log_text

        # The payout queue: record the bank transfer.
        page.goto("/admin/fundings/payout/")
        queue_text = page.locator("#result_list").inner_text()
        assert (
            "pending" in queue_text
            and BANK in queue_text
            and "30000" in queue_text.replace(",", "")
        )
        page.screenshot(path=ARTIFACTS / "admin-payouts.png", full_page=True)
        run_action(page, payout_id, "record_transfer")
        page.fill(f'input[name="reference_{payout_id}"]', "KB 2026-12-01 0001")
        page.screenshot(path=ARTIFACTS / "admin-record-transfer.png", full_page=True)
        page.click('input[type="submit"][value="Record transfers"]')
        expect(page.locator("ul.messagelist")).to_contain_text("Recorded as transferred")
        expect(page.locator("#result_list")).to_contain_text("transferred")
        expect(page.locator("#result_list")).not_to_contain_text("pending")

    # Through the API: the spam funding is gone for users, still there for staff ...
    assert http.get("/funding/", params={"id": spam.pk}, headers=as_reporter).status_code == 404
    assert http.get("/funding/", params={"id": spam.pk}, headers=as_operator).status_code == 200
    public = http.get("/funding/public", headers=as_reporter)
    assert public.status_code == 200
    assert [f["id"] for f in public.json()] == [finished.pk, harmless.pk]
    # ... the other funding is untouched, and the finished one is paid out.
    assert http.get("/funding/", params={"id": harmless.pk}, headers=as_reporter).status_code == 200
    paid = http.get("/funding/", params={"id": finished.pk}, headers=as_operator)
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid_out"

    # And in the database: who did what.
    assert set(ModerationAction.objects.values_list("action", "actor_id")) == {
        ("resolve_report", operator.pk),
        ("hide_funding", operator.pk),
    }
    payout = finished.payout
    payout.refresh_from_db()
    assert payout.transferred_by_id == operator.pk
    assert payout.reference == "KB 2026-12-01 0001"


def test_swagger_lists_the_funding_routes(open_page):
    with open_page() as page:
        page.goto("/swagger/")
        page.wait_for_selector(".opblock-summary-path", state="visible")
        paths = set(
            page.locator(".opblock-summary-path").evaluate_all(
                "nodes => nodes.map(n => n.getAttribute('data-path'))"
            )
        )
        assert {
            "/funding/",
            "/funding/public",
            "/funding/following",
            "/funding/user",
            "/funding/joined",
            "/funding/review",
            "/funding/payout",
            "/remit/",
            "/report/",
        } <= paths
        page.screenshot(path=ARTIFACTS / "swagger.png", full_page=True)


def test_a_sandbox_payment_completed_by_clicking_pay(open_page, http):
    contributor = AccountFactory()
    funding = FundingFactory(goal_amount=50_000, expire_on=timezone.now() + timedelta(days=3))
    as_contributor = bearer(contributor)

    ready = http.post(
        "/remit/kakaopay/ready",
        data={"amount": "5000", "funding": str(funding.pk), "message": "생일 축하해!"},
        headers=as_contributor,
    )
    assert ready.status_code == 200, ready.text
    checkout_url = ready.json()["url"]

    with open_page() as page:
        page.goto(checkout_url)
        page.screenshot(path=ARTIFACTS / "sandbox-checkout.png", full_page=True)
        page.get_by_role("button", name=re.compile("pay", re.IGNORECASE)).click()
        page.wait_for_url(re.compile(r"/remit/kakaopay/approval\?.*pg_token="))
        pg_token = parse_qs(urlsplit(page.url).query)["pg_token"][0]

    approve = http.post(
        "/remit/kakaopay/approve", data={"pg_token": pg_token}, headers=as_contributor
    )
    assert approve.status_code == 200, approve.text
    approved = http.get("/remit/kakaopay/approve", headers=as_contributor)
    assert approved.status_code == 200, approved.text
    remit = http.post(
        "/remit/",
        json={"funding": funding.pk, "amount": 5000, "message": "생일 축하해!"},
        headers=as_contributor,
    )
    assert remit.status_code == 201, remit.text
    assert remit.json()["message"] == "생일 축하해!"

    detail = http.get("/funding/", params={"id": funding.pk}, headers=as_contributor)
    assert detail.json()["current_amount"] == 5000
    payment = Payment.objects.get(payer=contributor)
    assert payment.state == PaymentState.CREDITED
