"""Toss Payments' routes (docs/API.md, "Toss Payments"): the checkout page this server hosts for an
order, the two routes Toss sends the buyer's browser back to, and Toss's webhook.

They read Toss's wire names (orderId, paymentKey, code...) and hand over to the neutral
services; what Toss's answers mean for money is decided in payments/providers/toss.py. The
app's own journey does not change: the success route ends at the approval URL with a
`pg_token`, the fail route at the cancel or fail URL, as Kakao Pay's pages do.
"""

import logging

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views import View
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from funsun.api.errors import DomainError, InvalidInput, NotFound, StateConflict
from funsun.api.parsers import JSONParser
from funsun.api.schema import error
from funsun.api.throttles import IPRateThrottle
from payments import services
from payments.models import PaymentState
from payments.providers import toss
from payments.providers.base import callback_url
from payments.tasks import settle_notice

logger = logging.getLogger(__name__)

TAGS = ["remit"]
HTML = OpenApiResponse(OpenApiTypes.STR, description="A small HTML page for the buyer.")
REDIRECT = OpenApiResponse(description="To the approval, cancel or fail URL (docs/API.md, step 2).")
LIMITED = error("Too many calls from this address; retry after Retry-After seconds.")
# Toss's code when the buyer cancels in the window: the app's cancel URL, not its fail URL.
BUYER_CANCELED = "PAY_PROCESS_CANCELED"


def _amount_text(amount: int) -> str:
    return f"{amount:,}"


def content_security_policy() -> str:
    """The checkout page runs our script and Toss's, talks to Toss and shows its window in a
    frame; nothing else, and nobody may frame the page."""
    sdk = toss.sdk_origin()
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {sdk}",
            f"connect-src 'self' {sdk}",
            f"frame-src {sdk}",
            f"img-src 'self' data: {sdk}",
            # The SDK styles the window it adds to the page.
            "style-src 'self' 'unsafe-inline'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class TossCheckoutView(View):
    """GET /payments/toss/checkout/<order id>: the page the app opens (step 1's `url`). It
    shows what the payment is for and its amount, and opens Toss's payment window."""

    template_name = "payments/toss_checkout.html"

    def get(self, request, order_id: str):
        payment = services.order_payment(provider=toss.NAME, order_id=order_id)
        context: dict = {"payment": payment}
        status = 404
        if payment is not None:
            status = 200
            expired = payment.created_on + toss.ORDER_VALIDITY <= timezone.now()
            payable = payment.state == PaymentState.READY and not expired
            context.update(
                amount_text=_amount_text(payment.amount),
                expired=expired and payment.state == PaymentState.READY,
                payable=payable,
                state=payment.state,
                cancel_url=callback_url("cancel"),
            )
            if payable:
                context.update(window=toss.window_request(payment), sdk_url=settings.TOSS_SDK_URL)
        response = render(request, self.template_name, context, status=status)
        response["Content-Security-Policy"] = content_security_policy()
        # The page carries the order's details and a key of the buyer: nobody keeps a copy.
        response["Cache-Control"] = "no-store"
        return response


