"""The operators' funding and contribution pages load, search, filter and guard money."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fundings.models import Funding, FundingState
from tests.factories import AccountFactory, FundingFactory, image_bytes
from tests.helpers import client_for


@pytest.fixture
def admin_client(db) -> Client:
    operator = AccountFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def funding(db, contribute):
    author = AccountFactory(username="gift_owner")
    funding = FundingFactory(author=author, title="Espresso machine")
    response = client_for(author).put(
        "/funding/",
        {
            "id": funding.id,
            "image": SimpleUploadedFile("a.png", image_bytes("PNG"), content_type="image/png"),
        },
    )
    assert response.status_code == 200
    contribute(funding, AccountFactory(username="giver"), 20_000, message="Enjoy")
    funding.refresh_from_db()
    return funding


def test_changelist_with_search_and_thumbnail(admin_client, funding):
    FundingFactory(title="Something else")
    response = admin_client.get("/admin/fundings/funding/", {"q": "Espresso"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Espresso machine" in page
    assert "Something else" not in page
    assert f'<img src="/media/{funding.image.name}"' in page


@pytest.mark.parametrize("term", ["gift_owner", "author-id", "funding-id"])
def test_search_by_author_username_author_id_and_funding_id(admin_client, funding, term):
    FundingFactory(title="Something else", author=AccountFactory(username="someone"))
    term = {"author-id": funding.author_id, "funding-id": str(funding.id)}.get(term, term)
    page = admin_client.get("/admin/fundings/funding/", {"q": term}).content.decode()
    assert "Espresso machine" in page
    assert "Something else" not in page


def test_status_filter_knows_expired(admin_client, funding):
    expired = FundingFactory(title="Too late")
    Funding.objects.filter(pk=expired.pk).update(expire_on=timezone.now() - timedelta(days=1))
    page = admin_client.get("/admin/fundings/funding/", {"status": "expired"}).content.decode()
    assert "Too late" in page
    assert "Espresso machine" not in page
    page = admin_client.get("/admin/fundings/funding/", {"status": "open"}).content.decode()
    assert "Espresso machine" in page
    assert "Too late" not in page


def test_change_page_shows_contributions_and_payments(admin_client, funding):
    response = admin_client.get(f"/admin/fundings/funding/{funding.id}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enjoy" in page  # the contribution inline
    assert "sandbox" in page  # the payment inline
    assert "20000" in page or "20,000" in page


def test_money_fields_cannot_be_changed_from_the_admin(admin_client, funding):
    response = admin_client.post(
        f"/admin/fundings/funding/{funding.id}/change/",
        {
            "title": "Renamed by an operator",
            "content": funding.content,
            "public": "on",
            "expire_on_0": funding.expire_on.date().isoformat(),
            "expire_on_1": "12:00:00",
            "goal_amount": "9999999",
            "current_amount": "9999999",
            "state": FundingState.PAID_OUT,
            "contributions-TOTAL_FORMS": "0",
            "contributions-INITIAL_FORMS": "1",
            "payments-TOTAL_FORMS": "0",
            "payments-INITIAL_FORMS": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    funding.refresh_from_db()
    assert funding.title == "Renamed by an operator"
    assert (funding.goal_amount, funding.current_amount) == (100_000, 20_000)
    assert funding.state == FundingState.OPEN


def test_hide_action(admin_client, funding):
    response = admin_client.post(
        "/admin/fundings/funding/",
        {"action": "hide", "_selected_action": [funding.id]},
    )
    assert response.status_code == 302
    funding.refresh_from_db()
    assert funding.is_hidden is True


def test_contribution_admin_search_and_change_page(admin_client, funding):
    contribution = funding.contributions.get()
    for term in ("Espresso", "giver"):
        response = admin_client.get("/admin/fundings/contribution/", {"q": term})
        assert response.status_code == 200
        assert (
            f"/admin/fundings/contribution/{contribution.id}/change/" in response.content.decode()
        )
    response = admin_client.get(f"/admin/fundings/contribution/{contribution.id}/change/")
    assert response.status_code == 200
    assert 'name="amount"' not in response.content.decode()  # read-only


def test_admin_needs_staff(db, funding):
    client = Client()
    client.force_login(AccountFactory())
    response = client.get("/admin/fundings/funding/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
