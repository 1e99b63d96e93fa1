"""Headers of the web pages: a Content-Security-Policy naming only FunSun, the payment
provider's pages and Kakao's sign-in, and the language of the page."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation

# Kakao Pay's checkout pages are served from Kakao's domain (next_redirect_pc_url and
# next_redirect_mobile_url); the sandbox's and Toss's checkout pages are ours.
PROVIDER_PAGES = {"kakaopay": ["https://*.kakao.com"]}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy() -> str:
    # A form's redirect is checked against form-action: giving posts here, then goes on to
    # the provider's checkout page; signing in goes on to Kakao's.
    targets = ["'self'", origin(settings.KAKAO_AUTH_BASE_URL)]
    targets += PROVIDER_PAGES.get(settings.PAYMENT_PROVIDER, [])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            f"form-action {' '.join(targets)}",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def page_language(request) -> str:
    """Korean unless the browser prefers English."""
    accepted = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    first = accepted.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "ko"


def web_page(view):
    """A web page: rendered in the visitor's language, under the web's CSP."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        language = page_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response["Content-Security-Policy"] = content_security_policy()
        response["Content-Language"] = language
        response.setdefault("Vary", "Accept-Language, Cookie")
        return response

    return wrapped
