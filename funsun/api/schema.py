"""OpenAPI helpers shared by every app's views (drf-spectacular)."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from funsun.api.pagination import PAGE_SIZE

# docs/API.md: every write endpoint accepts all three.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")


class DetailSerializer(serializers.Serializer):
    """Every error (and a few plain answers): `{"detail": "..."}`."""

    detail = serializers.CharField()


def body(serializer, media_types: tuple[str, ...] = FORM_TYPES) -> dict:
    """A request body accepted as a form, multipart or JSON."""
    return dict.fromkeys(media_types, serializer)


def error(description: str) -> OpenApiResponse:
    """A documented error answer: `{"detail": ...}`."""
    return OpenApiResponse(DetailSerializer, description=description)


NOT_SIGNED_IN = error("No, bad or expired access token, or the account is deactivated.")
NO_CONTENT = OpenApiResponse(description="Past the last page: no body.")
PAGE_PARAM = OpenApiParameter(
    "page",
    OpenApiTypes.INT,
    description=f"Page number, {PAGE_SIZE} a page; missing, bad or < 1 means 1.",
)


class DeleteBodyAutoSchema(AutoSchema):
    """Documents the form body of DELETE routes (`id=...`), which the app sends.

    drf-spectacular documents bodies of POST, PUT and PATCH only; for DELETE the body is
    built the same way as for POST.
    """

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
