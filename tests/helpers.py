"""Helpers the tests of every app share (fixtures live in conftest.py and the plugins it
registers)."""

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def client_for(account) -> APIClient:
    """An API client that sends `account`'s access token, as the app does."""
    client = APIClient()
    token = RefreshToken.for_user(account).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
