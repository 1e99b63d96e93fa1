"""A funding's payments on its admin page: every payment started for it (FundingPayment)."""

from django.contrib import admin

from fundings.models import FundingPayment


class FundingPaymentInline(admin.TabularInline):
    model = FundingPayment
    extra = 0
    can_delete = False
    verbose_name = "payment started for this funding"
    verbose_name_plural = "payments started for this funding"
    fields = ("payment", "payer", "amount", "state", "provider", "tid", "created_on")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("payment", "payment__payer")
            .order_by("payment__created_on", "payment__id")
        )

    @admin.display(description="payer")
    def payer(self, obj: FundingPayment):
        return obj.payment.payer

    @admin.display(description="amount")
    def amount(self, obj: FundingPayment) -> int:
        return obj.payment.amount

    @admin.display(description="state")
    def state(self, obj: FundingPayment) -> str:
        return obj.payment.state

    @admin.display(description="provider")
    def provider(self, obj: FundingPayment) -> str:
        return obj.payment.provider

    @admin.display(description="tid")
    def tid(self, obj: FundingPayment) -> str:
        return obj.payment.tid or "-"

    @admin.display(description="created on")
    def created_on(self, obj: FundingPayment):
        return obj.payment.created_on

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
