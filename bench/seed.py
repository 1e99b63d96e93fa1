"""Seed the benchmark database: deterministic rows, inserted in bulk.

Run by the orchestrator as `python -m bench.seed` in the environment of one benchmark
database (DATABASE_URL), after `manage.py migrate`. Rows are generated in Python from
random.Random(SEED) and written with COPY (PostgreSQL) or executemany in one transaction
(SQLite); ids are given explicitly so that contributions can point at their payments, and
PostgreSQL's sequences are reset afterwards. What the load needs (the bench user, a friend, the
hottest funding...) is written to bench/out/seed-<vendor>.json.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import django

from bench.common import (
    BENCH_EMAIL,
    BENCH_PASSWORD,
    MEDIA_DIR,
    SEARCH_MATCHES,
    SEARCH_TERM,
    SEED,
    emit,
    out_file,
    write_json,
)

logger = logging.getLogger("bench.seed")

ACCOUNTS = 5_000
FOLLOWS_EACH = 15
FOLLOW_BACK = 1 / 3
BENCH_EXTRA_FOLLOWS = 200
BENCH_EXTRA_BACK = 100
FUNDINGS = 20_000
CONTRIBUTIONS = 100_000
HOT_FUNDINGS = 5
HOT_EXTRA = 2_000
# Open fundings with room left where the journey (the write path) gives its money.
WRITE_TARGETS = 16
PAYERS = 64
BENCH_JOINED = 40  # contributions of the bench user among the 100,000 (its joined feed)

GIVEN = [
    "민지", "서준", "지우", "하은", "도윤", "서연", "예준", "수아", "시우", "지호",
    "minji", "seojun", "jiwoo", "haeun", "doyun", "yuna", "taeyang", "hana", "jihoon", "sora",
]  # fmt: skip
GIFTS = [
    "에어팟 프로", "닌텐도 스위치", "캠핑 의자", "전동 칫솔", "향수", "키보드",
    "Birthday camera", "Running shoes", "Coffee machine", "Board game night",
]  # fmt: skip
CONTENTS = [
    "올해 생일에는 정말 갖고 싶던 선물을 받고 싶어요. 조금씩 모아 주시면 감사하겠습니다!",
    "A small present I have wanted for a long time. Every bit helps, thank you all.",
    "졸업 기념으로 친구들과 함께 준비하는 선물입니다. 메시지도 꼭 남겨 주세요 :)",
    "Saving up for something useful instead of ten coffee coupons. Thanks for chipping in!",
]
MESSAGES = [
    "생일 축하해! 🎉",
    "Happy birthday!",
    "늘 고마워, 좋은 하루 보내",
    "Enjoy it!",
    "축하합니다",
]

FUNDING_IMAGES = [f"funding/bench/f{k}.jpg" for k in range(4)]
ACCOUNT_IMAGES = [f"account/bench/a{k}.jpg" for k in range(2)]


def make_images() -> None:
    """A few real image files that the seeded image paths point at."""
    from PIL import Image

    colors = [(239, 83, 80), (66, 165, 245), (102, 187, 106), (255, 202, 40)]
    for k, name in enumerate(FUNDING_IMAGES + ACCOUNT_IMAGES):
        path = MEDIA_DIR / name
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (640, 480), colors[k % len(colors)]).save(path, "JPEG", quality=80)


class Inserter:
    """Bulk insert of plain tuples into a model's table, with the fastest path per database."""

    def __init__(self, connection, now: datetime):
        self.connection = connection
        self.vendor = connection.vendor
        self.now = now
        connection.ensure_connection()
        self.raw = connection.connection

    def ts(self, value: datetime | None):
        """A datetime as the driver wants it: SQLite stores naive UTC text (Django's format)."""
        if value is None or self.vendor != "sqlite":
            return value
        return str(value.astimezone(UTC).replace(tzinfo=None))

    def _fill(self, model, names: list[str]) -> tuple[list[str], tuple]:
        """Columns the caller did not give: their constant default, computed once."""
        from django.db import models

        given = set(names)
        columns, values = [], []
        for field in model._meta.concrete_fields:
            if field.attname in given or field.name in given:
                continue
            if isinstance(field, models.fields.AutoFieldMixin):
                continue
            if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
                value = self.now
            else:
                value = field.get_default()
            if value is None and not field.null:
                raise RuntimeError(f"{model.__name__}.{field.name}: no value and no default")
            if isinstance(value, datetime):
                value = self.ts(value)
            else:
                value = field.get_db_prep_save(value, self.connection)
            columns.append(field.column)
            values.append(value)
        return columns, tuple(values)

    def insert(self, model, names: list[str], rows: list[tuple]) -> int:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        columns = [by_attname[n].column for n in names]
        extra_columns, extra_values = self._fill(model, names)
        columns += extra_columns
        table = model._meta.db_table
        quoted = ", ".join(self.connection.ops.quote_name(c) for c in columns)
        if self.vendor == "postgresql":
            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + extra_values)
        else:
            marks = ", ".join("?" * len(columns))
            cursor = self.raw.cursor()
            batch = 20_000
            for start in range(0, len(rows), batch):
                cursor.executemany(
                    f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
                    [row + extra_values for row in rows[start : start + batch]],
                )
            cursor.close()
        return len(rows)


