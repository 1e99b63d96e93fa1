"""Reads with rules. `visibility` is the one home of "which fundings may this viewer see";
the feeds and the contribution list are built on it."""

from fundings.selectors.contributions import REMIT_FIELDS, contribution_page
from fundings.selectors.feeds import (
    feed_account,
    following_feed_page,
    joined_feed_page,
    public_feed_page,
    user_feed_page,
)
from fundings.selectors.visibility import (
    friend_ids,
    funding_detail,
    funding_for_viewer,
    is_staff,
    may_see,
    viewers_among,
    visible_fundings,
)

__all__ = [
    "REMIT_FIELDS",
    "contribution_page",
    "feed_account",
    "following_feed_page",
    "friend_ids",
    "funding_detail",
    "funding_for_viewer",
    "is_staff",
    "joined_feed_page",
    "may_see",
    "public_feed_page",
    "user_feed_page",
    "viewers_among",
    "visible_fundings",
]
