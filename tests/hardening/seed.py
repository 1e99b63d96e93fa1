"""A small seeded world for the hardening and fuzzing tests, built through the API.

Accounts: `owner` (the account whose token the tests use), `friend` (mutual follow with the
owner), `stranger` (the owner follows them, not back), `staff`, and a deactivated account.
Fundings: public and friends-only ones of the owner and of the friend, a public one of the
stranger, and an achieved funding of the owner (payable). Money: the owner's credited
contribution to the friend's friends-only funding (sandbox payment journey through HTTP),
and the friend's contribution that closes the owner's achieved funding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from fundings.models import Contribution, Funding
from payments.tests.fixtures import pay
from tests.factories import AccountFactory, FundingFactory
from tests.helpers import client_for

BANK_ACCOUNT = "국민 123-456-789012"


@dataclass
class World:
    owner: Account
    friend: Account
    stranger: Account
    staff: Account
    deactivated: Account
    fundings: dict[str, Funding] = field(default_factory=dict)
    contributions: dict[str, Contribution] = field(default_factory=dict)
    # An access token the deactivated account held before it was deactivated.
    deactivated_token: str = ""

    def client(self, who: str) -> APIClient:
        """An API client signed in as one of the seeded accounts ("anonymous": no token)."""
        if who == "anonymous":
            return APIClient()
        if who == "deactivated":
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.deactivated_token}")
            return client
        return client_for(getattr(self, who))


def follow(client: APIClient, account: Account) -> None:
    response = client.post("/follow/", {"id": account.pk})
    assert response.status_code == 201, response.content


def credit(client: APIClient, funding: Funding, amount: int, message: str) -> Contribution:
    """The app's whole journey on the sandbox provider: ready, pay, approve, remit."""
    pay(client, amount, funding=str(funding.pk))
    response = client.post(
        "/remit/",
        {"funding": funding.pk, "amount": amount, "message": message},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Contribution.objects.get(pk=response.json()["id"])


def seed_world() -> World:
    """Needs the database and the sandbox payment provider (the default)."""
    world = World(
        owner=AccountFactory(username="owner", bank_account=BANK_ACCOUNT, birthday="0229"),
        friend=AccountFactory(username="friend", bank_account="신한 110-222-333333"),
        stranger=AccountFactory(username="stranger"),
        staff=AccountFactory(username="operator", is_staff=True, is_superuser=True),
        deactivated=AccountFactory(username="gone"),
    )
    owner, friend = world.client("owner"), world.client("friend")
    follow(owner, world.friend)
    follow(friend, world.owner)
    follow(owner, world.stranger)

    later = timezone.now() + timedelta(days=30)
    world.fundings = {
        "owner_public": FundingFactory(author=world.owner, public=True, expire_on=later),
        "owner_private": FundingFactory(author=world.owner, public=False, expire_on=later),
        "owner_achieved": FundingFactory(
            author=world.owner, public=True, goal_amount=5_000, expire_on=later
        ),
        "friend_public": FundingFactory(author=world.friend, public=True, expire_on=later),
        "friend_private": FundingFactory(author=world.friend, public=False, expire_on=later),
        "stranger_public": FundingFactory(author=world.stranger, public=True, expire_on=later),
        "stranger_private": FundingFactory(author=world.stranger, public=False, expire_on=later),
    }
    world.contributions = {
        "owner_to_friend": credit(owner, world.fundings["friend_private"], 10_000, "생일 축하해"),
        "friend_to_owner": credit(friend, world.fundings["owner_achieved"], 5_000, "다 채웠다"),
    }
    gone = client_for(world.deactivated)
    world.deactivated_token = gone._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert gone.delete("/account/").status_code == 200
    for funding in world.fundings.values():
        funding.refresh_from_db()
    world.deactivated.refresh_from_db()
    return world
