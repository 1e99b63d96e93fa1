"""Domain events of the apps below (accounts.signals, fundings.signals) become notifications.

Each receiver runs inside the transaction that decided the event, so a notification commits
with its event or not at all (a crash right after the commit loses none, a rollback leaves
none); the pushes are enqueued when it commits. A receiver may run again for the same event
(a replay): notify() creates each notification once. A receiver that fails is rolled back
to its savepoint and logged rather than fail the event: a notification is not worth the
money's decision or a 500.
"""

import functools
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from accounts.models import Account
from accounts.signals import followed
from fundings import signals
from fundings.models import Contribution, Funding, Payout
from fundings.selectors import friend_ids, viewers_among
from notifications.kinds import Kind
from notifications.services import notify_all

logger = logging.getLogger(__name__)


def _quietly(handler):
    @functools.wraps(handler)
    def wrapper(sender, **kwargs):
        if not settings.NOTIFICATIONS_ENABLED:
            return  # switched off: not even the event's rows are read
        try:
            with transaction.atomic():
                handler(**kwargs)
        except Exception:
            logger.exception("notifications: %s failed for %s", handler.__name__, kwargs)

    return wrapper


def _contributors(funding_id: int, *, except_id: str) -> list[str]:
    """Who holds a credited, not refunded contribution to the funding (not its author)."""
    rows = Contribution.objects.filter(funding_id=funding_id, refunded_on__isnull=True)
    return sorted(
        set(rows.exclude(contributor_id=except_id).values_list("contributor_id", flat=True))
    )


@receiver(signals.contribution_credited, dispatch_uid="notifications.contribution")
@_quietly
def on_contribution_credited(contribution, **kwargs):
    row = contribution  # the event's own row: nothing to read again
    if row.contributor_id == row.funding.author_id:
        return
    notify_all(
        [row.funding.author_id],
        kind=Kind.CONTRIBUTION,
        event_key=f"contribution:{row.pk}",
        actor_id=row.contributor_id,
        funding_id=row.funding_id,
        data={"amount": row.amount, "message": row.message},
        # The only write of this receiver: its savepoint (_quietly) stands for the row's,
        # inside the credit's transaction, which holds SQLite's write lock.
        savepoint=False,
    )


@receiver(signals.funding_achieved, dispatch_uid="notifications.achieved")
@_quietly
def on_funding_achieved(funding_id, **kwargs):
    funding = Funding.objects.get(pk=funding_id)
    event = {"event_key": f"funding:{funding.pk}", "funding_id": funding.pk}
    notify_all([funding.author_id], kind=Kind.ACHIEVED, **event)
    notify_all(
        _contributors(funding.pk, except_id=funding.author_id),
        kind=Kind.JOINED_ACHIEVED,
        actor_id=funding.author_id,
        **event,
    )


@receiver(signals.review_posted, dispatch_uid="notifications.review")
@_quietly
def on_review_posted(funding_id, **kwargs):
    funding = Funding.objects.get(pk=funding_id)
    if not funding.review:
        return
    notify_all(
        _contributors(funding.pk, except_id=funding.author_id),
        kind=Kind.REVIEW,
        event_key=f"funding:{funding.pk}",
        actor_id=funding.author_id,
        funding_id=funding.pk,
    )


@receiver(signals.contribution_refunded, dispatch_uid="notifications.refunded")
@_quietly
def on_contribution_refunded(contribution_id, **kwargs):
    row = Contribution.objects.get(pk=contribution_id)
    if row.refunded_on is None:
        return
    notify_all(
        [row.contributor_id],
        kind=Kind.REFUNDED,
        event_key=f"contribution:{row.pk}",
        funding_id=row.funding_id,
        data={"amount": row.amount},
    )


@receiver(signals.funding_canceled, dispatch_uid="notifications.canceled")
@_quietly
def on_funding_canceled(funding_id, contribution_ids, **kwargs):
    funding = Funding.objects.get(pk=funding_id)
    given: dict[str, int] = defaultdict(int)
    for contributor_id, amount in Contribution.objects.filter(
        pk__in=contribution_ids, funding_id=funding_id
    ).values_list("contributor_id", "amount"):
        if contributor_id != funding.author_id:
            given[contributor_id] += amount
    for contributor_id, amount in given.items():
        # Each contributor's own total only: nobody learns what the others gave.
        notify_all(
            [contributor_id],
            kind=Kind.CANCELED,
            event_key=f"funding:{funding.pk}",
            actor_id=funding.author_id,
            funding_id=funding.pk,
            data={"amount": amount},
        )


@receiver(signals.payout_transferred, dispatch_uid="notifications.payout")
@_quietly
def on_payout_transferred(payout_id, **kwargs):
    payout = Payout.objects.select_related("funding").get(pk=payout_id)
    notify_all(
        [payout.funding.author_id],
        kind=Kind.PAYOUT,
        event_key=f"payout:{payout.pk}",
        funding_id=payout.funding_id,
        data={"amount": payout.amount},
    )


@receiver(signals.funding_opened, dispatch_uid="notifications.friend_funding")
@_quietly
def on_funding_opened(funding_id, **kwargs):
    funding = Funding.objects.select_related("author").get(pk=funding_id)
    # Only friends who may see it: visibility's rule, asked of them all in one query.
    friends = Account.objects.filter(pk__in=friend_ids(funding.author), is_active=True)
    notify_all(
        list(viewers_among(funding, friends).values_list("pk", flat=True)),
        kind=Kind.FRIEND_FUNDING,
        event_key=f"funding:{funding.pk}",
        actor_id=funding.author_id,
        funding_id=funding.pk,
    )


@receiver(followed, dispatch_uid="notifications.follower")
@_quietly
def on_followed(follower_id, followee_id, **kwargs):
    # Keyed by the follower: following, unfollowing and following again notifies once.
    notify_all(
        [followee_id],
        kind=Kind.FOLLOWER,
        event_key=f"account:{follower_id}",
        actor_id=follower_id,
    )
