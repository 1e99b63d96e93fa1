"""POST /remit/kakaopay/ready: step 1 of the payment journey, optionally for a funding.

The rest of the journey (the pg_token, approve, the provider's redirect pages) knows no
funding and lives in payments/views.py.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from fundings.serializers.checkout import ReadyRequestSerializer
from fundings.services.checkout import start_payment
from funsun.api.schema import NOT_SIGNED_IN, body, error
from funsun.api.throttles import AccountRateThrottle, IPRateThrottle
from payments.serializers import ReadyResponseSerializer
from payments.views import UPSTREAM


class ReadyView(APIView):
    # Each ready opens an order at the provider: limited per account and per address.
    throttle_scope = "payment_ready"
    throttle_classes = [AccountRateThrottle, IPRateThrottle]

    @extend_schema(
        tags=["remit"],
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
        payment, result = start_payment(
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
