"""Bearer JWT authentication of API requests."""

import time

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import Account
from accounts.selectors import LOADED_FIELDS
from funsun.compiled import CompiledQuery

# Compiled once (funsun.compiled): every authenticated request makes this lookup, and
# building and compiling the queryset costs several times what the database spends on it.
_ACCOUNT_BY_ID = CompiledQuery(
    Account,
    lambda shape, account: Account.objects.only(*LOADED_FIELDS).filter(pk=account),
    account=str,
)


def load_account(account_id: str) -> Account | None:
    """The account with this id (any state), as the ORM would load it, in one query."""
    accounts = _ACCOUNT_BY_ID.instances(account=account_id)
    return accounts[0] if accounts else None


# Access tokens this process has verified, until they expire: the app sends the same token
# with every request for its whole lifetime, and checking its signature and claims again
# (PyJWT, simplejwt) costs about 40 microseconds of CPU, as much as loading the account.
# Bounded (the oldest entries go first). The account is still loaded and checked on every
# request; simplejwt reads its signing key once per process too.
_VERIFIED_TOKENS: dict[bytes, object] = {}
VERIFIED_TOKENS_MAX = 10_000


class AccountJWTAuthentication(JWTAuthentication):
    """Bearer JWT. The account is loaded (one query) and an inactive one is refused (401),
    so the access tokens of a deactivated account stop working at once."""

    def get_validated_token(self, raw_token: bytes):
        key = bytes(raw_token)
        token = _VERIFIED_TOKENS.get(key)
        if token is not None and time.time() < token["exp"]:
            return token
        _VERIFIED_TOKENS.pop(key, None)
        token = super().get_validated_token(raw_token)
        if len(_VERIFIED_TOKENS) >= VERIFIED_TOKENS_MAX:
            try:
                _VERIFIED_TOKENS.pop(next(iter(_VERIFIED_TOKENS)), None)
            except (StopIteration, RuntimeError):  # emptied or resized by another thread
                pass
        _VERIFIED_TOKENS[key] = token
        return token

    def get_user(self, validated_token) -> Account:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = load_account(str(user_id))
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
