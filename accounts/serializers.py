"""Input validation and the wire shapes of accounts (docs/API.md "Objects")."""

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.kakao import is_valid_mmdd
from accounts.models import Account, BirthdayType
from funsun.images import image_url

USERNAME_MAX = 20
# "<bank> <number>": a bank name without spaces, then digits in dash-separated groups.
BANK_ACCOUNT_RE = re.compile(r"^(?P<bank>[^\s\d][^\s]{0,29}) (?P<number>\d+(?:-\d+)*)$")
BANK_NUMBER_DIGITS = (6, 20)


# --- Output -------------------------------------------------------------------------------


class ProfileSerializer(serializers.Serializer):
    """Someone's profile as every signed-in user sees it: no private fields."""

    id = serializers.CharField()
    email = serializers.SerializerMethodField()
    username = serializers.CharField()
    birthday = serializers.CharField(allow_null=True)
    image = serializers.SerializerMethodField()
    follower = serializers.IntegerField(source="follower_count", help_text="How many follow them.")
    followee = serializers.IntegerField(source="followee_count", help_text="How many they follow.")

    @extend_schema_field(serializers.CharField(help_text='Always "" for other people.'))
    def get_email(self, account: Account) -> str:
        return ""

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="Path relative to the site root.")
    )
    def get_image(self, account: Account) -> str | None:
        return image_url(account.image)


def profile_data(account: Account) -> dict:
    """ProfileSerializer's shape by a plain function: lists (search, follows) render many.

    Reads the columns of accounts.selectors.PROFILE_FIELDS only.
    """
    return {
        "id": account.id,
        "email": "",
        "username": account.username,
        "birthday": account.birthday,
        "image": image_url(account.image),
        "follower": account.follower_count,
        "followee": account.followee_count,
    }


class MyProfileSerializer(ProfileSerializer):
    """Your own profile: the private fields too."""

    bank_account = serializers.CharField(allow_null=True)
    birthday_type = serializers.ChoiceField(
        choices=BirthdayType.choices, help_text="The calendar `birthday` is on."
    )
    gender = serializers.CharField(allow_null=True)
    age_range = serializers.CharField(allow_null=True)

    @extend_schema_field(serializers.CharField(help_text='Your email, "" when there is none.'))
    def get_email(self, account: Account) -> str:
        return account.email or ""


class TokensSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class RefreshedTokensSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField(
        required=False, help_text="Present when refresh tokens rotate (the default)."
    )


class SignedInSerializer(serializers.Serializer):
    user = MyProfileSerializer()
    token = TokensSerializer()


class FollowStateSerializer(serializers.Serializer):
    detail = serializers.BooleanField(help_text="Whether the follow exists.")


def signed_in(account: Account, tokens: dict[str, str]) -> dict:
    return {"user": MyProfileSerializer(account).data, "token": tokens}


def profile_of(account: Account, viewer: Account) -> dict:
    """MyProfile for yourself, Profile for anyone else."""
    if account.pk == viewer.pk:
        return MyProfileSerializer(account).data
    return profile_data(account)


# --- Input --------------------------------------------------------------------------------


class KakaoLoginSerializer(serializers.Serializer):
    accessToken = serializers.CharField(  # the app's field name
        max_length=2048, help_text="A Kakao user access token obtained by the app."
    )


def validate_username(value: str) -> str:
    value = value.strip()
    if not value:
        raise serializers.ValidationError("Username must not be empty.")
    if len(value) > USERNAME_MAX:
        raise serializers.ValidationError(f"Username is at most {USERNAME_MAX} characters.")
    return value


class SignUpSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    username = serializers.CharField(max_length=100, help_text="1-20 characters.")

    def validate_username(self, value: str) -> str:
        return validate_username(value)

    def validate(self, attrs: dict) -> dict:
        # The validators compare the password with the email and username, so they run
        # on a throw-away, unsaved account carrying both.
        candidate = Account(email=attrs["email"].lower(), username=attrs["username"])
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class LogInSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="A refresh token from sign-in or refresh.")


class AccountQuerySerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64)


class SearchQuerySerializer(serializers.Serializer):
    username = serializers.CharField(max_length=100, help_text="Substring, case-insensitive.")


class ProfileUpdateSerializer(serializers.Serializer):
    """PUT /account/: only these fields change; anything else in the body is ignored."""

    username = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="1-20 characters."
    )
    birthday = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=4,
        help_text='MMDD of a real day; "" clears it.',
    )
    birthday_type = serializers.ChoiceField(
        choices=BirthdayType.choices,
        required=False,
        help_text='"solar" or "lunar": the calendar `birthday` is on (Kakao says at sign-up).',
    )
    bank_account = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=100,
        help_text='"<bank> <digits and dashes>", e.g. "국민 123-456-789"; "" clears it.',
    )
    image = serializers.FileField(
        required=False, help_text="JPEG, PNG, WebP or GIF; at most 10 MB and 40 megapixels."
    )
    image_delete = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='"delete" removes the image; "" keeps it.',
    )

    def validate_username(self, value: str) -> str:
        return validate_username(value)

    def validate_birthday(self, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if not is_valid_mmdd(value):
            raise serializers.ValidationError("Birthday must be MMDD of a real day, e.g. 0229.")
        return value

    def validate_bank_account(self, value: str | None) -> str | None:
        value = " ".join((value or "").split())
        if not value:
            return None
        match = BANK_ACCOUNT_RE.match(value)
        low, high = BANK_NUMBER_DIGITS
        digits = sum(ch.isdigit() for ch in match["number"]) if match else 0
        if not match or not low <= digits <= high:
            raise serializers.ValidationError(
                'Bank account must be "<bank> <digits and dashes>", e.g. "국민 123-456-789".'
            )
        return value

    def validate_image_delete(self, value: str) -> bool:
        value = value.strip()
        if value not in ("", "delete"):
            raise serializers.ValidationError('image_delete must be "delete" or "".')
        return value == "delete"


class FollowTargetSerializer(serializers.Serializer):
    # CharField takes a JSON number too: ids arrive as strings or numbers (docs/API.md).
    id = serializers.CharField(max_length=64, help_text="The account id (string or number).")


class FollowQuerySerializer(serializers.Serializer):
    follower = serializers.CharField(required=False, max_length=64)
    followee = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("follower") and not attrs.get("followee"):
            raise serializers.ValidationError("Give follower, followee or both.")
        return attrs
