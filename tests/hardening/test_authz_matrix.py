"""Authorization matrix: every write route and every read of a private thing, tried by each
kind of caller, against the answer docs/API.md and docs/PRODUCT.md document.

The callers (tests/hardening/seed.py): `owner` and `friend` follow each other, `stranger`
is followed by the owner but does not follow back (not a friend), `staff` is an operator
with no friends, `deactivated` holds an access token issued before its account was
deleted, `anonymous` sends no token.

Each caller's request runs on the same seeded world (a savepoint rolled back after it).
A refused request (4xx) must answer `{"detail": ...}` and leave every table as it was.

Why removing any one permission check fails this test (the `guards` column names them):
- IsAuthenticated (DRF default permission): the `anonymous` column expects 401; without
  it the view runs as AnonymousUser and answers something else (or fails).
- Inactive accounts refused by the JWT authentication: the `deactivated` column expects 401.
- Visibility (fundings.selectors.visible_fundings): rows on friends-only fundings expect
  404 for `stranger` and `staff`; without the rule they would get 200 or 403.
- Author only (ensure_author, payout's author check): rows where a caller who can see the
  funding is not its author expect 403 (friend, stranger on public fundings, staff).
- Contributor only (_own_contribution): remit rows expect 403 for the funding's author and
  for viewers, 404 for those who cannot see the funding.
- Private profile fields (profile_of): the profile row checks who receives bank_account.
- Payments are the payer's own (store_pg_token by tid): the approve row expects 404 for a
  tid of someone else's payment, and the payment untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Account, Follow
from fundings.models import Contribution, Funding, Payout
from payments.models import Payment
from payments.tests.fixtures import pay
from reports.models import Report
from tests.hardening.seed import World

ACTORS = ("owner", "friend", "stranger", "staff", "deactivated", "anonymous")


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    # The body (or query) for this world; `setup` may prepare more and pass it in.
    body: Callable[[World, Any], dict]
    # Expected status per caller, in ACTORS order.
    expect: tuple[int, int, int, int, int, int]
    guards: str
    format: str = "multipart"
    setup: Callable[[World], Any] | None = None
    # Extra assertions on a caller's answer: check(world, actor, response, context).
    check: Callable[..., None] | None = None
    query: bool = False


def fid(name: str) -> Callable[[World], int]:
    return lambda world: world.fundings[name].pk


def cid(name: str) -> Callable[[World], int]:
    return lambda world: world.contributions[name].pk


def expiry() -> str:
    return (timezone.localtime() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.000")


def owner_ready_payment(world: World) -> dict:
    response = world.client("owner").post("/remit/kakaopay/ready", {"amount": "2000"})
    assert response.status_code == 200, response.content
    return response.json()


def friend_approved_payment(world: World) -> None:
    """The friend paid 1,000 KRW (approved at the provider) and has not credited it yet."""
    pay(world.client("friend"), 1000)


def snapshot() -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "accounts": list(
            Account.objects.order_by("pk").values_list(
                "pk",
                "username",
                "email",
                "birthday",
                "bank_account",
                "image",
                "is_active",
                "is_staff",
                "follower_count",
                "followee_count",
            )
        ),
        "follows": list(Follow.objects.order_by("pk").values_list("follower", "followee")),
        "fundings": list(
            Funding.objects.order_by("pk").values_list(
                "pk", "title", "content", "public", "image", "review", "state", "current_amount"
            )
        ),
        "contributions": list(
            Contribution.objects.order_by("pk").values_list("pk", "message", "refunded_on")
        ),
        "payments": list(
            Payment.objects.order_by("pk").values_list(
                "pk", "state", "pg_token", "funding_payment__funding"
            )
        ),
        "payouts": Payout.objects.count(),
        "reports": Report.objects.count(),
        "revoked": BlacklistedToken.objects.count(),
    }


# --- checks on successful answers ----------------------------------------------------------


def only_own_profile_changes(world, actor, response, context):
    owner = Account.objects.get(pk=world.owner.pk)
    if actor != "owner":
        assert owner.username == "owner"
    if response.status_code == 200:
        assert response.json()["id"] == getattr(world, actor).pk
        me = Account.objects.get(pk=getattr(world, actor).pk)
        # `id` and `email` in the body are ignored: nobody changes them here.
        assert me.email == getattr(world, actor).email


def only_self_is_deactivated(world, actor, response, context):
    if response.status_code == 200:
        assert not Account.objects.get(pk=getattr(world, actor).pk).is_active
    if actor != "owner":
        assert Account.objects.get(pk=world.owner.pk).is_active


def own_follow_only(world, actor, response, context):
    still = Follow.objects.filter(follower=world.owner, followee=world.friend).exists()
    assert still is (actor != "owner")


def private_fields_only_for_oneself(world, actor, response, context):
    if response.status_code != 200:
        return
    profile = response.json()
    if actor == "owner":
        assert profile["bank_account"] == world.owner.bank_account
        assert profile["email"] == world.owner.email
    else:
        for private in ("bank_account", "gender", "age_range"):
            assert private not in profile
        assert profile["email"] == ""


def friends_only_fundings_only_for_friends(world, actor, response, context):
    if response.status_code != 200:
        return
    listed = {item["id"] for item in response.json()}
    private = world.fundings["friend_private"].pk
    assert (private in listed) is (actor in ("owner", "friend"))
    assert world.fundings["friend_public"].pk in listed


def amounts_only_for_contributor_and_author(world, actor, response, context):
    if response.status_code != 200:
        return
    (remit,) = response.json()
    assert remit["id"] == world.contributions["owner_to_friend"].pk
    assert ("amount" in remit) is (actor in ("owner", "friend"))


def pg_token_lands_on_own_payment_only(world, actor, response, context):
    payment = Payment.objects.get(tid=context["tid"])
    assert (payment.pg_token == "pg-token-1") is (actor == "owner")


# --- the matrix -----------------------------------------------------------------------------
#                                               owner friend stranger staff deact anon
ROWS = [
    Row(
        "edit profile (body names the owner)",
        "PUT",
        "/account/",
        lambda w, c: {"username": "renamed", "id": w.owner.pk, "email": "x@example.com"},
        (200, 200, 200, 200, 401, 401),
        "IsAuthenticated; the edited account is request.user, never a body id",
        check=only_own_profile_changes,
    ),
    Row(
        "delete account",
        "DELETE",
        "/account/",
        lambda w, c: {"id": w.owner.pk},
        (200, 200, 200, 200, 401, 401),
        "IsAuthenticated; only request.user is deactivated",
        format="form",
        check=only_self_is_deactivated,
    ),
    Row(
        "read a profile (private fields)",
        "GET",
        "/account/",
        lambda w, c: {"id": w.owner.pk},
        (200, 200, 200, 200, 401, 401),
        "IsAuthenticated; MyProfile only for oneself",
        query=True,
        check=private_fields_only_for_oneself,
    ),
    Row(
        "follow the operator",
        "POST",
        "/follow/",
        lambda w, c: {"id": w.staff.pk},
        (201, 201, 201, 400, 401, 401),
        "IsAuthenticated; no following yourself",
    ),
    Row(
        "unfollow (owner follows friend)",
        "DELETE",
        "/follow/",
        lambda w, c: {"id": w.friend.pk},
        (200, 200, 200, 200, 401, 401),
        "IsAuthenticated; only request.user's own follow is removed",
        format="form",
        check=own_follow_only,
    ),
    Row(
        "read a friends-only funding",
        "GET",
        "/funding/",
        lambda w, c: {"id": fid("owner_private")(w)},
        (200, 200, 404, 404, 401, 401),
        "visibility",
        query=True,
    ),
    Row(
        "open a funding",
        "POST",
        "/funding/",
        lambda w, c: {
            "title": "New gift",
            "content": "",
            "goal_amount": "50000",
            "public": "true",
            "expire_on": expiry(),
        },
        (201, 201, 201, 201, 401, 401),
        "IsAuthenticated",
    ),
    Row(
        "edit a public funding",
        "PUT",
        "/funding/",
        lambda w, c: {"id": fid("owner_public")(w), "title": "Changed"},
        (200, 403, 403, 403, 401, 401),
        "author only",
    ),
    Row(
        "edit a friends-only funding",
        "PUT",
        "/funding/",
        lambda w, c: {"id": fid("owner_private")(w), "title": "Changed"},
        (200, 403, 404, 404, 401, 401),
        "visibility, then author only",
    ),
    Row(
        "delete a public funding",
        "DELETE",
        "/funding/",
        lambda w, c: {"id": fid("owner_public")(w)},
        (200, 403, 403, 403, 401, 401),
        "author only",
        format="form",
    ),
    Row(
        "delete a friends-only funding",
        "DELETE",
        "/funding/",
        lambda w, c: {"id": fid("owner_private")(w)},
        (200, 403, 404, 404, 401, 401),
        "visibility, then author only",
        format="form",
    ),
    Row(
        "post a review",
        "POST",
        "/funding/review",
        lambda w, c: {"id": fid("owner_achieved")(w), "review": "Thank you all!"},
        (200, 403, 403, 403, 401, 401),
        "author only",
    ),
    Row(
        "ask for a payout",
        "POST",
        "/funding/payout",
        lambda w, c: {"id": fid("owner_achieved")(w)},
        (201, 403, 403, 403, 401, 401),
        "author only",
    ),
    Row(
        "ask for the payout of a friends-only funding",
        "POST",
        "/funding/payout",
        lambda w, c: {"id": fid("friend_private")(w)},
        (403, 409, 404, 404, 401, 401),
        "visibility, then author only (the friend's funding is still open: 409)",
    ),
    Row(
        "read contributions of a friends-only funding",
        "GET",
        "/remit/",
        lambda w, c: {"id": fid("friend_private")(w)},
        (200, 200, 404, 404, 401, 404),
        "visibility (anonymous callers: public fundings only; a dead token is 401)",
        query=True,
        check=amounts_only_for_contributor_and_author,
    ),
    Row(
        "edit a contribution message (friends-only funding)",
        "PUT",
        "/remit/",
        lambda w, c: {"id": cid("owner_to_friend")(w), "message": "changed"},
        (200, 403, 404, 404, 401, 401),
        "contributor only; visibility of its funding",
    ),
    Row(
        "edit a contribution message (public funding)",
        "PUT",
        "/remit/",
        lambda w, c: {"id": cid("friend_to_owner")(w), "message": "changed"},
        (403, 200, 403, 403, 401, 401),
        "contributor only",
    ),
    Row(
        "refund a contribution",
        "DELETE",
        "/remit/",
        lambda w, c: {"id": cid("owner_to_friend")(w)},
        (200, 403, 404, 404, 401, 401),
        "contributor only; visibility of its funding",
        format="form",
    ),
    Row(
        "credit the friend's approved payment",
        "POST",
        "/remit/",
        lambda w, c: {"funding": fid("owner_public")(w), "amount": 1000, "message": "hi"},
        (402, 201, 402, 402, 401, 401),
        "IsAuthenticated; only the caller's own approved payments count",
        format="json",
        setup=friend_approved_payment,
    ),
    Row(
        "start a payment",
        "POST",
        "/remit/kakaopay/ready",
        lambda w, c: {"amount": "1000"},
        (200, 200, 200, 200, 401, 401),
        "IsAuthenticated",
    ),
    Row(
        "start a payment bound to a friends-only funding",
        "POST",
        "/remit/kakaopay/ready",
        lambda w, c: {"amount": "1000", "funding": fid("stranger_private")(w)},
        (404, 404, 200, 404, 401, 401),
        "visibility (no existence or amount of a private funding leaks)",
    ),
    Row(
        "hand over a pg_token for someone's payment",
        "POST",
        "/remit/kakaopay/approve",
        lambda w, c: {"pg_token": "pg-token-1", "tid": c["tid"]},
        (200, 404, 404, 404, 401, 401),
        "the payment must be the caller's",
        setup=owner_ready_payment,
        check=pg_token_lands_on_own_payment_only,
    ),
    Row(
        "approve the latest payment",
        "GET",
        "/remit/kakaopay/approve",
        lambda w, c: {},
        (200, 200, 404, 404, 401, 401),
        "only the caller's own payments are approved",
        query=True,
    ),
    Row(
        "report a friends-only funding",
        "POST",
        "/report/",
        lambda w, c: {"type": "funding", "target": str(fid("owner_private")(w)), "message": "x"},
        (201, 201, 400, 400, 401, 401),
        "IsAuthenticated; visibility of the target",
        format="json",
    ),
    Row(
        "revoke the owner's refresh token",
        "POST",
        "/account/logout",
        lambda w, c: {"refresh": c},
        (200, 400, 400, 400, 401, 401),
        "a refresh token is revoked by its own account only",
        setup=lambda w: str(RefreshToken.for_user(w.owner)),
    ),
    Row(
        "list one account's fundings",
        "GET",
        "/funding/user",
        lambda w, c: {"id": w.friend.pk},
        (200, 200, 200, 200, 401, 401),
        "visibility inside a list",
        query=True,
        check=friends_only_fundings_only_for_friends,
    ),
]


def send(client, row: Row, data: dict):
    call = getattr(client, row.method.lower())
    if row.query:
        return call(row.path, data)
    if row.format == "form" or row.method == "DELETE":
        # The app sends DELETE with a form-encoded body.
        return call(row.path, urlencode(data), content_type="application/x-www-form-urlencoded")
    return call(row.path, data, format=row.format)


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_caller_gets_the_documented_answer(world, row):
    outcomes = {}
    for actor, expected in zip(ACTORS, row.expect, strict=True):
        with transaction.atomic():
            context = row.setup(world) if row.setup else None
            before = snapshot()
            response = send(world.client(actor), row, row.body(world, context))
            outcomes[actor] = response.status_code
            if response.status_code == expected and expected >= 400:
                assert isinstance(response.json().get("detail"), str), (actor, response.content)
                assert snapshot() == before, f"{actor}: refused, yet something changed"
            if response.status_code == expected and row.check:
                row.check(world, actor, response, context)
            transaction.set_rollback(True)
    assert outcomes == dict(zip(ACTORS, row.expect, strict=True)), row.guards
