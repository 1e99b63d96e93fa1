"""Accounts (people) and follows between them."""

import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from funsun.images import random_upload_path


def new_local_account_id() -> str:
    """Ids of email accounts: never numeric, so they cannot clash with a Kakao id."""
    return "u" + secrets.token_hex(8)


class AccountManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str | None, password: str | None, **extra) -> "Account":
        extra.setdefault("id", new_local_account_id())
        account = self.model(email=self.normalize_email(email) or None, **extra)
        if email is not None:
            account.email = account.email.lower()
        if password:
            account.set_password(password)
        else:
            account.set_unusable_password()
        account.save(using=self._db)
        return account

    def create_user(self, email: str | None = None, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        extra.setdefault("username", email.split("@")[0][:20] or "admin")
        return self._create(email, password, **extra)


class BirthdayType(models.TextChoices):
    """Which calendar `birthday` is on (Kakao's `birthday_type`, SOLAR or LUNAR)."""

    SOLAR = "solar", "solar"
    LUNAR = "lunar", "lunar"


class Account(AbstractBaseUser, PermissionsMixin):
    # A Kakao user's id is its Kakao id (up to 19 digits) as a string.
    id = models.CharField(primary_key=True, max_length=64, default=new_local_account_id)
    email = models.EmailField(unique=True, null=True, blank=True)
    username = models.CharField(max_length=20)
    birthday = models.CharField(max_length=4, null=True, blank=True)
    birthday_type = models.CharField(max_length=5, choices=BirthdayType, default=BirthdayType.SOLAR)
    image = models.ImageField(upload_to=random_upload_path("account"), null=True, blank=True)
    bank_account = models.CharField(max_length=100, null=True, blank=True)
    gender = models.CharField(max_length=20, null=True, blank=True)
    age_range = models.CharField(max_length=20, null=True, blank=True)
    # Denormalised follow counts, kept exact by the follow services in the same transaction.
    follower_count = models.PositiveIntegerField(default=0)
    followee_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    deactivated_on = models.DateTimeField(null=True, blank=True)

    objects = AccountManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        indexes = [models.Index(fields=["username"], name="account_username_idx")]

    def __str__(self) -> str:
        return f"{self.username} ({self.id})"


class Follow(models.Model):
    follower = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="followers")
    created_on = models.DateTimeField(auto_now_add=True)
    # The followee follows back: the two are friends. Kept by the follow services (both rows
    # of a pair together, under both accounts' row locks) so that "is this author the
    # viewer's friend?" is one probe of one row on every read of a friends-only funding.
    mutual = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="follow_not_self"),
        ]
        indexes = [models.Index(fields=["followee", "follower"], name="follow_followee_idx")]

    def __str__(self) -> str:
        return f"{self.follower_id} -> {self.followee_id}"
