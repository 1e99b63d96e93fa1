from rest_framework import serializers

from reports.models import Report, ReportType


class ReportInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ReportType.choices)
    # The app sends a funding id as a number and an account id as a string: both are fine.
    target = serializers.CharField(max_length=64)
    message = serializers.CharField(max_length=1000, allow_blank=True, required=False, default="")


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "type", "target", "message", "created_on", "is_solved"]
        read_only_fields = fields
