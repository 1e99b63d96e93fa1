"""The operators' admin for accounts and follows, and createsuperuser."""

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Account, Follow
from tests.factories import AccountFactory, image_bytes
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    superuser = Account.objects.create_superuser(
        email="root@example.com", password="admin-pass-1234", username="root"
    )
    client = Client()
    client.force_login(superuser)
    return client


def test_createsuperuser_without_input(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-good-admin-pass-42")

    call_command(
        "createsuperuser", email="admin@x.com", username="admin", interactive=False, verbosity=0
    )

    admin = Account.objects.get(email="admin@x.com")
    assert admin.is_superuser and admin.is_staff and admin.is_active
    assert admin.username == "admin"
    assert admin.check_password("a-good-admin-pass-42")
    assert not admin.pk.isdigit()  # a local id, never one a Kakao user could have
    login = Client().post(
        "/admin/login/", {"username": "admin@x.com", "password": "a-good-admin-pass-42"}
    )
    assert login.status_code == 302


def test_changelist_searches_by_id_username_and_email(admin_client):
    kim = AccountFactory(username="김민수", email="minsu@example.com")
    AccountFactory(username="someone else")

    for query in (kim.pk, "민수", "minsu@"):
        response = admin_client.get("/admin/accounts/account/", {"q": query})
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1, query
        assert kim.username in response.content.decode()


def test_changelist_filters_and_shows_thumbnails(admin_client):
    with_image = AccountFactory(username="has picture")
    client_for(with_image).put("/account/", {"image": _upload()}, format="multipart")
    AccountFactory(username="inactive one", is_active=False)

    response = admin_client.get("/admin/accounts/account/", {"is_active__exact": "0"})
    assert response.context["cl"].result_count == 1
    page = admin_client.get("/admin/accounts/account/").content.decode()
    with_image.refresh_from_db()
    assert f'<img src="{with_image.image.url}"' in page


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("a.png", image_bytes("PNG"), content_type="image/png")


def test_change_page_loads_without_the_password_hash(admin_client):
    account = AccountFactory()

    response = admin_client.get(f"/admin/accounts/account/{account.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert account.password not in page
    assert account.password.split("$")[0] + "$" not in page  # not even the algorithm line
    assert 'name="password"' not in page
    assert "../password/" in page
    form = response.context["adminform"].form
    assert "password" not in form.fields
    assert "follower_count" not in form.fields  # counters are read-only


def test_a_superuser_sets_a_password_on_the_separate_form(admin_client):
    account = AccountFactory()

    page = admin_client.get(f"/admin/accounts/account/{account.pk}/password/")
    response = admin_client.post(
        f"/admin/accounts/account/{account.pk}/password/",
        {"password1": "fresh-pass-9876", "password2": "fresh-pass-9876"},
    )

    assert page.status_code == 200
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.check_password("fresh-pass-9876")


def test_editing_an_account_keeps_counters_and_lowercases_email(admin_client):
    account = AccountFactory()
    fan = AccountFactory()
    client_for(fan).post("/follow/", {"id": account.pk})
    page = admin_client.get(f"/admin/accounts/account/{account.pk}/change/")
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and key not in ("groups", "user_permissions", "image")
    }
    data.update(email="Changed@Example.COM", username="renamed", follower_count="99")

    response = admin_client.post(f"/admin/accounts/account/{account.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.email == "changed@example.com"
    assert account.username == "renamed"
    assert account.follower_count == 1


def test_add_page_creates_a_local_account(admin_client):
    response = admin_client.post(
        "/admin/accounts/account/add/",
        {
            "email": "Staff@Example.com",
            "username": "staff",
            "usable_password": "true",
            "password1": "staff-pass-5678",
            "password2": "staff-pass-5678",
        },
    )

    assert response.status_code == 302
    created = Account.objects.get(email="staff@example.com")
    assert created.check_password("staff-pass-5678")


def test_deactivate_action_uses_the_deactivation_service(admin_client):
    account, other = AccountFactory(), AccountFactory()
    client_for(account).post("/follow/", {"id": other.pk})

    response = admin_client.post(
        "/admin/accounts/account/",
        {"action": "deactivate_accounts", "_selected_action": [account.pk]},
    )

    assert response.status_code == 302
    account.refresh_from_db()
    other.refresh_from_db()
    assert account.is_active is False and account.email is None
    assert other.follower_count == 0
    assert not Follow.objects.exists()


def test_follow_admin_lists_and_deleting_keeps_counters(admin_client):
    a, b = AccountFactory(username="alpha"), AccountFactory(username="beta")
    client_for(a).post("/follow/", {"id": b.pk})
    row = Follow.objects.get()

    listing = admin_client.get("/admin/accounts/follow/", {"q": "alpha"})
    change = admin_client.get(f"/admin/accounts/follow/{row.pk}/change/")
    deleted = admin_client.post(f"/admin/accounts/follow/{row.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    assert change.status_code == 200
    assert deleted.status_code == 302
    assert not Follow.objects.exists()
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.followee_count, b.follower_count) == (0, 0)


def test_admin_needs_staff():
    client = Client()
    client.force_login(AccountFactory())
    response = client.get("/admin/accounts/account/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
