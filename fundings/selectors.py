"""Reads with rules. The one home of "which fundings may this viewer see"."""

from django.db.models import BooleanField, Expression, F, Max, Q, QuerySet, Value

from accounts.models import Account, Follow
from fundings.models import Funding, FundingState
from funsun.api.errors import NotFound
from funsun.api.pagination import PAGE_SIZE
from funsun.compiled import CompiledQuery

# Feeds are newest first; `id` breaks ties between rows created in the same instant.
FEED_ORDER = ("-created_on", "-id")
# What a feed item renders (fundings.serializers.fundings.funding_data): not the account's
# password hash and other private columns, nor the funding's moderation and edit times.
FEED_FIELDS = (
    "id",
    "title",
    "content",
    "goal_amount",
    "current_amount",
    "image",
    "expire_on",
    "created_on",
    "public",
    "review",
    "review_image",
    "state",
    "author_id",
    "author__id",
    "author__username",
    "author__image",
)


class _RowProbe(Expression):
    """EXISTS (SELECT 1 FROM <model's table> WHERE <field> = <value> AND ... [AND <flag>]):
    one small expression for a test by key on another table. Building and compiling an
    Exists subquery costs about half a millisecond of CPU a request where this costs little,
    and the feeds, the detail and the money paths all make such tests.

    Subclasses name the model, the key fields (one value each: an id or a column) and
    optionally a boolean field that must be true.
    """

    model = None
    keys: tuple[str, ...] = ()
    flag: str | None = None
    alias = "probe"
    output_field = BooleanField()
    conditional = True

    def __init__(self, *values):
        super().__init__()
        self.values = [v if hasattr(v, "resolve_expression") else Value(v) for v in values]

    def get_source_expressions(self):
        return list(self.values)

    def set_source_expressions(self, exprs):
        self.values = list(exprs)

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        meta = self.model._meta
        conditions, params = [], []
        for field, value in zip(self.keys, self.values, strict=True):
            value_sql, value_params = compiler.compile(value)
            conditions.append(f"{self.alias}.{quote(meta.get_field(field).column)} = {value_sql}")
            params.extend(value_params)
        if self.flag:
            conditions.append(f"{self.alias}.{quote(meta.get_field(self.flag).column)}")
        # Identifiers come from the model and are quoted; values travel as parameters.
        where = " AND ".join(conditions)
        sql = f"EXISTS (SELECT 1 FROM {quote(meta.db_table)} {self.alias} WHERE {where})"  # noqa: S608
        return sql, tuple(params)


class Follows(_RowProbe):
    """Follows(follower, followee), each an account id or a column: EXISTS on follow_once."""

    model = Follow
    keys = ("follower", "followee")
    alias = "ff"


class IsActiveAccount(_RowProbe):
    """IsActiveAccount(account), an id or a column: the account exists and is active.

    The same test as joining the account and filtering `is_active`, written as a probe:
    SQLite (3.38+) answers the join form of a feed page by first building a Bloom filter
    over the whole account table, about 0.3 ms for 5,000 accounts before the first row,
    where probing the eight or so authors a page walks costs microseconds.
    """

    model = Account
    keys = ("id",)
    flag = "is_active"
    alias = "aa"


def friend_ids(viewer: Account) -> QuerySet:
    """Ids of the viewer's friends: accounts the viewer follows that follow the viewer back."""
    # Two index lookups on the follow table; going through `followee__following` would
    # join the account table for nothing (a sequential scan of every account).
    followers = Follow.objects.filter(followee=viewer).values("follower_id")
    return Follow.objects.filter(follower=viewer, followee_id__in=followers).values("followee_id")


def _is_staff(viewer: Account | None) -> bool:
    return viewer is not None and viewer.is_authenticated and viewer.is_staff


def _not_withdrawn(viewer: Account | None) -> Q:
    """Fundings hidden by an operator, or whose author is deactivated: staff only."""
    return Q() if _is_staff(viewer) else Q(IsActiveAccount(F("author_id")), is_hidden=False)


