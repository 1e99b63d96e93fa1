"""Bearer JWT authentication of API requests."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.cache import cached_account
from accounts.models import Account


class AccountJWTAuthentication(JWTAuthentication):
    """Bearer JWT. The account is read (accounts.cache: a query at most) and an inactive one
    is refused (401), so the access tokens of a deactivated account stop working at once."""

    def get_user(self, validated_token) -> Account:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = cached_account(str(user_id))
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user


class AccountJWTScheme(SimpleJWTScheme):
    """Documents AccountJWTAuthentication as the `jwtAuth` Bearer scheme in OpenAPI
    (drf-spectacular matches authenticator classes exactly, not their subclasses)."""

    target_class = "accounts.authentication.AccountJWTAuthentication"

    def get_security_requirement(self, auto_schema):
        from drf_spectacular.settings import spectacular_settings

        # SPECTACULAR_SETTINGS["SECURITY"] already names this scheme on every operation;
        # listing it a second time would only duplicate the entry.
        if {self.name: []} in (spectacular_settings.SECURITY or []):
            return None
        return super().get_security_requirement(auto_schema)
