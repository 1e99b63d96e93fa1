"""Wire shapes of fundings: what the app sends (validated here) and what it reads.

Output is rendered by one plain function per shape (`author_data`, `funding_data`): feeds
render many rows. The serializer classes declare those shapes for the OpenAPI document and
render through the same functions.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from accounts.models import Account
from fundings.models import GOAL_MAX, GOAL_MIN, Funding, FundingStatus, funding_status
from fundings.selectors.cards import FundingCard
from funsun.api.errors import InvalidInput
from funsun.images import clean_image, image_url

# docs/API.md: times are rendered with their offset in Asia/Seoul, and naive input is Seoul time.
WIRE_TIMEZONE = ZoneInfo("Asia/Seoul")
TITLE_MAX = 50
CONTENT_MAX = 2000
REVIEW_MAX = 2000
MAX_FUNDING_ID = 2**63 - 1


def wire_datetime(value: datetime) -> str:
    return value.astimezone(WIRE_TIMEZONE).isoformat()


def author_data(account: Account) -> dict:
    """The Author object of docs/API.md (AuthorSerializer's shape)."""
    return {"id": account.id, "username": account.username, "image": image_url(account.image)}


def share_url(funding_id: int) -> str:
    """The funding's web page (web/): what the app shares. Visibility is checked there."""
    return f"{settings.PUBLIC_BASE_URL}/f/{funding_id}/"


def funding_data(funding: Funding | FundingCard) -> dict:
    """The Funding object of docs/API.md (FundingSerializer's shape), of a Funding whose
    author came with the row (fundings.selectors: select_related) or of a feed's card."""
    return {
        "id": funding.id,
        "title": funding.title,
        "content": funding.content,
        "goal_amount": funding.goal_amount,
        "current_amount": funding.current_amount,
        "image": image_url(funding.image),
        "expire_on": wire_datetime(funding.expire_on),
        "created_on": wire_datetime(funding.created_on),
        "public": funding.public,
        "author": author_data(funding.author),
        "review": funding.review,
        "review_image": image_url(funding.review_image),
        "status": str(funding_status(funding.state, funding.expire_on)),
        "share_url": share_url(funding.id),
    }


def fundings_data(fundings) -> list[dict]:
    return [funding_data(funding) for funding in fundings]


class AuthorSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    username = serializers.CharField(read_only=True)
    image = serializers.CharField(
        read_only=True, allow_null=True, help_text='Path relative to the site root ("/media/...").'
    )

    def to_representation(self, instance: Account) -> dict:
        return author_data(instance)


class FundingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    content = serializers.CharField(read_only=True)
    goal_amount = serializers.IntegerField(read_only=True)
    current_amount = serializers.IntegerField(read_only=True)
    image = serializers.CharField(read_only=True, allow_null=True)
    expire_on = serializers.DateTimeField(read_only=True, help_text="ISO 8601, +09:00.")
    created_on = serializers.DateTimeField(read_only=True, help_text="ISO 8601, +09:00.")
    public = serializers.BooleanField(read_only=True)
    author = AuthorSerializer(read_only=True)
    review = serializers.CharField(read_only=True, allow_null=True)
    review_image = serializers.CharField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(
        choices=FundingStatus.choices,
        read_only=True,
        help_text="`expired` is derived from `expire_on`; the others are stored.",
    )
    share_url = serializers.CharField(
        read_only=True, help_text="The funding's web page, to share (`/f/<id>/`)."
    )

    def to_representation(self, instance: Funding) -> dict:
        return funding_data(instance)


class WireBooleanField(serializers.BooleanField):
    """JSON booleans or the strings "true"/"false"; a missing form field stays missing.

    DRF reads a boolean missing from a form as False (an unticked HTML checkbox); the app
    sends every field it means, so a missing `public` must not silently become friends-only.
    """

    default_empty_html = empty


class SentCharField(serializers.CharField):
    """An optional text field sent empty in a form is an empty value, not a missing one.

    DRF reads an empty optional form field as "not sent"; an edit that empties the title
    must be refused (400) the same way whether it came as a form or as JSON.
    """

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary[self.field_name]
        return super().get_value(dictionary)


def image_field(**kwargs) -> serializers.FileField:
    return serializers.FileField(
        required=False,
        allow_null=True,
        allow_empty_file=True,  # clean_image answers an empty file with its own message
        help_text="JPEG, PNG, WebP or GIF, at most 10 MB.",
        **kwargs,
    )


def cleaned_image(upload):
    """A validated copy of an upload; a bad image is a field error (too large stays 413)."""
    if upload is None:
        return None
    try:
        return clean_image(upload)
    except InvalidInput as exc:
        raise serializers.ValidationError(exc.detail.removeprefix("image: ")) from exc


def latest_expiry(now: datetime) -> datetime:
    """The end (Seoul time) of the day one year from today: the app's date picker limit."""
    today = now.astimezone(WIRE_TIMEZONE).date()
    try:
        limit = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year + 1, day=28)
    return datetime.combine(limit + timedelta(days=1), time.min, tzinfo=WIRE_TIMEZONE)


class FundingIdSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        min_value=1, max_value=MAX_FUNDING_ID, help_text='Funding id (12 or "12").'
    )


class FundingCreateSerializer(serializers.Serializer):
    title = serializers.CharField(min_length=1, max_length=TITLE_MAX)
    content = serializers.CharField(
        max_length=CONTENT_MAX, required=False, allow_blank=True, default=""
    )
    goal_amount = serializers.IntegerField(
        min_value=GOAL_MIN, max_value=GOAL_MAX, help_text='KRW; may be a string ("50000").'
    )
    public = WireBooleanField(
        help_text='true: everyone; false: friends only. JSON bool or "true"/"false".'
    )
    expire_on = serializers.DateTimeField(
        help_text=(
            'ISO 8601 ("2026-12-01T17:00:00.000"); naive means Asia/Seoul wall time. '
            "In the future and at most one year ahead (until the end of that day)."
        )
    )
    image = image_field()

    def validate_expire_on(self, value: datetime) -> datetime:
        now = timezone.now()
        if value <= now:
            raise serializers.ValidationError("must be in the future.")
        if value >= latest_expiry(now):
            raise serializers.ValidationError("must be at most one year ahead.")
        return value

    def validate_image(self, upload):
        return cleaned_image(upload)


class FundingUpdateSerializer(serializers.Serializer):
    """PUT /funding/: every field optional; an empty `review` or delete flag means keep."""

    id = serializers.IntegerField(min_value=1, max_value=MAX_FUNDING_ID)
    title = SentCharField(min_length=1, max_length=TITLE_MAX, required=False)
    content = serializers.CharField(max_length=CONTENT_MAX, required=False, allow_blank=True)
    public = WireBooleanField(required=False)
    image = image_field()
    image_delete = serializers.ChoiceField(
        choices=["delete", ""],
        required=False,
        allow_blank=True,
        help_text='"delete" removes the image; "" keeps it. A new `image` wins.',
    )
    review = serializers.CharField(
        max_length=REVIEW_MAX, required=False, allow_blank=True, help_text='"" keeps the review.'
    )
    review_image = image_field()
    review_image_delete = serializers.ChoiceField(
        choices=["delete", ""], required=False, allow_blank=True
    )

    def validate_image(self, upload):
        return cleaned_image(upload)

    def validate_review_image(self, upload):
        return cleaned_image(upload)


class FundingReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=MAX_FUNDING_ID)
    review = serializers.CharField(min_length=1, max_length=REVIEW_MAX)
    review_image = image_field()
    review_image_delete = serializers.ChoiceField(
        choices=["delete", ""], required=False, allow_blank=True
    )

    def validate_review_image(self, upload):
        return cleaned_image(upload)


class AccountIdSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64, help_text="Account id (a string).")
