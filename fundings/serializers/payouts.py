from rest_framework import serializers

from fundings.models import Payout

# Funding ids are 64-bit; a larger number names nothing and must not reach the database.
MAX_ID = 2**63 - 1


class PayoutInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text='Funding id (12 or "12").'
    )


class PayoutSerializer(serializers.ModelSerializer):
    funding = serializers.IntegerField(source="funding_id", help_text="Funding id.")

    class Meta:
        model = Payout
        fields = ["id", "funding", "amount", "bank_account", "requested_on", "transferred_on"]
        read_only_fields = fields
        extra_kwargs = {
            "amount": {"help_text": "KRW: the funding's current_amount when the payout was asked."},
            "bank_account": {"help_text": "The author's bank account when the payout was asked."},
            "transferred_on": {"help_text": "null until an operator records the transfer."},
        }
