"""Reads of contributions, with the visibility rule of fundings.selectors.visibility."""

from django.db.models import Value

from accounts.models import Account
from fundings.models import Contribution, Funding
from fundings.selectors.visibility import funding_rule_row

# What a Remit renders (fundings.serializers.remit.remit_data).
REMIT_FIELDS = (
    "id",
    "message",
    "amount",
    "created_on",
    "contributor_id",
    "contributor__id",
    "contributor__username",
    "contributor__image",
)


def contribution_page(
    *, viewer: Account | None, funding_id: int, limit: int, offset: int
) -> list[Contribution]:
    """A page of the contributions of a funding `viewer` may see, newest first, each with
    `funding_author_id` (the renderer shows `amount` to the author). Refunded contributions
    are not listed: they are no longer part of the funding. NotFound (404) when the funding
    does not exist or `viewer` may not see it."""
    funding = funding_rule_row(viewer=viewer, funding_id=funding_id)
    return contributions_of_seen(funding, limit=limit, offset=offset)


def contributions_of_seen(funding: Funding, *, limit: int, offset: int) -> list[Contribution]:
    """contribution_page of a funding the caller has already read through the visibility
    rule (visible_fundings, funding_for_viewer), so that the rule is not asked twice."""
    return list(
        Contribution.objects.filter(funding_id=funding.pk, refunded_on__isnull=True)
        .select_related("contributor")
        .only(*REMIT_FIELDS)
        .annotate(funding_author_id=Value(funding.author_id))
        .order_by("-created_on", "-id")[offset : offset + limit]
    )
