"""Kakao Login fixtures for every app's tests (a plugin of the root conftest.py): a local
Kakao Login server, and an address where none listens."""

import socket

import pytest

from accounts.tests.kakao_server import KakaoServer


@pytest.fixture
def kakao(settings, monkeypatch):
    """A running fake Kakao at settings.KAKAO_API_BASE_URL; `kakao.users` maps tokens."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = KakaoServer().start()
    settings.KAKAO_API_BASE_URL = server.base_url
    yield server
    server.stop()


@pytest.fixture
def kakao_unreachable(settings, monkeypatch):
    """settings.KAKAO_API_BASE_URL pointing at a local port nobody listens on."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The socket is closed again: connecting to the port is refused.
    settings.KAKAO_API_BASE_URL = f"http://127.0.0.1:{port}"
    return settings.KAKAO_API_BASE_URL
