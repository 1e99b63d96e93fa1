"""Wire shapes of notifications (docs/API.md "Notifications")."""

from rest_framework import serializers

from funsun.images import image_url
from notifications.kinds import Kind, text
from notifications.models import Device, Notification


class ActorSerializer(serializers.Serializer):
    id = serializers.CharField()
    username = serializers.CharField()
    image = serializers.CharField(allow_null=True, help_text="Path relative to the site root.")


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    text = serializers.CharField(help_text="What the app shows (Korean).")
    actor = ActorSerializer(allow_null=True, help_text="Who caused it, if someone did.")
    funding = serializers.IntegerField(allow_null=True, help_text="The funding it is about.")
    data = serializers.DictField(
        help_text="Details: `amount` (KRW) only where the recipient may see it, `message`, "
        "`date` (a birthday)."
    )
    created_on = serializers.DateTimeField()
    read = serializers.BooleanField()


def notification_data(row: Notification) -> dict:
    actor = row.actor
    return {
        "id": row.pk,
        "kind": row.kind,
        "text": text(
            row.kind,
            actor.username if actor else None,
            row.funding.title if row.funding else None,
            row.data,
        ),
        "actor": (
            {"id": actor.pk, "username": actor.username, "image": image_url(actor.image)}
            if actor
            else None
        ),
        "funding": row.funding_id,
        "data": row.data,
        "created_on": serializers.DateTimeField().to_representation(row.created_on),
        "read": row.read_on is not None,
    }


class UnreadSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class ReadInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="One notification; none: all."
    )


class ReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are read now.")


class NotificationSettingsSerializer(serializers.Serializer):
    """Per kind on/off, and push on/off. GET answers every kind; PUT changes what it names."""

    push = serializers.BooleanField(required=False, help_text="Push to your phones.")
    kinds = serializers.DictField(
        child=serializers.BooleanField(),
        required=False,
        help_text="Each kind on (true) or off (false): " + ", ".join(Kind.values) + ".",
    )

    def validate_kinds(self, value: dict) -> dict:
        unknown = sorted(set(value) - set(Kind.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown kinds: {', '.join(unknown)}.")
        return value


class DeviceInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512, help_text="The FCM registration token.")
    platform = serializers.ChoiceField(
        choices=Device.Platform.choices, required=False, default=Device.Platform.ANDROID
    )


class DeviceRemoveSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)


class DeviceSerializer(serializers.Serializer):
    token = serializers.CharField()
    platform = serializers.CharField()
    created_on = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
