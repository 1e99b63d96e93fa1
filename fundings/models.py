"""Fundings (gift goals) and the contributions credited to them."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from funsun.images import random_upload_path

GOAL_MIN = 1_000
GOAL_MAX = 10_000_000
CONTRIBUTION_MIN = 1_000
CONTRIBUTION_MAX = 1_000_000


class FundingState(models.TextChoices):
    """What is stored. `expired` is not stored: it is derived from `expire_on` (see status)."""

    OPEN = "open", "open"
    ACHIEVED = "achieved", "achieved"
    CANCELED = "canceled", "canceled"
    PAID_OUT = "paid_out", "paid out"


class FundingStatus(models.TextChoices):
    OPEN = "open", "open"
    ACHIEVED = "achieved", "achieved"
    EXPIRED = "expired", "expired"
    CANCELED = "canceled", "canceled"
    PAID_OUT = "paid_out", "paid out"


def funding_status(state: str, expire_on) -> str:
    """What the app sees (FundingStatus): an open funding past its expiry is "expired"."""
    if state == FundingState.OPEN and expire_on <= timezone.now():
        return FundingStatus.EXPIRED
    return state


class Funding(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fundings"
    )
    title = models.CharField(max_length=50)
    content = models.TextField(max_length=2000, blank=True, default="")
    goal_amount = models.PositiveIntegerField()
    # Changed only by the money services (credit / refund), always with a guarded update.
    current_amount = models.PositiveIntegerField(default=0)
    image = models.ImageField(upload_to=random_upload_path("funding"), null=True, blank=True)
    expire_on = models.DateTimeField()
    public = models.BooleanField(default=True)
    review = models.TextField(max_length=2000, null=True, blank=True)
    review_image = models.ImageField(upload_to=random_upload_path("review"), null=True, blank=True)
    state = models.CharField(max_length=10, choices=FundingState, default=FundingState.OPEN)
    # Hidden by an operator (moderation): invisible to everyone but staff.
    is_hidden = models.BooleanField(default=False)
    created_on = models.DateTimeField(default=timezone.now)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(current_amount__gte=0), name="funding_current_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(current_amount__lte=F("goal_amount")),
                name="funding_current_within_goal",
            ),
            models.CheckConstraint(
                condition=Q(goal_amount__gte=GOAL_MIN) & Q(goal_amount__lte=GOAL_MAX),
                name="funding_goal_range",
            ),
        ]
        indexes = [
            # Public feed: newest public, visible fundings. The state and the author come
            # last so that a deep page finds its ids in the index alone
            # (fundings.selectors.feeds.public_feed_page).
            models.Index(
                F("created_on").desc(),
                F("id").desc(),
                "state",
                "author",
                name="funding_public_feed_idx",
                condition=Q(public=True, is_hidden=False),
            ),
            # Following feed of someone who follows many accounts: walk every visible
            # funding newest first and keep those of followees (EXPLAIN: without it
            # PostgreSQL scans and sorts the whole table).
            models.Index(
                F("created_on").desc(),
                F("id").desc(),
                name="funding_recent_feed_idx",
                condition=Q(is_hidden=False),
            ),
            # Following and user feeds: a set of authors, newest first. The columns of the
            # visibility tests come last, so that the following feed finds its page's ids in
            # the index alone (fundings.selectors.feeds.following_feed_page).
            models.Index(
                "author",
                F("created_on").desc(),
                F("id").desc(),
                "public",
                "is_hidden",
                "state",
                name="funding_author_feed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def status(self) -> str:
        return funding_status(self.state, self.expire_on)

    @property
    def is_open(self) -> bool:
        return self.status == FundingStatus.OPEN


class Contribution(models.Model):
    """Money given to a funding (the API's "remit"), always backed by one approved payment."""

    funding = models.ForeignKey(Funding, on_delete=models.PROTECT, related_name="contributions")
    contributor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributions"
    )
    amount = models.PositiveIntegerField()
    message = models.CharField(max_length=255)
    # One payment credits at most one contribution: the database says so.
    payment = models.OneToOneField(
        "payments.Payment", on_delete=models.PROTECT, related_name="contribution"
    )
    created_on = models.DateTimeField(default=timezone.now)
    refunded_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=CONTRIBUTION_MIN) & Q(amount__lte=CONTRIBUTION_MAX),
                name="contribution_amount_range",
            ),
        ]
        indexes = [
            models.Index(
                "funding", F("created_on").desc(), F("id").desc(), name="contribution_funding_idx"
            ),
            # Joined feed: a contributor's credited contributions, newest first, with their
            # funding: read from the index alone (no table rows), then grouped by funding.
            models.Index(
                "contributor",
                F("created_on").desc(),
                "funding",
                name="contribution_joined_idx",
                condition=Q(refunded_on__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount} to funding {self.funding_id}"

    @property
    def is_refunded(self) -> bool:
        return self.refunded_on is not None


class Payout(models.Model):
    """Handing a finished funding's money to its author; an operator records the transfer."""

    funding = models.OneToOneField(Funding, on_delete=models.PROTECT, related_name="payout")
    amount = models.PositiveIntegerField()
    # A snapshot: the author may change their bank account later.
    bank_account = models.CharField(max_length=100)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    requested_on = models.DateTimeField(default=timezone.now)
    transferred_on = models.DateTimeField(null=True, blank=True)
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recorded_payouts",
    )
    reference = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"payout of funding {self.funding_id}: {self.amount}"


class FundingPayment(models.Model):
    """A payment started for a funding (step 1 with `funding`): crediting prefers it for
    that funding and never uses it for another. Payments know nothing of fundings; this row,
    on the fundings side, is the only record of the binding."""

    payment = models.OneToOneField(
        "payments.Payment", on_delete=models.PROTECT, related_name="funding_payment"
    )
    # A funding deleted (it had no contribution) leaves its payments unbound, usable for
    # any funding, as an unbound payment is.
    funding = models.ForeignKey(Funding, on_delete=models.CASCADE, related_name="payments")

    def __str__(self) -> str:
        return f"payment {self.payment_id} for funding {self.funding_id}"


class WebGift(models.Model):
    """A contribution started from the funding's web page (web/), kept with its payment from
    step 1 on: the page the buyer returns to credits it, and if the buyer never comes back
    (closed the tab after paying) fundings.web_gifts credits it before reconciliation would
    refund an approved payment nobody credited."""

    payment = models.OneToOneField(
        "payments.Payment", on_delete=models.PROTECT, related_name="web_gift"
    )
    funding = models.ForeignKey(Funding, on_delete=models.CASCADE, related_name="web_gifts")
    message = models.CharField(max_length=255)
    created_on = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"web gift of payment {self.payment_id} to funding {self.funding_id}"
