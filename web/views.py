"""The share page of a funding (/f/<id>/) and its preview image (/f/<id>/card.png)."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from fundings.models import CONTRIBUTION_MAX
from web import card, pages
from web.security import web_page

CARD_MAX_AGE = 300
QUICK_PICKS = (5_000, 10_000, 30_000, 50_000)
CARD_CACHE_SECONDS = 24 * 3600


def viewer_of(request):
    return request.user if request.user.is_authenticated else None


@require_safe
@web_page
def funding_page(request, funding_id: int):
    page = pages.share_page(viewer=viewer_of(request), funding_id=funding_id)
    preview = page.funding if page.previewable else None
    context = {
        "page": page,
        "funding": page.funding,
        "preview": preview,
        "share_url": pages.absolute(pages.share_path(funding_id)),
        "card_url": pages.absolute(f"{pages.share_path(funding_id)}card.png"),
        "neutral_card_url": pages.absolute("/web/card.png"),
    }
    if page.funding is not None:
        remaining = page.funding.goal_amount - page.funding.current_amount
        context.update(
            percent=pages.percent(page.funding),
            status_text=pages.status_text(page.funding),
            remaining=remaining,
            max_amount=min(CONTRIBUTION_MAX, remaining),
            picks=[pick for pick in QUICK_PICKS if pick <= remaining],
        )
    response = render(request, "web/funding.html", context, status=page.status_code)
    # The page differs by visitor (friends-only fundings, amounts): no shared cache keeps it.
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _png_response(request, etag: str, render_png) -> HttpResponse:
    """The PNG with an ETag: a client (or a proxy) holding this version gets a 304, and the
    drawing itself is cached by version, so a version is drawn once."""
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        patch_cache_control(not_modified, public=True, max_age=CARD_MAX_AGE)
        return not_modified
    key = "web-card:" + hashlib.sha256(etag.encode()).hexdigest()
    body = cache.get(key)
    if body is None:
        body = render_png()
        cache.set(key, body, CARD_CACHE_SECONDS)
    response = HttpResponse(body, content_type="image/png")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=CARD_MAX_AGE)
    return response


@require_safe
def funding_card(request, funding_id: int):
    funding = pages.public_funding(funding_id)
    if funding is None:
        return neutral_card(request)
    with translation.override("ko"):
        status_text = pages.status_text(funding)
    version = "|".join(
        str(part)
        for part in (
            funding.pk,
            funding.updated_on.isoformat(),
            funding.title,
            funding.goal_amount,
            funding.current_amount,
            funding.image.name if funding.image else "",
            status_text,
        )
    )
    etag = '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'
    return _png_response(
        request,
        etag,
        lambda: card.funding_card(
            title=funding.title,
            goal=funding.goal_amount,
            current=funding.current_amount,
            status_text=status_text,
            image_file=funding.image,
        ),
    )


@require_safe
def neutral_card(request):
    return _png_response(request, '"neutral-1"', card.neutral_card)
