"""The notification routes (docs/API.md "Notifications"): thin, over services and selectors."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from funsun.api.pagination import paged_response
from funsun.api.schema import NO_CONTENT, NOT_SIGNED_IN, PAGE_PARAM, DeleteBodyAutoSchema, body
from funsun.api.schema import error as error_answer
from notifications import selectors, services
from notifications.serializers import (
    DeviceInputSerializer,
    DeviceRemoveSerializer,
    DeviceSerializer,
    NotificationSerializer,
    NotificationSettingsSerializer,
    ReadInputSerializer,
    ReadSerializer,
    UnreadSerializer,
    notification_data,
)

TAGS = ["notification"]


class NotificationListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notification_list",
        summary="Your notifications, newest first",
        parameters=[PAGE_PARAM],
        responses={200: NotificationSerializer(many=True), 204: NO_CONTENT, 401: NOT_SIGNED_IN},
    )
    def get(self, request):
        return paged_response(
            request,
            selectors.notifications_of(request.user),
            lambda rows: [notification_data(row) for row in rows],
        )


class UnreadView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notification_unread",
        summary="How many of your notifications are unread",
        responses={200: UnreadSerializer, 401: NOT_SIGNED_IN},
    )
    def get(self, request):
        return Response({"count": selectors.unread_count(request.user)})


class ReadView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notification_read",
        summary="Mark one notification (id) or all of them read",
        description="Idempotent: read ones stay read (with the time they were first read).",
        request=body(ReadInputSerializer),
        responses={
            200: ReadSerializer,
            400: error_answer("Bad id."),
            401: NOT_SIGNED_IN,
            404: error_answer("No such notification of yours."),
        },
        examples=[OpenApiExample("One", value={"id": 3}, request_only=True)],
    )
    def post(self, request):
        data = ReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = services.mark_read(
            account=request.user, notification_id=data.validated_data.get("id")
        )
        return Response({"marked": marked})


class SettingsView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notification_settings",
        summary="Which kinds you get, and whether they are pushed",
        responses={200: NotificationSettingsSerializer, 401: NOT_SIGNED_IN},
    )
    def get(self, request):
        return Response(selectors.settings_of(request.user))

    @extend_schema(
        tags=TAGS,
        operation_id="notification_settings_update",
        summary="Turn kinds, or push, on or off",
        description="A kind turned off creates nothing for you from then on.",
        request=body(NotificationSettingsSerializer, ("application/json",)),
        responses={
            200: NotificationSettingsSerializer,
            400: error_answer("Not booleans, or an unknown kind."),
            401: NOT_SIGNED_IN,
        },
        examples=[
            OpenApiExample(
                "No birthdays, no push",
                value={"kinds": {"friend_birthday": False}, "push": False},
                request_only=True,
            )
        ],
    )
    def put(self, request):
        data = NotificationSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.update_settings(
            account=request.user,
            kinds=data.validated_data.get("kinds", {}),
            push_on=data.validated_data.get("push"),
        )
        return Response(selectors.settings_of(request.user))


class DeviceView(APIView):
    schema = DeleteBodyAutoSchema()

    @extend_schema(
        tags=TAGS,
        operation_id="notification_device_register",
        summary="Register this phone's FCM token for push",
        description="Registering a token again refreshes it; a token registered by another "
        "account moves to yours.",
        request=body(DeviceInputSerializer),
        responses={201: DeviceSerializer, 400: error_answer("No token."), 401: NOT_SIGNED_IN},
    )
    def post(self, request):
        data = DeviceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.register_device(account=request.user, **data.validated_data)
        return Response(DeviceSerializer(device).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS,
        operation_id="notification_device_remove",
        summary="Stop pushing to this phone",
        description="Idempotent: a token that is not (or no longer) yours answers 204 too.",
        request=body(DeviceRemoveSerializer),
        responses={204: NO_CONTENT, 400: error_answer("No token."), 401: NOT_SIGNED_IN},
    )
    def delete(self, request):
        data = DeviceRemoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.remove_device(account=request.user, token=data.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)
