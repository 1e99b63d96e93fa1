"""One exception handler: every error leaves as `{"detail": ...}` with docs/API.md's status.

Domain errors map to a status by their kind (STATUS_OF_KIND), validation errors to 400 with
the fields that failed, a database that is unreachable to 503, and everything DRF raises
(authentication, permissions, parsing, throttling) keeps its status with our `detail`.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from funsun.api import errors
from funsun.api.errors import DomainError

logger = logging.getLogger(__name__)


# The one place where a kind of domain error becomes an HTTP status.
STATUS_OF_KIND: dict[type[DomainError], int] = {
    errors.InvalidInput: status.HTTP_400_BAD_REQUEST,
    errors.NotSignedIn: status.HTTP_401_UNAUTHORIZED,
    errors.PaymentMissing: status.HTTP_402_PAYMENT_REQUIRED,
    errors.NotPermitted: status.HTTP_403_FORBIDDEN,
    errors.NotFound: status.HTTP_404_NOT_FOUND,
    errors.StateConflict: status.HTTP_409_CONFLICT,
    errors.TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    errors.ProviderFailed: status.HTTP_502_BAD_GATEWAY,
    errors.TemporarilyUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def http_status(exc: DomainError) -> int:
    """The status of a domain error: that of the nearest kind among its classes."""
    for kind in type(exc).__mro__:
        if kind in STATUS_OF_KIND:
            return STATUS_OF_KIND[kind]
    return status.HTTP_400_BAD_REQUEST


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
        return _domain_error(exc)
    if isinstance(exc, exceptions.ValidationError):
        return Response(_validation_body(exc.detail), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DatabaseError):
        return _database_error(exc)
    return _framework_error(exc, context)


def _domain_error(exc: DomainError) -> Response:
    code = http_status(exc)
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if code == 401 else None
    return Response({"detail": exc.detail}, status=code, headers=headers)


def _validation_body(data) -> dict:
    """`{"detail": "<field>: <first message>", "<field>": [messages], ...}`."""
    if isinstance(data, list):
        return {"detail": str(data[0]) if data else "Invalid input."}
    if not isinstance(data, dict):
        return {"detail": str(data)}
    fields = {
        field: _flatten(messages)
        for field, messages in data.items()
        if field not in ("non_field_errors", "detail")
    }
    non_field = data.get("non_field_errors") or data.get("detail")
    return {"detail": _first_message(non_field, fields), **fields}


def _first_message(non_field, fields: dict) -> str:
    if non_field:
        return str(_first(non_field))
    if not fields:
        return "Invalid input."
    field, messages = next(iter(fields.items()))
    return f"{field}: {_first(messages)}"


def _first(messages):
    """The first message of a list, or of a nested field's errors."""
    message = messages[0] if isinstance(messages, list) and messages else messages
    if isinstance(message, dict):
        message = next(iter(message.values()), "Invalid input.")
        message = message[0] if isinstance(message, list) else message
    return message


def _database_error(exc: DatabaseError) -> Response:
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return Response(
            {"detail": "Service temporarily unavailable, try again."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    logger.exception("database error")
    return Response(
        {"detail": "The request could not be completed, try again."},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def _framework_error(exc, context) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.data = {"detail": _unauthenticated_detail(exc)}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {**response.data, "detail": str(response.data["detail"])}
    else:
        response.data = {"detail": str(response.data)}
    return response
