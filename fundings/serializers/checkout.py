"""Step 1 of the payment journey as the app sends it: a payment, optionally for a funding."""

from rest_framework import serializers

from payments.serializers import PaymentRequestSerializer

MAX_ID = 2**63 - 1


class ReadyRequestSerializer(PaymentRequestSerializer):
    funding = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Optional: bind the payment to this funding now (an integer or a string).",
    )
