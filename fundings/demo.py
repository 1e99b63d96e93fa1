"""Demo fundings for a fresh local database (`manage.py seed_demo`).

Every kind a screen can show: public and friends-only, open, achieved (with a review) and
expired, with money that keeps the invariants: each contribution stands on a credited
sandbox payment, and `current_amount` is the sum of the contributions.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from fundings.models import Contribution, Funding, FundingState
from payments.models import Payment, PaymentEvent, PaymentState


@dataclass
class DemoFunding:
    author: str
    title: str
    content: str
    goal: int
    public: bool = True
    age_days: int = 1  # created this many days ago
    expires_in_days: int = 30  # negative: already expired
    # (contributor, amount, message)
    gifts: list[tuple[str, int, str]] = field(default_factory=list)
    review: str | None = None


DEMO_FUNDINGS = [
    DemoFunding(
        "demo-alice",
        "생일 선물: 무선 이어폰",
        "출퇴근길에 쓸 이어폰이 갖고 싶어요. 커피 쿠폰 대신 조금씩 보태 주세요!",
        250_000,
        age_days=2,
        gifts=[("demo-bob", 30_000, "생일 축하해!"), ("demo-carol", 20_000, "늘 고마워요")],
    ),
    DemoFunding(
        "demo-alice",
        "친구들끼리: 캠핑 의자",
        "이번 여름 캠핑에 같이 앉을 의자. 친구들만 보여요.",
        80_000,
        public=False,
        age_days=1,
        gifts=[("demo-bob", 10_000, "같이 가자")],
    ),
    DemoFunding(
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
        "demo-bob",
        "보드게임 모임 새 게임",
        "다음 모임에서 같이 할 보드게임.",
        60_000,
        public=False,
        age_days=3,
        gifts=[("demo-alice", 15_000, "나도 낄래")],
    ),
    DemoFunding(
        "demo-carol",
        "향수 (마감됨)",
        "지난달 생일 선물. 마감되었어요.",
        120_000,
        age_days=40,
        expires_in_days=-5,
        gifts=[("demo-dave", 10_000, "늦었지만 축하해요")],
    ),
    DemoFunding(
        "demo-dave",
        "마라톤 완주 기념 러닝화",
        "첫 풀코스 완주! 새 러닝화로 다음 대회를 준비할게요.",
        180_000,
        age_days=4,
    ),
    DemoFunding(
        "demo-dave",
        "가족 여행 캐리어",
        "친구들만 보는 펀딩이에요.",
        200_000,
        public=False,
        age_days=5,
    ),
]


def _credit(funding: Funding, contributor: Account, amount: int, message: str, when) -> None:
    payment = Payment.objects.create(
        payer=contributor,
        amount=amount,
        funding=funding,
        message=message,
        provider="sandbox",
        partner_order_id=f"demo-{uuid.uuid4().hex}",
        tid=f"DEMO{uuid.uuid4().hex[:16].upper()}",
        state=PaymentState.CREDITED,
        approved_on=when,
        created_on=when,
    )
    PaymentEvent.objects.create(
        payment=payment,
        kind="demo_seed",
        to_state=PaymentState.CREDITED,
        note="demo data: no provider call",
        created_on=when,
    )
    Contribution.objects.create(
        funding=funding,
        contributor=contributor,
        amount=amount,
        message=message,
        payment=payment,
        created_on=when,
    )


@transaction.atomic
def create_demo_fundings(accounts: dict[str, Account]) -> list[Funding]:
    now = timezone.now()
    fundings = []
    for demo in DEMO_FUNDINGS:
        created_on = now - timedelta(days=demo.age_days)
        raised = sum(amount for _, amount, _ in demo.gifts)
        funding = Funding.objects.create(
            author=accounts[demo.author],
            title=demo.title,
            content=demo.content,
            goal_amount=demo.goal,
            current_amount=raised,
            state=FundingState.ACHIEVED if raised == demo.goal else FundingState.OPEN,
            public=demo.public,
            expire_on=now + timedelta(days=max(demo.expires_in_days, 1)),
            created_on=created_on,
            review=demo.review,
        )
        if demo.expires_in_days < 0:
            # The API refuses a past expiry; demo data sets it behind the API's back.
            Funding.objects.filter(pk=funding.pk).update(
                expire_on=now + timedelta(days=demo.expires_in_days)
            )
        for i, (contributor, amount, message) in enumerate(demo.gifts, start=1):
            when = created_on + timedelta(hours=i)
            _credit(funding, accounts[contributor], amount, message, when)
        fundings.append(funding)
    return fundings
