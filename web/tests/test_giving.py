"""Giving from the browser through the sandbox provider, end to end over Django's test client,
and the credit of a web gift whose buyer never came back."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from fundings.models import Contribution, Funding, FundingState, WebGift
from fundings.web_gifts import credit_left_behind
from payments.models import Payment, PaymentState
from payments.reconciliation import reconcile
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.PUBLIC_BASE_URL = "http://testserver"


def browser_of(account) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(account)
    return client


def csrf(client: Client, funding: Funding) -> str:
    assert client.get(f"/f/{funding.pk}/").status_code == 200
    return client.cookies["csrftoken"].value


def start_gift(client: Client, funding: Funding, amount="10000", message="생일 축하해!"):
    """The form's POST: answers the redirect to the provider's checkout."""
    return client.post(
        f"/f/{funding.pk}/give",
        {"csrfmiddlewaretoken": csrf(client, funding), "amount_other": amount, "message": message},
    )


def pay_at_sandbox(client: Client, checkout_url: str):
    """The buyer presses "pay" on the sandbox's page: answers the approval redirect."""
    path = urlsplit(checkout_url).path
    token = client.cookies["csrftoken"].value
    paid = client.post(path, {"action": "pay", "csrfmiddlewaretoken": token})
    assert paid.status_code == 302
    return paid["Location"]


def come_back(client: Client, approval_url: str):
    """The browser follows the provider's approval redirect to the end (the thank-you page)."""
    parts = urlsplit(approval_url)
    response = client.get(parts.path, {"pg_token": parts.query.split("pg_token=")[1]})
    while response.status_code == 302:
        location = urlsplit(response["Location"])
        query = dict(pair.split("=", 1) for pair in location.query.split("&") if pair)
        response = client.get(location.path, query)
    return response


def test_a_gift_from_the_browser_end_to_end(settings):
    funding = FundingFactory(goal_amount=50_000)
    giver = AccountFactory(username="웹기부자")
    client = browser_of(giver)

    started = start_gift(client, funding)
    assert started.status_code == 302
    assert "/payments/sandbox/checkout/" in started["Location"]
    gift = WebGift.objects.get(funding=funding)
    assert gift.payment.payer == giver and gift.message == "생일 축하해!"

    approval = pay_at_sandbox(client, started["Location"])
    assert urlsplit(approval).path == "/remit/kakaopay/approval"  # the app's URL ...
    thanks = come_back(client, approval)  # ... sends this browser back to the web
    assert thanks.status_code == 200
    html = thanks.content.decode()
    assert "10,000원" in html and 'value="20"' in html

    funding.refresh_from_db()
    assert funding.current_amount == 10_000
    contribution = Contribution.objects.get(funding=funding)
    assert contribution.payment_id == gift.payment_id
    assert Payment.objects.get(pk=gift.payment_id).state == PaymentState.CREDITED
    listed = client_for(giver).get("/remit/", {"id": funding.pk}).json()
    assert listed[0]["message"] == "생일 축하해!" and listed[0]["amount"] == 10_000

    # A replay of the return credits nothing more.
    assert come_back(client, approval).status_code in (200, 404)
    assert Contribution.objects.filter(funding=funding).count() == 1
    funding.refresh_from_db()
    assert funding.current_amount == 10_000


def test_the_form_needs_csrf_and_a_sign_in():
    funding = FundingFactory()
    client = browser_of(AccountFactory())
    refused = client.post(f"/f/{funding.pk}/give", {"amount": "10000", "message": "hi"})
    assert refused.status_code == 403
    anonymous = Client().post(f"/f/{funding.pk}/give", {"amount": "10000", "message": "hi"})
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/web/login/kakao?next=%2Ff%2F{funding.pk}%2F"
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "amount, status", [("999", 400), ("1000001", 400), ("abc", 400), ("60000", 409)]
)
def test_amounts_within_the_apis_limits(amount, status):
    funding = FundingFactory(goal_amount=50_000)
    response = start_gift(browser_of(AccountFactory()), funding, amount=amount)
    assert response.status_code == status
    assert not Payment.objects.exists()


def test_a_friends_only_funding_takes_gifts_only_from_whom_may_see_it():
    funding = FundingFactory(public=False)
    stranger = browser_of(AccountFactory())
    stranger.get("/web/card.png")
    response = stranger.post(f"/f/{funding.pk}/give", {"amount": "10000", "message": "hi"})
    assert response.status_code == 403  # no CSRF cookie: the page was never shown
    client = Client()
    client.force_login(AccountFactory())
    response = client.post(f"/f/{funding.pk}/give", {"amount": "10000", "message": "hi"})
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_two_last_gifts_at_once_one_credited_one_refunded():
    funding = FundingFactory(goal_amount=30_000)
    first, second = browser_of(AccountFactory()), browser_of(AccountFactory())
    Funding.objects.filter(pk=funding.pk).update(current_amount=0)
    # Both start while 30,000 remain, then both pay 20,000: only one fits.
    starts = [start_gift(client, funding, amount="20000") for client in (first, second)]
    approvals = [
        pay_at_sandbox(client, start["Location"])
        for client, start in zip((first, second), starts, strict=True)
    ]
    assert come_back(first, approvals[0]).status_code == 200
    refused = come_back(second, approvals[1])
    assert refused.status_code == 409
    funding.refresh_from_db()
    assert funding.current_amount == 20_000
    states = sorted(Payment.objects.values_list("state", flat=True))
    assert states == [PaymentState.CREDITED, PaymentState.REFUNDED]


