"""The app's payment journey (docs/API.md, steps 3-4; step 1, which may name what the payment is
for, is served by the app that sells it), the pages the provider redirects the buyer's
browser to, and the sandbox provider's checkout page."""

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_protect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from funsun.api.schema import NOT_SIGNED_IN, body, error
from payments import services
from payments.providers import sandbox
from payments.serializers import (
    ApprovedSerializer,
    PgTokenResponseSerializer,
    PgTokenSerializer,
)

TAGS = ["remit"]
UPSTREAM = error("The payment provider failed, timed out or refused our credentials.")
HTML = {(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A small HTML page.")}


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
        context = {
            "title": self.title,
            "text": self.text,
            "pg_token": request.query_params.get("pg_token", ""),
        }
        return render(request._request, "payments/redirect.html", context)


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


@method_decorator(csrf_protect, name="dispatch")
class SandboxCheckoutView(View):
    """The sandbox provider's checkout page, standing in for Kakao Pay's: a browser page
    (not part of the API), its form protected by Django's CSRF check."""

    template_name = "payments/sandbox_checkout.html"

    def _page(self, request, payment, status: int = 200) -> HttpResponse:
        context = {"payment": payment}
        if payment is not None:
            order_status = sandbox.sandbox_status(payment)
            context.update(
                amount_text=f"{payment.amount:,}",
                expired=sandbox.is_expired(payment),
                payable=order_status in (sandbox.READY, sandbox.AUTHORIZED),
                status=order_status,
            )
        return render(request, self.template_name, context, status=status)

    def get(self, request, tid: str):
        payment = sandbox.checkout_payment(tid)
        return self._page(request, payment, status=200 if payment is not None else 404)

    def post(self, request, tid: str):
        payment = sandbox.checkout_payment(tid)
        if payment is None:
            return self._page(request, None, status=404)
        action = request.POST.get("action")
        if action == "pay":
            return HttpResponseRedirect(sandbox.buyer_pays(payment))
        if action == "cancel":
            return HttpResponseRedirect(sandbox.buyer_quits(payment))
        return JsonResponse({"detail": "`action` must be pay or cancel."}, status=400)
