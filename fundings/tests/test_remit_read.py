"""GET /remit/ (a funding's contributions) and PUT /remit/ (edit your message)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from fundings.models import Contribution
from tests.factories import AccountFactory, FollowFactory, FundingFactory
from tests.helpers import client_for, warm

pytestmark = pytest.mark.django_db


def friends(a, b):
    FollowFactory(follower=a, followee=b)
    FollowFactory(follower=b, followee=a)


def test_anonymous_reads_a_public_fundings_contributions_without_amounts(contribute):
    funding = FundingFactory(goal_amount=1_000_000)
    giver = AccountFactory()
    contribution = contribute(funding, giver, 12_000, message="축하해요")
    response = APIClient().get("/remit/", {"id": funding.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [item] = response.json()
    assert item == {
        "id": contribution.pk,
        "message": "축하해요",
        "author": {"id": giver.id, "username": giver.username, "image": None},
        "created_on": timezone.localtime(contribution.created_on).isoformat(),
    }
    assert item["created_on"].endswith("+09:00")


def test_amounts_only_for_the_contributor_and_the_author(contribute):
    funding = FundingFactory(goal_amount=1_000_000)
    mine_giver, other_giver, stranger = AccountFactory(), AccountFactory(), AccountFactory()
    older = contribute(funding, other_giver, 20_000, created_on=timezone.now() - timedelta(1))
    mine = contribute(funding, mine_giver, 10_000)

    as_author = client_for(funding.author).get("/remit/", {"id": funding.pk}).json()
    assert [(i["id"], i["amount"]) for i in as_author] == [(mine.pk, 10_000), (older.pk, 20_000)]

    as_giver = client_for(mine_giver).get("/remit/", {"id": funding.pk}).json()
    assert as_giver[0]["amount"] == 10_000
    assert "amount" not in as_giver[1]

    as_stranger = client_for(stranger).get("/remit/", {"id": funding.pk}).json()
    assert all("amount" not in item for item in as_stranger)


def test_friends_only_funding_contributions_follow_the_funding_visibility(contribute):
    funding = FundingFactory(public=False, goal_amount=1_000_000)
    friend, stranger = AccountFactory(), AccountFactory()
    friends(funding.author, friend)
    contribute(funding, friend, 10_000)
    assert APIClient().get("/remit/", {"id": funding.pk}).status_code == 404
    assert client_for(stranger).get("/remit/", {"id": funding.pk}).status_code == 404
    assert client_for(friend).get("/remit/", {"id": funding.pk}).status_code == 200
    assert client_for(funding.author).get("/remit/", {"id": funding.pk}).status_code == 200


def test_hidden_funding_contributions_are_404():
    funding = FundingFactory(is_hidden=True)
    assert APIClient().get("/remit/", {"id": funding.pk}).status_code == 404


def test_unknown_and_bad_ids():
    assert APIClient().get("/remit/", {"id": 987654}).status_code == 404
    assert APIClient().get("/remit/", {"id": "abc"}).status_code == 400
    assert APIClient().get("/remit/").status_code == 400


def test_refunded_contributions_are_not_listed(contribute):
    funding = FundingFactory(goal_amount=1_000_000)
    contribute(funding, AccountFactory(), refunded=True)
    kept = contribute(funding, AccountFactory())
    assert [i["id"] for i in APIClient().get("/remit/", {"id": funding.pk}).json()] == [kept.pk]


def test_pages_of_eight_newest_first_then_204(contribute):
    funding = FundingFactory(goal_amount=10_000_000)
    now = timezone.now()
    made = [
        contribute(funding, AccountFactory(), 1_000, created_on=now - timedelta(minutes=i))
        for i in range(10)
    ]
    client = APIClient()
    first = client.get("/remit/", {"id": funding.pk}).json()
    second = client.get("/remit/", {"id": funding.pk, "page": 2}).json()
    assert [i["id"] for i in first] == [c.pk for c in made[:8]]
    assert [i["id"] for i in second] == [c.pk for c in made[8:]]
    past = client.get("/remit/", {"id": funding.pk, "page": 3})
    assert past.status_code == 204
    assert past.content == b""
    assert [i["id"] for i in client.get("/remit/", {"id": funding.pk, "page": "x"}).json()] == [
        c.pk for c in made[:8]
    ]


@pytest.mark.parametrize("rows", [1, 8, 12])
def test_query_count_does_not_grow_with_the_page(django_assert_num_queries, rows, contribute):
    funding = FundingFactory(goal_amount=10_000_000)
    viewer = AccountFactory()
    for _ in range(rows):
        contribute(funding, AccountFactory(), 1_000)
    anonymous, signed_in = APIClient(), client_for(viewer)
    with django_assert_num_queries(2):  # the funding (may the caller see it?), the page
        assert anonymous.get("/remit/", {"id": funding.pk}).status_code == 200
    with django_assert_num_queries(3):  # + the account behind the token, on its first request
        assert signed_in.get("/remit/", {"id": funding.pk}).status_code == 200
    with django_assert_num_queries(2):  # then from the cache; an empty page: the same
        response = signed_in.get("/remit/", {"id": funding.pk, "page": 99})
    assert response.status_code == 204
    friends_only = FundingFactory(public=False)
    FollowFactory(follower=viewer, followee=friends_only.author)
    FollowFactory(follower=friends_only.author, followee=viewer)
    contribute(friends_only, viewer, 1_000)
    stranger = warm(client_for(AccountFactory()))
    with django_assert_num_queries(3):  # a friends-only funding: + the friendship
        assert signed_in.get("/remit/", {"id": friends_only.pk}).status_code == 200
    with django_assert_num_queries(2):  # a stranger: no friendship, 404, no page read
        assert stranger.get("/remit/", {"id": friends_only.pk}).status_code == 404


# --- PUT /remit/ ---------------------------------------------------------------------------


def test_contributor_edits_their_message(contribute):
    funding = FundingFactory(goal_amount=1_000_000)
    giver = AccountFactory()
    contribution = contribute(funding, giver, 10_000)
    response = client_for(giver).put("/remit/", {"id": contribution.pk, "message": "고쳤어요"})
    assert response.status_code == 200
    assert response.json()["message"] == "고쳤어요"
    assert response.json()["amount"] == 10_000
    assert Contribution.objects.get(pk=contribution.pk).message == "고쳤어요"
    as_json = client_for(giver).put(
        "/remit/", {"id": str(contribution.pk), "message": "again"}, format="json"
    )
    assert as_json.status_code == 200


def test_others_cannot_edit(contribute):
    funding = FundingFactory(goal_amount=1_000_000)
    contribution = contribute(funding, AccountFactory(), 10_000)
    response = client_for(funding.author).put("/remit/", {"id": contribution.pk, "message": "x"})
    assert response.status_code == 403
    private = FundingFactory(public=False, goal_amount=1_000_000)
    hidden = contribute(private, AccountFactory(), 10_000)
    stranger = client_for(AccountFactory())
    assert stranger.put("/remit/", {"id": hidden.pk, "message": "x"}).status_code == 404
    assert stranger.put("/remit/", {"id": 987654, "message": "x"}).status_code == 404
    assert Contribution.objects.get(pk=contribution.pk).message == "Happy birthday!"


@pytest.mark.parametrize(
    "data", [{"message": "x"}, {"id": "abc", "message": "x"}, {"id": 1, "message": "x" * 256}]
)
def test_bad_edits_are_400(data, contribute):
    funding = FundingFactory(goal_amount=1_000_000)
    giver = AccountFactory()
    contribution = contribute(funding, giver)
    if data.get("id") == 1:
        data["id"] = contribution.pk
    assert client_for(giver).put("/remit/", data, format="json").status_code == 400


def test_refunded_contribution_cannot_be_edited(contribute):
    funding = FundingFactory(goal_amount=1_000_000)
    giver = AccountFactory()
    contribution = contribute(funding, giver, refunded=True)
    response = client_for(giver).put("/remit/", {"id": contribution.pk, "message": "x"})
    assert response.status_code == 409


def test_edit_needs_a_token(api):
    assert api.put("/remit/", {"id": 1, "message": "x"}).status_code == 401
    assert (
        api.delete("/remit/", "id=1", content_type="application/x-www-form-urlencoded").status_code
        == 401
    )