def test_canceling_at_the_checkout_goes_back_to_the_funding():
    funding = FundingFactory()
    client = browser_of(AccountFactory())
    started = start_gift(client, funding)
    path = urlsplit(started["Location"]).path
    canceled = client.post(
        path, {"action": "cancel", "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )
    response = client.get(urlsplit(canceled["Location"]).path)
    assert response.status_code == 302 and response["Location"] == "/web/give/stopped"
    page = client.get("/web/give/stopped")
    assert f"/f/{funding.pk}/" in page.content.decode()
    assert not Contribution.objects.exists()


def approved_but_left_behind(funding, minutes_ago: int) -> Payment:
    """A web gift paid and approved whose buyer closed the tab before the return page."""
    from payments import services

    client = browser_of(AccountFactory())
    started = start_gift(client, funding)
    approval = pay_at_sandbox(client, started["Location"])
    payment = WebGift.objects.get(funding=funding).payment
    services.store_pg_token(
        payer=payment.payer, pg_token=approval.split("pg_token=")[1], tid=payment.tid
    )
    payment.refresh_from_db()
    services.approve(payment)
    Payment.objects.filter(pk=payment.pk).update(
        approved_on=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return payment


def test_a_left_behind_web_gift_is_credited_not_refunded(settings):
    settings.PAYMENT_CREDIT_GRACE_MINUTES = 5
    funding = FundingFactory()
    payment = approved_but_left_behind(funding, minutes_ago=2)
    assert credit_left_behind() == 1
    assert credit_left_behind() == 0  # a second run credits nothing more
    Payment.objects.filter(pk=payment.pk).update(approved_on=timezone.now() - timedelta(minutes=30))
    assert reconcile().refunded == 0
    payment.refresh_from_db()
    assert payment.state == PaymentState.CREDITED
    contribution = Contribution.objects.get(payment=payment)
    assert contribution.message == "생일 축하해!" and contribution.funding_id == funding.pk
    funding.refresh_from_db()
    assert funding.current_amount == 10_000


def test_a_fresh_approval_is_left_to_the_return_page():
    payment = approved_but_left_behind(FundingFactory(), minutes_ago=0)
    assert credit_left_behind() == 0
    payment.refresh_from_db()
    assert payment.state == PaymentState.APPROVED


def test_a_left_behind_gift_the_funding_cannot_take_is_refunded():
    funding = FundingFactory(goal_amount=20_000)
    payment = approved_but_left_behind(funding, minutes_ago=2)
    Funding.objects.filter(pk=funding.pk).update(state=FundingState.CANCELED)
    assert credit_left_behind() == 0
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED
    assert not Contribution.objects.exists()


def test_giving_is_rate_limited_like_the_apis_ready(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "payment_ready": "1/minute",
        },
    }
    funding = FundingFactory()
    client = browser_of(AccountFactory())
    assert start_gift(client, funding).status_code == 302
    assert start_gift(client, funding).status_code == 429
    assert Payment.objects.count() == 1


def test_the_csp_lets_forms_go_on_to_kakao_pay_and_kakao_sign_in(settings):
    settings.PAYMENT_PROVIDER = "kakaopay"
    settings.KAKAO_AUTH_BASE_URL = "https://kauth.kakao.com"
    funding = FundingFactory()
    policy = Client().get(f"/f/{funding.pk}/")["Content-Security-Policy"]
    form_action = next(p for p in policy.split("; ") if p.startswith("form-action"))
    assert form_action == "form-action 'self' https://kauth.kakao.com https://*.kakao.com"


def test_without_the_credit_reconciliation_would_refund_a_left_behind_gift(settings):
    settings.PAYMENT_CREDIT_GRACE_MINUTES = 5
    payment = approved_but_left_behind(FundingFactory(), minutes_ago=30)
    assert reconcile().refunded == 1
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUNDED


def test_the_credit_of_left_behind_gifts_runs_every_minute():
    import datetime

    from huey.contrib.djhuey import HUEY

    import fundings.tasks  # noqa: F401  (registers the periodic jobs)

    due = {task.name for task in HUEY.read_periodic(datetime.datetime(2026, 12, 24, 18, 7))}
    assert "credit_left_behind_web_gifts" in due
