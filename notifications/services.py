"""Writes of notifications: creating them once per event, reading, settings, devices.

A notification is created at most once per (recipient, kind, event): the unique constraint
decides, so a replayed signal, a retried job or a periodic job run twice add nothing. A kind
the recipient turned off creates nothing (their list and unread count never hold it), and
neither does anything for a deactivated account, nor for anyone with NOTIFICATIONS_ENABLED
off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from funsun.api.errors import InvalidInput, NotFound
from notifications import push
from notifications.kinds import Kind
from notifications.models import Device, Notification, NotificationSetting, PushSetting

logger = logging.getLogger(__name__)


def wanted_by(recipient_ids: Iterable[str], kind: str) -> list[str]:
    """The active accounts among `recipient_ids` that have `kind` on, in id order.

    One query: each account with its settings rows (a few at most: one per kind it ever
    changed), the kind's row picked out here. This runs inside the event's transaction,
    and a plain outer join costs the ORM about half the CPU of a join filtered by kind or
    of an EXISTS subquery (bench/RESULTS.md)."""
    rows = Account.objects.filter(
        pk__in={str(pk) for pk in recipient_ids}, is_active=True
    ).values_list("pk", "notification_settings__kind", "notification_settings__enabled")
    wanted: set[str] = set()
    turned_off: set[str] = set()
    for pk, setting_kind, enabled in rows:
        wanted.add(pk)
        if setting_kind == kind and enabled is False:
            turned_off.add(pk)
    return sorted(wanted - turned_off)


def notify(
    *,
    recipient_id: str,
    kind: str,
    event_key: str,
    actor_id: str | None = None,
    funding_id: int | None = None,
    data: dict | None = None,
    now: datetime | None = None,
    savepoint: bool = True,
) -> Notification | None:
    """Create the notification of an event for one recipient who wants it (see wanted_by)
    and queue its push; None when it exists already.

    `savepoint=False` when the caller's savepoint holds nothing else (a receiver's, see
    notifications.receivers): a duplicate then rolls back that one at its end, and the
    event's transaction is spared two statements."""
    now = now or timezone.now()
    try:
        # Inside the event's own transaction (the usual case: the notification commits
        # with the event or not at all), in a savepoint unless the caller's stands for it.
        with transaction.atomic(savepoint=savepoint):
            notification = Notification.objects.create(
                recipient_id=recipient_id,
                kind=kind,
                event_key=event_key,
                actor_id=actor_id,
                funding_id=funding_id,
                data=data or {},
                created_on=now,
            )
            push.push_later(notification, now=now)
    except IntegrityError:
        return None  # made before: a replay of the event, or a reminder's second run
    return notification


def notify_all(recipient_ids: Iterable[str], *, savepoint: bool = True, **event) -> int:
    """notify() for every recipient who wants this kind; how many were created.

    `savepoint=False` (see notify) applies to an event of one recipient only: with more,
    one duplicate would undo the others."""
    if not settings.NOTIFICATIONS_ENABLED:
        return 0  # switched off: reminders and events create nothing
    wanted = wanted_by(recipient_ids, event["kind"])
    savepoint = savepoint or len(wanted) > 1
    return sum(notify(recipient_id=pk, savepoint=savepoint, **event) is not None for pk in wanted)


# --- the API's writes ---------------------------------------------------------------------


def mark_read(*, account: Account, notification_id: int | None, now: datetime | None = None):
    """One notification (404 when not theirs) or all of them; read ones stay as they were."""
    now = now or timezone.now()
    mine = Notification.objects.filter(recipient=account)
    if notification_id is not None:
        if not mine.filter(pk=notification_id).exists():
            raise NotFound("Notification not found.")
        mine = mine.filter(pk=notification_id)
    return mine.filter(read_on__isnull=True).update(read_on=now)


def update_settings(*, account: Account, kinds: dict[str, bool], push_on: bool | None) -> None:
    with transaction.atomic():
        for kind, enabled in kinds.items():
            NotificationSetting.objects.update_or_create(
                account=account, kind=Kind(kind), defaults={"enabled": enabled}
            )
        if push_on is not None:
            PushSetting.objects.update_or_create(account=account, defaults={"enabled": push_on})


def register_device(*, account: Account, token: str, platform: str) -> Device:
    """Register (or refresh) a token; a token seen on another account moves to this one
    (the phone changed hands or accounts)."""
    token = token.strip()
    if not token:
        raise InvalidInput("token: give the FCM registration token.")
    now = timezone.now()
    device, _ = Device.objects.update_or_create(
        token=token, defaults={"account": account, "platform": platform, "last_seen": now}
    )
    return device


def remove_device(*, account: Account, token: str) -> bool:
    deleted, _ = Device.objects.filter(account=account, token=token.strip()).delete()
    return bool(deleted)
