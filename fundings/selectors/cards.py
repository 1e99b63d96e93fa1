"""A feed page's fundings as cards, the author's words kept in Django's cache.

A feed reads a page in two steps. The first query decides which fundings the viewer may
see and in which order (fundings.selectors.feeds), and it also reads what changes while a
funding runs: the amount, the state, the author's name and picture. The second step
supplies what only an edit changes (title, text, pictures, goal, dates, `public`). Every
viewer sees the same words, so they are kept per funding, under a key that carries the
row's `updated_on`. Each edit sets `updated_on` (the author's edit under the row's lock,
the admin's save), so an edit makes a new key: an entry never needs to be dropped, and a
page never shows words older than its first query read.

Nothing here decides who sees what. The cache is the process's own memory, the fastest
Django offers (bench/RESULTS.md): an entry that another process lacks costs one query there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import caches

from fundings.models import Funding
from fundings.selectors.visibility import FUNDING_FIELDS

# What the first query reads: the page's order and what changes without an edit.
ROW_FIELDS = (
    "id",
    "updated_on",
    "current_amount",
    "state",
    "author_id",
    "author__username",
    "author__image",
)
# What an edit changes, kept in the cache: the rest of what a Funding renders.
WORDS_FIELDS = tuple(
    name for name in FUNDING_FIELDS if name not in ROW_FIELDS and not name.startswith("author")
)


@dataclass(frozen=True, slots=True)
class CardAuthor:
    id: str
    username: str
    image: str | None


@dataclass(frozen=True, slots=True)
class FundingCard:
    """What fundings.serializers.fundings.funding_data reads of a funding."""

    id: int
    current_amount: int
    state: str
    author: CardAuthor
    title: str
    content: str
    goal_amount: int
    image: str | None
    expire_on: datetime
    created_on: datetime
    public: bool
    review: str | None
    review_image: str | None


def _key(funding_id: int, updated_on: datetime) -> str:
    return f"{funding_id}:{updated_on.isoformat()}"


def _read_words(funding_ids: list[int]) -> dict[int, dict]:
    """The words of these fundings from the database, kept under the `updated_on` this
    read found (an edit committed since the first query makes a key no later page asks for)."""
    words = {}
    for values in Funding.objects.filter(pk__in=funding_ids).values(
        "id", "updated_on", *WORDS_FIELDS
    ):
        funding_id, updated_on = values.pop("id"), values.pop("updated_on")
        words[funding_id] = (_key(funding_id, updated_on), values)
    if settings.FUNDING_CARD_CACHE_SECONDS > 0:
        caches["funding_cards"].set_many(
            dict(words.values()), timeout=settings.FUNDING_CARD_CACHE_SECONDS
        )
    return {funding_id: values for funding_id, (_, values) in words.items()}


def funding_cards(rows) -> list[FundingCard]:
    """The page's cards, in the order of `rows` (dicts of ROW_FIELDS): no query when every
    funding's words are in the cache, one otherwise."""
    rows = list(rows)
    keys = [_key(row["id"], row["updated_on"]) for row in rows]
    kept = caches["funding_cards"].get_many(keys) if settings.FUNDING_CARD_CACHE_SECONDS > 0 else {}
    words = {row["id"]: kept[key] for row, key in zip(rows, keys, strict=True) if key in kept}
    missing = [row["id"] for row in rows if row["id"] not in words]
    if missing:
        words |= _read_words(missing)
    return [
        FundingCard(
            id=row["id"],
            current_amount=row["current_amount"],
            state=row["state"],
            author=CardAuthor(
                id=row["author_id"],
                username=row["author__username"],
                image=row["author__image"] or None,
            ),
            **words[row["id"]],
        )
        for row in rows
        # A funding deleted between the two queries is left out.
        if row["id"] in words
    ]
