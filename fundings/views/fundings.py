"""Funding routes: detail, create, edit, review, delete, and the four feeds (docs/API.md)."""

from functools import partial

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from fundings import selectors
from fundings.serializers.fundings import (
    AccountIdSerializer,
    FundingCreateSerializer,
    FundingIdSerializer,
    FundingReviewSerializer,
    FundingSerializer,
    FundingUpdateSerializer,
    funding_data,
    fundings_data,
)
from fundings.services import fundings as services
from funsun.api.pagination import paged, shared_page
from funsun.api.schema import (
    NOT_SIGNED_IN,
    PAGE_PARAM,
    DeleteBodyAutoSchema,
    DetailSerializer,
    body,
    error,
)

TAGS = ["funding"]
BAD_INPUT = error('Invalid values: `{"detail": ..., "<field>": [...]}`.')
NOT_VISIBLE = error("No such funding, or you may not see it.")
NOT_AUTHOR = error("You can see this funding but are not its author.")
TOO_LARGE = error("Image or request body too large.")
EDIT_RESPONSES = {
    200: FundingSerializer,
    400: BAD_INPUT,
    401: NOT_SIGNED_IN,
    403: NOT_AUTHOR,
    404: NOT_VISIBLE,
    413: TOO_LARGE,
}
FEED_RESPONSES = {
    200: FundingSerializer(many=True),
    204: OpenApiResponse(description="Past the last page (or nothing at all): no body."),
}
FEED_NOTE = (
    " Newest first (created_on, then id). Canceled fundings never appear in feeds"
    " (they stay readable through `GET /funding/?id=`)."
)


def funding_id(data) -> int:
    # A JSON body may be any JSON value: only an object carries an id (else 400, not 500).
    serializer = FundingIdSerializer(data={"id": data.get("id") if hasattr(data, "get") else None})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["id"]


def authored_funding(request):
    """The funding named by the body's `id`: 404 unless visible, 403 unless yours."""
    funding = selectors.funding_for_viewer(viewer=request.user, funding_id=funding_id(request.data))
    services.ensure_author(funding=funding, actor=request.user)
    return funding


def delete_flag(value: str | None) -> bool:
    return value == "delete"


class FundingView(APIView):
    schema = DeleteBodyAutoSchema()

    @extend_schema(
        tags=TAGS,
        summary="One funding",
        parameters=[OpenApiParameter("id", int, required=True)],
        responses={
            200: FundingSerializer,
            400: error("`id` missing or not a positive integer."),
            401: NOT_SIGNED_IN,
            404: NOT_VISIBLE,
        },
    )
    def get(self, request):
        funding = selectors.funding_detail(
            viewer=request.user, funding_id=funding_id(request.query_params)
        )
        return Response(funding_data(funding))

    @extend_schema(
        tags=TAGS,
        summary="Open a funding",
        description=(
            "Title 1-50 characters, content at most 2,000, goal 1,000-10,000,000 KRW, "
            "expiry in the future and at most one year ahead, image optional."
        ),
        request=body(FundingCreateSerializer),
        responses={
            201: FundingSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            413: TOO_LARGE,
        },
    )
    def post(self, request):
        serializer = FundingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        funding = services.create_funding(author=request.user, **serializer.validated_data)
        return Response(funding_data(funding), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS,
        summary="Edit your funding (also posts its review)",
        description=(
            "Only the fields given change. `goal_amount`, `expire_on`, `current_amount`, "
            "`author` and `state` are ignored when sent: they never change here. "
            '`image_delete="delete"` removes the image, `""` keeps it; a new `image` '
            "replaces the old one. An empty `review` keeps the review."
        ),
        request=body(FundingUpdateSerializer),
        responses=EDIT_RESPONSES,
    )
    def put(self, request):
        funding = authored_funding(request)
        serializer = FundingUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        funding = services.update_funding(
            funding=funding,
            actor=request.user,
            title=data.get("title"),
            content=data.get("content"),
            public=data.get("public"),
            image=data.get("image"),
            delete_image=delete_flag(data.get("image_delete")),
            review=data.get("review") or None,
            review_image=data.get("review_image"),
            delete_review_image=delete_flag(data.get("review_image_delete")),
        )
        return Response(funding_data(funding))

    @extend_schema(
        tags=TAGS,
        summary="Delete your funding",
        description=(
            "Form body `id`. Without contributions the funding and its images are deleted "
            '(`{"detail": "deleted"}`). With contributions it is canceled and every '
            'contribution refunded (`{"detail": "canceled"}`); 409 when that cannot be done.'
        ),
        request=body(FundingIdSerializer),
        responses={
            200: DetailSerializer,
            400: error("`id` missing or not a positive integer."),
            401: NOT_SIGNED_IN,
            403: NOT_AUTHOR,
            404: NOT_VISIBLE,
            409: error("The funding cannot be canceled (now)."),
        },
    )
    def delete(self, request):
        funding = authored_funding(request)
        outcome = services.delete_funding(funding=funding, actor=request.user)
        return Response({"detail": outcome})


