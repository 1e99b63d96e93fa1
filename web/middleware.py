"""Brings a buyer who paid from a web page back to the web flow.

Every provider ends the buyer's journey at the app's approval, cancel or fail URL
(payments/views.py: a page telling the buyer to return to the app). A browser whose session
is paying a web gift (web/views_give.py) is sent on to the web's own return page instead,
with the provider's query string; every other request passes untouched.
"""

from __future__ import annotations

from django.http import HttpResponseRedirect

APPROVAL = "/remit/kakaopay/approval"
STOPPED = ("/remit/kakaopay/cancel", "/remit/kakaopay/fail")
WEB_RETURN = "/web/give/return"
WEB_STOPPED = "/web/give/stopped"
PAYING_KEY = "web_paying"


class WebPaymentReturnMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if request.method == "GET" and (path == APPROVAL or path in STOPPED):
            session = getattr(request, "session", None)
            if session is not None and session.get(PAYING_KEY):
                target = WEB_RETURN if path == APPROVAL else WEB_STOPPED
                query = request.META.get("QUERY_STRING", "")
                return HttpResponseRedirect(f"{target}?{query}" if query else target)
        return self.get_response(request)
