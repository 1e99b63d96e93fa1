"""Reminders made by the periodic jobs: fundings about to end or ended, friends' birthdays.

Each run may repeat (a retried job, two consumers, a run by hand): the unique constraint
makes each reminder once per event.

Birthdays are `MMDD` on the solar or the lunar calendar (Account.birthday_type; Kakao says
which). Friends hear of a birthday 7 days ahead, once a year per friend (the event is the
person and the solar year of the date). Rules for dates that do not exist every year:

* a solar 29 February is kept on 28 February in the years without one;
* a lunar 30th is kept on the 29th of a lunar month that has only 29 days that year;
* a lunar birthday is in the ordinary month, never in a leap month (윤달) of the same
  number, as is the custom (an `MMDD` cannot say "leap" anyway).

A lunar birthday late in the lunar year can fall in January or February of the next solar
year, and in a rare year twice in one solar year: the second is not announced.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime, timedelta

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from korean_lunar_calendar import KoreanLunarCalendar

from accounts.models import Account, BirthdayType
from fundings.models import Contribution, Funding, FundingState
from fundings.selectors import friend_ids
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.push import KOREA
from notifications.services import notify_all
from payments.models import PaymentState

logger = logging.getLogger(__name__)

BIRTHDAY_NOTICE_DAYS = 7
EXPIRED_LOOKBACK = timedelta(days=3)
REFUND_LOOKBACK = timedelta(days=3)


# --- fundings ending ----------------------------------------------------------------------


def notify_expiring(now: datetime | None = None) -> int:
    """Authors of open fundings ending within 24 hours, and of those that ended lately."""
    now = now or timezone.now()
    created = 0
    open_ones = Funding.objects.filter(state=FundingState.OPEN, is_hidden=False)
    for funding in open_ones.filter(expire_on__gt=now, expire_on__lte=now + timedelta(days=1)):
        created += notify_all(
            [funding.author_id],
            kind=Kind.EXPIRING,
            event_key=f"funding:{funding.pk}",
            funding_id=funding.pk,
            now=now,
        )
    for funding in open_ones.filter(expire_on__lte=now, expire_on__gt=now - EXPIRED_LOOKBACK):
        created += notify_all(
            [funding.author_id],
            kind=Kind.EXPIRED,
            event_key=f"funding:{funding.pk}",
            funding_id=funding.pk,
            data={"amount": funding.current_amount},
            now=now,
        )
    if created:
        logger.info("expiry reminders: %d created", created)
    return created


# --- refunds confirmed by a job -----------------------------------------------------------


def notify_refunds(now: datetime | None = None) -> int:
    """Contributors whose refund the provider confirmed lately, not told yet.

    A refund the contributor waited for is announced at once (fundings' signal); the others
    (a canceled funding, an operator's refund, one retried by a job or by reconciliation) are
    confirmed by payments' jobs, which know no contribution: this sweep finds them.
    """
    now = now or timezone.now()
    told = Notification.objects.filter(
        recipient_id=OuterRef("contributor_id"),
        kind=Kind.REFUNDED,
        event_key=Concat(Value("contribution:"), Cast(OuterRef("pk"), CharField())),
    )
    rows = Contribution.objects.filter(
        refunded_on__gt=now - REFUND_LOOKBACK,
        payment__state=PaymentState.REFUNDED,
    ).exclude(Exists(told))
    created = 0
    for row in rows.only("id", "contributor_id", "funding_id", "amount"):
        created += notify_all(
            [row.contributor_id],
            kind=Kind.REFUNDED,
            event_key=f"contribution:{row.pk}",
            funding_id=row.funding_id,
            data={"amount": row.amount},
            now=now,
        )
    return created


# --- birthdays ----------------------------------------------------------------------------


def _lunar_to_solar(year: int, month: int, day: int) -> date | None:
    converter = KoreanLunarCalendar()
    if not converter.setLunarDate(year, month, day, False):
        return None
    return date(converter.solarYear, converter.solarMonth, converter.solarDay)


def solar_birthday(mmdd: str, birthday_type: str, year: int) -> date | None:
    """The solar date of a birthday in `year` (a lunar one: in lunar year `year`, which may
    end in the next solar year). None for a date the converter's range does not cover."""
    month, day = int(mmdd[:2]), int(mmdd[2:])
    if birthday_type == BirthdayType.LUNAR:
        found = _lunar_to_solar(year, month, day)
        if found is None and day == 30:
            found = _lunar_to_solar(year, month, 29)
        return found
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def _birthdays_on(target: date) -> Q:
    """Accounts whose birthday falls on `target` (a solar date)."""
    solar = {target.strftime("%m%d")}
    if (target.month, target.day) == (2, 28) and not calendar.isleap(target.year):
        solar.add("0229")
    match = Q(birthday_type=BirthdayType.SOLAR, birthday__in=solar)
    converter = KoreanLunarCalendar()
    if converter.setSolarDate(target.year, target.month, target.day) and not (
        converter.isIntercalation
    ):
        month, day = converter.lunarMonth, converter.lunarDay
        lunar = {f"{month:02d}{day:02d}"}
        if day == 29 and _lunar_to_solar(converter.lunarYear, month, 30) is None:
            lunar.add(f"{month:02d}30")
        match |= Q(birthday_type=BirthdayType.LUNAR, birthday__in=lunar)
    return match


def notify_birthdays(now: datetime | None = None) -> int:
    """Friends of everyone whose birthday is 7 days from today (Korea time) hear of it."""
    now = now or timezone.now()
    target = now.astimezone(KOREA).date() + timedelta(days=BIRTHDAY_NOTICE_DAYS)
    created = 0
    people = Account.objects.filter(_birthdays_on(target), is_active=True)
    for person in people.only("id"):
        created += notify_all(
            Account.objects.filter(pk__in=friend_ids(person)).values_list("pk", flat=True),
            kind=Kind.FRIEND_BIRTHDAY,
            event_key=f"account:{person.pk}:{target.year}",
            actor_id=person.pk,
            data={"date": f"{target.month}월 {target.day}일"},
            now=now,
        )
    if created:
        logger.info("birthday reminders for %s: %d created", target, created)
    return created
