"""Rate limits: per account and per client IP, each named by a scope.

A view opts in with `throttle_scope = "report"` and
`throttle_classes = [AccountRateThrottle, IPRateThrottle]`. The account throttle reads its
rate from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope], the IP throttle from
[f"{scope}_ip"]; the email throttles (sign-in with a password, before any account is known)
from [f"{scope}_email_ip"] (per email and address) and [f"{scope}_email"] (per email, from
addresses that never signed in to it); a scope with no rate configured is not limited.

The counters live in Django's cache, so with REDIS_URL set every app server shares them.
DRF's stock SimpleRateThrottle reads a list of timestamps, appends and writes it back: two
processes doing that at once both pass. Here each request takes one of N "slots" with
`cache.add` (an atomic set-if-absent in Redis and in the local cache); a slot expires one
period after it was taken. So at most N requests pass in any window of one period, even
when many processes race, and a refused request learns exactly when the oldest slot frees.
"""

import hashlib
import ipaddress
import math

from django.core.cache import cache as default_cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_address(request) -> str:
    """DRF's get_ident (REMOTE_ADDR, or X-Forwarded-For as NUM_PROXIES says), as a cache key
    may hold it: an address that is not an IP address (a forged header with spaces or control
    characters) is counted under a digest of itself, one counter per distinct value."""
    ident = BaseThrottle().get_ident(request) or ""  # None when the server gave no address
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return "h" + hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _ScopedSlotThrottle(SimpleRateThrottle):
    """Base: the scope comes from the view; the rate from settings at request time."""

    # Appended to the view's throttle_scope to find this throttle's rate ("" or "_ip").
    scope_suffix = ""

    def __init__(self):
        # The rate depends on the view (its scope), known only in allow_request.
        self.rate = None
        self.num_requests = self.duration = None
        self.wait_seconds: float | None = None

    def get_rate(self) -> str | None:
        # Read settings on each request (not at import) so overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_address(request)

    def get_ident_key(self, request, view) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        ident = self.get_ident_key(request, view)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        view_scope = getattr(view, "throttle_scope", None)
        if not view_scope:
            return True
        self.scope = f"{view_scope}{self.scope_suffix}"
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True

        self.now = self.timer()
        slots = [f"{self.key}:{n}" for n in range(self.num_requests)]
        taken = self.cache.get_many(slots)
        for slot in slots:
            if slot in taken:
                continue
            # Another process may take this slot between get_many and add: then try the next.
            if self.cache.add(slot, self.now, timeout=self.duration):
                return True
            taken[slot] = self.now
        taken = self.cache.get_many(slots) or taken
        stamps = [value for value in taken.values() if isinstance(value, int | float)]
        oldest = min(stamps, default=self.now)
        self.wait_seconds = max(0.0, oldest + self.duration - self.now)
        return False

    def wait(self) -> float | None:
        if self.wait_seconds is None:
            return None
        # Whole seconds, never 0: a client that retries at once would only be refused again.
        return max(1, math.ceil(self.wait_seconds))


class AccountRateThrottle(_ScopedSlotThrottle):
    """Limits a signed-in account, whichever IP it comes from. Anonymous requests pass."""

    scope_suffix = ""

    def get_ident_key(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return f"account:{user.pk}"


class IPRateThrottle(_ScopedSlotThrottle):
    """Limits a client address (signed in or not), so many fresh accounts on one IP add up.

    The address is DRF's get_ident: REMOTE_ADDR, or X-Forwarded-For as configured by
    REST_FRAMEWORK["NUM_PROXIES"] (set it to the number of proxies in front of the app).
    """

    scope_suffix = "_ip"

    def get_ident_key(self, request, view) -> str | None:
        return f"ip:{self.get_ident(request)}"


def _email_digest(request) -> str | None:
    """The body's `email`, trimmed and lowercased as sign-in reads it, hashed: the cache
    (Redis) never holds the address itself, and keys stay short. None without one."""
    data = request.data
    email = data.get("email") if hasattr(data, "get") else None
    if not isinstance(email, str) or not email.strip():
        return None
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _known_address_key(digest: str, address: str) -> str:
    return f"signin-known:{digest}:{address}"


# How long an address that signed in to an account stays known (see remember_sign_in).
KNOWN_ADDRESS_SECONDS = 180 * 24 * 3600


def remember_sign_in(request) -> None:
    """Record that the request's address signed in with the request's email: from then on
    that address is not held back by the per-email limit (EmailRateThrottle).

    A record of a fact, not a decision: the per-address and per (email, address) limits
    still apply to it. Call after a successful sign-in.
    """
    digest = _email_digest(request)
    if digest is not None:
        address = client_address(request)
        default_cache.set(_known_address_key(digest, address), 1, timeout=KNOWN_ADDRESS_SECONDS)


class EmailAddressRateThrottle(_ScopedSlotThrottle):
    """Limits attempts on one email from one address: someone guessing a password from
    their own address, without holding back the email's owner elsewhere."""

    scope_suffix = "_email_ip"

    def get_ident_key(self, request, view) -> str | None:
        digest = _email_digest(request)
        if digest is None:
            return None  # the per-address limit still counts it
        return f"email:{digest}:ip:{self.get_ident(request)}"


class EmailRateThrottle(_ScopedSlotThrottle):
    """Limits attempts on one email from all addresses together: password guessing spread
    over many addresses.

    Its rate is high enough that only such guessing reaches it (strangers could otherwise
    lock an owner out of their account with a few wrong passwords), and an address that
    signed in to this email's account before (remember_sign_in) is not counted nor held
    back by it: the owner's usual phone or home network still signs in during an attack.
    """

    scope_suffix = "_email"

    def get_ident_key(self, request, view) -> str | None:
        digest = _email_digest(request)
        if digest is None:
            return None  # the per-address limit still counts it
        if self.cache.get(_known_address_key(digest, self.get_ident(request))):
            return None
        return f"email:{digest}"
