"""The sandbox contribution journey, as the app walks it, and the load that repeats it.

One journey: POST /remit/kakaopay/ready -> GET the sandbox checkout page -> press "pay" there
(the provider redirects to the approval URL with a pg_token) -> POST /remit/kakaopay/approve
with the pg_token -> GET /remit/kakaopay/approve -> POST /remit/ (JSON) -> 201.

The steps talk to a `transport` (request(method, path, headers, body) -> (status, headers,
body)), so the same code runs over HTTP against gunicorn (the load) and in-process through
django.test.Client (query counts, bench/inproc.py).

Run as `python -m bench.journey --port P --fixture F --clients 16 --duration 15`: closed loop,
each client is a thread, threads are spread over a few processes so that the GIL of one client
process does not slow the others; each client pays as its own payers, one journey at a time per
payer, so that no two clients contend on one payer's rows.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import re
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from bench.common import emit, merged_errors, read_json

STEPS = ["ready", "checkout", "pay", "approve_post", "approve_get", "remit"]
PAY_WORDS = ("pay", "approve", "결제", "승인", "confirm", "ok")
AVOID_WORDS = ("cancel", "fail", "취소", "실패")


class JourneyError(Exception):
    def __init__(self, step: str, status: int, detail: str = ""):
        super().__init__(f"{step}: status {status} {detail}".strip())
        self.step = step
        self.status = status
        self.detail = detail


class PageParser(HTMLParser):
    """Forms (action, method, fields, submit buttons) and links of the checkout page."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[dict] = []
        self._form: dict | None = None
        self._link: dict | None = None
        self._button: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": (a.get("method") or "get").upper(),
                "fields": {},
                "buttons": [],
            }
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            kind = a.get("type", "text").lower()
            if kind == "submit":
                self._form["buttons"].append(
                    {"name": a.get("name", ""), "value": a.get("value", ""), "text": ""}
                )
            elif a.get("name") and kind not in ("checkbox", "radio", "button", "reset"):
                self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self._form is not None:
            if a.get("type", "submit").lower() == "submit":
                self._button = {"name": a.get("name", ""), "value": a.get("value", ""), "text": ""}
                self._form["buttons"].append(self._button)
        elif tag == "a":
            self._link = {"href": a.get("href", ""), "text": ""}
            self.links.append(self._link)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "a":
            self._link = None
        elif tag == "button":
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data
        if self._link is not None:
            self._link["text"] += data


def _score(text: str) -> int:
    text = text.lower()
    if any(w in text for w in AVOID_WORDS):
        return -1
    return 1 if any(w in text for w in PAY_WORDS) else 0


def pay_action(page_url: str, html: str) -> tuple[str, str, dict]:
    """(method, absolute URL, fields) of the checkout page's "pay" control."""
    parser = PageParser()
    parser.feed(html)
    choices = []
    for form in parser.forms:
        for button in form["buttons"] or [{"name": "", "value": "", "text": ""}]:
            score = _score(" ".join([button["text"], button["value"], form["action"]]))
            fields = dict(form["fields"])
            if button["name"]:
                fields[button["name"]] = button["value"]
            choices.append((score, form["method"], urljoin(page_url, form["action"]), fields))
    for link in parser.links:
        score = 2 if "pg_token" in link["href"] else _score(link["text"] + " " + link["href"])
        choices.append((score, "GET", urljoin(page_url, link["href"]), {}))
    choices = [c for c in choices if c[0] >= 0]
    if not choices:
        raise JourneyError("checkout", 200, "no pay form or link on the checkout page")
    _, method, url, fields = max(choices, key=lambda c: c[0])
    return method, url, fields


