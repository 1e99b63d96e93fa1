"""HTTP views of /account/ and /follow/ (docs/API.md): read input, call one service or
selector, render. The rules live in services.py and selectors.py."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.serializers import (
    AccountQuerySerializer,
    FollowQuerySerializer,
    FollowStateSerializer,
    FollowTargetSerializer,
    KakaoLoginSerializer,
    LogInSerializer,
    MyProfileSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    RefreshedTokensSerializer,
    RefreshSerializer,
    SearchQuerySerializer,
    SignedInSerializer,
    SignUpSerializer,
    profile_data,
    profile_of,
    signed_in,
)
from funsun.api.pagination import paged_response
from funsun.api.schema import (
    NO_CONTENT,
    NOT_SIGNED_IN,
    PAGE_PARAM,
    DeleteBodyAutoSchema,
    DetailSerializer,
    body,
    error,
)
from funsun.api.throttles import (
    EmailAddressRateThrottle,
    EmailRateThrottle,
    IPRateThrottle,
    remember_sign_in,
)

THROTTLED = error(
    "Too many attempts from this address (or on this email); retry after Retry-After seconds."
)


class SignInView(APIView):
    # Routes that sign in read no authentication, so a stale token sent along is harmless.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Each route is limited per client address under its own scope: REST_FRAMEWORK
    # ["DEFAULT_THROTTLE_RATES"][f"{throttle_scope}_ip"] (no rate: no limit).
    throttle_scope = "signin"
    throttle_classes = [IPRateThrottle]


SIGNED_IN_DOC = "The account and a fresh pair of tokens."


class KakaoLoginView(SignInView):
    throttle_scope = "kakaologin"

    @extend_schema(
        tags=["account"],
        summary="Sign in with a Kakao access token",
        auth=[],
        request=body(KakaoLoginSerializer),
        responses={
            200: OpenApiResponse(SignedInSerializer, description=SIGNED_IN_DOC),
            201: OpenApiResponse(SignedInSerializer, description="First login: created."),
            400: error("No accessToken, or Kakao refused it or could not be reached."),
            403: error("The account has been deactivated."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = KakaoLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account, created = services.kakao_login(
            access_token=serializer.validated_data["accessToken"]
        )
        tokens = services.issue_tokens(account=account)
        return Response(
            signed_in(account, tokens),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SignUpView(SignInView):
    throttle_scope = "signup"

    @extend_schema(
        tags=["account"],
        summary="Create a local account (email and password)",
        auth=[],
        request=body(SignUpSerializer),
        responses={
            201: OpenApiResponse(SignedInSerializer, description=SIGNED_IN_DOC),
            400: error("Bad email, username or a weak password (per-field lists)."),
            409: error("The email is taken."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = SignUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.sign_up(**serializer.validated_data)
        tokens = services.issue_tokens(account=account)
        return Response(signed_in(account, tokens), status=status.HTTP_201_CREATED)


class LogInView(SignInView):
    # Per address, per email and address, and per email from addresses that never signed
    # in to it: guessing many accounts' passwords from one address, and one account's from
    # many, are limited, and strangers cannot lock the owner out (funsun/api/throttles.py).
    throttle_scope = "login"
    throttle_classes = [IPRateThrottle, EmailAddressRateThrottle, EmailRateThrottle]

    @extend_schema(
        tags=["account"],
        summary="Sign in with email and password",
        auth=[],
        request=body(LogInSerializer),
        responses={
            200: OpenApiResponse(SignedInSerializer, description=SIGNED_IN_DOC),
            400: error("Missing email or password."),
            401: error("Wrong email or password."),
            403: error("The account has been deactivated."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = LogInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.log_in(**serializer.validated_data)
        remember_sign_in(request)
        tokens = services.issue_tokens(account=account)
        return Response(signed_in(account, tokens))


class TokenRefreshView(SignInView):
    throttle_scope = "token_refresh"

    @extend_schema(
        tags=["account"],
        summary="Exchange a refresh token for new tokens",
        auth=[],
        request=body(RefreshSerializer),
        responses={
            200: RefreshedTokensSerializer,
            400: error("No refresh token given."),
            401: error("The refresh token is invalid, expired or revoked."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.refresh_tokens(refresh=serializer.validated_data["refresh"]))


class LogOutView(APIView):
    @extend_schema(
        tags=["account"],
        summary="Revoke a refresh token",
        request=body(RefreshSerializer),
        responses={
            200: OpenApiResponse(DetailSerializer, description="Revoked."),
            400: error("Not a valid refresh token, or one of another account."),
            401: NOT_SIGNED_IN,
        },
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.log_out(account=request.user, refresh=serializer.validated_data["refresh"])
        return Response({"detail": "Logged out."})


class AccountView(APIView):
    schema = DeleteBodyAutoSchema()

    @extend_schema(
        tags=["account"],
        summary="A profile by id",
        parameters=[AccountQuerySerializer],
        responses={
            200: OpenApiResponse(
                ProfileSerializer, description="Profile; MyProfile when it is you."
            ),
            400: error("No id given."),
            401: NOT_SIGNED_IN,
            404: error("No such (active) account."),
        },
    )
    def get(self, request):
        query = AccountQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = selectors.get_active_account(query.validated_data["id"])
        return Response(profile_of(account, request.user))

    @extend_schema(
        tags=["account"],
        summary="Your own profile (auto-login)",
        request=None,
        responses={200: MyProfileSerializer, 401: NOT_SIGNED_IN},
    )
    def post(self, request):
        return Response(MyProfileSerializer(request.user).data)

    @extend_schema(
        tags=["account"],
        summary="Edit your profile",
        request=body(
            ProfileUpdateSerializer,
            ("multipart/form-data", "application/x-www-form-urlencoded", "application/json"),
        ),
        responses={
            200: MyProfileSerializer,
            400: error("An invalid value or image; nothing changed."),
            401: NOT_SIGNED_IN,
            413: error("The image is larger than 10 MB (or the body than 12 MB)."),
        },
    )
    def put(self, request):
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = services.update_profile(
            account=request.user,
            **{
                field: data[field]
                for field in ("username", "birthday", "birthday_type", "bank_account")
                if field in data
            },
            image=data.get("image"),
            delete_image=data.get("image_delete", False),
        )
        return Response(MyProfileSerializer(account).data)

    @extend_schema(
        tags=["account"],
        summary="Delete your account",
        description=(
            "Deactivates the account, erases its personal data, removes its follows and "
            "revokes its tokens. Open fundings and contributions are canceled and refunded."
        ),
        request=None,
        responses={
            200: OpenApiResponse(DetailSerializer, description="Deactivated."),
            401: NOT_SIGNED_IN,
        },
    )
    def delete(self, request):
        services.deactivate_account(account=request.user)
        return Response({"detail": "Account deleted."})


class AccountSearchView(APIView):
    @extend_schema(
        tags=["account"],
        summary="Search profiles by username",
        parameters=[SearchQuerySerializer, PAGE_PARAM],
        responses={
            200: ProfileSerializer(many=True),
            204: NO_CONTENT,
            400: error("No or an empty username."),
            401: NOT_SIGNED_IN,
        },
    )
    def get(self, request):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        accounts = selectors.search_accounts(username=query.validated_data["username"])
        return paged_response(request, accounts, _profiles)


def _profiles(accounts) -> list:
    return [profile_data(account) for account in accounts]


class FollowView(APIView):
    schema = DeleteBodyAutoSchema()

    @extend_schema(
        tags=["follow"],
        summary="Follower / following lists, or whether A follows B",
        description=(
            "`?follower=ID`: the profiles who follow ID. `?followee=ID`: the profiles ID "
            'follows. Both: `{"detail": true|false}`, whether follower follows followee. '
            "Lists are newest follow first; with `page` 8 a page (204 past the end), "
            f"without it the first {selectors.UNPAGED_FOLLOW_LIST_LIMIT}."
        ),
        parameters=[FollowQuerySerializer, PAGE_PARAM],
        responses={
            200: OpenApiResponse(
                # Two shapes on one route: the document says so, or clients (and the schema
                # fuzzing) would take the follow state for a broken list.
                {
                    "oneOf": [
                        {"type": "array", "items": {"$ref": "#/components/schemas/Profile"}},
                        {"$ref": "#/components/schemas/FollowState"},
                    ]
                },
                description='A list of Profile; {"detail": bool} when both ids are given.',
            ),
            204: NO_CONTENT,
            400: error("Neither follower nor followee given."),
            401: NOT_SIGNED_IN,
            404: error("No such (active) account."),
        },
    )
    def get(self, request):
        query = FollowQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        follower = query.validated_data.get("follower")
        followee = query.validated_data.get("followee")
        if follower and followee:
            return Response(
                {"detail": selectors.is_following(follower_id=follower, followee_id=followee)}
            )
        if follower:
            accounts = selectors.followers_of(follower)
        else:
            accounts = selectors.followees_of(followee)
        if "page" in request.query_params:
            return paged_response(request, accounts, _profiles)
        return Response(_profiles(accounts[: selectors.UNPAGED_FOLLOW_LIST_LIMIT]))

    @extend_schema(
        tags=["follow"],
        summary="Follow someone",
        request=body(FollowTargetSerializer),
        responses={
            201: OpenApiResponse(FollowStateSerializer, description='{"detail": true}'),
            400: error('"already follow", following yourself, or no id.'),
            401: NOT_SIGNED_IN,
            404: error("No such (active) account."),
        },
    )
    def post(self, request):
        target = FollowTargetSerializer(data=request.data)
        target.is_valid(raise_exception=True)
        services.follow(follower=request.user, followee_id=target.validated_data["id"])
        return Response({"detail": True}, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["follow"],
        summary="Unfollow someone (also fine when you did not follow them)",
        request=body(FollowTargetSerializer),
        responses={
            200: OpenApiResponse(FollowStateSerializer, description='{"detail": false}'),
            400: error("No id given."),
            401: NOT_SIGNED_IN,
        },
    )
    def delete(self, request):
        target = FollowTargetSerializer(data=request.data)
        target.is_valid(raise_exception=True)
        services.unfollow(follower=request.user, followee_id=target.validated_data["id"])
        return Response({"detail": False})
