"""Site-wide views: JSON error pages and health checks."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.static import serve
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from funsun.middleware import json_error


def not_found(request, exception=None):
    return json_error("Not found.", 404)


def server_error(request):
    return json_error("Internal server error.", 500)


def bad_request(request, exception=None):
    return json_error("Bad request.", 400)


def permission_denied(request, exception=None):
    return json_error("You do not have permission to perform this action.", 403)


health_schema = inline_serializer("Health", {"status": serializers.CharField()})


@extend_schema(
    tags=["health"],
    responses={200: health_schema, 503: health_schema},  # 503: ?ready=1, database down
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def healthz(request):
    """Liveness: the process answers. `?ready=1` also checks the database (readiness)."""
    if request.query_params.get("ready"):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # noqa: BLE001 - any database failure means "not ready"
            return JsonResponse({"status": "database unavailable"}, status=503)
        return Response({"status": "ready"})
    return Response({"status": "ok"})


def serve_media(request, path):
    """Uploaded files from MEDIA_ROOT as it is now (read per request, not at import time:
    tests and `manage.py` commands may point MEDIA_ROOT elsewhere after the URLs loaded)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
