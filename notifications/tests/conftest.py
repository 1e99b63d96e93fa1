"""Fixtures of the notifications tests: a local FCM with its own service account."""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from notifications.tests.fcm_server import FakeFCM

PROJECT = "funsun-test"
CLIENT_EMAIL = "push@funsun-test.iam.gserviceaccount.com"


@pytest.fixture(scope="session")
def service_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fcm(settings, tmp_path, service_key):
    """FakeFCM running, and the settings pointing at it with a service-account file."""
    public_pem = service_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server = FakeFCM(public_key_pem=public_pem, client_email=CLIENT_EMAIL, project=PROJECT)
    server.start()
    private_pem = service_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    credentials = tmp_path / "service-account.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "test-key-1",
                "private_key": private_pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "1",
                "token_uri": server.token_uri,
            }
        )
    )
    settings.FCM_CREDENTIALS_FILE = str(credentials)
    settings.FCM_PROJECT_ID = PROJECT
    settings.FCM_API_BASE_URL = server.base_url
    settings.FCM_TIMEOUT_SECONDS = 10.0
    yield server
    server.stop()
