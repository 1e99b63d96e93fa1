"""A job that failed and will not be retried: the operators' to-do list."""

from django.db import models
from django.utils import timezone


class FailedJob(models.Model):
    task = models.CharField(max_length=200)  # e.g. payments.tasks.refund_payment
    task_id = models.CharField(max_length=64)
    arguments = models.CharField(max_length=500, blank=True, default="")
    error = models.CharField(max_length=500)
    traceback = models.TextField(blank=True, default="")
    failed_on = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-failed_on", "-id"]
        indexes = [models.Index(fields=["task", "failed_on"], name="failedjob_task_idx")]

    def __str__(self) -> str:
        return f"{self.task}({self.arguments}) failed"
