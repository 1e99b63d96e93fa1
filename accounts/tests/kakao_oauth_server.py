"""A local server that speaks Kakao Login's OAuth 2 (kauth) beside its user API (kapi).

`GET /oauth/authorize` plays the user who signs in and agrees: it redirects the browser back
to `redirect_uri` with a fresh `code` and the `state` it was given (or, with `deny`, with
Kakao's `error=access_denied`). `POST /oauth/token` trades a code, once, for the access token
of that user, checking what Kakao checks (grant type, client id, the same redirect URI, the
client secret when one is set). Every other call is KakaoServer's `/v2/user/me`, so one
server stands for both of Kakao's hosts.
"""

import secrets
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

from accounts.tests.kakao_server import GOOD_TOKEN, KakaoServer, _Handler

REST_API_KEY = "test-rest-api-key"


class _OAuthHandler(_Handler):
    server: "KakaoOAuthServer"

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path != "/oauth/authorize":
            return super().do_GET()
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        self.server.requests.append({"path": parts.path, "query": query})
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.server.client_id or not redirect_uri:
            return self._send(400, {"error": "invalid_client", "error_code": "KOE101"})
        if query.get("response_type") != "code":
            return self._send(400, {"error": "unsupported_response_type"})
        answer = {}
        if self.server.deny:
            answer["error"] = "access_denied"
            answer["error_description"] = "User denied access"
        else:
            code = secrets.token_urlsafe(16)
            with self.server.lock:
                self.server.codes[code] = (redirect_uri, self.server.user_token)
            answer["code"] = code
        if "state" in query:
            answer["state"] = query["state"]
        return self._redirect(f"{redirect_uri}?{urlencode(answer)}")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        self.server.requests.append({"path": self.path, "form": form})
        if self.path != "/oauth/token":
            return self._send(404, {"msg": "not found", "code": -404})
        if form.get("grant_type") != "authorization_code":
            return self._send(400, {"error": "unsupported_grant_type", "error_code": "KOE006"})
        if form.get("client_id") != self.server.client_id:
            return self._send(401, {"error": "invalid_client", "error_code": "KOE101"})
        if self.server.client_secret and form.get("client_secret") != self.server.client_secret:
            return self._send(401, {"error": "invalid_client", "error_code": "KOE010"})
        with self.server.lock:
            issued = self.server.codes.pop(form.get("code", ""), None)
        if issued is None or issued[0] != form.get("redirect_uri"):
            return self._send(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "authorization code not found",
                    "error_code": "KOE320",
                },
            )
        return self._send(
            200,
            {
                "token_type": "bearer",
                "access_token": issued[1],
                "expires_in": 21599,
                "refresh_token": "refresh-" + secrets.token_urlsafe(8),
                "refresh_token_expires_in": 5183999,
            },
        )


class KakaoOAuthServer(KakaoServer):
    def __init__(self, client_id: str = REST_API_KEY, client_secret: str = ""):
        super().__init__()
        self.RequestHandlerClass = _OAuthHandler
        self.client_id = client_id
        self.client_secret = client_secret
        # The Kakao user who "signs in" at the next authorize: an access token of `users`.
        self.user_token = GOOD_TOKEN
        self.deny = False
        self.codes: dict[str, tuple[str, str]] = {}
        self.lock = threading.Lock()


def configure(settings, server: KakaoOAuthServer) -> None:
    """Point both of Kakao's hosts at `server`."""
    settings.KAKAO_AUTH_BASE_URL = server.base_url
    settings.KAKAO_API_BASE_URL = server.base_url
    settings.KAKAO_REST_API_KEY = server.client_id
    settings.KAKAO_CLIENT_SECRET = server.client_secret
