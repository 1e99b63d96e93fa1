"""Request-level guards that must hold before any view runs."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def json_error(detail: str, status: int, **headers) -> JsonResponse:
    response = JsonResponse(
        {"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Type"] = "application/json; charset=utf-8"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class BodySizeLimitMiddleware:
    """Refuse bodies over MAX_REQUEST_BYTES with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error("Invalid Content-Length header.", 400)
        if length > settings.MAX_REQUEST_BYTES:
            limit_mb = settings.MAX_REQUEST_BYTES // (1024 * 1024)
            return json_error(f"Request body too large (at most {limit_mb} MB).", 413)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """The database going away answers 503 JSON, not a traceback (admin, plain views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.error("database unavailable: %s", exception.__class__.__name__)
            return json_error("Service temporarily unavailable, try again.", 503, Retry_After="5")
        return None
