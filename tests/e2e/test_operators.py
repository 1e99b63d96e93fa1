"""End to end in a real browser: an operator's day, the API docs, a sandbox payment."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Account
from demo.data import load_demo_data
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


# Admin change lists an operator reads every day, by name (screenshots: admin-<name>-1280.png).
CHANGELISTS = {
    "fundings": "/admin/fundings/funding/",
    "payments": "/admin/payments/payment/",
    "reports": "/admin/reports/report/",
    "payouts": "/admin/fundings/payout/",
}
# Per change list: how wide the results table is against the box that shows it (wider, and
# the rightmost columns hide behind a scroll bar), the page's width, the headers, and the
# height of the tallest cell against one line of text (a column squeezed to a character a
# line makes Korean titles a tower).
MEASURE = """() => {
    const table = document.querySelector('#result_list');
    const box = table.closest('.results');
    const line = parseFloat(getComputedStyle(table.querySelector('td')).lineHeight) || 16;
    const tallest = Math.max(...[...table.querySelectorAll('tbody td')].map(
        c => c.getBoundingClientRect().height));
    return {
        table: table.getBoundingClientRect().width, box: box.clientWidth,
        scroll: box.scrollWidth, page: document.documentElement.scrollWidth,
        headers: [...table.querySelectorAll('thead th')].map(th => th.innerText.trim()),
        tallest: tallest, line: line,
    };
}"""


def test_the_admin_reads_at_a_glance_at_1280_pixels(open_page):
    """The demo world (Korean titles, money, a payout, a report) in the four change lists at
    1280 x 800: nothing cut off on the right, no title wrapped a character a line, one status
    column, and a payment's "needs check" shown on that payment alone."""
    load_demo_data()
    Account.objects.create_superuser(
        OPERATOR_EMAIL, OPERATOR_PASSWORD, id="e2e-operator", username="operator"
    )
    flagged = Payment.objects.order_by("pk").first()
    Payment.objects.filter(pk=flagged.pk).update(needs_check=True)
    measured = {}
    with open_page(1280, 800) as page:
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", OPERATOR_EMAIL)
        page.fill("#id_password", OPERATOR_PASSWORD)
        page.click('input[type="submit"]')
        page.wait_for_url(re.compile(r"/admin/$"))
        # "View site" leads to the API's docs: the server has no other site.
        assert page.get_attribute("#user-tools a[href='/swagger/']", "href") == "/swagger/"
        for name, url in CHANGELISTS.items():
            page.goto(url)
            page.screenshot(path=ARTIFACTS / f"admin-{name}-1280.png", full_page=True)
            measured[name] = page.evaluate(MEASURE)
            if name == "payments":
                flags = page.locator("#result_list td.field-needs_check_flag")
                measured[name]["flags"] = [t.strip() for t in flags.all_inner_texts()]
                measured[name]["icons"] = page.locator("#result_list img[alt]").count()
    for name, seen in measured.items():
        assert seen["scroll"] <= seen["box"] and seen["table"] <= seen["box"], (name, seen)
        assert seen["page"] <= 1280, (name, seen)
        assert seen["tallest"] <= 4 * seen["line"] + 16, (name, seen)  # a thumbnail's height
    funding_headers = [h.lower() for h in measured["fundings"]["headers"]]
    assert funding_headers.count("status") == 1 and "state" not in funding_headers
    flags = measured["payments"]["flags"]
    assert sum(1 for f in flags if f) == 1 and "check" in "".join(flags).lower(), flags
    assert measured["payments"]["icons"] == 0  # no ✖/✔ icon on every row


def test_the_api_docs_load_nothing_from_outside_the_server(open_page, site):
    """Swagger UI and ReDoc come from drf-spectacular-sidecar through this server: no CDN,
    no web font, no logo from elsewhere (the docs work offline and tell no one of a visit)."""
    requested, failed = [], {}
    with open_page() as page:
        page.on("request", lambda request: requested.append(request.url))
        page.on("requestfailed", lambda request: failed.update({request.url: request.failure}))
        page.goto("/swagger/")
        page.wait_for_selector(".opblock-summary-path", state="visible")
        page.goto("/redoc/")
        page.wait_for_selector("text=FunSun API", state="visible")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=ARTIFACTS / "redoc.png")
    assert any(url.endswith("/swagger.json") for url in requested)
    # Anything else the pages' scripts ask for (ReDoc's sidebar logo, from a CDN) is stopped
    # by the pages' Content-Security-Policy inside the browser: no request leaves it.
    outside = [u for u in requested if not u.startswith((site, "data:", "blob:"))]
    assert {url: failed.get(url) for url in outside} == dict.fromkeys(outside, "csp")
