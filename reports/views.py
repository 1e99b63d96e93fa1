from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from funsun.api.schema import error
from funsun.api.throttles import AccountRateThrottle, IPRateThrottle
from reports.serializers import ReportInputSerializer, ReportSerializer
from reports.services import create_report


class ReportView(APIView):
    throttle_scope = "report"
    throttle_classes = [AccountRateThrottle, IPRateThrottle]

    @extend_schema(
        tags=["report"],
        summary="Report a funding, an account or a contribution message to the operators",
        request={
            "application/json": ReportInputSerializer,
            "application/x-www-form-urlencoded": ReportInputSerializer,
            "multipart/form-data": ReportInputSerializer,
        },
        responses={
            201: ReportSerializer,
            400: error("Unknown type, or a target that does not exist or you cannot see."),
            401: error("Not signed in."),
            409: error("You already have an open report about this target."),
            429: error("Too many reports (20 an hour per account); see Retry-After."),
        },
        examples=[
            OpenApiExample(
                "Report a funding",
                value={"type": "funding", "target": 12, "message": "spam"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = ReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = create_report(reporter=request.user, **data.validated_data)
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)
