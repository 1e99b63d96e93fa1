"""Bearer JWT authentication of API requests."""

from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import Account

# Every column but the password hash: no API view reads it off request.user (signing in
# loads its own account), and a save() of this instance leaves the hash alone.
_LOADED_FIELDS = tuple(f.attname for f in Account._meta.concrete_fields if f.name != "password")
_compiled: dict[str, tuple] = {}


def _account_by_id(alias: str) -> tuple:
    """The ORM's query for one account by id, compiled once per process: (query, SQL, columns).

    Building and compiling a queryset costs several times what this one-row lookup costs
    the database, and every authenticated request makes it.
    """
    compiled = _compiled.get(alias)
    if compiled is None:
        query = Account.objects.only(*_LOADED_FIELDS).filter(pk="").query
        compiler = query.get_compiler(alias)
        sql, _params = compiler.as_sql()
        compiled = _compiled[alias] = (query, sql, [col for col, _, _ in compiler.select])
    return compiled


def load_account(account_id: str) -> Account | None:
    """The account with this id (any state), as the ORM would load it, in one query."""
    alias = router.db_for_read(Account)
    query, sql, columns = _account_by_id(alias)
    # A compiler of the current thread's connection: it applies the backend's converters
    # (SQLite's timezone-aware datetimes and booleans) exactly as a queryset does.
    compiler = query.get_compiler(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [account_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    converters = compiler.get_converters(columns)
    row = next(iter(compiler.apply_converters(rows, converters))) if converters else rows[0]
    return Account.from_db(alias, _LOADED_FIELDS, row)


class AccountJWTAuthentication(JWTAuthentication):
    """Bearer JWT. The account is loaded (one query) and an inactive one is refused (401),
    so the access tokens of a deactivated account stop working at once."""

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
