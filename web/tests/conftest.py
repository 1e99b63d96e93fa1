"""Fixtures of the web tests."""

import pytest
from django.test import Client


@pytest.fixture
def browser_client(settings) -> Client:
    """A browser without an account; plain http as in the tests' live server."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return Client()


def signed_in(account) -> Client:
    client = Client()
    client.force_login(account)
    return client
