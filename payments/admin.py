"""Operators' view of payments: every attempt, its event log, read-only money."""

from django.contrib import admin, messages
from django.utils.html import format_html

from payments import services
from payments.models import Payment, PaymentEvent, PaymentState


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    fields = ("created_on", "kind", "from_state", "to_state", "note", "provider_response")
    readonly_fields = fields
    ordering = ("created_on", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Refund at the provider (approved payments nobody credited)")
def refund_uncredited(modeladmin, request, queryset) -> None:
    """Credited payments are refunded through their contribution (the contribution admin's
    action), which also takes the money out of the funding."""
    for payment in queryset:
        if payment.state == PaymentState.CREDITED:
            modeladmin.message_user(
                request,
                f"Payment #{payment.pk} is credited: refund its contribution instead.",
                messages.WARNING,
            )
            continue
        if payment.state == PaymentState.REFUNDING:
            done = services.retry_refund(payment_id=payment.pk)
        else:
            done = services.refund_uncredited(
                payment_id=payment.pk, reason=f"refunded by operator {request.user.pk}"
            )
        if done is None:
            modeladmin.message_user(
                request,
                f"Payment #{payment.pk} is {payment.state}: nothing to refund.",
                messages.WARNING,
            )
        elif done:
            modeladmin.message_user(request, f"Payment #{payment.pk} refunded.", messages.SUCCESS)
        else:
            modeladmin.message_user(
                request,
                f"Payment #{payment.pk}: the provider did not confirm; reconciliation retries it.",
                messages.ERROR,
            )


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "payer",
        "amount",
        "state",
        "needs_check_flag",
        "item_name",
        "tid",
        "created_on",
    )
    list_filter = ("state", "provider", "needs_check")
    search_fields = (
        "=id",
        "=tid",
        "=partner_order_id",
        "=provider_key",
        "=payer__id",
        "payer__username",
    )
    list_select_related = ("payer",)
    date_hierarchy = "created_on"
    ordering = ("-created_on", "-id")
    inlines = (PaymentEventInline,)
    actions = (refund_uncredited,)
    # Money is changed by the services only, never by hand.
    readonly_fields = tuple(field.name for field in Payment._meta.fields)
    fields = readonly_fields

    @admin.display(description="check", ordering="-needs_check", empty_value="")
    def needs_check_flag(self, payment: Payment) -> str:
        """A warning on the payments reconciliation must look at; nothing on the others."""
        if not payment.needs_check:
            return ""
        return format_html('<span class="funsun-warning">{}</span>', "⚠ check")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
