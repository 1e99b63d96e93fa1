"""POST /funding/payout: the author of a finished funding asks for its money."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from fundings.serializers.payouts import PayoutInputSerializer, PayoutSerializer
from fundings.services.payouts import request_payout
from funsun.api.schema import body, error


class PayoutView(APIView):
    @extend_schema(
        tags=["funding"],
        operation_id="funding_payout_create",
        summary="Ask for the payout of your finished funding",
        description=(
            "Only the funding's author. The funding must be `achieved`, or `expired` with "
            "money in it. The payout records the funding's `current_amount` and the author's "
            "`bank_account` as they are now; an operator transfers the money and records it, "
            "and the funding's status becomes `paid_out` (no refunds after that)."
        ),
        request=body(PayoutInputSerializer),
        responses={
            201: PayoutSerializer,
            400: error("Invalid id, or no bank account set in your profile."),
            401: error("No, bad or expired token, or a deactivated account."),
            403: error("You can see this funding but are not its author."),
            404: error("No such funding, or you may not see it."),
            409: error(
                "Not finished (still open), canceled, expired without money, already paid "
                "out, or the payout was already requested."
            ),
        },
        examples=[OpenApiExample("Funding 12", value={"id": 12}, request_only=True)],
    )
    def post(self, request):
        data = PayoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payout = request_payout(author=request.user, funding_id=data.validated_data["id"])
        return Response(PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)