def visible_fundings(viewer: Account | None) -> QuerySet[Funding]:
    """Every funding `viewer` may see (None or an anonymous user: public ones only).

    Public fundings are visible to everyone, friends-only ones to their author and the
    author's friends (mutual followers). Fundings hidden by an operator, or whose author is
    deactivated, are visible to staff only.
    """
    fundings = Funding.objects.filter(_not_withdrawn(viewer))
    if viewer is None or not viewer.is_authenticated:
        return fundings.filter(public=True)
    return fundings.filter(Q(public=True) | Q(author=viewer) | _author_is_friend_of(viewer))


def _author_is_friend_of(viewer: Account) -> Q:
    """The funding's author and `viewer` follow each other: two probes of `follow_once`.

    The same rule as friend_ids(viewer), written per row: PostgreSQL plans `author IN
    (friend_ids)` as a hashed subplan whose start-up cost it charges to every index probe of
    a nested loop, and then prefers scanning the whole funding table (joined feed, detail).
    """
    author = F("author_id")
    return Q(Follows(viewer.pk, author), Follows(author, viewer.pk))


def funding_for_viewer(*, viewer: Account | None, funding_id: int) -> Funding:
    """One funding with its author, or NotFound when it does not exist or is not visible.

    Canceled fundings stay readable here (the app may still hold a link to one).
    """
    try:
        return visible_fundings(viewer).select_related("author").get(pk=funding_id)
    except Funding.DoesNotExist as exc:
        raise NotFound("Funding not found.") from exc


def _feed(fundings: QuerySet[Funding]) -> QuerySet[Funding]:
    """What every feed shares: no canceled fundings, the author in the same query, only
    the columns a feed item renders."""
    return fundings.exclude(state=FundingState.CANCELED).select_related("author").only(*FEED_FIELDS)


def public_feed(*, viewer: Account | None) -> QuerySet[Funding]:
    """Public fundings only (also for signed-in viewers), newest first."""
    # visible_fundings(viewer).filter(public=True): every public funding passes its
    # author-or-friend test, so the plain filter is the same set (and plans as an index walk).
    fundings = Funding.objects.filter(_not_withdrawn(viewer), public=True)
    return _feed(fundings).order_by(*FEED_ORDER)


def following_feed(*, viewer: Account) -> QuerySet[Funding]:
    """Fundings by accounts the viewer follows: public ones, friends-only ones of friends."""
    followees = Follow.objects.filter(follower=viewer)
    fundings = Funding.objects.all()
    if not _is_staff(viewer):
        # _not_withdrawn(viewer), with the author test made once per followee (the list
        # is short) rather than once per funding row.
        followees = followees.filter(followee__is_active=True)
        fundings = fundings.filter(is_hidden=False)
    # visible_fundings(viewer) among followees: the viewer follows every author here, so
    # "friend" is "follows the viewer back", and the viewer is never among its followees.
    fundings = fundings.filter(
        Q(public=True) | Follows(F("author_id"), viewer.pk),
        author__in=followees.values("followee_id"),
    )
    return _feed(fundings).order_by(*FEED_ORDER)


def feed_account(*, viewer: Account, account_id: str) -> Account:
    """The account whose fundings `/funding/user` lists; deactivated ones only for staff.

    It comes with whether each follows the other (`follows_viewer`, `followed_by_viewer`),
    which user_feed needs: one query instead of a friendship test on every funding row.
    """
    rows = _FEED_ACCOUNT.rows(viewer.is_staff, viewer=viewer.pk, account=str(account_id))
    if not rows:
        raise NotFound("Account not found.")
    row = rows[0]
    author = Account(pk=row["id"])
    author.follows_viewer, author.followed_by_viewer = (
        row["follows_viewer"],
        row["followed_by_viewer"],
    )
    return author


