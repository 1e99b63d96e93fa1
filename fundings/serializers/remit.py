"""Wire shapes of contributions ("remit" in the API)."""

from rest_framework import serializers

from accounts.models import Account
from fundings.models import CONTRIBUTION_MAX, CONTRIBUTION_MIN, Contribution
from fundings.serializers.fundings import AuthorSerializer, author_data, wire_datetime

MAX_ID = 2**63 - 1
MESSAGE_MAX = 255


def _id_field(**kwargs) -> serializers.IntegerField:
    # Ids arrive as numbers or strings ("12"); both are accepted (docs/API.md).
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _message_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(min_length=1, max_length=MESSAGE_MAX, **kwargs)


class RemitCreateSerializer(serializers.Serializer):
    funding = _id_field(help_text="The funding's id (a number or a string).")
    amount = serializers.IntegerField(
        min_value=CONTRIBUTION_MIN,
        max_value=CONTRIBUTION_MAX,
        help_text="KRW, 1,000-1,000,000: the amount of an approved payment of yours.",
    )
    message = _message_field(help_text="1-255 characters.")


class RemitUpdateSerializer(serializers.Serializer):
    id = _id_field(help_text="The contribution's id.")
    message = _message_field(help_text="1-255 characters.")


class RemitIdSerializer(serializers.Serializer):
    id = _id_field(help_text="The contribution's id.")


class FundingIdQuerySerializer(serializers.Serializer):
    id = _id_field(help_text="The funding's id.")


class RemitSerializer(serializers.Serializer):
    """A contribution as others see it; `amount` only for its contributor and the author
    of its funding. Declares the shape for the OpenAPI document; remit_data renders it."""

    # Rendered with context {"viewer", "funding_author_id"} (see remit_data).

    id = serializers.IntegerField(read_only=True)
    message = serializers.CharField(read_only=True)
    author = AuthorSerializer(read_only=True, source="contributor")
    created_on = serializers.DateTimeField(read_only=True, help_text="ISO 8601, +09:00.")
    # Not read_only, so that the document marks it optional (it is absent for others).
    amount = serializers.IntegerField(
        required=False,
        help_text="Only for the contributor and the funding's author; absent otherwise.",
    )

    def to_representation(self, instance: Contribution) -> dict:
        context = self.context
        return remit_data(
            instance,
            viewer=context.get("viewer"),
            funding_author_id=context.get("funding_author_id"),
        )


def remit_data(contribution: Contribution, *, viewer, funding_author_id: str) -> dict:
    """The Remit object of docs/API.md (RemitSerializer's shape); `contribution.contributor`
    should come with it. `amount` only for the contributor and the funding's author."""
    data = {
        "id": contribution.id,
        "message": contribution.message,
        "author": author_data(contribution.contributor),
        "created_on": wire_datetime(contribution.created_on),
    }
    viewer_id = viewer.pk if isinstance(viewer, Account) else None
    if viewer_id is not None and viewer_id in (contribution.contributor_id, funding_author_id):
        data["amount"] = contribution.amount
    return data
