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
    """paged() for a page that is the same for every viewer who asks, kept in Django's cache
    for `seconds` under `key` and the page number (an empty page too: its 204). Keeping
    it for a few seconds spares each request building, running and rendering the same
    queries; what changed shows once it lapses."""
    if seconds <= 0:
        return paged(request, fetch, serialize)
    page = page_number(request)
    start = (page - 1) * PAGE_SIZE
    if start + PAGE_SIZE > MAX_OFFSET:
        return Response(status=status.HTTP_204_NO_CONTENT)
    cache_key = f"{key}:{page}"
    data = cache.get(cache_key)
    if data is None:
        rows = fetch(limit=PAGE_SIZE, offset=start)
        data = serialize(rows) if rows else []
        cache.set(cache_key, data, seconds)
    if not data:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(data)
