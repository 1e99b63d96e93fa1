"""Wire shapes of the payment journey (docs/API.md "Contributions and payment")."""

from rest_framework import serializers

CONTRIBUTION_MIN = 1_000
CONTRIBUTION_MAX = 1_000_000


class PaymentRequestSerializer(serializers.Serializer):
    """What step 1 needs to start a payment; apps that sell something add what it is for."""

    amount = serializers.IntegerField(
        min_value=CONTRIBUTION_MIN, max_value=CONTRIBUTION_MAX, help_text="KRW, 1,000-1,000,000."
    )
    message = serializers.CharField(
        required=False, min_length=1, max_length=255, help_text="Optional, 1-255 characters."
    )


class ReadyResponseSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="next_redirect_app_url: open it to pay.")
    tid = serializers.CharField()
    next_redirect_mobile_url = serializers.CharField()
    next_redirect_pc_url = serializers.CharField()


class PgTokenSerializer(serializers.Serializer):
    pg_token = serializers.CharField(max_length=255, help_text="From the approval redirect.")
    tid = serializers.CharField(
        required=False, max_length=100, help_text="Optional: which payment (default: latest)."
    )


class PgTokenResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    tid = serializers.CharField()


class ApprovedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    tid = serializers.CharField()
    amount = serializers.IntegerField()