PG_TOKEN = re.compile(r"pg_token=([^&\"'\s<>]+)")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Transport:
    """HTTP/1.1 keep-alive to the server, with a tiny cookie jar (the checkout page's)."""

    port: int
    timeout: float = 30.0
    cookies: SimpleCookie = field(default_factory=SimpleCookie)
    retries: int = 0

    def __post_init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method: str, path: str, headers: dict, body: bytes | None = None):
        headers = dict(headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                # A keep-alive connection the server closed (worker recycled). Every step of
                # the journey may be replayed safely (PRODUCT.md), so retry once on a new one.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
                self.retries += 1
        response_headers = {k.lower(): v for k, v in response.getheaders()}
        for value in response.msg.get_all("Set-Cookie") or []:
            self.cookies.load(value)
        return response.status, response_headers, data

    def close(self):
        self.conn.close()


def run_journey(
    transport, token: str, funding_id: int, amount: int, message: str, on_step=None
) -> dict:
    """One contribution from ready to remit. Raises JourneyError at the first failing step."""
    auth = {"Authorization": f"Bearer {token}"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def call(step, method, path, headers, body=None, expect=(200,)):
        started = time.perf_counter()
        status, headers_out, data = transport.request(method, path, headers, body)
        if on_step is not None:
            on_step(step, status, time.perf_counter() - started)
        if status not in expect:
            raise JourneyError(step, status, data[:200].decode("utf-8", "replace"))
        return headers_out, data

    _, data = call(
        "ready",
        "POST",
        "/remit/kakaopay/ready",
        auth | form,
        urlencode({"amount": amount, "funding": funding_id, "message": message}).encode(),
    )
    ready = json.loads(data)
    checkout_url = ready.get("url") or ready.get("next_redirect_pc_url")
    if not checkout_url:
        raise JourneyError("ready", 200, "no url in the ready answer")
    _, page = call("checkout", "GET", path_of(checkout_url), {})
    method, action, fields = pay_action(checkout_url, page.decode("utf-8", "replace"))
    body = urlencode(fields).encode() if method == "POST" else None
    target = path_of(action)
    if method == "GET" and fields:
        target += ("&" if "?" in target else "?") + urlencode(fields)
    headers, page = call(
        "pay",
        method,
        target,
        form if method == "POST" else {},
        body,
        expect=(200, 301, 302, 303, 307),
    )
    where = headers.get("location", "") + " " + page.decode("utf-8", "replace")
    match = PG_TOKEN.search(where)
    if not match:
        raise JourneyError("pay", 200, "no pg_token in the pay answer")
    pg_token = parse_qs(f"pg_token={match.group(1)}")["pg_token"][0]
    approve = {"pg_token": pg_token}
    if ready.get("tid"):
        approve["tid"] = ready["tid"]
    call(
        "approve_post", "POST", "/remit/kakaopay/approve", auth | form, urlencode(approve).encode()
    )
    call("approve_get", "GET", "/remit/kakaopay/approve", auth)
    _, data = call(
        "remit",
        "POST",
        "/remit/",
        auth | {"Content-Type": "application/json"},
        json.dumps({"funding": str(funding_id), "amount": amount, "message": message}).encode(),
        expect=(201,),
    )
    return json.loads(data)


# How long the author keeps reading GET /notification/ for a contribution's notification.
READ_BACK_SECONDS = 10.0


def read_back(transport, token: str, message: str, on_step=None) -> tuple[float, int] | None:
    """Read GET /notification/ (the newest page) as the funding's author until the
    contribution's notification is on it: (the seconds it took, the reads), None if it never
    showed."""
    started = time.perf_counter()
    reads = 0
    while True:
        reads += 1
        status, _, data = transport.request(
            "GET", "/notification/", {"Authorization": f"Bearer {token}"}
        )
        if on_step is not None:
            on_step("read_back", status, time.perf_counter() - started)
        if status == 200 and any(
            (row.get("data") or {}).get("message") == message for row in json.loads(data)
        ):
            return time.perf_counter() - started, reads
        if status not in (200, 204):
            raise JourneyError("read_back", status, data[:200].decode("utf-8", "replace"))
        if time.perf_counter() - started > READ_BACK_SECONDS:
            return None
        time.sleep(0.01)


def _client(
    index: int,
    port: int,
    fixture: dict,
    clients: int,
    start: float,
    end_warm: float,
    end: float,
    with_read_back: bool = False,
) -> dict:
    payers = fixture["payer_tokens"][index::clients] or fixture["payer_tokens"][:1]
    targets = fixture["target_ids"]
    funding_id = targets[index % len(targets)]
    author_token = fixture.get("author_tokens", {}).get(str(funding_id), "")
    transport = Transport(port)
    out = {"latencies": [], "done": 0, "all_done": 0, "errors": {}, "retries": 0, "requests": 0}
    out |= {"delays": [], "unread": 0, "first_read": 0}

    def on_step(step, status, seconds):
        if end_warm <= time.time() <= end:
            out["requests"] += 1

    time.sleep(max(0.0, start - time.time()))
    k = 0
    while time.time() < end:
        token = payers[k % len(payers)]
        k += 1
        began = time.time()
        # A message of its own: the author's read-back knows this contribution's notification.
        message = f"bench journey {start:.0f}-{index}-{k}"
        delay = None
        try:
            run_journey(transport, token, funding_id, 1_000, message, on_step)
            finished = time.time()
            if with_read_back:
                delay = read_back(transport, author_token, message, on_step)
        except JourneyError as exc:
            key = f"{exc.step} {exc.status}"
            if time.time() >= end_warm:
                out["errors"][key] = out["errors"].get(key, 0) + 1
                out.setdefault("error_detail", {}).setdefault(key, exc.detail)
            if exc.status in (404, 405) and exc.step == "ready":
                break  # the route is not there: nothing to measure
            continue
        except (http.client.HTTPException, OSError, ValueError) as exc:
            key = f"transport {type(exc).__name__}"
            out["errors"][key] = out["errors"].get(key, 0) + 1
            continue
        out["all_done"] += 1  # every credited journey, for the money check
        if end_warm <= finished <= end:
            out["done"] += 1
            out["latencies"].append(finished - began)
            if with_read_back:
                if delay is None:
                    out["unread"] += 1
                else:
                    out["delays"].append(delay[0])
                    out["first_read"] += delay[1] == 1
    out["retries"] = transport.retries
    transport.close()
    return out


def _process(indexes, port, fixture, clients, start, end_warm, end, with_read_back, queue):
    results = []
    threads = []
    for index in indexes:

        def work(i=index):
            results.append(_client(i, port, fixture, clients, start, end_warm, end, with_read_back))

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=max(1.0, end - time.time()) + 60)
    queue.put(results)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def load(
    port: int,
    fixture: dict,
    clients: int,
    duration: float,
    warmup: float,
    processes: int,
    with_read_back: bool = False,
):
    start = time.time() + 1.0
    end_warm = start + warmup
    end = end_warm + duration
    queue = multiprocessing.Queue()
    groups = [list(range(clients))[p::processes] for p in range(processes)]
    workers = [
        multiprocessing.Process(
            target=_process,
            args=(g, port, fixture, clients, start, end_warm, end, with_read_back, queue),
        )
        for g in groups
        if g
    ]
    for w in workers:
        w.start()
    results = []
    for _ in workers:
        results.extend(queue.get(timeout=duration + warmup + 120))
    for w in workers:
        w.join(timeout=10)
    latencies = [x for r in results for x in r["latencies"]]
    errors, details = merged_errors(results)
    done = sum(r["done"] for r in results)
    all_done = sum(r["all_done"] for r in results)
    requests = sum(r["requests"] for r in results)
    delays = [x for r in results for x in r["delays"]]
    read = {}
    if with_read_back:
        read = {
            "read_back": {
                "read": len(delays),
                "unread": sum(r["unread"] for r in results),
                # Shown by the author's first read after the 201.
                "first_read": sum(r["first_read"] for r in results),
                "p50_ms": (percentile(delays, 50) or 0) * 1000 if delays else None,
                "p99_ms": (percentile(delays, 99) or 0) * 1000 if delays else None,
                "max_ms": max(delays) * 1000 if delays else None,
            }
        }
    return read | {
        "completed": done,
        "credited_total": all_done,
        "per_second": done / duration,
        "requests_per_second": requests / duration,
        "p50_ms": (percentile(latencies, 50) or 0) * 1000 if latencies else None,
        "p99_ms": (percentile(latencies, 99) or 0) * 1000 if latencies else None,
        "errors": errors,
        "error_detail": details,
        "retries": sum(r["retries"] for r in results),
        "duration": duration,
        "clients": clients,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--once", action="store_true", help="one journey, as a probe")
    parser.add_argument(
        "--read-back",
        action="store_true",
        help="after each 201, the author reads GET /notification/ until it shows",
    )
    args = parser.parse_args()
    fixture = read_json(args.fixture)
    if args.once:
        transport = Transport(args.port)
        steps = []
        probe_message = f"bench probe {time.time_ns()}"
        try:
            remit = run_journey(
                transport,
                fixture["payer_tokens"][0],
                fixture["target_ids"][0],
                1_000,
                probe_message,
                lambda step, status, seconds: steps.append([step, status]),
            )
            if args.read_back:
                token = fixture["author_tokens"][str(fixture["target_ids"][0])]
                if read_back(transport, token, probe_message) is None:
                    raise JourneyError("read_back", 200, "the notification never showed")
            emit({"ok": True, "steps": steps, "remit": remit})
        except JourneyError as exc:
            emit({"ok": False, "steps": steps, "step": exc.step, "status": exc.status,
                  "detail": exc.detail})  # fmt: skip
        except (http.client.HTTPException, OSError, ValueError) as exc:
            emit({"ok": False, "steps": steps, "step": "transport", "status": 0,
                  "detail": repr(exc)})  # fmt: skip
        return
    emit(
        load(
            args.port,
            fixture,
            args.clients,
            args.duration,
            args.warmup,
            args.processes,
            args.read_back,
        )
    )


if __name__ == "__main__":
    main()
