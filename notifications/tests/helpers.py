"""Shortcuts of the notifications tests."""

from notifications.models import Notification


def notes(account, kind=None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=account).order_by("pk")
    return list(rows.filter(kind=kind) if kind else rows)
