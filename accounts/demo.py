"""Demo accounts for a fresh local database (`manage.py seed_demo`)."""

from django.db import transaction

from accounts.models import Account
from accounts.services import follow

DEMO_PASSWORD = "funsun-demo-1234"

DEMO_ACCOUNTS = [
    # id, email, username
    ("demo-alice", "alice@funsun.local", "앨리스"),
    ("demo-bob", "bob@funsun.local", "밥"),
    ("demo-carol", "carol@funsun.local", "캐롤"),
    ("demo-dave", "dave@funsun.local", "데이브"),
]

# (follower, followee): alice and bob are friends (mutual), carol follows alice only,
# alice follows dave only.
DEMO_FOLLOWS = [
    ("demo-alice", "demo-bob"),
    ("demo-bob", "demo-alice"),
    ("demo-carol", "demo-alice"),
    ("demo-alice", "demo-dave"),
]


@transaction.atomic
def create_demo_accounts() -> dict[str, Account]:
    accounts = {}
    for account_id, email, username in DEMO_ACCOUNTS:
        accounts[account_id] = Account.objects.create_user(
            id=account_id, email=email, password=DEMO_PASSWORD, username=username
        )
    for follower, followee in DEMO_FOLLOWS:
        # Through the follow service, so the denormalised counters stay exact.
        follow(follower=accounts[follower], followee_id=followee)
    for account in accounts.values():
        account.refresh_from_db(fields=["follower_count", "followee_count"])
    return accounts
