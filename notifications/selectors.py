"""Reads of notifications: only ever the signed-in person's own."""

from django.db.models import QuerySet

from accounts.models import Account
from notifications.kinds import Kind
from notifications.models import Notification, NotificationSetting, PushSetting


def notifications_of(account: Account) -> QuerySet[Notification]:
    """Newest first (notification_list_idx), with what the text needs."""
    return (
        Notification.objects.filter(recipient=account)
        .select_related("actor", "funding")
        .only(
            "id",
            "kind",
            "data",
            "created_on",
            "read_on",
            "funding_id",
            "funding__title",
            "actor__id",
            "actor__username",
            "actor__image",
        )
        .order_by("-created_on", "-id")
    )


def unread_count(account: Account) -> int:
    return Notification.objects.filter(recipient=account, read_on__isnull=True).count()


def settings_of(account: Account) -> dict:
    kinds = dict.fromkeys(Kind.values, True)
    kinds.update(NotificationSetting.objects.filter(account=account).values_list("kind", "enabled"))
    push = PushSetting.objects.filter(account=account).values_list("enabled", flat=True).first()
    return {"push": push is not False, "kinds": kinds}
