"""The API's rate limits (funsun/api/throttles.py) applied to the web's views, by scope."""

from __future__ import annotations

from dataclasses import dataclass

from funsun.api.throttles import AccountRateThrottle, IPRateThrottle


@dataclass
class _Scoped:
    throttle_scope: str


def allowed(request, scope: str, *, per_account: bool = False) -> bool:
    """False when `request` is over the limits of `scope` (and of `scope`_ip)."""
    classes = [AccountRateThrottle, IPRateThrottle] if per_account else [IPRateThrottle]
    view = _Scoped(scope)
    return all(throttle().allow_request(request, view) for throttle in classes)
