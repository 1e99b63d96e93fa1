"""/remit/: credit a paid contribution, list a funding's contributions, edit, refund."""

from functools import partial

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from fundings.selectors import contribution_page
from fundings.serializers.remit import (
    FundingIdQuerySerializer,
    RemitCreateSerializer,
    RemitIdSerializer,
    RemitSerializer,
    RemitUpdateSerializer,
    remit_data,
)
from fundings.services import contributions as services
from funsun.api.pagination import paged
from funsun.api.schema import NOT_SIGNED_IN, DeleteBodyAutoSchema, DetailSerializer, body, error
from payments.services import RefundProgress

TAGS = ["remit"]


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RemitView(APIView):
    schema = DeleteBodyAutoSchema()

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        tags=TAGS,
        summary="Contributions of a funding",
        description=(
            "Newest first, 8 a page; refunded contributions are not listed. Visible when the "
            "funding is (anonymous callers: public fundings only). `amount` is present only "
            "for the contributor and the funding's author. Authentication optional."
        ),
        parameters=[
            OpenApiParameter("id", int, required=True, description="The funding's id."),
            OpenApiParameter(
                "page", int, description="1-based, 8 a page; missing, non-integer or < 1 means 1."
            ),
        ],
        responses={
            200: RemitSerializer(many=True),
            204: OpenApiResponse(description="Past the last page (or none at all): no body."),
            400: error("`id` missing or not a positive integer."),
            401: error("A bad or expired token was sent (send none to read anonymously)."),
            404: error("No such funding, or you may not see it."),
        },
    )
    def get(self, request):
        funding_id = _valid(FundingIdQuerySerializer, {"id": request.query_params.get("id")})["id"]
        viewer = request.user if request.user.is_authenticated else None
        return paged(
            request,
            partial(contribution_page, viewer=viewer, funding_id=funding_id),
            lambda page: [
                remit_data(row, viewer=viewer, funding_author_id=row.funding_author_id)
                for row in page
            ],
        )

    @extend_schema(
        tags=TAGS,
        summary="Step 5: credit a paid contribution",
        description=(
            "Consumes exactly one approved, not yet credited payment of the caller for "
            "`amount` (bound to this funding, or to none) and credits it with `message`. "
            "Replaying it never credits twice. When the funding is gone, closed or needs less "
            "than `amount`, the payment is refunded at the provider before the 409 is sent."
        ),
        request=body(RemitCreateSerializer),
        responses={
            201: RemitSerializer,
            400: error("Invalid funding id, amount (1,000-1,000,000) or message (1-255)."),
            401: NOT_SIGNED_IN,
            402: error("No approved, uncredited payment of yours for this amount."),
            409: error("Funding missing, closed or over its goal: the payment was refunded."),
        },
    )
    def post(self, request):
        data = _valid(RemitCreateSerializer, request.data)
        contribution = services.credit_payment(
            payer=request.user,
            funding_id=data["funding"],
            amount=data["amount"],
            message=data["message"],
        )
        return Response(
            remit_data(
                contribution, viewer=request.user, funding_author_id=contribution.funding.author_id
            ),
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        tags=TAGS,
        summary="Edit your contribution's message",
        request=body(RemitUpdateSerializer),
        responses={
            200: RemitSerializer,
            400: error("Invalid id or message (1-255)."),
            401: NOT_SIGNED_IN,
            403: error("Not your contribution."),
            404: error("No such contribution, or you may not see its funding."),
            409: error("The contribution was refunded."),
        },
    )
    def put(self, request):
        data = _valid(RemitUpdateSerializer, request.data)
        contribution = services.update_message(
            contribution_id=data["id"], actor=request.user, message=data["message"]
        )
        return Response(
            remit_data(
                contribution, viewer=request.user, funding_author_id=contribution.funding.author_id
            )
        )

    @extend_schema(
        tags=TAGS,
        summary="Cancel your contribution (refund)",
        description=(
            "Only while the funding is open. The contribution leaves the funding and its "
            "payment is refunded at the provider. Repeating it answers 200 again: "
            '`"refunded"`, or `"refund in progress"` while a concurrent request is still '
            "waiting for the provider's confirmation of the same refund."
        ),
        request={"application/x-www-form-urlencoded": RemitIdSerializer},
        responses={
            200: DetailSerializer,
            400: error("`id` missing or not a positive integer."),
            401: NOT_SIGNED_IN,
            403: error("Not your contribution."),
            404: error("No such contribution, or you may not see its funding."),
            409: error("The funding is closed (achieved, expired, canceled or paid out)."),
            502: error(
                "Canceled, but the provider failed to confirm the refund (retried "
                "automatically; repeating the call retries now)."
            ),
        },
    )
    def delete(self, request):
        data = _valid(RemitIdSerializer, request.data)
        _, progress = services.refund_contribution(contribution_id=data["id"], actor=request.user)
        if progress == RefundProgress.IN_PROGRESS:
            return Response({"detail": "refund in progress"})
        return Response({"detail": "refunded"})
