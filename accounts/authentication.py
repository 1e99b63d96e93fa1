"""Bearer JWT authentication of API requests."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication


class AccountJWTAuthentication(JWTAuthentication):
    """Bearer JWT. simplejwt loads the account and refuses an inactive one (401), so the
    access tokens of a deactivated account stop working at once."""


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
