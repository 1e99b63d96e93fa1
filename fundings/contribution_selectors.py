"""Reads of contributions, with the visibility rule of fundings.selectors."""

from django.db.models import QuerySet

from accounts.models import Account
from fundings.models import Contribution, Funding
from fundings.selectors import visible_fundings
from funsun.api.errors import NotFound


def funding_contributions(
    *, viewer: Account | None, funding_id: int
) -> tuple[Funding, QuerySet[Contribution]]:
    """The funding (if `viewer` may see it, else 404) and its contributions, newest first.

    Refunded contributions are not listed: they are no longer part of the funding.
    """
    funding = visible_fundings(viewer).filter(pk=funding_id).only("id", "author_id").first()
    if funding is None:
        raise NotFound("Funding not found.")
    contributions = (
        Contribution.objects.filter(funding_id=funding.pk, refunded_on__isnull=True)
        .select_related("contributor")
        .only(
            "id",
            "message",
            "amount",
            "created_on",
            "contributor_id",
            "contributor__id",
            "contributor__username",
            "contributor__image",
        )
        .order_by("-created_on", "-id")
    )
    return funding, contributions
