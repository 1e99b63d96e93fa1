"""Reads of contributions, with the visibility rule of fundings.selectors."""

from django.db.models import F, QuerySet

from accounts.models import Account
from fundings.models import Contribution
from fundings.selectors import (
    funding_row_for_viewer,
    viewer_of_shape,
    viewer_shape,
    visible_fundings,
)
from funsun.compiled import CompiledQuery

# What a Remit renders (fundings.serializers.remit.remit_row_data).
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


def _contributions(funding_id: int) -> QuerySet[Contribution]:
    """A funding's contributions, newest first. Refunded contributions are not listed: they
    are no longer part of the funding."""
    return (
        Contribution.objects.filter(funding_id=funding_id, refunded_on__isnull=True)
        .select_related("contributor")
        .only(*REMIT_FIELDS)
        .order_by("-created_on", "-id")
    )


# The page and the visibility test in one statement; the funding's author comes with each
# row (the renderer shows `amount` to the author). An empty page needs one more query to
# tell a funding the viewer may not see (404) from one with no contributions (204).
_VISIBLE_CONTRIBUTIONS = CompiledQuery(
    Contribution,
    lambda shape, viewer, funding: (
        _contributions(funding)
        .filter(
            funding__in=visible_fundings(viewer_of_shape(shape, viewer))
            .filter(pk=funding)
            .values("pk")
        )
        .annotate(funding_author_id=F("funding__author_id"))
    ),
    viewer=str,
    funding=int,
)


def contribution_page(
    *, viewer: Account | None, funding_id: int, limit: int, offset: int
) -> list[dict]:
    """A page of the contributions of a funding `viewer` may see (newest first, refunded
    ones left out), as rows keyed like REMIT_FIELDS plus `funding_author_id`; NotFound
    (404) when the funding does not exist or `viewer` may not see it."""
    shape = viewer_shape(viewer)
    rows = _VISIBLE_CONTRIBUTIONS.rows(
        shape,
        viewer=viewer.pk if shape != "anonymous" else "",
        funding=funding_id,
        limit=limit,
        offset=offset,
    )
    if not rows:  # 404 unless the funding is there for `viewer` to see
        funding_row_for_viewer(viewer=viewer, funding_id=funding_id)
    return rows
