"""Helpers the tests of every app share (fixtures live in conftest.py and the plugins it
registers)."""

import time

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def client_for(account) -> APIClient:
    """An API client that sends `account`'s access token, as the app does."""
    client = APIClient()
    token = RefreshToken.for_user(account).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def warm(client: APIClient) -> APIClient:
    """`client` once it has been answered: the account behind its token is then in the
    accounts' cache (accounts/cache.py), as on every request of the app after its first.
    Query counts are asserted on such requests; a client's first request makes one query
    more (accounts/tests/test_account_cache.py)."""
    assert client.post("/account/").status_code == 200  # your own profile: reads nothing
    return client


def wait_until(what: str, check, timeout: float = 60.0, every: float = 0.05):
    """check()'s first truthy answer, asked every `every` seconds; the test fails after
    `timeout` (a bound on another process's work, never a fixed wait)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout}s for {what}")
        time.sleep(every)
