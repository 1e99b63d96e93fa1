"""A local HTTP server that speaks Firebase Cloud Messaging's HTTP v1 API and Google's
OAuth 2 token exchange for service accounts.

Real HTTP on 127.0.0.1 (port 0), in a thread.

- `POST /token`: the JWT-bearer grant (RFC 7523). The assertion must be an RS256 JWT signed
  with the service account's private key (checked with its public key), issued by its
  `client_email`, for Google's token endpoint (`aud`), asking for the FCM scope. Answers a fresh
  access token valid one hour.
- `POST /v1/projects/<project>/messages:send`: needs `Authorization: Bearer <a token this
  server issued>` (401 otherwise) and a `message.token`. What it answers for a registration
  token is set by the test with `answer(token, how)`:
  `"ok"` (the default), `"unregistered"` (404, UNREGISTERED), `"invalid"` (400,
  INVALID_ARGUMENT), `"quota"` (429 with `Retry-After`), `"unavailable"` (500).
  `hold(token)` holds the answer until the test calls `release()` (the client's time-out
  test: the client always gives up first, however slow the machine).
- `sent`: the messages answered 200, in order; `grants`: the token exchanges.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
# Google's token endpoint wants this audience in the assertion, wherever the exchange is sent.
AUDIENCE = "https://oauth2.googleapis.com/token"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _fcm_error(status: int, api_status: str, code: str | None, message: str) -> dict:
    error = {"code": status, "message": message, "status": api_status}
    if code:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
        ]
    return {"error": error}


ANSWERS = {
    "unregistered": (
        404,
        _fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
    ),
    "invalid": (
        400,
        _fcm_error(
            400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not valid."
        ),
    ),
    "quota": (429, _fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.")),
    "unavailable": (500, _fcm_error(500, "INTERNAL", "INTERNAL", "Internal error.")),
}


@dataclass
class Held:
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


class FakeFCM:
    def __init__(self, *, public_key_pem: bytes, client_email: str, project: str) -> None:
        self.public_key_pem = public_key_pem
        self.client_email = client_email
        self.project = project
        self.issued: set[str] = set()
        self.grants: list[dict] = []
        self.sent: list[dict] = []
        self.refused: list[tuple[int, str]] = []
        self.answers: dict[str, str] = {}
        self.retry_after = "7"
        self.held: dict[str, Held] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    def start(self) -> FakeFCM:
        self.thread.start()
        return self

    def stop(self) -> None:
        for held in self.held.values():
            held.released.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, token: str, how: str) -> None:
        self.answers[token] = how

    def hold(self, token: str) -> Held:
        self.held[token] = Held()
        return self.held[token]

    # --- the protocol --------------------------------------------------------------------

    def _grant(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        if form.get("grant_type") != [GRANT] or len(form.get("assertion", [])) != 1:
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form["assertion"][0],
                self.public_key_pem,
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=self.client_email,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope"}
        token = "ya29." + secrets.token_urlsafe(24)
        with self._lock:
            self.issued.add(token)
            self.grants.append(claims)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _send(self, authorization: str, body: bytes) -> tuple[int, dict, dict]:
        bearer = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer ") or bearer not in self.issued:
            return 401, _fcm_error(401, "UNAUTHENTICATED", None, "Invalid credentials."), {}
        try:
            message = json.loads(body)["message"]
            token = message["token"]
        except (ValueError, KeyError, TypeError):
            return 400, _fcm_error(400, "INVALID_ARGUMENT", None, "Invalid JSON payload."), {}
        held = self.held.get(token)
        if held is not None:
            held.arrived.set()
            held.released.wait(timeout=60)
        how = self.answers.get(token, "ok")
        if how in ANSWERS:
            status, answer = ANSWERS[how]
            with self._lock:
                self.refused.append((status, token))
            headers = {"Retry-After": self.retry_after} if how == "quota" else {}
            return status, answer, headers
        with self._lock:
            self.sent.append(message)
            name = f"projects/{self.project}/messages/{len(self.sent)}"
        return 200, {"name": name}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers: dict = {}
                if self.path == "/token":
                    status, answer = fake._grant(parse_qs(body.decode()))
                elif self.path == f"/v1/projects/{fake.project}/messages:send":
                    status, answer, headers = fake._send(
                        self.headers.get("Authorization", ""), body
                    )
                else:
                    status, answer = 404, {"error": {"code": 404, "status": "NOT_FOUND"}}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its time-out)

        return Handler
