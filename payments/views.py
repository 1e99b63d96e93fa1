"""The app's payment journey (API.md, steps 1-4), the pages the provider redirects the
buyer's browser to, and the sandbox provider's checkout page."""

from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from funsun.api.schema import NOT_SIGNED_IN, body, error
from funsun.api.throttles import AccountRateThrottle, IPRateThrottle
from payments import services
from payments.providers import sandbox
from payments.serializers import (
    ApprovedSerializer,
    CheckoutActionSerializer,
    PgTokenResponseSerializer,
    PgTokenSerializer,
    ReadyRequestSerializer,
    ReadyResponseSerializer,
)

TAGS = ["remit"]
UPSTREAM = error("The payment provider failed, timed out or refused our credentials.")
HTML = {(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A small HTML page.")}


def page(title: str, *parts, status: int = 200) -> HttpResponse:
    html = format_html(
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>{}</title></head><body style='font-family: sans-serif; margin: 2em'>"
        "<h1>{}</h1>{}</body></html>",
        title,
        title,
        format_html("".join(["{}"] * len(parts)), *parts) if parts else "",
    )
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


class ReadyView(APIView):
    # Each ready opens an order at the provider: limited per account and per address.
    throttle_scope = "payment_ready"
    throttle_classes = [AccountRateThrottle, IPRateThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Step 1: start a Kakao Pay payment",
        description=(
            "Opens an order at the payment provider (Kakao Pay, or the built-in sandbox) and "
            "answers where the buyer pays. `funding` and `message` optionally bind the payment "
            "to a funding now (it must exist and still need at least `amount`)."
        ),
        request=body(ReadyRequestSerializer),
        responses={
            200: ReadyResponseSerializer,
            400: error("Invalid amount (1,000-1,000,000), funding id or message."),
            401: NOT_SIGNED_IN,
            404: error("The funding does not exist, or you may not see it."),
            409: error("The funding is closed or needs less than `amount`."),
            429: error("Too many payments started; retry after Retry-After seconds."),
            502: UPSTREAM,
        },
    )
    def post(self, request):
        serializer = ReadyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment, result = services.start_payment(
            payer=request.user,
            amount=data["amount"],
            funding_id=data.get("funding"),
            message=data.get("message", ""),
        )
        return Response(
            {
                "url": result.next_redirect_app_url,
                "tid": payment.tid,
                "next_redirect_mobile_url": result.next_redirect_mobile_url,
                "next_redirect_pc_url": result.next_redirect_pc_url,
            }
        )


class ApproveView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Step 3: hand over the pg_token",
        description=(
            "Stores the `pg_token` of the approval redirect on the caller's latest ready "
            "payment (or the one with `tid`). Posting the same token again changes nothing."
        ),
        request=body(PgTokenSerializer),
        responses={
            200: PgTokenResponseSerializer,
            400: error("`pg_token` missing or too long."),
            401: NOT_SIGNED_IN,
            404: error("No payment of yours is waiting for approval (or has this tid)."),
            409: error("That payment is no longer waiting for approval."),
        },
    )
    def post(self, request):
        serializer = PgTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.store_pg_token(
            payer=request.user,
            pg_token=serializer.validated_data["pg_token"],
            tid=serializer.validated_data.get("tid") or None,
        )
        return Response({"detail": "pg_token stored", "tid": payment.tid})

    @extend_schema(
        tags=TAGS,
        summary="Step 4: approve the payment",
        description=(
            "Asks the provider to capture the money of the caller's latest payment holding a "
            "pg_token. 200 once approved; calling again is harmless (200, nothing charged "
            "twice). Then `POST /remit/` credits it to a funding."
        ),
        request=None,
        responses={
            200: OpenApiResponse(
                ApprovedSerializer,
                examples=[
                    OpenApiExample(
                        "approved",
                        {"detail": "approved", "tid": "T1234567890123456789", "amount": 10000},
                    )
                ],
            ),
            400: error("The provider refused: not paid yet, bad pg_token, expired, failed."),
            401: NOT_SIGNED_IN,
            404: error("No payment of yours holds a pg_token."),
            409: error("The payment was refunded."),
            502: UPSTREAM,
        },
    )
    def get(self, request):
        payment = services.approve_latest(payer=request.user)
        return Response({"detail": "approved", "tid": payment.tid, "amount": payment.amount})


class RedirectPageView(APIView):
    """Where the provider sends the buyer's browser. Public: nobody is signed in there."""

    authentication_classes = []
    permission_classes = [AllowAny]
    title = ""
    text = ""

    def get(self, request):
        parts = [format_html("<p>{}</p>", self.text)]
        token = request.query_params.get("pg_token")
        if token:
            parts.append(format_html("<p>pg_token: <code id='pg_token'>{}</code></p>", token))
        return page(self.title, *parts)


class ApprovalPageView(RedirectPageView):
    title = "결제 완료 / Payment authorised"
    text = "Return to the FunSun app to finish your gift."

    @extend_schema(
        tags=TAGS,
        summary="Approval redirect target (browser)",
        description=(
            "The provider sends the buyer here with `?pg_token=...` after paying. The app "
            "catches this redirect and reads `pg_token`; the page itself only says so."
        ),
        auth=[],
        responses=HTML,
    )
    def get(self, request):
        return super().get(request)


class CancelPageView(RedirectPageView):
    title = "결제 취소 / Payment canceled"
    text = "You canceled the payment. Nothing was charged."

    @extend_schema(tags=TAGS, summary="Cancel redirect target (browser)", auth=[], responses=HTML)
    def get(self, request):
        return super().get(request)


class FailPageView(RedirectPageView):
    title = "결제 실패 / Payment failed"
    text = "The payment failed or expired. Nothing was charged."

    @extend_schema(tags=TAGS, summary="Fail redirect target (browser)", auth=[], responses=HTML)
    def get(self, request):
        return super().get(request)


def _enforce_csrf(request) -> None:
    """The checkout form is a browser form: protect it like any Django form (DRF views are
    exempt by default)."""
    check = CSRFCheck(lambda req: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise PermissionDenied(f"CSRF failed: {reason}")


class SandboxCheckoutView(APIView):
    """The sandbox provider's checkout page, standing in for Kakao Pay's."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["sandbox"],
        summary="Sandbox checkout page (browser)",
        description=(
            "With `PAYMENT_PROVIDER=sandbox`, step 1 answers this page's URL. It shows the "
            "amount and the funding, with a pay and a cancel button."
        ),
        auth=[],
        responses={**HTML, (404, "text/html"): OpenApiTypes.STR},
    )
    def get(self, request, tid: str):
        payment = sandbox.checkout_payment(tid)
        if payment is None:
            return page("Unknown payment", mark_safe("<p>No such payment.</p>"), status=404)
        status = sandbox.sandbox_status(payment)
        funding = payment.funding
        parts = [
            format_html("<p>Amount: <strong id='amount'>{} KRW</strong></p>", f"{payment.amount:,}")
        ]
        if funding is not None:
            parts.append(format_html("<p>For: <strong id='funding'>{}</strong></p>", funding.title))
        if sandbox.is_expired(payment):
            parts.append(mark_safe("<p>This payment expired.</p>"))
        elif status in (sandbox.READY, sandbox.AUTHORIZED):
            token = get_token(request._request)
            parts.append(
                format_html(
                    "<form method='post'><input type='hidden' name='csrfmiddlewaretoken' "
                    "value='{}'><button name='action' value='pay'>Pay {} KRW</button> "
                    "<button name='action' value='cancel'>Cancel</button></form>",
                    token,
                    f"{payment.amount:,}",
                )
            )
        else:
            parts.append(format_html("<p>Status: {}</p>", status))
        return page("FunSun sandbox checkout", *parts)

    @extend_schema(
        tags=["sandbox"],
        summary="Sandbox checkout: pay or cancel (browser form)",
        description=(
            "`action=pay` redirects (302) to the approval URL with `?pg_token=...`, exactly "
            "like Kakao Pay; `action=cancel` redirects to the cancel URL. Pressing pay twice "
            "redirects with the same token."
        ),
        auth=[],
        request={"application/x-www-form-urlencoded": CheckoutActionSerializer},
        responses={
            302: OpenApiResponse(description="To the approval, cancel or fail URL."),
            400: error("`action` is neither pay nor cancel."),
            403: error("CSRF check failed."),
            (404, "text/html"): OpenApiTypes.STR,
        },
    )
    def post(self, request, tid: str):
        _enforce_csrf(request._request)
        payment = sandbox.checkout_payment(tid)
        if payment is None:
            return page("Unknown payment", mark_safe("<p>No such payment.</p>"), status=404)
        serializer = CheckoutActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["action"] == "pay":
            return HttpResponseRedirect(sandbox.buyer_pays(payment))
        return HttpResponseRedirect(sandbox.buyer_quits(payment))
