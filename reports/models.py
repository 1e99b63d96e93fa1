"""User reports and the operators' moderation log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ReportType(models.TextChoices):
    FUNDING = "funding", "funding"
    ACCOUNT = "account", "account"
    REMIT = "remit", "remit"


class Report(models.Model):
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports"
    )
    type = models.CharField(max_length=10, choices=ReportType)
    target = models.CharField(max_length=64)
    message = models.CharField(max_length=1000, blank=True, default="")
    created_on = models.DateTimeField(default=timezone.now)
    is_solved = models.BooleanField(default=False)
    solved_on = models.DateTimeField(null=True, blank=True)
    solved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="solved_reports",
    )

    class Meta:
        constraints = [
            # One open report per reporter and target.
            models.UniqueConstraint(
                fields=["reporter", "type", "target"],
                condition=Q(is_solved=False),
                name="report_one_open_per_target",
            )
        ]
        indexes = [models.Index(fields=["is_solved", "type"], name="report_queue_idx")]

    def __str__(self) -> str:
        return f"report #{self.pk} {self.type} {self.target}"


class ModerationAction(models.Model):
    """Who did what to which thing, and when. Written by every moderation action."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=20)
    target_id = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True, default="")
    created_on = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_on", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"