class _ReturnView(APIView):
    """Where Toss sends the buyer's browser: public, nobody is signed in there."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "toss_return"
    throttle_classes = [IPRateThrottle]

    @staticmethod
    def page(request, status: int, title: str, text: str, *, refresh: bool = False):
        context = {"title": title, "text": text}
        response = render(request._request, "payments/toss_return.html", context, status=status)
        response["Cache-Control"] = "no-store"
        if refresh:
            response["Refresh"] = "5"  # every browser reloads the page after 5 seconds
        return response


class TossSuccessView(_ReturnView):
    @extend_schema(
        tags=TAGS,
        summary="Toss Payments: the buyer authorised (browser)",
        description=(
            "Toss's `successUrl`. The order must exist, wait for its payment and have exactly "
            "this `amount`; then the server confirms the payment at Toss and redirects to the "
            "approval URL with a `pg_token` (docs/API.md, step 2). A replay of an approved return "
            "redirects again without asking Toss. Declined, expired or refused: redirect to "
            "the fail URL. An answer Toss has not given yet: a page that reloads itself."
        ),
        auth=[],
        parameters=[
            OpenApiParameter("paymentKey", str, required=True),
            OpenApiParameter("orderId", str, required=True),
            OpenApiParameter("amount", int, required=True),
        ],
        responses={
            302: REDIRECT,
            (202, "text/html"): HTML,
            (400, "text/html"): HTML,
            (404, "text/html"): HTML,
            (409, "text/html"): HTML,
            429: LIMITED,
        },
    )
    def get(self, request):
        query = request.query_params
        order_id = query.get("orderId", "")
        payment_key = query.get("paymentKey", "")
        amount_text = query.get("amount", "")
        if not (
            toss.ORDER_ID.fullmatch(order_id)
            and toss.PAYMENT_KEY.fullmatch(payment_key)
            and amount_text.isascii()
            and amount_text.isdigit()
            and len(amount_text) <= 9
        ):
            return self.page(
                request,
                400,
                "잘못된 요청 / Bad request",
                "결제 정보가 올바르지 않습니다. / The payment's details are missing or invalid.",
            )
        amount = int(amount_text)
        try:
            payment = services.approve_at_return(
                provider=toss.NAME, order_id=order_id, provider_key=payment_key, amount=amount
            )
        except NotFound:
            return self.page(
                request, 404, "주문 없음 / Unknown order", "No such order. Nothing was charged."
            )
        except StateConflict as exc:
            return self.page(request, 409, "이미 처리됨 / Already processed", exc.detail)
        except DomainError as exc:
            return self._not_approved(request, order_id, amount, exc)
        return HttpResponseRedirect(f"{callback_url('approval')}?pg_token={payment.pg_token}")

    def _not_approved(self, request, order_id: str, amount: int, exc: DomainError):
        payment = services.order_payment(provider=toss.NAME, order_id=order_id)
        if isinstance(exc, InvalidInput) and amount != payment.amount:
            return self.page(
                request,
                400,
                "결제 금액 불일치 / Amount mismatch",
                "결제 금액이 주문과 다릅니다. 결제되지 않았습니다. / The amount is not the "
                "order's: nothing was charged.",
            )
        if payment.state == PaymentState.APPROVED:  # settled by a lookup meanwhile
            return HttpResponseRedirect(f"{callback_url('approval')}?pg_token={payment.pg_token}")
        if payment.state == PaymentState.READY and payment.needs_check:
            # Toss's answer was lost: asking again (this page reloads) settles it.
            return self.page(
                request,
                202,
                "결제 확인 중 / Checking your payment",
                "토스페이먼츠의 응답을 기다리고 있습니다. 잠시 후 자동으로 다시 확인합니다. / "
                "Toss has not answered yet; this page checks again in a few seconds.",
                refresh=True,
            )
        # Declined, expired, or refused before any money moved: the app's fail URL.
        return HttpResponseRedirect(callback_url("fail"))


class TossFailView(_ReturnView):
    @extend_schema(
        tags=TAGS,
        summary="Toss Payments: the buyer quit or the window failed (browser)",
        description=(
            "Toss's `failUrl`. The order fails (unless an authorisation of it is being "
            "confirmed); the browser goes on to the cancel URL when the buyer canceled "
            "(`PAY_PROCESS_CANCELED`), else to the fail URL."
        ),
        auth=[],
        parameters=[
            OpenApiParameter("code", str),
            OpenApiParameter("message", str),
            OpenApiParameter("orderId", str),
        ],
        responses={302: REDIRECT, 429: LIMITED},
    )
    def get(self, request):
        query = request.query_params
        code = query.get("code", "")[:100]
        order_id = query.get("orderId", "")
        if toss.ORDER_ID.fullmatch(order_id):
            raw = {"code": code, "message": query.get("message", "")[:500], "provider": toss.NAME}
            services.fail_at_return(provider=toss.NAME, order_id=order_id, raw=raw)
        return HttpResponseRedirect(callback_url("cancel" if code == BUYER_CANCELED else "fail"))


class TossWebhookView(APIView):
    """POST /payments/toss/webhook: Toss's PAYMENT_STATUS_CHANGED (server to server)."""

    authentication_classes = []  # no session, hence no CSRF check: Toss posts it
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    throttle_scope = "toss_webhook"
    throttle_classes = [IPRateThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Toss Payments' webhook",
        description=(
            'Toss posts `{"eventType": "PAYMENT_STATUS_CHANGED", "createdAt", "data": '
            '{"paymentKey", "orderId", "status", ...}}`. The body is only a hint: the '
            "server answers at once and a background job looks the order up at Toss and acts on "
            "that answer, idempotently. 200 for every event it has read, an unknown order or "
            "another event type included (Toss retries anything else)."
        ),
        auth=[],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: error("`accepted` (a lookup is queued), `unknown order` or `ignored`."),
            400: error("Not JSON, or no `data.orderId`."),
            429: LIMITED,
        },
    )
    def post(self, request):
        event = request.data
        if not isinstance(event, dict):
            raise InvalidInput("The body must be a JSON object.")
        event_type = event.get("eventType")
        if event_type != "PAYMENT_STATUS_CHANGED":
            logger.info("toss webhook: %s ignored", str(event_type)[:50])
            return Response({"detail": "ignored"})
        data = event.get("data")
        order_id = data.get("orderId") if isinstance(data, dict) else None
        if not isinstance(order_id, str) or not toss.ORDER_ID.fullmatch(order_id):
            raise InvalidInput("data.orderId: missing or not an order id.")
        payment = services.order_payment(provider=toss.NAME, order_id=order_id)
        if payment is None:
            logger.warning("toss webhook for an unknown order %s", order_id)
            return Response({"detail": "unknown order"})
        # Answered at once (Toss waits for nobody's lookup): a job asks Toss and settles.
        settle_notice(payment.pk)
        logger.info("toss webhook for payment %s: lookup queued", payment.pk)
        return Response({"detail": "accepted"})
