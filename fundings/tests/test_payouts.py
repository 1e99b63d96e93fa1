"""Payouts: the author asks (POST /funding/payout), an operator records the transfer."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from fundings.errors import FundingPaidOut, PayoutRefused
from fundings.models import Contribution, Funding, FundingState, Payout
from fundings.services.contributions import refund_contribution_by_operator
from fundings.services.payouts import record_transfer, request_payout
from payments.models import Payment, PaymentState
from tests.factories import AccountFactory, FollowFactory, FundingFactory, credited_contribution
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

BANK = "국민 123456-01-234567"
QUEUE = "/admin/fundings/payout/"


def give(funding, amount, contributor=None) -> Contribution:
    """Money in a funding as the money services leave it: a credited payment behind it."""
    return credited_contribution(funding, contributor, amount, message="축하해!")


def achieved_funding(author=None, goal=50_000) -> Funding:
    funding = FundingFactory(author=author or AccountFactory(bank_account=BANK), goal_amount=goal)
    give(funding, goal)
    Funding.objects.filter(pk=funding.pk).update(state=FundingState.ACHIEVED)
    funding.refresh_from_db()
    return funding


def expired_funding(amount: int, author=None) -> Funding:
    funding = FundingFactory(author=author or AccountFactory(bank_account=BANK))
    if amount:
        give(funding, amount)
    Funding.objects.filter(pk=funding.pk).update(expire_on=timezone.now() - timedelta(minutes=1))
    funding.refresh_from_db()
    return funding


def ask(funding, client=None, **body):
    client = client or client_for(funding.author)
    return client.post("/funding/payout", body or {"id": funding.pk})


@pytest.fixture
def operator():
    return AccountFactory(is_staff=True, is_superuser=True, username="operator")


@pytest.fixture
def admin_browser(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


# --- asking for the payout ---------------------------------------------------------------------


def test_the_author_of_an_achieved_funding_gets_a_payout_of_its_amount():
    funding = achieved_funding()
    response = ask(funding)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["funding"] == funding.pk
    assert body["amount"] == 50_000
    assert body["bank_account"] == BANK
    assert body["transferred_on"] is None
    assert body["requested_on"].endswith("+09:00")
    payout = Payout.objects.get(pk=body["id"])
    assert (payout.funding_id, payout.amount, payout.requested_by_id) == (
        funding.pk,
        50_000,
        funding.author_id,
    )
    # Asking changes nothing about the funding: it is paid out when the transfer is recorded.
    assert Funding.objects.get(pk=funding.pk).status == "achieved"


def test_an_expired_funding_with_money_can_be_paid_out_and_json_string_ids_work():
    funding = expired_funding(12_000)
    response = client_for(funding.author).post(
        "/funding/payout", {"id": str(funding.pk)}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["amount"] == 12_000


def test_a_form_encoded_body_works():
    funding = achieved_funding()
    response = client_for(funding.author).post(
        "/funding/payout", f"id={funding.pk}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201


def test_the_bank_account_is_a_snapshot():
    funding = achieved_funding()
    assert ask(funding).status_code == 201
    funding.author.bank_account = "신한 999"
    funding.author.save()
    assert Payout.objects.get(funding=funding).bank_account == BANK


@pytest.mark.parametrize(
    "make, detail",
    [
        (lambda: FundingFactory(author=AccountFactory(bank_account=BANK)), "still open"),
        (lambda: expired_funding(0), "without any contribution"),
    ],
    ids=["open", "expired-empty"],
)
def test_an_unfinished_funding_is_409(make, detail):
    funding = make()
    response = ask(funding)
    assert response.status_code == 409
    assert detail in response.json()["detail"]
    assert not Payout.objects.exists()


def test_an_open_funding_with_money_is_409():
    funding = FundingFactory(author=AccountFactory(bank_account=BANK))
    give(funding, 30_000)
    assert ask(funding).status_code == 409
    assert not Payout.objects.exists()


def test_a_canceled_funding_is_409():
    funding = achieved_funding()
    Funding.objects.filter(pk=funding.pk).update(state=FundingState.CANCELED)
    response = ask(funding)
    assert response.status_code == 409
    assert "canceled" in response.json()["detail"]
    assert not Payout.objects.exists()


@pytest.mark.parametrize("bank_account", [None, "", "   "])
def test_no_bank_account_is_400(bank_account):
    funding = achieved_funding(author=AccountFactory(bank_account=bank_account))
    response = ask(funding)
    assert response.status_code == 400
    assert "bank account" in response.json()["detail"]
    assert not Payout.objects.exists()


def test_asking_twice_is_409():
    funding = achieved_funding()
    assert ask(funding).status_code == 201
    response = ask(funding)
    assert response.status_code == 409
    assert response.json()["detail"] == "The payout of this funding was already requested."
    assert Payout.objects.count() == 1


def test_only_the_author_may_ask():
    funding = achieved_funding()
    response = ask(funding, client=client_for(AccountFactory(bank_account=BANK)))
    assert response.status_code == 403
    assert not Payout.objects.exists()


def test_a_funding_you_cannot_see_is_404():
    author = AccountFactory(bank_account=BANK)
    funding = achieved_funding(author=author)
    Funding.objects.filter(pk=funding.pk).update(public=False)
    assert ask(funding, client=client_for(AccountFactory())).status_code == 404
    assert ask(funding, client=client_for(AccountFactory()), id=999_999).status_code == 404
    # A friend sees it but is not its author.
    friend = AccountFactory()
    FollowFactory(follower=friend, followee=author)
    FollowFactory(follower=author, followee=friend)
    assert ask(funding, client=client_for(friend)).status_code == 403


@pytest.mark.parametrize("bad", ["", "abc", "0", "-3", "99999999999999999999999"])
def test_a_bad_id_is_400(bad):
    funding = achieved_funding()
    response = ask(funding, id=bad)
    assert response.status_code == 400
    assert "id" in response.json()
    assert not Payout.objects.exists()


def test_asking_needs_a_signed_in_account(api):
    funding = achieved_funding()
    response = api.post("/funding/payout", {"id": funding.pk})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_the_route_is_in_the_openapi_document(api):
    document = api.get("/swagger.json").json()
    operation = document["paths"]["/funding/payout"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "401", "403", "404", "409"}
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    schema = operation["responses"]["201"]["content"]["application/json"]["schema"]
    payout = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert set(payout["properties"]) == {
        "id",
        "funding",
        "amount",
        "bank_account",
        "requested_on",
        "transferred_on",
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_requests_make_one_payout():
    funding = achieved_funding()
    clients = [client_for(funding.author) for _ in range(5)]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def send(client):
        barrier.wait()
        try:
            statuses.append(ask(funding, client=client).status_code)
        finally:
            # Each thread has its own connection: close it, or the test database stays in use.
            connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409, 409]
    assert Payout.objects.count() == 1


# --- recording the transfer (service) ---------------------------------------------------------


def test_recording_marks_the_funding_paid_out(operator):
    funding = achieved_funding()
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    recorded = record_transfer(payout_id=payout.pk, actor=operator, reference="KB 20260101-77")
    assert recorded.transferred_by == operator
    assert recorded.transferred_on is not None
    assert recorded.reference == "KB 20260101-77"
    assert Funding.objects.get(pk=funding.pk).status == "paid_out"
    with pytest.raises(PayoutRefused):
        record_transfer(payout_id=payout.pk, actor=operator, reference="again")
    assert Payout.objects.get(pk=payout.pk).reference == "KB 20260101-77"


def test_recording_refuses_a_funding_canceled_meanwhile(operator):
    funding = achieved_funding()
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    Funding.objects.filter(pk=funding.pk).update(state=FundingState.CANCELED)
    with pytest.raises(PayoutRefused, match="canceled"):
        record_transfer(payout_id=payout.pk, actor=operator, reference="KB 1")
    assert Funding.objects.get(pk=funding.pk).state == FundingState.CANCELED
    assert Payout.objects.get(pk=payout.pk).transferred_on is None


def test_recording_refuses_when_the_amount_changed(operator):
    funding = expired_funding(20_000)
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    Funding.objects.filter(pk=funding.pk).update(current_amount=10_000)
    with pytest.raises(PayoutRefused, match="now holds 10000 KRW"):
        record_transfer(payout_id=payout.pk, actor=operator, reference="KB 1")
    assert Funding.objects.get(pk=funding.pk).state == FundingState.OPEN


# --- the payout queue in the admin --------------------------------------------------------------


def test_the_queue_lists_pending_payouts_first(admin_browser, operator):
    old, new, done = (achieved_funding() for _ in range(3))
    done_payout = request_payout(author=done.author, funding_id=done.pk)
    old_payout = request_payout(author=old.author, funding_id=old.pk)
    new_payout = request_payout(author=new.author, funding_id=new.pk)
    record_transfer(payout_id=done_payout.pk, actor=operator, reference="KB 1")

    page = admin_browser.get(QUEUE)
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [old_payout, new_payout, done_payout]
    html = page.content.decode()
    assert BANK in html and "50000" in html.replace(",", "")
    assert f"/admin/fundings/funding/{old.pk}/change/" in html
    pending = admin_browser.get(QUEUE, {"transfer": "pending"})
    assert list(pending.context["cl"].result_list) == [old_payout, new_payout]


def test_recording_through_the_admin_action(admin_browser, operator):
    funding = achieved_funding()
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    selection = {"action": "record_transfer", "_selected_action": [payout.pk]}

    form = admin_browser.post(QUEUE, selection)
    assert form.status_code == 200
    assert f'name="reference_{payout.pk}"' in form.content.decode()
    assert Payout.objects.get(pk=payout.pk).transferred_on is None

    # Without a reference nothing is recorded.
    again = admin_browser.post(QUEUE, {**selection, "apply": "yes", f"reference_{payout.pk}": ""})
    assert "Give the transfer reference" in again.content.decode()
    assert Payout.objects.get(pk=payout.pk).transferred_on is None

    done = admin_browser.post(
        QUEUE,
        {**selection, "apply": "yes", f"reference_{payout.pk}": "KB 2026-0001"},
        follow=True,
    )
    assert "Recorded as transferred" in done.content.decode()
    payout.refresh_from_db()
    assert payout.transferred_by == operator
    assert payout.reference == "KB 2026-0001"
    assert payout.transferred_on is not None
    assert Funding.objects.get(pk=funding.pk).state == FundingState.PAID_OUT
    # Staff read the funding through the API as paid out.
    detail = client_for(operator).get("/funding/", {"id": funding.pk})
    assert detail.status_code == 200
    assert detail.json()["status"] == "paid_out"


def test_the_admin_says_why_a_transfer_is_not_recorded(admin_browser):
    funding = achieved_funding()
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    Funding.objects.filter(pk=funding.pk).update(state=FundingState.CANCELED)
    response = admin_browser.post(
        QUEUE,
        {
            "action": "record_transfer",
            "_selected_action": [payout.pk],
            "apply": "yes",
            f"reference_{payout.pk}": "KB 9",
        },
        follow=True,
    )
    expected = f"Not recorded: #{payout.pk}: This funding was canceled"
    assert expected in response.content.decode()
    assert Payout.objects.get(pk=payout.pk).transferred_on is None


def test_payouts_are_neither_added_nor_deleted_in_the_admin(admin_browser):
    funding = achieved_funding()
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    assert admin_browser.get(f"{QUEUE}add/").status_code == 403
    assert admin_browser.post(f"{QUEUE}{payout.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Payout.objects.filter(pk=payout.pk).exists()


# --- no refunds after the payout ----------------------------------------------------------------


@pytest.fixture
def paid_out(operator):
    """A funding whose payout was transferred, and one of its contributions."""
    funding = FundingFactory(author=AccountFactory(bank_account=BANK), goal_amount=20_000)
    contributor = AccountFactory()
    contribution = give(funding, 20_000, contributor=contributor)
    Funding.objects.filter(pk=funding.pk).update(state=FundingState.ACHIEVED)
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    record_transfer(payout_id=payout.pk, actor=operator, reference="KB 7")
    return Funding.objects.get(pk=funding.pk), contribution


def test_a_contribution_to_a_paid_out_funding_is_not_refunded(paid_out):
    funding, contribution = paid_out
    response = client_for(contribution.contributor).delete(
        "/remit/", f"id={contribution.pk}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 409
    contribution.refresh_from_db()
    assert contribution.refunded_on is None
    assert Payment.objects.get(pk=contribution.payment_id).state == PaymentState.CREDITED
    assert Funding.objects.get(pk=funding.pk).current_amount == 20_000


def test_a_paid_out_funding_cannot_be_deleted_or_canceled(paid_out):
    funding, contribution = paid_out
    response = client_for(funding.author).delete(
        "/funding/", f"id={funding.pk}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "This funding's money was paid out to its author; it can no longer be canceled."
    )
    funding.refresh_from_db()
    assert funding.state == FundingState.PAID_OUT
    assert funding.current_amount == 20_000
    assert Contribution.objects.get(pk=contribution.pk).refunded_on is None


def test_a_funding_whose_payout_was_asked_for_cannot_be_canceled():
    """Between the request and the transfer an operator may be sending the money right now:
    cancelling (and refunding every contributor) then would pay the same money twice."""
    funding = achieved_funding()
    assert ask(funding).status_code == 201
    response = client_for(funding.author).delete(
        "/funding/", f"id={funding.pk}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 409
    # Not paid out yet: the answer says what is the case.
    assert response.json()["detail"] == (
        "The author has asked for this funding's money; it can no longer be canceled."
    )
    funding.refresh_from_db()
    assert funding.state == FundingState.ACHIEVED
    assert funding.current_amount == 50_000
    assert not Contribution.objects.filter(funding=funding, refunded_on__isnull=False).exists()


def test_no_operator_refund_once_the_payout_was_asked_for_or_transferred(operator):
    funding = achieved_funding()
    contribution = funding.contributions.get()
    payout = request_payout(author=funding.author, funding_id=funding.pk)
    with pytest.raises(FundingPaidOut) as asked:
        refund_contribution_by_operator(contribution=contribution)
    assert asked.value.detail == (
        "The author has asked for this funding's money; its contributions can no longer be "
        "refunded."
    )
    record_transfer(payout_id=payout.pk, actor=operator, reference="KB 8")
    with pytest.raises(FundingPaidOut) as paid:
        refund_contribution_by_operator(contribution=contribution)
    assert paid.value.detail == (
        "This funding's money was paid out to its author; its contributions can no longer be "
        "refunded."
    )
    assert Contribution.objects.get(pk=contribution.pk).refunded_on is None
    assert Funding.objects.get(pk=funding.pk).current_amount == 50_000


def test_a_contributor_refund_after_the_payout_was_asked_for_does_not_say_paid_out():
    funding = expired_funding(10_000)
    contribution = funding.contributions.get()
    assert ask(funding).status_code == 201
    response = client_for(contribution.contributor).delete(
        "/remit/", f"id={contribution.pk}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 409
    assert "paid out" not in response.json()["detail"]
    assert Contribution.objects.get(pk=contribution.pk).refunded_on is None
