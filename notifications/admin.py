"""Operators see what was notified and pushed; nothing here is edited by hand."""

from django.contrib import admin

from notifications.models import Delivery, Notification


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ("id", "kind", "recipient", "actor", "funding", "created_on", "read_on")
    list_filter = ("kind", ("read_on", admin.EmptyFieldListFilter), "created_on")
    search_fields = ("recipient__id", "recipient__username", "event_key")
    list_select_related = ("recipient", "actor", "funding")
    date_hierarchy = "created_on"
    show_full_result_count = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ("id", "notification", "device", "state", "attempts", "last_error", "sent_on")
    list_filter = ("state", "created_on")
    search_fields = ("notification__recipient__id", "last_error")
    list_select_related = ("notification", "device")
    show_full_result_count = False
