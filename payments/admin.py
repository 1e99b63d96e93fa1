from django.contrib import admin

from payments.models import Payment


class FundingPaymentInline(admin.TabularInline):
    """A funding's money history on its admin page: every payment bound to it."""

    model = Payment
    fk_name = "funding"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("id", "payer", "amount", "state", "provider", "tid", "created_on", "approved_on")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
