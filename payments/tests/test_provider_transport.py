"""The providers' one way of calling their servers (payments.providers.base.send), against
a real local HTTP server: what an answer that is not a JSON object, a server that cannot be
reached and a server that does not answer in time become."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from payments.providers import ProviderUnavailable
from payments.providers.base import send


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def server():
    """Answers by path; `/held` answers only once the test sets `release`."""
    release = threading.Event()
    bodies = {
        "/object": ("application/json", json.dumps({"status": "DONE"})),
        "/array": ("application/json", json.dumps(["DONE"])),
        "/proxy-page": ("text/html", "<html><body>502 Bad Gateway</body></html>"),
        "/cut-off": ("application/json", '{"status": "DO'),
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            if self.path == "/held":
                release.wait(30)
                kind, body = bodies["/object"]
            else:
                kind, body = bodies[self.path]
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", release
    release.set()
    httpd.shutdown()
    httpd.server_close()


def call(url: str, timeout: float = 10.0):
    return send("Provider", "/approve", "POST", url, json={"tid": "T1"}, timeout=timeout)


def test_a_json_object_comes_back_with_its_response(server):
    base, _ = server
    response, data = call(f"{base}/object")
    assert response.status_code == 200 and data == {"status": "DONE"}


@pytest.mark.parametrize("path", ["/array", "/proxy-page", "/cut-off"])
def test_an_answer_that_is_not_a_json_object_is_none_beside_its_response(server, path):
    base, _ = server
    response, data = call(f"{base}{path}")
    assert response.status_code == 200 and data is None
    assert response.text  # the provider keeps the body for its log


def test_a_server_that_cannot_be_reached_is_unavailable():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderUnavailable) as raised:
        call(f"http://127.0.0.1:{port}/object")
    assert raised.value.raw == {"error": "ConnectError", "call": "/approve"}
    assert "could not be reached for /approve" in str(raised.value)


def test_a_server_that_holds_its_answer_past_the_time_out_is_unavailable(server):
    # The server answers only after the test releases it, so the client's time-out fires
    # first however slow the machine.
    base, release = server
    with pytest.raises(ProviderUnavailable) as raised:
        call(f"{base}/held", timeout=0.05)
    release.set()
    assert raised.value.raw == {"error": "timeout", "call": "/approve"}
    assert "did not answer /approve in time" in str(raised.value)
