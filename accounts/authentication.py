from rest_framework_simplejwt.authentication import JWTAuthentication


class AccountJWTAuthentication(JWTAuthentication):
    """Bearer JWT. simplejwt loads the account and refuses an inactive one (401)."""
