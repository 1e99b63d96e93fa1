"""GET, PUT and DELETE /funding/ and POST /funding/review: the author's own funding."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fundings.models import Contribution, Funding, FundingState
from fundings.tests.conftest import stored_files
from tests.factories import AccountFactory, FollowFactory, FundingFactory, image_bytes
from tests.helpers import client_for


def upload(fmt: str = "PNG", name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(fmt, (12, 12)), content_type="image/png")


def form_delete(client, funding_id):
    return client.delete(
        "/funding/", f"id={funding_id}", content_type="application/x-www-form-urlencoded"
    )


@pytest.fixture
def author(db):
    return AccountFactory()


@pytest.fixture
def funding(author):
    return FundingFactory(author=author, title="Camera", content="A film camera.")


@pytest.fixture
def with_image(author, funding):
    """The funding with an image uploaded through the API, as the app does it."""
    response = client_for(author).put("/funding/", {"id": funding.id, "image": upload()})
    assert response.status_code == 200, response.json()
    funding.refresh_from_db()
    assert stored_files() == [funding.image.name]
    return funding


# --- GET ----------------------------------------------------------------------------------


def test_detail_of_a_visible_funding(author, funding):
    viewer = AccountFactory()
    response = client_for(viewer).get("/funding/", {"id": funding.id})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "title",
        "content",
        "goal_amount",
        "current_amount",
        "image",
        "expire_on",
        "created_on",
        "public",
        "author",
        "review",
        "review_image",
        "status",
        "share_url",
    }
    assert body["id"] == funding.id
    assert body["author"]["id"] == author.id


@pytest.mark.parametrize("raw_id", [None, "", "abc", "1.5", "0", "-3", "99999999999999999999"])
def test_detail_with_a_missing_or_bad_id_is_400(author, funding, raw_id):
    params = {} if raw_id is None else {"id": raw_id}
    response = client_for(author).get("/funding/", params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("id:")


def test_detail_of_an_unknown_funding_is_404(author, funding):
    response = client_for(author).get("/funding/", {"id": funding.id + 1000})
    assert response.status_code == 404
    assert response.json() == {"detail": "Funding not found."}


def test_detail_of_a_canceled_funding_is_still_readable(author):
    funding = FundingFactory(author=author, state=FundingState.CANCELED)
    response = client_for(author).get("/funding/", {"id": funding.id})
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"


def test_status_is_derived_from_the_expiry(author):
    funding = FundingFactory(author=author)
    Funding.objects.filter(pk=funding.pk).update(expire_on=timezone.now() - timedelta(seconds=1))
    response = client_for(author).get("/funding/", {"id": funding.id})
    assert response.json()["status"] == "expired"


def test_detail_uses_two_queries(author, funding, django_assert_num_queries):
    client = client_for(author)
    with django_assert_num_queries(2):  # the account of the token, the funding with author
        response = client.get("/funding/", {"id": funding.id})
    assert response.status_code == 200


# --- PUT ----------------------------------------------------------------------------------


def test_author_edits_text_and_visibility(author, funding):
    response = client_for(author).put(
        "/funding/", {"id": str(funding.id), "title": "새 카메라", "public": "false"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"] == "새 카메라"
    assert body["public"] is False
    assert body["content"] == "A film camera."  # not sent: kept
    funding.refresh_from_db()
    assert (funding.title, funding.public, funding.content) == (
        "새 카메라",
        False,
        "A film camera.",
    )


def test_edit_ignores_money_expiry_author_and_state(author, funding):
    other = AccountFactory()
    expire_on = funding.expire_on
    response = client_for(author).put(
        "/funding/",
        {
            "id": funding.id,
            "title": "Still mine",
            "goal_amount": "9000000",
            "current_amount": "5000",
            "expire_on": (timezone.now() + timedelta(days=200)).isoformat(),
            "author": other.id,
            "state": "paid_out",
        },
    )
    assert response.status_code == 200
    funding.refresh_from_db()
    assert funding.title == "Still mine"
    assert funding.goal_amount == 100_000
    assert funding.current_amount == 0
    assert funding.expire_on == expire_on
    assert funding.author_id == author.id
    assert funding.state == FundingState.OPEN
    assert response.json()["goal_amount"] == 100_000


def test_edit_keeps_money_written_meanwhile(author, funding, contribute):
    """The edit writes only its own columns, never a stale copy of the amounts."""
    contribute(funding, AccountFactory(), 20_000)
    response = client_for(author).put("/funding/", {"id": funding.id, "content": "updated"})
    assert response.json()["current_amount"] == 20_000
    funding.refresh_from_db()
    assert funding.current_amount == 20_000


def test_edit_by_json(author, funding):
    response = client_for(author).put(
        "/funding/", {"id": funding.id, "public": False, "content": ""}, format="json"
    )
    assert response.status_code == 200
    funding.refresh_from_db()
    assert funding.public is False
    assert funding.content == ""


@pytest.mark.parametrize(
    "changes",
    [{"title": ""}, {"title": "x" * 51}, {"public": "maybe"}, {"content": "x" * 2001}],
)
def test_bad_edit_is_400_and_changes_nothing(author, funding, changes):
    response = client_for(author).put("/funding/", {"id": funding.id, **changes})
    assert response.status_code == 400
    field = next(iter(changes))
    assert field in response.json()
    funding.refresh_from_db()
    assert (funding.title, funding.content, funding.public) == ("Camera", "A film camera.", True)


def test_non_author_who_sees_it_gets_403(funding):
    response = client_for(AccountFactory()).put("/funding/", {"id": funding.id, "title": "Mine!"})
    assert response.status_code == 403
    funding.refresh_from_db()
    assert funding.title == "Camera"


def test_non_author_who_cannot_see_it_gets_404(author):
    funding = FundingFactory(author=author, public=False)
    response = client_for(AccountFactory()).put("/funding/", {"id": funding.id, "title": "Mine!"})
    assert response.status_code == 404
    funding.refresh_from_db()
    assert funding.title != "Mine!"


def test_friend_of_the_author_editing_a_friends_only_funding_gets_403(author):
    friend = AccountFactory()
    FollowFactory(follower=author, followee=friend)
    FollowFactory(follower=friend, followee=author)
    funding = FundingFactory(author=author, public=False)
    response = client_for(friend).put("/funding/", {"id": funding.id, "title": "Mine!"})
    assert response.status_code == 403


def test_edit_unauthenticated_is_401(api, funding):
    response = api.put("/funding/", {"id": funding.id, "title": "Mine!"})
    assert response.status_code == 401
    funding.refresh_from_db()
    assert funding.title == "Camera"


def test_edit_without_id_is_400(author, funding):
    response = client_for(author).put("/funding/", {"title": "x"})
    assert response.status_code == 400
    assert "id" in response.json()


def test_replacing_the_image_deletes_the_old_file(
    author, with_image, django_capture_on_commit_callbacks
):
    old = with_image.image.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(author).put(
            "/funding/", {"id": with_image.id, "image": upload("JPEG", "new.jpg")}
        )
    assert response.status_code == 200
    with_image.refresh_from_db()
    assert with_image.image.name != old
    assert with_image.image.name.endswith(".jpg")
    assert response.json()["image"] == f"/media/{with_image.image.name}"
    assert stored_files() == [with_image.image.name]


def test_image_delete_removes_image_and_file(
    author, with_image, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(author).put(
            "/funding/", {"id": with_image.id, "image_delete": "delete"}
        )
    assert response.status_code == 200
    assert response.json()["image"] is None
    assert stored_files() == []


def test_empty_image_delete_keeps_the_image(author, with_image):
    response = client_for(author).put(
        "/funding/", {"id": with_image.id, "image_delete": "", "title": "t"}
    )
    assert response.status_code == 200
    assert response.json()["image"] == f"/media/{with_image.image.name}"
    assert stored_files() == [with_image.image.name]


def test_bad_image_in_an_edit_changes_nothing_and_stores_nothing(author, with_image):
    old = with_image.image.name
    response = client_for(author).put(
        "/funding/",
        {
            "id": with_image.id,
            "title": "New title",
            "review_image": upload(),
            "image": SimpleUploadedFile("x.gif", b"GIF89a broken", content_type="image/gif"),
        },
    )
    assert response.status_code == 400
    assert "image" in response.json()
    with_image.refresh_from_db()
    assert with_image.title == "Camera"
    assert with_image.image.name == old
    assert stored_files() == [old]


# --- reviews --------------------------------------------------------------------------------


def test_review_through_put_as_the_app_does(author, funding):
    response = client_for(author).put(
        "/funding/", {"id": funding.id, "review": "고마워요!", "review_image": upload()}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["review"] == "고마워요!"
    assert body["review_image"].startswith("/media/review/")
    funding.refresh_from_db()
    assert stored_files() == [funding.review_image.name]


def test_review_route(author, funding, django_capture_on_commit_callbacks):
    client = client_for(author)
    response = client.post(
        "/funding/review", {"id": funding.id, "review": "Thanks all", "review_image": upload()}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["review"] == "Thanks all"
    funding.refresh_from_db()
    first = funding.review_image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/funding/review",
            {"id": funding.id, "review": "Edited", "review_image_delete": "delete"},
        )
    assert response.status_code == 200
    assert response.json()["review"] == "Edited"
    assert response.json()["review_image"] is None
    assert first
    assert stored_files() == []


@pytest.mark.parametrize("review", ["", "x" * 2001])
def test_review_route_refuses_an_empty_or_long_review(author, funding, review):
    response = client_for(author).post("/funding/review", {"id": funding.id, "review": review})
    assert response.status_code == 400
    funding.refresh_from_db()
    assert funding.review is None


def test_review_by_someone_else_is_403(funding):
    response = client_for(AccountFactory()).post(
        "/funding/review", {"id": funding.id, "review": "fake"}
    )
    assert response.status_code == 403
    funding.refresh_from_db()
    assert funding.review is None


# --- DELETE ---------------------------------------------------------------------------------


def test_delete_without_contributions_removes_funding_and_files(
    author, with_image, django_capture_on_commit_callbacks
):
    client_for(author).put("/funding/", {"id": with_image.id, "review_image": upload()})
    assert len(stored_files()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = form_delete(client_for(author), with_image.id)
    assert response.status_code == 200
    assert response.json() == {"detail": "deleted"}
    assert not Funding.objects.filter(pk=with_image.pk).exists()
    assert stored_files() == []


def test_delete_with_id_as_json(author, funding):
    response = client_for(author).delete("/funding/", {"id": funding.id}, format="json")
    assert response.status_code == 200
    assert not Funding.objects.filter(pk=funding.pk).exists()


def test_delete_with_contributions_goes_to_cancellation(author, funding, contribute):
    """cancel_funding (the money code) decides; until refunds exist it answers 409."""
    contribution = contribute(funding, AccountFactory(), 10_000)
    response = form_delete(client_for(author), funding.id)
    funding.refresh_from_db()  # never deleted while money points at it
    contribution.refresh_from_db()
    if response.status_code == 409:
        assert funding.current_amount == 10_000
        assert contribution.refunded_on is None
    else:
        assert response.status_code == 200
        assert response.json() == {"detail": "canceled"}
        assert funding.state == FundingState.CANCELED
        assert funding.current_amount == 0
        assert contribution.refunded_on is not None
        # Still readable by its author, gone from the feeds.
        client = client_for(author)
        assert client.get("/funding/", {"id": funding.id}).json()["status"] == "canceled"
        assert client.get("/funding/user", {"id": author.id}).status_code == 204


def test_delete_with_only_refunded_contributions_keeps_the_row(author, funding, contribute):
    contribute(funding, AccountFactory(), 10_000, refunded=True)
    response = form_delete(client_for(author), funding.id)
    assert response.status_code in (200, 409)
    assert Funding.objects.filter(pk=funding.pk).exists()
    assert Contribution.objects.count() == 1


def test_delete_by_someone_else(author, funding):
    assert form_delete(client_for(AccountFactory()), funding.id).status_code == 403
    hidden = FundingFactory(author=author, public=False)
    assert form_delete(client_for(AccountFactory()), hidden.id).status_code == 404
    assert Funding.objects.filter(pk__in=[funding.pk, hidden.pk]).count() == 2


def test_delete_unauthenticated_and_without_id(api, author, funding):
    response = api.delete(
        "/funding/", f"id={funding.id}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 401
    response = client_for(author).delete(
        "/funding/", "", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert Funding.objects.filter(pk=funding.pk).exists()
