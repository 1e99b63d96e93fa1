"""Operators' admin for accounts and follows.

The password hash is never shown: the change form has no password field, only a link to
Django's separate set-password form. Counters are read-only (the follow services keep
them exact), accounts are never hard-deleted (money rows point at them): operators
deactivate them instead, through the same service as DELETE /account/.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db import transaction
from django.utils.html import format_html

from accounts import services
from accounts.models import Account, Follow
from funsun.api.errors import DomainError
from funsun.images import clean_image, delete_stored, image_url


def _normalised_email(form: forms.ModelForm) -> str | None:
    email = (form.cleaned_data.get("email") or "").strip().lower() or None
    if email:
        taken = Account.objects.filter(email__iexact=email)
        if form.instance.pk:
            taken = taken.exclude(pk=form.instance.pk)
        if taken.exists():
            raise forms.ValidationError("An account with this email already exists.")
    return email


class AccountCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = Account
        fields = ("email", "username")
        field_classes: dict = {}

    def clean_username(self) -> str:
        # Usernames are display names here: several accounts may share one.
        return self.cleaned_data["username"]

    def clean_email(self) -> str | None:
        return _normalised_email(self)


class AccountChangeForm(forms.ModelForm):
    class Meta:
        model = Account
        # Never the password: its hash is not shown; UserAdmin's own form sets a new one.
        fields = (
            "email",
            "username",
            "image",
            "birthday",
            "bank_account",
            "gender",
            "age_range",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )

    def clean_email(self) -> str | None:
        return _normalised_email(self)

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and getattr(image, "content_type", None) is not None:
            # A fresh upload: the same checks and metadata stripping as the API.
            try:
                return clean_image(image)
            except DomainError as exc:
                raise forms.ValidationError(exc.detail) from exc
        return image


@admin.register(Account)
class AccountAdmin(UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    list_display = (
        "id",
        "thumbnail",
        "username",
        "email",
        "is_active",
        "is_staff",
        "follower_count",
        "followee_count",
        "date_joined",
    )
    list_display_links = ("id", "username")
    list_filter = ("is_active", "is_staff")
    search_fields = ("id", "username", "email")
    ordering = ("-date_joined",)
    fieldsets = (
        (None, {"fields": ("id", "email", "username", "password_link")}),
        (
            "Profile",
            {"fields": ("thumbnail", "image", "birthday", "bank_account", "gender", "age_range")},
        ),
        ("Follows", {"fields": ("follower_count", "followee_count")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "deactivated_on")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "username", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = (
        "id",
        "password_link",
        "thumbnail",
        "follower_count",
        "followee_count",
        "date_joined",
        "last_login",
        "deactivated_on",
    )
    actions = ["deactivate_accounts"]

    @admin.display(description="Image")
    def thumbnail(self, account: Account) -> str:
        url = image_url(account.image)
        if not url:
            return "-"
        return format_html(
            '<img src="{}" alt="" style="height:48px;width:48px;object-fit:cover;'
            'border-radius:50%">',
            url,
        )

    @admin.display(description="Password")
    def password_link(self, account: Account) -> str:
        state = "set" if account.has_usable_password() else "not set (Kakao or deactivated)"
        # UserAdmin serves the set-password form at <id>/password/, next to this page.
        return format_html('{} &middot; <a href="../password/">Set a new password</a>', state)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Account, form, change: bool) -> None:
        old_image = None
        if change and "image" in form.changed_data:
            old_image = Account.objects.filter(pk=obj.pk).values_list("image", flat=True).first()
        super().save_model(request, obj, form, change)
        if old_image and old_image != obj.image.name:
            transaction.on_commit(lambda: delete_stored(old_image))

    @admin.action(description="Deactivate selected accounts and erase their personal data")
    def deactivate_accounts(self, request, queryset) -> None:
        count = 0
        for account in queryset.filter(is_active=True):
            services.deactivate_account(account=account)
            count += 1
        self.message_user(request, f"{count} account(s) deactivated.", messages.SUCCESS)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    """Read-only rows; deleting one goes through the unfollow service (counters)."""

    list_display = ("id", "follower", "followee", "mutual", "created_on")
    list_select_related = ("follower", "followee")
    search_fields = ("follower__id", "follower__username", "followee__id", "followee__username")
    raw_id_fields = ("follower", "followee")
    readonly_fields = ("follower", "followee", "mutual", "created_on")
    ordering = ("-created_on",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: Follow) -> None:
        services.unfollow(follower=obj.follower, followee_id=obj.followee_id)

    def delete_queryset(self, request, queryset) -> None:
        for row in queryset.select_related("follower"):
            services.unfollow(follower=row.follower, followee_id=row.followee_id)
