"""Request-level guards that must hold before any view runs."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework.views import APIView

from funsun.api.parsers import UNSTORABLE, has_unstorable_field, has_unstorable_text

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


class UnstorableTextMiddleware:
    """Refuse NUL (and unpaired surrogates) in the path and the query string.

    PostgreSQL cannot store NUL: a lookup by such a value (a checkout page's id, an approval
    page's pg_token) raised a DataError, answered 503 "try again". No route has a use for
    it, so it is refused at the door: 400 JSON, before any view or database. The bodies of
    API views are checked by their parsers (funsun/api/parsers.py), once a view reads them;
    the forms of the other views (the admin) here, as Django parses them anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Headers reach no lookup (a token is verified, an address keys a cache entry), and
        # gunicorn and nginx refuse control characters in them anyway.
        if has_unstorable_text(request.path) or has_unstorable_field(request.GET):
            return json_error(UNSTORABLE, 400)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None  # its parsers check the body, when (and if) it reads one
        if request.method == "POST" and has_unstorable_field(request.POST):
            return json_error(UNSTORABLE, 400)
        return None


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
