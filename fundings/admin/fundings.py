"""Operators' view of fundings and contributions. Money fields are read-only here."""

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import format_html

from fundings.admin.payments import FundingPaymentInline
from fundings.models import Contribution, Funding, FundingState, FundingStatus
from fundings.services.contributions import refund_contribution_by_operator
from funsun.api.errors import StateConflict
from funsun.images import image_url


def thumbnail(field, height: int = 48) -> str:
    url = image_url(field)
    if not url:
        return "-"
    return format_html('<img src="{}" alt="" style="height:{}px">', url, height)


class StatusFilter(admin.SimpleListFilter):
    """By status as the app shows it: `expired` is an open funding past its expiry."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return FundingStatus.choices

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        now = timezone.now()
        if value == FundingStatus.OPEN:
            return queryset.filter(state=FundingState.OPEN, expire_on__gt=now)
        if value == FundingStatus.EXPIRED:
            return queryset.filter(state=FundingState.OPEN, expire_on__lte=now)
        if value in FundingState.values:
            return queryset.filter(state=value)
        return queryset


class ContributionInline(admin.TabularInline):
    model = Contribution
    fk_name = "funding"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("id", "contributor", "amount", "message", "payment", "created_on", "refunded_on")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contributor", "payment")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Funding)
class FundingAdmin(admin.ModelAdmin):
    # One status (the API's `status`: `expired` is derived, the stored `state` is not shown
    # beside it), money as "raised / goal", who sees it in one column, newest first (the
    # dates above the list) without a column of its own: fits 1280 pixels.
    list_display = (
        "id",
        "image_thumbnail",
        "title",
        "author",
        "status_display",
        "raised",
        "visibility",
        "expire_on",
    )
    list_display_links = ("id", "title")
    list_filter = (StatusFilter, "public", "is_hidden")
    list_select_related = ("author",)
    search_fields = ("title", "=author__id", "author__username")
    search_help_text = "Title, author id or author username; a number also finds that funding id."
    ordering = ("-created_on", "-id")
    date_hierarchy = "created_on"
    readonly_fields = (
        "author",
        "status_display",
        "goal_amount",
        "current_amount",
        "image_thumbnail",
        "review_image_thumbnail",
        "created_on",
        "updated_on",
    )
    fieldsets = (
        (None, {"fields": ("author", "title", "content", "public", "is_hidden", "expire_on")}),
        ("Images", {"fields": ("image_thumbnail", "image", "review_image_thumbnail")}),
        ("Review", {"fields": ("review", "review_image")}),
        (
            "Money (changed only by contributions, refunds and payouts)",
            {"fields": ("status_display", "goal_amount", "current_amount")},
        ),
        ("Times", {"fields": ("created_on", "updated_on")}),
    )
    inlines = (ContributionInline, FundingPaymentInline)
    actions = ("hide", "unhide")

    @admin.display(description="status", ordering="state")
    def status_display(self, obj: Funding) -> str:
        return obj.status

    @admin.display(description="raised / goal", ordering="current_amount")
    def raised(self, obj: Funding) -> str:
        return f"{obj.current_amount:,} / {obj.goal_amount:,}"

    @admin.display(description="visible to", ordering="public")
    def visibility(self, obj: Funding) -> str:
        if obj.is_hidden:
            return format_html('<span class="funsun-warning">{}</span>', "hidden: staff only")
        return "everyone" if obj.public else "friends"

    @admin.display(description="image")
    def image_thumbnail(self, obj: Funding) -> str:
        return thumbnail(obj.image)

    @admin.display(description="review image")
    def review_image_thumbnail(self, obj: Funding) -> str:
        return thumbnail(obj.review_image, height=96)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit() and len(term) < 19:
            queryset |= self.model.objects.filter(pk=int(term))
        return queryset, may_have_duplicates

    # Fundings are opened by their authors; operators hide them rather than delete them,
    # because a funding's money records must keep pointing at it.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Hide selected fundings (only staff will see them)")
    def hide(self, request, queryset):
        self._set_hidden(request, queryset, True)

    @admin.action(description="Show selected fundings again")
    def unhide(self, request, queryset):
        self._set_hidden(request, queryset, False)

    def _set_hidden(self, request, queryset, hidden: bool) -> None:
        changed = list(queryset.filter(~Q(is_hidden=hidden)))
        Funding.objects.filter(pk__in=[f.pk for f in changed]).update(
            is_hidden=hidden, updated_on=timezone.now()
        )
        for funding in changed:
            self.log_change(request, funding, "hidden" if hidden else "shown again")
        verb = "hidden" if hidden else "shown again"
        self.message_user(request, f"{len(changed)} funding(s) {verb}.", messages.SUCCESS)


@admin.action(description="Refund the selected contributions at the payment provider")
def refund_contributions(modeladmin, request, queryset) -> None:
    """Admin action on contributions: take each back through the same service as the API.
    The decision commits at once; a job per payment refunds it at the provider (the
    payment's page shows when it is `refunded`; a job that gives up is listed under Failed
    jobs)."""
    taken = again = 0
    for contribution in queryset:
        try:
            if refund_contribution_by_operator(contribution=contribution):
                taken += 1
            else:
                again += 1
        except StateConflict as exc:
            modeladmin.message_user(request, f"#{contribution.pk}: {exc.detail}", messages.ERROR)
    if taken:
        modeladmin.message_user(
            request,
            f"{taken} contribution(s) taken back; their payments are being refunded.",
            messages.SUCCESS,
        )
    if again:
        modeladmin.message_user(
            request,
            f"{again} contribution(s) were taken back before; "
            "refunds the provider had not confirmed are tried again.",
            messages.WARNING,
        )


@admin.register(Contribution)
class ContributionAdmin(admin.ModelAdmin):
    actions = (refund_contributions,)
    list_display = ("id", "funding", "contributor", "amount", "created_on", "refunded_on")
    list_select_related = ("funding", "contributor")
    list_filter = (("refunded_on", admin.EmptyFieldListFilter),)
    search_fields = ("funding__title", "=contributor__id", "contributor__username")
    search_help_text = "Funding title, contributor id or contributor username."
    ordering = ("-created_on", "-id")
    # Only the message may be edited (moderation); every money field is read-only.
    readonly_fields = (
        "funding",
        "contributor",
        "amount",
        "payment",
        "created_on",
        "refunded_on",
    )
    fields = ("funding", "contributor", "amount", "message", "payment", "created_on", "refunded_on")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
