"""`python -m bench.fcm`: the local FCM fake of the tests (notifications/tests/fcm_server.py),
as a process of its own for the benchmark's pushes.

It makes a service account (a fresh RSA key) in bench/out/fcm-service-account.json whose
`token_uri` is the fake's, serves Google's token exchange and FCM's HTTP v1 `messages:send` on
a free 127.0.0.1 port, prints its address (a BENCHJSON line) and serves until SIGTERM; then it
writes how many messages it accepted to `--stats`.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.common import FCM_CREDENTIALS, FCM_PROJECT, emit, write_json
from notifications.tests.fcm_server import FakeFCM

CLIENT_EMAIL = f"push@{FCM_PROJECT}.iam.gserviceaccount.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stats", required=True, help="JSON file written on SIGTERM")
    args = parser.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fake = FakeFCM(public_key_pem=public_pem, client_email=CLIENT_EMAIL, project=FCM_PROJECT)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    FCM_CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    FCM_CREDENTIALS.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": FCM_PROJECT,
                "private_key_id": "bench-key-1",
                "private_key": private_pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "1",
                "token_uri": fake.token_uri,
            }
        )
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    emit({"base_url": fake.base_url})
    stop.wait()
    fake.stop()
    write_json(Path(args.stats), {"sent": len(fake.sent), "grants": len(fake.grants)})


if __name__ == "__main__":
    main()
