"""Moderation in the admin: the report queue, its actions, and the log of what was done."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from funsun.api.errors import DomainError
from reports.models import ModerationAction, Report, ReportType
from reports.services import (
    deactivate_reported_account,
    hide_reported_funding,
    remove_reported_message,
    resolve_report,
)

# Where each kind of target lives in the admin (admin URL name of its change page).
TARGET_ADMIN_URLS = {
    ReportType.FUNDING: "admin:fundings_funding_change",
    ReportType.ACCOUNT: "admin:accounts_account_change",
    ReportType.REMIT: "admin:fundings_contribution_change",
    "report": "admin:reports_report_change",
}


def target_link(target_type: str, target_id: str):
    """A link to the target's admin page; plain text while that admin is not registered."""
    label = f"{target_type} {target_id}"
    try:
        url = reverse(TARGET_ADMIN_URLS[target_type], args=[target_id])
    except (KeyError, NoReverseMatch):
        return label
    return format_html('<a href="{}">{}</a>', url, label)


def _apply(modeladmin, request, reports, service: Callable, done: str) -> None:
    """Run a moderation service on each selected report; say what happened and what not."""
    succeeded, failed = 0, []
    for report in reports:
        try:
            service(report=report, actor=request.user)
        except DomainError as error:
            failed.append(f"#{report.pk}: {error.detail}")
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded} report(s).", messages.SUCCESS)
    if failed:
        modeladmin.message_user(request, "Not done: " + "; ".join(failed), messages.WARNING)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "type",
        "target_link",
        "reporter",
        "short_message",
        "created_on",
        "solved",
    )
    list_display_links = ("id",)
    list_filter = ("type", "is_solved")
    search_fields = ("=id", "=target", "message", "=reporter__id", "reporter__username")
    list_select_related = ("reporter", "solved_by")
    # Open reports first, newest first.
    ordering = ("is_solved", "-created_on", "-id")
    readonly_fields = (
        "reporter",
        "type",
        "target",
        "target_link",
        "message",
        "created_on",
        "is_solved",
        "solved_by",
        "solved_on",
    )
    fields = readonly_fields
    actions = ("resolve", "hide_funding", "deactivate_account", "remove_message")

    @admin.display(description="target")
    def target_link(self, report: Report):
        return target_link(report.type, report.target)

    @admin.display(description="message")
    def short_message(self, report: Report) -> str:
        return Truncator(report.message).chars(80)

    @admin.display(description="solved", ordering="is_solved")
    def solved(self, report: Report):
        """Open reports stand out; a solved one says when and by whom, in one column."""
        if not report.is_solved:
            return format_html('<span class="funsun-warning">{}</span>', "open")
        when = formats.localize(timezone.localtime(report.solved_on)) if report.solved_on else ""
        return format_html("{} by {}", when, report.solved_by or "-")

    def has_add_permission(self, request) -> bool:
        # Reports come from users through the API.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Kept as the record of what users flagged; resolving closes one.
        return False

    @admin.action(description="Resolve the selected reports", permissions=["change"])
    def resolve(self, request, queryset):
        _apply(self, request, queryset, resolve_report, "Resolved")

    @admin.action(description="Hide the reported funding (and resolve)", permissions=["change"])
    def hide_funding(self, request, queryset):
        _apply(self, request, queryset, hide_reported_funding, "Funding hidden")

    @admin.action(
        description="Deactivate the reported account (and resolve)", permissions=["change"]
    )
    def deactivate_account(self, request, queryset):
        _apply(self, request, queryset, deactivate_reported_account, "Account deactivated")

    @admin.action(
        description="Remove the reported contribution message (and resolve)",
        permissions=["change"],
    )
    def remove_message(self, request, queryset):
        _apply(self, request, queryset, remove_reported_message, "Message removed")


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """The moderation log: read-only, nobody edits or deletes history."""

    list_display = ("created_on", "actor", "action", "target_link", "note")
    list_filter = ("action", "target_type")
    search_fields = ("=target_id", "=actor__id", "actor__username", "note")
    list_select_related = ("actor",)
    date_hierarchy = "created_on"

    @admin.display(description="target")
    def target_link(self, action: ModerationAction):
        return target_link(action.target_type, action.target_id)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
