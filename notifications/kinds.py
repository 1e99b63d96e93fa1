"""The kinds of notification, who gets them, and their text (Korean, as the app shows it)."""

from django.db import models


class Kind(models.TextChoices):
    # To a funding's author.
    CONTRIBUTION = "contribution", "contribution arrived"
    ACHIEVED = "achieved", "your funding reached its goal"
    EXPIRING = "expiring", "your funding ends within 24 hours"
    EXPIRED = "expired", "your funding ended"
    PAYOUT = "payout", "payout transferred"
    # To the contributors of a funding.
    JOINED_ACHIEVED = "joined_achieved", "a funding you joined reached its goal"
    REVIEW = "review", "thank-you review posted"
    REFUNDED = "refunded", "your refund went through"
    CANCELED = "canceled", "a funding you joined was canceled"
    # Between people.
    FOLLOWER = "follower", "new follower"
    FRIEND_FUNDING = "friend_funding", "a friend opened a funding"
    FRIEND_BIRTHDAY = "friend_birthday", "a friend's birthday in 7 days"


# Reminders wait for the morning (no push between 21:00 and 08:00 Korea time); news of
# money goes out at once.
REMINDERS = frozenset({Kind.EXPIRING, Kind.FRIEND_FUNDING, Kind.FRIEND_BIRTHDAY})


def text(kind: str, actor_name: str | None, title: str | None, data: dict) -> str:
    """What the notification says; `data` holds only what its recipient may see."""
    who = actor_name or "누군가"
    amount = data.get("amount")
    won = f"{amount:,}원" if isinstance(amount, int) else ""
    texts = {
        Kind.CONTRIBUTION: f"{who}님이 '{title}'에 {won}을 보냈어요: {data.get('message', '')}",
        Kind.ACHIEVED: f"'{title}' 펀딩이 목표 금액을 달성했어요!",
        Kind.EXPIRING: f"'{title}' 펀딩이 24시간 안에 마감돼요.",
        Kind.EXPIRED: f"'{title}' 펀딩이 마감됐어요.",
        Kind.PAYOUT: f"'{title}' 펀딩의 {won}이 계좌로 송금됐어요.",
        Kind.JOINED_ACHIEVED: f"참여한 '{title}' 펀딩이 목표 금액을 달성했어요!",
        Kind.REVIEW: f"{who}님이 '{title}' 펀딩에 감사 후기를 남겼어요.",
        Kind.REFUNDED: f"'{title}' 펀딩에 보낸 {won}이 환불됐어요.",
        Kind.CANCELED: f"'{title}' 펀딩이 취소됐어요. 보낸 {won}은 환불될 예정이에요.",
        Kind.FOLLOWER: f"{who}님이 회원님을 팔로우해요.",
        Kind.FRIEND_FUNDING: f"{who}님이 새 펀딩 '{title}'을 열었어요.",
        Kind.FRIEND_BIRTHDAY: f"7일 뒤 {data.get('date', '')}은 {who}님의 생일이에요.",
    }
    return texts.get(kind, "")