def _feed_account(viewer: Account, account_id: str) -> QuerySet[Account]:
    accounts = Account.objects.all()
    if not viewer.is_staff:
        accounts = accounts.filter(is_active=True)
    return (
        accounts.only("id")
        .annotate(
            follows_viewer=Follows(F("id"), viewer.pk),
            followed_by_viewer=Follows(viewer.pk, F("id")),
        )
        .filter(pk=account_id)
    )


def user_feed(*, viewer: Account, author: Account) -> QuerySet[Funding]:
    """One account's fundings: all of them for itself and its friends, else public ones.

    `author` comes from feed_account (it answers active accounts only, except to staff).
    """
    # visible_fundings(viewer).filter(author=author), with the author-or-friend test made
    # once for the whole list.
    fundings = Funding.objects.filter(_not_withdrawn(viewer), author=author)
    is_friend = author.follows_viewer and author.followed_by_viewer
    if not (author.pk == viewer.pk or is_friend):
        fundings = fundings.filter(public=True)
    return _feed(fundings).order_by(*FEED_ORDER)


def joined_feed(*, viewer: Account) -> QuerySet[Funding]:
    """Fundings the viewer holds a non-refunded contribution in, each once, latest first."""
    return _latest_joined_first(_feed(visible_fundings(viewer)), viewer)


def _latest_joined_first(fundings: QuerySet[Funding], viewer: Account) -> QuerySet[Funding]:
    return (
        # One filter() call: both conditions apply to the same contribution row, and the
        # Max below aggregates over exactly those rows.
        fundings.filter(contributions__contributor=viewer, contributions__refunded_on__isnull=True)
        .annotate(last_contributed_on=Max("contributions__created_on"))
        .order_by("-last_contributed_on", "-id")
    )


def _joined_feed_ids(viewer: Account) -> QuerySet:
    """joined_feed's ids, grouped by the funding's id alone (joined_feed groups by every
    column it selects, long texts included)."""
    fundings = visible_fundings(viewer).exclude(state=FundingState.CANCELED).values("id")
    return _latest_joined_first(fundings, viewer)


# --- Compiled once: the read paths the app calls most ----------------------------------------
# The querysets above, compiled to SQL once per shape (funsun.compiled) and run with each
# request's viewer and page: rows (dicts keyed like FEED_FIELDS) for the feed renderers.


def viewer_stand_in(viewer_id: str, *, staff: bool) -> Account:
    """What the builders above need of a viewer to write a shape's SQL: an id (a marker
    while compiling) and whether it is staff. Never saved."""
    return Account(pk=viewer_id, is_staff=staff)


def viewer_of_shape(shape: str, viewer_id: str) -> Account | None:
    """The stand-in viewer of a viewer_shape(): None for "anonymous"."""
    return None if shape == "anonymous" else viewer_stand_in(viewer_id, staff=shape == "staff")


def _author_stand_in(author_id: str, *, sees_all: bool) -> Account:
    author = Account(pk=author_id)
    author.follows_viewer = author.followed_by_viewer = sees_all
    return author


def _with_author(fundings: QuerySet[Funding]) -> QuerySet[Funding]:
    return fundings.select_related("author").only(*FEED_FIELDS)


