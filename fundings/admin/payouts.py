"""The payout queue: operators transfer the money at the bank, then record it here."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import F, QuerySet
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from fundings.models import Payout
from fundings.services.payouts import record_transfer
from funsun.api.errors import DomainError


def _admin_link(url_name: str, pk, label: str):
    try:
        return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), label)
    except NoReverseMatch:
        return label


class PendingFilter(admin.SimpleListFilter):
    title = "transfer"
    parameter_name = "transfer"

    def lookups(self, request, model_admin):
        return [("pending", "pending"), ("done", "transferred")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "pending":
            return queryset.filter(transferred_on__isnull=True)
        if self.value() == "done":
            return queryset.filter(transferred_on__isnull=False)
        return queryset


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    # The transfer in one column (pending, or when, by whom, the bank's reference): the
    # queue fits a 1280-pixel screen.
    list_display = (
        "id",
        "amount_display",
        "bank_account",
        "author_link",
        "funding_link",
        "requested_on",
        "transfer",
    )
    list_filter = (PendingFilter,)
    list_select_related = ("funding", "requested_by", "transferred_by")
    search_fields = (
        "=funding__id",
        "funding__title",
        "=requested_by__id",
        "requested_by__username",
        "reference",
    )
    # The queue: pending payouts first, oldest request first; then the latest transfers.
    ordering = (F("transferred_on").desc(nulls_first=True), "requested_on", "id")
    fields = (
        "funding_link",
        "author_link",
        "amount",
        "bank_account",
        "requested_on",
        "transferred_on",
        "transferred_by",
        "reference",
    )
    readonly_fields = fields
    actions = ("record_transfer",)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, payout: Payout) -> str:
        return f"{payout.amount:,}"

    @admin.display(description="transfer", ordering="transferred_on")
    def transfer(self, payout: Payout):
        if payout.transferred_on is None:
            return format_html('<span class="funsun-warning">{}</span>', "pending")
        when = formats.localize(timezone.localtime(payout.transferred_on))
        return format_html(
            "transferred {} by {}<br>ref. {}", when, payout.transferred_by, payout.reference
        )

    @admin.display(description="author", ordering="requested_by__username")
    def author_link(self, payout: Payout):
        author = payout.requested_by
        return _admin_link("admin:accounts_account_change", author.pk, str(author))

    @admin.display(description="funding", ordering="funding__id")
    def funding_link(self, payout: Payout):
        funding = payout.funding
        return _admin_link("admin:fundings_funding_change", funding.pk, str(funding))

    def has_add_permission(self, request) -> bool:
        # Payouts are asked for by authors (POST /funding/payout).
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Financial rows are never deleted.
        return False

    @admin.action(
        description="Record the bank transfer of the selected payouts", permissions=["change"]
    )
    def record_transfer(self, request, queryset):
        """Two steps: a page asking each pending payout's transfer reference, then record."""
        payouts = list(queryset.select_related("funding", "requested_by").order_by("pk"))
        pending = [p for p in payouts if p.transferred_on is None]
        done = [p for p in payouts if p.transferred_on is not None]
        if not pending:
            self.message_user(
                request, "The selected payouts are already transferred.", messages.WARNING
            )
            return None
        references = {p.pk: request.POST.get(f"reference_{p.pk}", "").strip() for p in pending}
        error = ""
        if request.POST.get("apply"):
            if all(references.values()):
                self._record(request, pending, references)
                return None
            error = "Give the transfer reference of every payout (nothing was recorded)."
        context = {
            **self.admin_site.each_context(request),
            "title": "Record bank transfers",
            "opts": self.model._meta,
            "pending": [(p, references[p.pk]) for p in pending],
            "already_done": done,
            "error": error,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/fundings/payout/record_transfer.html", context)

    def _record(self, request, pending: list[Payout], references: dict) -> None:
        recorded, failed = [], []
        for payout in pending:
            try:
                record_transfer(
                    payout_id=payout.pk, actor=request.user, reference=references[payout.pk]
                )
            except DomainError as error:
                failed.append(f"#{payout.pk}: {error.detail}")
            else:
                recorded.append(f"#{payout.pk}")
        if recorded:
            self.message_user(
                request,
                f"Recorded as transferred (funding paid out): {', '.join(recorded)}.",
                messages.SUCCESS,
            )
        if failed:
            self.message_user(request, "Not recorded: " + "; ".join(failed), messages.ERROR)
