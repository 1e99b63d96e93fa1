"""Domain events of the apps below (accounts.signals, fundings.signals) become notifications.

Each event is sent after its transaction committed; its receiver hands it to a background job
(`handle_event`), which may run again for the same event (a retry, a replay): notify()
creates each notification once. Nothing here can fail the request that caused the event.
"""

import functools
import logging
from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.dispatch import receiver

from accounts.models import Account
from accounts.signals import followed
from fundings import signals
from fundings.models import Contribution, Funding, Payout
from fundings.selectors import friend_ids, visible_fundings
from notifications.kinds import Kind
from notifications.services import notify_all

logger = logging.getLogger(__name__)


# The receivers' work, by name, for the job that does it (notifications.tasks.handle_event).
HANDLERS: dict[str, Callable[..., None]] = {}


def _in_background(handler):
    """The signal's receiver hands the event to a job: the request that caused it (a
    contribution's POST /remit/, say) answers without waiting for notifications and pushes.
    The job may run the handler again for the same event: notify() creates each notification
    once. Enqueueing that fails is logged, never a failed request (the money is decided)."""
    HANDLERS[handler.__name__] = handler

    @functools.wraps(handler)
    def hand_over(sender, **kwargs):
        if not settings.NOTIFICATIONS_ENABLED:
            return  # switched off: not even the event's rows are read
        from notifications.tasks import handle_event

        kwargs.pop("signal", None)
        try:
            handle_event(handler.__name__, kwargs)
        except Exception:
            logger.exception("notifications: %s not queued for %s", handler.__name__, kwargs)

    return hand_over


def run_handler(name: str, event: dict) -> None:
    HANDLERS[name](**event)


def _contributors(funding_id: int, *, except_id: str) -> list[str]:
    """Who holds a credited, not refunded contribution to the funding (not its author)."""
    rows = Contribution.objects.filter(funding_id=funding_id, refunded_on__isnull=True)
    return sorted(
        set(rows.exclude(contributor_id=except_id).values_list("contributor_id", flat=True))
    )


@receiver(signals.contribution_credited, dispatch_uid="notifications.contribution")
@_in_background
def on_contribution_credited(contribution_id, **kwargs):
    row = Contribution.objects.select_related("funding").get(pk=contribution_id)
    if row.contributor_id == row.funding.author_id:
        return
    notify_all(
        [row.funding.author_id],
        kind=Kind.CONTRIBUTION,
        event_key=f"contribution:{row.pk}",
        actor_id=row.contributor_id,
        funding_id=row.funding_id,
        data={"amount": row.amount, "message": row.message},
    )


@receiver(signals.funding_achieved, dispatch_uid="notifications.achieved")
@_in_background
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
@_in_background
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
@_in_background
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
@_in_background
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
@_in_background
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
@_in_background
def on_funding_opened(funding_id, **kwargs):
    funding = Funding.objects.select_related("author").get(pk=funding_id)
    # Only friends who may see it (visibility's rule, asked per friend).
    friends = Account.objects.filter(pk__in=friend_ids(funding.author), is_active=True)
    allowed = [
        friend.pk for friend in friends if visible_fundings(friend).filter(pk=funding.pk).exists()
    ]
    notify_all(
        allowed,
        kind=Kind.FRIEND_FUNDING,
        event_key=f"funding:{funding.pk}",
        actor_id=funding.author_id,
        funding_id=funding.pk,
    )


@receiver(followed, dispatch_uid="notifications.follower")
@_in_background
def on_followed(follower_id, followee_id, **kwargs):
    # Keyed by the follower: following, unfollowing and following again notifies once.
    notify_all(
        [followee_id],
        kind=Kind.FOLLOWER,
        event_key=f"account:{follower_id}",
        actor_id=follower_id,
    )