_PUBLIC_FEED = CompiledQuery(
    Funding, lambda staff: public_feed(viewer=viewer_stand_in("", staff=staff))
)
# Past the first page, the public feed in two steps too: the rows skipped over by OFFSET
# are then index entries, not rows joined to their authors (PostgreSQL joins every skipped
# row before discarding it).
_PUBLIC_FEED_IDS = CompiledQuery(
    Funding, lambda staff: public_feed(viewer=viewer_stand_in("", staff=staff)).values("id")
)
# The following feed in two steps: the page's ids, then its rows. Someone who follows a few
# hundred accounts has a thousand candidate fundings to sort; the ids, tests included, come
# from funding_author_feed_idx alone (no table row read per candidate), and only the page's
# eight rows are read in full.
_FOLLOWING_FEED_IDS = CompiledQuery(
    Funding,
    lambda staff, viewer: following_feed(viewer=viewer_stand_in(viewer, staff=staff)).values("id"),
    viewer=str,
)
_FUNDINGS_BY_ID = CompiledQuery(
    Funding,
    lambda count, **ids: _with_author(
        Funding.objects.filter(pk__in=[ids[f"id{index}"] for index in range(count)])
    ),
    **{f"id{index}": int for index in range(PAGE_SIZE)},
)
_USER_FEED = CompiledQuery(
    Funding,
    lambda shape, viewer, author: user_feed(
        viewer=viewer_stand_in(viewer, staff=shape[0]),
        author=_author_stand_in(author, sees_all=shape[1]),
    ),
    viewer=str,
    author=str,
)
# The joined feed in two steps too: the page's ids, then its rows.
_JOINED_FEED_IDS = CompiledQuery(
    Funding,
    lambda staff, viewer: _joined_feed_ids(viewer_stand_in(viewer, staff=staff)),
    viewer=str,
)
_FEED_ACCOUNT = CompiledQuery(
    Account,
    lambda staff, viewer, account: _feed_account(viewer_stand_in(viewer, staff=staff), account),
    viewer=str,
    account=str,
)
_DETAIL = CompiledQuery(
    Funding,
    lambda shape, viewer, funding: _with_author(
        visible_fundings(viewer_of_shape(shape, viewer))
    ).filter(pk=funding),
    viewer=str,
    funding=int,
)


def viewer_shape(viewer: Account | None) -> str:
    if viewer is None or not viewer.is_authenticated:
        return "anonymous"
    return "staff" if viewer.is_staff else "member"


def public_feed_rows(*, viewer: Account | None, limit: int, offset: int) -> list[dict]:
    if offset == 0:
        return _PUBLIC_FEED.rows(_is_staff(viewer), limit=limit, offset=offset)
    page = _PUBLIC_FEED_IDS.rows(_is_staff(viewer), limit=limit, offset=offset)
    return _fundings_by_id([row["id"] for row in page])


def following_feed_rows(*, viewer: Account, limit: int, offset: int) -> list[dict]:
    page = _FOLLOWING_FEED_IDS.rows(viewer.is_staff, viewer=viewer.pk, limit=limit, offset=offset)
    return _fundings_by_id([row["id"] for row in page])


def _fundings_by_id(ids: list[int]) -> list[dict]:
    """The rows (FEED_FIELDS) of these fundings, in this order (a query per PAGE_SIZE ids)."""
    by_id = {}
    for start in range(0, len(ids), PAGE_SIZE):
        chunk = ids[start : start + PAGE_SIZE]
        values = {f"id{index}": pk for index, pk in enumerate(chunk)}
        by_id.update((row["id"], row) for row in _FUNDINGS_BY_ID.rows(len(chunk), **values))
    return [by_id[pk] for pk in ids if pk in by_id]


def user_feed_rows(*, viewer: Account, author: Account, limit: int, offset: int) -> list[dict]:
    """`author` from feed_account, as for user_feed."""
    sees_all = author.pk == viewer.pk or (author.follows_viewer and author.followed_by_viewer)
    return _USER_FEED.rows(
        (viewer.is_staff, sees_all), viewer=viewer.pk, author=author.pk, limit=limit, offset=offset
    )


def joined_feed_rows(*, viewer: Account, limit: int, offset: int) -> list[dict]:
    page = _JOINED_FEED_IDS.rows(viewer.is_staff, viewer=viewer.pk, limit=limit, offset=offset)
    return _fundings_by_id([row["id"] for row in page])


def funding_row_for_viewer(*, viewer: Account | None, funding_id: int) -> dict:
    """funding_for_viewer as a row (FEED_FIELDS): what GET /funding/ renders."""
    shape = viewer_shape(viewer)
    viewer_id = viewer.pk if shape != "anonymous" else ""
    rows = _DETAIL.rows(shape, viewer=viewer_id, funding=funding_id)
    if not rows:
        raise NotFound("Funding not found.")
    return rows[0]
