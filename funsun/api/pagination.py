"""Paging as the app expects: 8 a page, a bad `page` means 1, past the end is 204."""

from collections.abc import Callable, Sequence

from django.core.cache import cache
from django.db.models import QuerySet
from rest_framework import status
from rest_framework.response import Response

PAGE_SIZE = 8


def page_number(request) -> int:
    try:
        page = int(request.query_params.get("page", "1"))
    except (TypeError, ValueError):
        return 1
    return page if page >= 1 else 1


# Databases take 64-bit offsets: a page further than that is past the end of any list.
MAX_OFFSET = 2**63 - 1


def paged_response(request, items: QuerySet | Sequence, serialize, size: int = PAGE_SIZE):
    """Answer one page of `items` (sliced: no COUNT query) rendered by
    `serialize(list) -> data`, or 204 when empty."""
    return paged(
        request, lambda limit, offset: list(items[offset : offset + limit]), serialize, size
    )


def paged(request, fetch: Callable[..., list], serialize, size: int = PAGE_SIZE):
    """paged_response for a page read by `fetch(limit=, offset=)` (a selector that reads a
    page in more than one query)."""
    start = (page_number(request) - 1) * size
    rows = fetch(limit=size, offset=start) if start + size <= MAX_OFFSET else []
    if not rows:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(serialize(rows))


def shared_page(request, key: str, fetch: Callable[..., list], serialize, seconds: int):
    """paged() for a page that is the same for every viewer who asks: its rendered rows
    are kept in Django's cache for `seconds` (an empty page too: its 204), so requests in
    that window build, run and render nothing; what changed shows once it lapses."""
    if seconds <= 0:
        return paged(request, fetch, serialize)

    def kept(limit: int, offset: int) -> list:
        return cache.get_or_set(
            f"{key}:{limit}:{offset}",
            lambda: serialize(fetch(limit=limit, offset=offset)),
            seconds,
        )

    return paged(request, kept, lambda data: data)
