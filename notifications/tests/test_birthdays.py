"""Friends hear of a birthday 7 days ahead: solar and lunar, once a year, 29 February."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications import reminders
from notifications.kinds import Kind
from notifications.reminders import solar_birthday
from notifications.tests.helpers import notes
from tests.factories import AccountFactory, FollowFactory

pytestmark = pytest.mark.django_db
KST = ZoneInfo("Asia/Seoul")


def morning(day: date) -> datetime:
    return datetime.combine(day, time(7, 0), tzinfo=KST)


def friends_of(person):
    friend, fan = AccountFactory(), AccountFactory()
    FollowFactory(follower=person, followee=friend)
    FollowFactory(follower=friend, followee=person)
    FollowFactory(follower=fan, followee=person)  # one way: not a friend
    return friend, fan


def test_a_solar_birthday_7_days_ahead_once_a_year():
    person = AccountFactory(username="민지", birthday="0510", birthday_type="solar")
    friend, fan = friends_of(person)
    assert reminders.notify_birthdays(morning(date(2027, 5, 2))) == 0
    assert reminders.notify_birthdays(morning(date(2027, 5, 3))) == 1
    assert reminders.notify_birthdays(morning(date(2027, 5, 3))) == 0
    [note] = notes(friend)
    assert (note.kind, note.actor_id, note.data) == (
        Kind.FRIEND_BIRTHDAY,
        person.pk,
        {"date": "5월 10일"},
    )
    assert notes(fan) == [] and notes(person) == []
    assert reminders.notify_birthdays(morning(date(2028, 5, 3))) == 1
    assert len(notes(friend)) == 2


def test_a_lunar_birthday_is_converted_for_the_year():
    # Lunar 8/15 (추석) fell on 25 September 2026 and falls on 15 September 2027.
    assert solar_birthday("0815", "lunar", 2026) == date(2026, 9, 25)
    assert solar_birthday("0815", "lunar", 2027) == date(2027, 9, 15)
    person = AccountFactory(birthday="0815", birthday_type="lunar")
    friend, _ = friends_of(person)
    assert reminders.notify_birthdays(morning(date(2027, 9, 1))) == 0  # solar 0815 - 7
    assert reminders.notify_birthdays(morning(date(2027, 9, 8))) == 1
    assert notes(friend)[0].data == {"date": "9월 15일"}


def test_a_lunar_30th_in_a_short_month_is_kept_on_the_29th():
    # Lunar 2026 month 2 has 29 days; its 29th is the solar 16 April 2026.
    assert solar_birthday("0230", "lunar", 2026) == solar_birthday("0229", "lunar", 2026)
    person = AccountFactory(birthday="0230", birthday_type="lunar")
    friend, _ = friends_of(person)
    target = solar_birthday("0229", "lunar", 2026)
    assert reminders.notify_birthdays(morning(target.replace(day=target.day - 7))) == 1
    assert len(notes(friend)) == 1


def test_29_february_is_kept_on_the_28th_in_other_years():
    assert solar_birthday("0229", "solar", 2027) == date(2027, 2, 28)
    assert solar_birthday("0229", "solar", 2028) == date(2028, 2, 29)
    person = AccountFactory(birthday="0229", birthday_type="solar")
    friend, _ = friends_of(person)
    assert reminders.notify_birthdays(morning(date(2027, 2, 21))) == 1
    assert reminders.notify_birthdays(morning(date(2028, 2, 22))) == 1
    assert [n.event_key for n in notes(friend)] == [
        f"account:{person.pk}:2027",
        f"account:{person.pk}:2028",
    ]


def test_a_turned_off_kind_and_a_deactivated_person():
    person = AccountFactory(birthday="1201")
    friend, _ = friends_of(person)
    client_settings = friend.notification_settings
    client_settings.create(kind=Kind.FRIEND_BIRTHDAY, enabled=False)
    assert reminders.notify_birthdays(morning(date(2027, 11, 24))) == 0
    gone = AccountFactory(birthday="1202", is_active=False)
    other, _ = friends_of(gone)
    assert reminders.notify_birthdays(morning(date(2027, 11, 25))) == 0
    assert notes(other) == []