class FundingReviewView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Post the review of your funding",
        request=body(FundingReviewSerializer),
        responses=EDIT_RESPONSES,
    )
    def post(self, request):
        funding = authored_funding(request)
        serializer = FundingReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        funding = services.post_review(
            funding=funding,
            actor=request.user,
            review=data["review"],
            review_image=data.get("review_image"),
            delete_review_image=delete_flag(data.get("review_image_delete")),
        )
        return Response(funding_data(funding))


class PublicFeedView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="Public fundings",
        description=(
            "Public fundings only, for everyone (a token is optional). A page may be up to"
            " `PUBLIC_FEED_CACHE_SECONDS` (2 by default) older than the database: it is the"
            " same for every viewer and kept that long." + FEED_NOTE
        ),
        parameters=[PAGE_PARAM],
        responses={**FEED_RESPONSES, 401: error("A token was sent but is not valid.")},
    )
    def get(self, request):
        fetch = partial(selectors.public_feed_page, viewer=request.user)
        if selectors.is_staff(request.user):
            # Staff see withdrawn fundings too: their page is not everyone's.
            return paged(request, fetch, fundings_data)
        return shared_page(
            request, "feed:public", fetch, fundings_data, settings.PUBLIC_FEED_CACHE_SECONDS
        )


class FollowingFeedView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Fundings of the accounts you follow",
        description=(
            "Their public fundings, plus their friends-only ones when you follow each other."
            + FEED_NOTE
        ),
        parameters=[PAGE_PARAM],
        responses={**FEED_RESPONSES, 401: NOT_SIGNED_IN},
    )
    def get(self, request):
        return paged(
            request, partial(selectors.following_feed_page, viewer=request.user), fundings_data
        )


class UserFeedView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="One account's fundings",
        description=(
            "All of them for yourself and for mutual followers, public ones otherwise." + FEED_NOTE
        ),
        parameters=[OpenApiParameter("id", OpenApiTypes.STR, required=True), PAGE_PARAM],
        responses={
            **FEED_RESPONSES,
            400: error("`id` missing."),
            401: NOT_SIGNED_IN,
            404: error("No such account."),
        },
    )
    def get(self, request):
        serializer = AccountIdSerializer(data={"id": request.query_params.get("id")})
        serializer.is_valid(raise_exception=True)
        account_id = serializer.validated_data["id"]
        author = selectors.feed_account(viewer=request.user, account_id=account_id)
        page = partial(selectors.user_feed_page, viewer=request.user, author=author)
        return paged(request, page, fundings_data)


class JoinedFeedView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Fundings you contributed to",
        description=(
            "Each funding once, the one you most recently contributed to first; refunded "
            "contributions do not count. Canceled fundings are left out."
        ),
        parameters=[PAGE_PARAM],
        responses={**FEED_RESPONSES, 401: NOT_SIGNED_IN},
    )
    def get(self, request):
        return paged(
            request, partial(selectors.joined_feed_page, viewer=request.user), fundings_data
        )
