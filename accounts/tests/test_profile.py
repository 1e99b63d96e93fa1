"""/account/: read profiles, edit your own, delete your account."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Account, Follow
from accounts.signals import account_deactivating
from tests.factories import AccountFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

PROFILE_KEYS = {"id", "email", "username", "birthday", "image", "follower", "followee"}
MY_PROFILE_KEYS = PROFILE_KEYS | {"bank_account", "birthday_type", "gender", "age_range"}


def follow(client, account_id):
    response = client.post("/follow/", {"id": account_id})
    assert response.status_code == 201, response.content


# --- read ---------------------------------------------------------------------------------


def test_post_answers_my_profile():
    me = AccountFactory(
        email="me@example.com", birthday="0229", bank_account="국민 123-456", gender="male"
    )

    response = client_for(me).post("/account/")

    assert response.status_code == 200
    assert response.json() == {
        "id": me.pk,
        "email": "me@example.com",
        "username": me.username,
        "birthday": "0229",
        "birthday_type": "solar",
        "image": None,
        "follower": 0,
        "followee": 0,
        "bank_account": "국민 123-456",
        "gender": "male",
        "age_range": None,
    }


def test_get_someone_else_hides_private_fields(auth_api):
    other = AccountFactory(email="other@example.com", bank_account="신한 110-123-456789")

    response = auth_api.get("/account/", {"id": other.pk})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PROFILE_KEYS
    assert body["email"] == ""
    assert body["id"] == other.pk


def test_get_myself_answers_my_profile(account, auth_api):
    response = auth_api.get("/account/", {"id": account.pk})

    assert set(response.json()) == MY_PROFILE_KEYS
    assert response.json()["email"] == account.email


def test_profile_counts_followers_and_followees(account, auth_api):
    a, b = AccountFactory(), AccountFactory()
    follow(auth_api, a.pk)
    follow(auth_api, b.pk)
    follow(client_for(a), account.pk)

    mine = auth_api.get("/account/", {"id": account.pk}).json()
    theirs = auth_api.get("/account/", {"id": a.pk}).json()

    assert (mine["follower"], mine["followee"]) == (1, 2)
    assert (theirs["follower"], theirs["followee"]) == (1, 1)


def test_unknown_or_deactivated_accounts_are_404(auth_api):
    gone = AccountFactory(is_active=False)

    assert auth_api.get("/account/", {"id": "no-such-id"}).status_code == 404
    response = auth_api.get("/account/", {"id": gone.pk})
    assert response.status_code == 404
    assert response.json() == {"detail": "No such account."}


def test_get_without_id_is_400(auth_api):
    response = auth_api.get("/account/")
    assert response.status_code == 400
    assert "id" in response.json()


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_account_routes_need_authentication(api, method):
    response = getattr(api, method)("/account/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- edit ---------------------------------------------------------------------------------


def test_put_changes_the_editable_fields(account, auth_api):
    response = auth_api.put(
        "/account/",
        {"username": "  새 이름 ", "birthday": "0229", "bank_account": "국민 123-456-789"},
        format="multipart",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["birthday"], body["bank_account"]) == (
        "새 이름",
        "0229",
        "국민 123-456-789",
    )
    account.refresh_from_db()
    assert account.username == "새 이름"
    assert account.birthday == "0229"


def test_put_ignores_fields_that_are_not_editable(account, auth_api):
    before = Account.objects.get(pk=account.pk)

    response = auth_api.put(
        "/account/",
        {
            "id": "hijack",
            "email": "evil@example.com",
            "is_staff": "true",
            "is_superuser": "true",
            "follower": "999",
            "follower_count": "999",
            "username": "ok",
        },
        format="multipart",
    )

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.pk == before.pk
    assert account.email == before.email
    assert not account.is_staff and not account.is_superuser
    assert account.follower_count == 0
    assert account.username == "ok"


def test_put_with_only_some_fields_keeps_the_others(auth_api):
    auth_api.put("/account/", {"birthday": "1231", "bank_account": "우리 1002-123-456789"})

    response = auth_api.put("/account/", {"username": "only name"}, format="multipart")

    assert response.json()["birthday"] == "1231"
    assert response.json()["bank_account"] == "우리 1002-123-456789"


def test_empty_birthday_and_bank_account_clear_them(account, auth_api):
    auth_api.put("/account/", {"birthday": "0101", "bank_account": "국민 123456789"})

    response = auth_api.put("/account/", {"birthday": "", "bank_account": ""}, format="multipart")

    assert response.status_code == 200
    assert response.json()["birthday"] is None
    assert response.json()["bank_account"] is None


def test_put_accepts_json(auth_api):
    response = auth_api.put("/account/", {"username": "json name"}, format="json")
    assert response.status_code == 200
    assert response.json()["username"] == "json name"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "   "}, "username"),
        ({"username": "가" * 21}, "username"),
        ({"birthday": "0230"}, "birthday"),
        ({"birthday": "1301"}, "birthday"),
        ({"birthday": "229"}, "birthday"),
        ({"birthday": "12-1"}, "birthday"),
        ({"bank_account": "123456789"}, "bank_account"),
        ({"bank_account": "국민"}, "bank_account"),
        ({"bank_account": "국민 12a-456"}, "bank_account"),
        ({"bank_account": "국민 --123456"}, "bank_account"),
        ({"bank_account": "국민 123"}, "bank_account"),
        ({"image_delete": "yes"}, "image_delete"),
    ],
)
def test_invalid_values_are_400_and_change_nothing(account, auth_api, fields, field):
    before = Account.objects.filter(pk=account.pk).values().get()
    # A valid change sent together with the invalid one must not be applied either.
    response = auth_api.put("/account/", {"username": "changed", **fields}, format="multipart")

    assert response.status_code == 400
    assert field in response.json()
    assert response.json()["detail"].startswith(f"{field}: ")
    assert Account.objects.filter(pk=account.pk).values().get() == before


# --- delete -------------------------------------------------------------------------------


def test_delete_deactivates_and_erases_personal_data(account, auth_api):
    account.birthday, account.bank_account, account.gender, account.age_range = (
        "0101",
        "국민 123456",
        "female",
        "20~29",
    )
    account.save()

    response = auth_api.delete("/account/")

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.is_active is False
    assert account.deactivated_on is not None
    assert account.email is None
    assert account.username == "탈퇴한 사용자"
    assert (account.birthday, account.bank_account, account.gender, account.age_range) == (
        None,
        None,
        None,
        None,
    )
    assert not account.has_usable_password()
    # The access token stops working at once.
    after = auth_api.post("/account/")
    assert after.status_code == 401
    assert after["WWW-Authenticate"].startswith("Bearer")
    # Nobody finds the account any more.
    assert client_for(AccountFactory()).get("/account/", {"id": account.pk}).status_code == 404


def test_delete_revokes_every_refresh_token(account):
    first, second = RefreshToken.for_user(account), RefreshToken.for_user(account)
    client = client_for(account)

    assert client.delete("/account/").status_code == 200

    for refresh in (first, second):
        response = APIClient().post("/account/token/refresh", {"refresh": str(refresh)})
        assert response.status_code == 401


def test_delete_removes_follows_both_ways_and_keeps_counters_exact(account, auth_api):
    friend, fan, idol = AccountFactory(), AccountFactory(), AccountFactory()
    follow(auth_api, friend.pk)
    follow(client_for(friend), account.pk)
    follow(client_for(fan), account.pk)
    follow(auth_api, idol.pk)
    follow(client_for(fan), idol.pk)

    assert auth_api.delete("/account/").status_code == 200

    assert not Follow.objects.filter(follower=account).exists()
    assert not Follow.objects.filter(followee=account).exists()
    counts = {
        a.pk: (a.follower_count, a.followee_count)
        for a in Account.objects.filter(pk__in=[friend.pk, fan.pk, idol.pk])
    }
    assert counts == {friend.pk: (0, 0), fan.pk: (0, 1), idol.pk: (1, 0)}
    # The counters agree with the rows that are left.
    for other in Account.objects.filter(pk__in=counts):
        assert other.follower_count == Follow.objects.filter(followee=other).count()
        assert other.followee_count == Follow.objects.filter(follower=other).count()


def test_delete_sends_account_deactivating_inside_its_transaction(
    account, auth_api, django_capture_on_commit_callbacks
):
    """Receivers write in the deactivation's own transaction: both commit, or neither."""
    from django.db import connection

    received = []

    def receiver(sender, account, **kwargs):
        received.append((sender, account.pk, connection.in_atomic_block))

    account_deactivating.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = auth_api.delete("/account/")
    finally:
        account_deactivating.disconnect(receiver)

    assert response.status_code == 200
    assert received == [(Account, account.pk, True)]
    assert Account.objects.get(pk=account.pk).is_active is False


def test_a_failing_receiver_rolls_the_deletion_back(account):
    from accounts.services import deactivate_account

    friend = AccountFactory()
    Follow.objects.create(follower=account, followee=friend)

    def broken(sender, account, **kwargs):
        raise RuntimeError("refunds could not be decided")

    account_deactivating.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            deactivate_account(account=account)
    finally:
        account_deactivating.disconnect(broken)

    account.refresh_from_db()
    assert account.is_active is True
    assert account.email
    assert Follow.objects.filter(follower=account, followee=friend).exists()


def test_no_signal_when_the_deletion_rolls_back(account, django_capture_on_commit_callbacks):
    from accounts.services import deactivate_account

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                deactivate_account(account=account)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass

    assert callbacks == []
    assert Account.objects.get(pk=account.pk).is_active is True