def generate(rng: random.Random, now: datetime) -> dict:
    """Every row, as plain Python values; nothing here touches the database."""
    n = ACCOUNTS
    # --- accounts -----------------------------------------------------------------------------
    ids = [str(1_000_000_000 + i) for i in range(n)]  # numeric strings, like Kakao ids
    sunny = set(rng.sample(range(1, n), SEARCH_MATCHES))
    usernames = []
    for i in range(n):
        if i == 0:
            usernames.append("bench")
        elif i in sunny:
            # The match sits after an ordinary name, so that matches spread over the
            # username order and an index scan cannot stop after the first few rows.
            usernames.append(f"{rng.choice(GIVEN)}_sunny{i}")
        else:
            usernames.append(f"{rng.choice(GIVEN)}{i}")
    assert sum(SEARCH_TERM in u.lower() for u in usernames) == SEARCH_MATCHES

    # --- follows ------------------------------------------------------------------------------
    edges: list[tuple[int, int]] = []
    edge_set: set[tuple[int, int]] = set()

    def follow(a: int, b: int) -> None:
        if a != b and (a, b) not in edge_set:
            edge_set.add((a, b))
            edges.append((a, b))

    originals = []
    for a in range(n):
        for b in rng.sample(range(n - 1), FOLLOWS_EACH):
            originals.append((a, b if b < a else b + 1))
    for a, b in originals:
        follow(a, b)
    for a, b in originals:
        if rng.random() < FOLLOW_BACK:
            follow(b, a)
    candidates = [b for b in range(1, n) if (0, b) not in edge_set]
    extra = rng.sample(candidates, BENCH_EXTRA_FOLLOWS)
    for b in extra:
        follow(0, b)
    for b in extra[:BENCH_EXTRA_BACK]:
        follow(b, 0)
    follower_count = [0] * n
    followee_count = [0] * n
    for a, b in edges:
        followee_count[a] += 1
        follower_count[b] += 1
    friends: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        if a < b and (b, a) in edge_set:
            friends[a].append(b)
            friends[b].append(a)
    mutual_pairs = sum(len(v) for v in friends.values()) // 2

    # --- fundings (ids follow creation time, as they would in production) ---------------------
    nf = FUNDINGS
    span = 330 * 86_400
    created = sorted(now - timedelta(seconds=rng.uniform(0, span)) for _ in range(nf))
    public = [True] * (nf // 2) + [False] * (nf - nf // 2)
    rng.shuffle(public)
    has_image = [True] * (nf // 2) + [False] * (nf - nf // 2)
    rng.shuffle(has_image)
    authors = [rng.randrange(n) for _ in range(nf)]
    goals = [rng.randint(10, 1000) * 1_000 for _ in range(nf)]

    payers = sorted(rng.sample(range(1, n), PAYERS))
    payer_set = set(payers)
    recent = [
        j
        for j in range(nf)
        if public[j] and created[j] > now - timedelta(days=20) and authors[j] != 0
    ]
    hot = rng.sample(recent, HOT_FUNDINGS)
    newest = [
        j
        for j in recent
        if j not in hot and created[j] > now - timedelta(days=10) and authors[j] not in payer_set
    ]
    targets = rng.sample(newest, WRITE_TARGETS)
    for j in hot + targets:
        goals[j] = 10_000_000  # room for 2,000 extra contributions, or for the journey

    # --- contributions ------------------------------------------------------------------------
    current = [0] * nf
    contributions: list[tuple[int, int, int, datetime, str]] = []
    eligible = [j for j in range(nf) if j not in set(targets)]

    def when(j: int) -> datetime:
        end = min(created[j] + timedelta(days=30), now)
        return created[j] + (end - created[j]) * rng.random()

    k = 0
    while len(contributions) < CONTRIBUTIONS:
        j = rng.choice(eligible)
        room = goals[j] - current[j]
        if room < 1_000:
            continue
        author = authors[j]
        if k % (CONTRIBUTIONS // BENCH_JOINED) == 0:
            if author == 0 or not (public[j] or 0 in friends[author]):
                continue
            contributor = 0
        elif public[j]:
            contributor = rng.randrange(n)
            if contributor == author:
                continue
        else:
            if not friends[author]:
                continue
            contributor = rng.choice(friends[author])
        amount = min(rng.randint(1, 100) * 1_000, room)
        current[j] += amount
        contributions.append((j, contributor, amount, when(j), rng.choice(MESSAGES)))
        k += 1
    for j in hot:
        for _ in range(HOT_EXTRA):
            contributor = rng.randrange(n)
            while contributor == authors[j]:
                contributor = rng.randrange(n)
            amount = rng.randint(1, 4) * 1_000
            current[j] += amount
            contributions.append((j, contributor, amount, when(j), rng.choice(MESSAGES)))
    contributions.sort(key=lambda c: c[3])
    assert all(0 <= current[j] <= goals[j] for j in range(nf))

    # --- what the load needs ------------------------------------------------------------------
    contributions_of = defaultdict(int)
    for c in contributions:
        contributions_of[c[0]] += 1
    hottest = max(hot, key=lambda j: contributions_of[j])
    private_count = defaultdict(int)
    funding_count = defaultdict(int)
    for j in range(nf):
        funding_count[authors[j]] += 1
        if not public[j]:
            private_count[authors[j]] += 1
    friend = max(friends[0], key=lambda b: (private_count[b], funding_count[b], -b))
    detail = next(
        j
        for j in sorted(range(nf), key=lambda j: -contributions_of[j])
        if public[j] and has_image[j] and j not in hot and authors[j] != 0
    )
    profile = next(i for i in range(1, n) if i not in payer_set and friend != i)

    return {
        "ids": ids,
        "usernames": usernames,
        "edges": edges,
        "follower_count": follower_count,
        "followee_count": followee_count,
        "mutual_pairs": mutual_pairs,
        "created": created,
        "public": public,
        "has_image": has_image,
        "authors": authors,
        "goals": goals,
        "current": current,
        "contributions": contributions,
        "hot": hot,
        "hottest": hottest,
        "targets": targets,
        "payers": payers,
        "friend": friend,
        "detail": detail,
        "profile": profile,
        "rng": rng,
    }


def write(data: dict, now: datetime) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from accounts.models import Account, Follow
    from fundings.models import Contribution, Funding, FundingState
    from payments.models import Payment, PaymentState

    rng: random.Random = data["rng"]
    ins = Inserter(connection, now)
    ts = ins.ts
    counts = {}
    n = len(data["ids"])
    ids = data["ids"]
    bench_hash = make_password(BENCH_PASSWORD)
    with transaction.atomic():
        rows = []
        for i in range(n):
            rows.append(
                (
                    ids[i],
                    bench_hash if i == 0 else "!",
                    BENCH_EMAIL if i == 0 else None,
                    data["usernames"][i],
                    f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                    ACCOUNT_IMAGES[i % 2] if i % 3 == 0 else None,
                    data["follower_count"][i],
                    data["followee_count"][i],
                    True,
                    ts(now - timedelta(days=400) + timedelta(minutes=i)),
                )
            )
        counts["accounts"] = ins.insert(
            Account,
            [
                "id",
                "password",
                "email",
                "username",
                "birthday",
                "image",
                "follower_count",
                "followee_count",
                "is_active",
                "date_joined",
            ],
            rows,
        )
        follow_time = ts(now - timedelta(days=200))
        # `mutual` as the follow services keep it: the followee follows back.
        edges = {tuple(edge) for edge in data["edges"]}
        counts["follows"] = ins.insert(
            Follow,
            ["id", "follower_id", "followee_id", "created_on", "mutual"],
            [
                (k + 1, ids[a], ids[b], follow_time, (b, a) in edges)
                for k, (a, b) in enumerate(data["edges"])
            ],
        )
        rows = []
        for j in range(len(data["created"])):
            created = data["created"][j]
            state = (
                FundingState.ACHIEVED
                if data["current"][j] == data["goals"][j]
                else FundingState.OPEN
            )
            rows.append(
                (
                    j + 1,
                    ids[data["authors"][j]],
                    f"{GIFTS[j % len(GIFTS)]} #{j + 1}",
                    CONTENTS[j % len(CONTENTS)],
                    data["goals"][j],
                    data["current"][j],
                    FUNDING_IMAGES[j % len(FUNDING_IMAGES)] if data["has_image"][j] else None,
                    ts(created + timedelta(days=30)),
                    data["public"][j],
                    str(state),
                    False,
                    ts(created),
                    ts(created),
                )
            )
        counts["fundings"] = ins.insert(
            Funding,
            [
                "id",
                "author_id",
                "title",
                "content",
                "goal_amount",
                "current_amount",
                "image",
                "expire_on",
                "public",
                "state",
                "is_hidden",
                "created_on",
                "updated_on",
            ],
            rows,
        )
        payments, contributions = [], []
        for k, (j, contributor, amount, created, message) in enumerate(data["contributions"]):
            pk = k + 1
            paid = ts(created - timedelta(seconds=20))
            payments.append(
                (
                    pk,
                    ids[contributor],
                    amount,
                    message,
                    "sandbox",
                    f"bench-{pk}",
                    f"TBENCH{pk:08d}",
                    str(PaymentState.CREDITED),
                    paid,
                    ts(created),
                    paid,
                )
            )
            contributions.append((pk, j + 1, ids[contributor], amount, message, pk, ts(created)))
        counts["payments"] = ins.insert(
            Payment,
            [
                "id",
                "payer_id",
                "amount",
                "message",
                "provider",
                "partner_order_id",
                "tid",
                "state",
                "created_on",
                "updated_on",
                "approved_on",
            ],
            payments,
        )
        counts["contributions"] = ins.insert(
            Contribution,
            ["id", "funding_id", "contributor_id", "amount", "message", "payment_id", "created_on"],
            contributions,
        )
        if connection.vendor == "postgresql":
            # Explicit ids leave the identity sequences behind: move them past the rows.
            statements = connection.ops.sequence_reset_sql(
                no_style(), [Follow, Funding, Payment, Contribution]
            )
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
    # Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would have.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    django.setup()
    from django.db import connection

    started = time.perf_counter()
    make_images()
    now = datetime.now(UTC).replace(microsecond=0)
    data = generate(random.Random(SEED), now)
    generated = time.perf_counter()
    counts = write(data, now)
    written = time.perf_counter()
    ids = data["ids"]
    info = {
        "vendor": connection.vendor,
        "seeded_at": now.isoformat(),
        "counts": counts | {"mutual_pairs": data["mutual_pairs"]},
        "bench_user_id": ids[0],
        "bench_email": BENCH_EMAIL,
        "bench_followees": data["followee_count"][0],
        "friend_id": ids[data["friend"]],
        "detail_id": data["detail"] + 1,
        "hot_id": data["hottest"] + 1,
        "hot_ids": [j + 1 for j in data["hot"]],
        "profile_id": ids[data["profile"]],
        "search_term": SEARCH_TERM,
        "payer_ids": [ids[i] for i in data["payers"]],
        "target_ids": [j + 1 for j in data["targets"]],
        "seconds": {
            "generate": round(generated - started, 2),
            "insert": round(written - generated, 2),
        },
    }
    write_json(out_file(f"seed-{connection.vendor}.json"), info)
    emit(info)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funsun.settings")
    main()
