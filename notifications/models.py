"""In-app notifications, people's choices about them, and push to their phones (FCM)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from notifications.kinds import Kind


class Notification(models.Model):
    # No index of its own: the unique constraint and the list's index lead with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=Kind)
    # Names the event (e.g. "contribution:12"): one notification per event and recipient,
    # whatever retries or replays of the event happen (the unique constraint decides).
    event_key = models.CharField(max_length=100)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    funding = models.ForeignKey(
        "fundings.Funding", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # What the text needs, and only what the recipient may see (an amount only to the
    # author, or to the contributor it belongs to).
    data = models.JSONField(default=dict, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    read_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "event_key"], name="notification_once_per_event"
            ),
        ]
        indexes = [
            models.Index(
                "recipient", F("created_on").desc(), F("id").desc(), name="notification_list_idx"
            ),
            models.Index(
                fields=["recipient"],
                name="notification_unread_idx",
                condition=Q(read_on__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_id} ({self.event_key})"


class NotificationSetting(models.Model):
    """A kind someone turned off (or on again). No row: the kind is on."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind"], name="notification_setting_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {'on' if self.enabled else 'off'} for {self.account_id}"


class PushSetting(models.Model):
    """Push on or off for an account; no row: on."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="push_setting",
    )
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"push {'on' if self.enabled else 'off'} for {self.account_id}"


class Device(models.Model):
    """A phone's FCM registration token. A token moves to whoever registers it last."""

    class Platform(models.TextChoices):
        ANDROID = "android", "android"
        IOS = "ios", "ios"
        WEB = "web", "web"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    # FCM tokens are a few hundred characters; a btree index holds this length on PostgreSQL.
    token = models.CharField(max_length=512, unique=True)
    platform = models.CharField(max_length=10, choices=Platform, default=Platform.ANDROID)
    created_on = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.platform} device of {self.account_id}"


class Delivery(models.Model):
    """One push of one notification to one device."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        DROPPED = "dropped", "dropped (device gone)"

    # No index of its own: the unique constraint leads with it.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # Kept (device null) when FCM says the token is gone and the device is removed.
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_on = models.DateTimeField(default=timezone.now)
    sent_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "device"], name="delivery_once_per_device"
            )
        ]

    def __str__(self) -> str:
        return f"push of notification {self.notification_id}: {self.state}"
