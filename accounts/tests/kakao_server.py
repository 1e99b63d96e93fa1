"""A local HTTP server that speaks Kakao Login's `GET /v2/user/me` (docs/KAKAO.md).

The server answers by access token: known tokens get their Kakao user, unknown ones the
401 Kakao sends for a bad token, and a few special tokens misbehave on purpose (500,
malformed JSON, no id, a float id, an answer held until the test releases it).
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A 19-digit Kakao id: above 2**53, so a float detour would corrupt it.
KAKAO_ID = 4_123_456_789_012_345_678
GOOD_TOKEN = "kakao-good-token"
MINIMAL_TOKEN = "kakao-minimal-token"
SERVER_ERROR_TOKEN = "kakao-500-token"
FORBIDDEN_TOKEN = "kakao-403-token"
SLOW_TOKEN = "kakao-slow-token"
MALFORMED_TOKEN = "kakao-malformed-token"
NO_ID_TOKEN = "kakao-no-id-token"
FLOAT_ID_TOKEN = "kakao-float-id-token"

MINIMAL_ID = 9_000_000_000_000_000_001
# A held answer is let go after this long even if the test never releases it.
HOLD_LIMIT = 60.0


def kakao_user(kakao_id: int = KAKAO_ID, **account) -> dict:
    """A full `/v2/user/me` answer shaped like docs/KAKAO.md's sample, fields overridable."""
    kakao_account = {
        "profile_nickname_needs_agreement": False,
        "profile": {
            "nickname": "홍길동",
            "profile_image_url": "http://k.kakaocdn.net/img_640x640.jpg",
            "thumbnail_image_url": "http://k.kakaocdn.net/img_110x110.jpg",
            "is_default_image": False,
        },
        "email_needs_agreement": False,
        "is_email_valid": True,
        "is_email_verified": True,
        "email": "Gildong.Hong@Kakao.example",
        "age_range_needs_agreement": False,
        "age_range": "20~29",
        "birthday_needs_agreement": False,
        "birthday": "1130",
        "birthday_type": "SOLAR",
        "gender_needs_agreement": False,
        "gender": "female",
    }
    kakao_account.update(account)
    return {
        "id": kakao_id,
        "connected_at": "2022-04-11T01:45:28Z",
        "properties": {"nickname": "홍길동", "profile_image": "", "thumbnail_image": ""},
        "kakao_account": kakao_account,
    }


def default_users() -> dict[str, dict]:
    return {
        GOOD_TOKEN: kakao_user(),
        # The user agreed to nothing: no email, profile, gender, age range or birthday.
        MINIMAL_TOKEN: {"id": MINIMAL_ID, "kakao_account": {"email_needs_agreement": True}},
    }


_BEARER = re.compile(r"^Bearer ([A-Za-z0-9._~+/=-]+)$")


class _Handler(BaseHTTPRequestHandler):
    server: "KakaoServer"

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def _send(self, status: int, payload, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time-out test)

    def do_GET(self):
        authorization = self.headers.get("Authorization", "")
        self.server.requests.append({"path": self.path, "authorization": authorization})
        if self.path != "/v2/user/me":
            return self._send(404, {"msg": "not found", "code": -404})
        match = _BEARER.match(authorization)
        if not match:
            return self._send(401, {"msg": "no authentication key!", "code": -401})
        token = match.group(1)
        if token == SERVER_ERROR_TOKEN:
            return self._send(500, {"msg": "internal error", "code": -1})
        if token == FORBIDDEN_TOKEN:
            return self._send(403, {"msg": "app is not allowed", "code": -3})
        if token == SLOW_TOKEN:
            # Held until the test releases it (or the server stops): the client's time-out
            # always passes first, however slow the machine.
            self.server.slow_call_arrived.set()
            self.server.release.wait(timeout=HOLD_LIMIT)
            return self._send(200, kakao_user())
        if token == MALFORMED_TOKEN:
            return self._send(200, None, raw=b'{"id": 12345, "kakao_account": {')
        if token == NO_ID_TOKEN:
            return self._send(200, {"kakao_account": {"email": "x@example.com"}})
        if token == FLOAT_ID_TOKEN:
            return self._send(200, None, raw=b'{"id": 4.123456789012346e18}')
        user = self.server.users.get(token)
        if user is None:
            return self._send(401, {"msg": "this access token does not exist", "code": -401})
        return self._send(200, user)


class KakaoServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.users = default_users()
        self.requests: list[dict] = []
        # SLOW_TOKEN: `slow_call_arrived` is set once such a call is in; it is answered when
        # the test sets `release` (stop() does).
        self.slow_call_arrived = threading.Event()
        self.release = threading.Event()
        # A short poll interval keeps shutdown() (once per test) quick.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "KakaoServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
