"""The demo world of a local server: what `manage.py seed_demo` loads.

Every kind of thing a screen or the admin can show: public and friends-only fundings, open,
achieved (with a review, its author's bank account set: the payout is ready to try),
expired with money (its payout already asked for: the operators' queue has one), refunded
money and an open report. The money keeps the invariants: each contribution stands on a
sandbox payment, and `current_amount` is the sum of the contributions not refunded.

The accounts share one fixed password, DEMO_PASSWORD: demo data is for a local database
only (seed_demo refuses a production-like one, see its help).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import follow
from demo.builders import credited_contribution
from fundings import signals
from fundings.models import Contribution, Funding, FundingState
from fundings.services.payouts import request_payout
from reports.services import create_report

DEMO_PASSWORD = "funsun-demo-1234"


@dataclass(frozen=True)
class DemoAccount:
    id: str
    email: str
    username: str
    bank_account: str = ""


DEMO_ACCOUNTS = [
    DemoAccount("demo-alice", "alice@funsun.local", "앨리스"),
    DemoAccount("demo-bob", "bob@funsun.local", "밥", bank_account="국민 123456-01-234567"),
    DemoAccount("demo-carol", "carol@funsun.local", "캐롤", bank_account="신한 110-222-333333"),
    DemoAccount("demo-dave", "dave@funsun.local", "데이브"),
]

# (follower, followee): alice and bob are friends (mutual), carol follows alice only,
# alice follows dave only.
DEMO_FOLLOWS = [
    ("demo-alice", "demo-bob"),
    ("demo-bob", "demo-alice"),
    ("demo-carol", "demo-alice"),
    ("demo-alice", "demo-dave"),
]


@dataclass
class DemoFunding:
    key: str
    author: str
    title: str
    content: str
    goal: int
    public: bool = True
    age_days: int = 1  # created this many days ago
    expires_in_days: int = 30  # negative: already expired
    # (contributor, amount, message)
    gifts: list[tuple[str, int, str]] = field(default_factory=list)
    # The same, refunded: shown in the contribution list as refunded, not counted.
    refunded_gifts: list[tuple[str, int, str]] = field(default_factory=list)
    review: str | None = None
    payout_requested: bool = False


DEMO_FUNDINGS = [
    DemoFunding(
        "earphones",
        "demo-alice",
        "생일 선물: 무선 이어폰",
        "출퇴근길에 쓸 이어폰이 갖고 싶어요. 커피 쿠폰 대신 조금씩 보태 주세요!",
        250_000,
        age_days=2,
        gifts=[("demo-bob", 30_000, "생일 축하해!"), ("demo-carol", 20_000, "늘 고마워요")],
        refunded_gifts=[("demo-dave", 5_000, "금액을 잘못 보냈어요")],
    ),
    DemoFunding(
        "camping-chair",
        "demo-alice",
        "친구들끼리: 캠핑 의자",
        "이번 여름 캠핑에 같이 앉을 의자. 친구들만 보여요.",
        80_000,
        public=False,
        age_days=1,
        gifts=[("demo-bob", 10_000, "같이 가자")],
    ),
    DemoFunding(
        "keyboard",
        "demo-bob",
        "졸업 선물: 기계식 키보드",
        "졸업 논문을 끝냈어요. 손목을 지켜 줄 키보드!",
        150_000,
        age_days=20,
        expires_in_days=10,
        gifts=[("demo-alice", 100_000, "졸업 축하해"), ("demo-carol", 50_000, "수고했어요")],
        review="덕분에 키보드를 샀어요. 모두 고마워요!",
    ),
    DemoFunding(
        "board-game",
        "demo-bob",
        "보드게임 모임 새 게임",
        "다음 모임에서 같이 할 보드게임.",
        60_000,
        public=False,
        age_days=3,
        gifts=[("demo-alice", 15_000, "나도 낄래")],
    ),
    DemoFunding(
        "perfume",
        "demo-carol",
        "향수 (마감됨)",
        "지난달 생일 선물. 마감되었어요.",
        120_000,
        age_days=40,
        expires_in_days=-5,
        gifts=[("demo-dave", 10_000, "늦었지만 축하해요")],
        payout_requested=True,
    ),
    DemoFunding(
        "running-shoes",
        "demo-dave",
        "마라톤 완주 기념 러닝화",
        "첫 풀코스 완주! 새 러닝화로 다음 대회를 준비할게요.",
        180_000,
        age_days=4,
    ),
    DemoFunding(
        "suitcase",
        "demo-dave",
        "가족 여행 캐리어",
        "친구들만 보는 펀딩이에요.",
        200_000,
        public=False,
        age_days=5,
    ),
]

# (reporter, type, funding key, message): open, for the operators' report queue.
DEMO_REPORTS = [
    ("demo-carol", "funding", "running-shoes", "광고 같은 펀딩이에요. 확인 부탁드려요."),
]


def demo_accounts_present() -> bool:
    return Account.objects.filter(pk__in=[a.id for a in DEMO_ACCOUNTS]).exists()


def _create_accounts() -> dict[str, Account]:
    accounts = {}
    for demo in DEMO_ACCOUNTS:
        accounts[demo.id] = Account.objects.create_user(
            id=demo.id,
            email=demo.email,
            password=DEMO_PASSWORD,
            username=demo.username,
            bank_account=demo.bank_account or None,
        )
    for follower, followee in DEMO_FOLLOWS:
        # Through the follow service, so the denormalised counters stay exact.
        follow(follower=accounts[follower], followee_id=followee)
    return accounts


def _create_funding(demo: DemoFunding, accounts: dict[str, Account], now) -> Funding:
    created_on = now - timedelta(days=demo.age_days)
    funding = Funding.objects.create(
        author=accounts[demo.author],
        title=demo.title,
        content=demo.content,
        goal_amount=demo.goal,
        public=demo.public,
        expire_on=now + timedelta(days=demo.expires_in_days),
        created_on=created_on,
        review=demo.review,
    )
    gifts = [(gift, False) for gift in demo.gifts] + [(g, True) for g in demo.refunded_gifts]
    for hours, ((contributor, amount, message), refunded) in enumerate(gifts, start=1):
        credited_contribution(
            funding,
            accounts[contributor],
            amount,
            message=message,
            created_on=created_on + timedelta(hours=hours),
            refunded=refunded,
        )
    if funding.current_amount == funding.goal_amount:
        Funding.objects.filter(pk=funding.pk).update(state=FundingState.ACHIEVED)
        funding.refresh_from_db()
    return funding


@transaction.atomic
def load_demo_data() -> dict[str, Account]:
    """Create the whole demo world in one transaction; returns the demo accounts by id."""
    now = timezone.now()
    accounts = _create_accounts()
    fundings = {demo.key: _create_funding(demo, accounts, now) for demo in DEMO_FUNDINGS}
    for demo in DEMO_FUNDINGS:
        if demo.payout_requested:
            request_payout(author=accounts[demo.author], funding_id=fundings[demo.key].pk)
    for reporter, type_, key, message in DEMO_REPORTS:
        create_report(
            reporter=accounts[reporter],
            type=type_,
            target=str(fundings[key].pk),
            message=message,
        )
    for funding in fundings.values():
        _announce(funding)
    return accounts


def _announce(funding: Funding) -> None:
    """Send the events the builders' rows stand for (they bypass the services), once the
    world commits: the apps listening (notifications) show what happened."""
    credited = funding.contributions.filter(refunded_on__isnull=True).order_by("pk")
    for contribution in credited.select_related("funding"):
        transaction.on_commit(
            partial(signals.contribution_credited.send, Contribution, contribution=contribution)
        )
    if funding.state == FundingState.ACHIEVED:
        transaction.on_commit(
            partial(signals.funding_achieved.send, Funding, funding_id=funding.pk)
        )
    if funding.review:
        transaction.on_commit(partial(signals.review_posted.send, Funding, funding_id=funding.pk))
