"""Failed jobs, newest first: what the background work could not finish by itself."""

from django.contrib import admin

from jobs.models import FailedJob


@admin.register(FailedJob)
class FailedJobAdmin(admin.ModelAdmin):
    list_display = ("id", "task", "arguments", "error", "failed_on")
    list_filter = ("task",)
    search_fields = ("task", "arguments", "error")
    date_hierarchy = "failed_on"
    ordering = ("-failed_on", "-id")
    fields = ("task", "task_id", "arguments", "error", "failed_on", "traceback")
    readonly_fields = fields

    # Rows are written by the jobs themselves; an operator deletes one once it is handled.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
