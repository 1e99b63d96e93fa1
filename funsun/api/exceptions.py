"""One exception handler: every error leaves as `{"detail": ...}` with API.md's status code."""

import logging

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from funsun.api.errors import DomainError

logger = logging.getLogger(__name__)


def _flatten(value):
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return {k: _flatten(v) for k, v in value.items()}
    return [str(value)]


# A 401 names the scheme to authenticate with (RFC 7235), also when a service raised it.
WWW_AUTHENTICATE = 'Bearer realm="api"'

# Every 401 of the authentication classes, in our words and nothing else: simplejwt's own
# body adds `code` and `messages` (token classes, claims) and says "Given token not valid
# for any token type". By the exception's code; any other code is a bad token.
UNAUTHENTICATED = {
    "not_authenticated": "Sign in first: this needs an access token (Authorization: Bearer).",
    "user_inactive": "This account has been deactivated.",
}
BAD_TOKEN = "The access token is invalid or expired: refresh it or sign in again."


def _unauthenticated_detail(exc: exceptions.APIException) -> str:
    # simplejwt's exceptions carry their code in the body ({"detail", "code", ...}).
    code = exc.detail.get("code") if isinstance(exc.detail, dict) else exc.get_codes()
    return UNAUTHENTICATED.get(str(code), BAD_TOKEN)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if exc.status_code == 401 else None
        return Response({"detail": exc.detail}, status=exc.status_code, headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        body = {"detail": "Invalid input."}
        data = exc.detail
        if isinstance(data, dict):
            non_field = data.get("non_field_errors") or data.get("detail")
            for field, errors in data.items():
                if field in ("non_field_errors", "detail"):
                    continue
                body[field] = _flatten(errors)
            first = non_field or next((errs for key, errs in body.items() if key != "detail"), None)
            if first:
                message = first[0] if isinstance(first, list) and first else first
                if isinstance(message, dict):
                    message = next(iter(message.values()), "Invalid input.")
                    message = message[0] if isinstance(message, list) else message
                field = next((k for k in body if k != "detail"), None)
                body["detail"] = str(message) if non_field or not field else f"{field}: {message}"
        elif isinstance(data, list) and data:
            body["detail"] = str(data[0])
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return Response(
            {"detail": "Service temporarily unavailable, try again."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
        return Response(
            {"detail": "The request could not be completed, try again."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.data = {"detail": _unauthenticated_detail(exc)}
        return response
    if isinstance(response.data, dict) and "detail" in response.data:
        response.data = {**response.data, "detail": str(response.data["detail"])}
    else:
        response.data = {"detail": str(response.data)}
    return response
