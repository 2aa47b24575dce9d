from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import AuthToken, Party
from accounts.roles import ALL_ROLES, HasRole
from accounts.serializers import (
    AuthTokenSerializer,
    MeSerializer,
    PartySerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from config.schema import ErrorSerializer

# Anyone with a role; an account without one (created but not yet assigned) reads nothing.
ANY_ROLE = [IsAuthenticated, HasRole(*ALL_ROLES)]
REFUSALS = {401: OpenApiResponse(response=ErrorSerializer, description="Not signed in."),
            403: OpenApiResponse(response=ErrorSerializer, description="Your account has no role yet.")}


class TokenApi(APIView):
    """POST username and password, get {"token": ..., "expiry": ...} for
    `Authorization: Token <token>`. The token is shown this once (only its
    digest is stored) and expires after TOKEN_TTL."""

    authentication_classes = []
    permission_classes = [AllowAny]
    # Per client address (settings.SIGNIN_RATE); the lockout after repeated
    # wrong passwords for one username is django-axes' (settings.SIGNIN_*).
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "signin"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(response=ErrorSerializer, description=(
                "Wrong username or password; or, for someone who needs a second factor, `otp` missing "
                "(`code`: `otp_required`) or two-factor sign-in not yet set up on the web "
                "(`code`: `two_factor_not_set_up`).")),
            401: OpenApiResponse(response=ErrorSerializer, description=(
                "The second factor (`otp`) is wrong or already used (`code`: `otp_invalid`).")),
            429: OpenApiResponse(response=ErrorSerializer, description=(
                "Too many sign-in attempts from this address, or this username locked out from it after "
                "repeated wrong passwords (`code`: `locked_out`). `Retry-After` says how many seconds to wait.")),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        refusal = _second_factor_refusal(user, serializer.validated_data.get("otp", ""))
        if refusal is not None:
            return refusal
        token, key = services.token_issue(user=user, label=request.headers.get("User-Agent", ""))
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response(TokenResponseSerializer({"token": key, "expiry": token.expiry}).data)


def _second_factor_refusal(user, otp: str) -> Response | None:
    """None when `user` needs no second factor or `otp` is right; else the answer."""
    if not selectors.two_factor_required(user):
        return None
    if not selectors.two_factor_enrolled(user):
        return Response({"detail": _("Your account needs two-factor sign-in: set it up by signing in on the web "
                                     "first."), "code": "two_factor_not_set_up"}, status=status.HTTP_400_BAD_REQUEST)
    if not otp.strip():
        return Response({"otp": [_("Your account needs a second factor: send the code of your authenticator "
                                   "app, or a recovery code, as otp.")], "code": "otp_required"},
                        status=status.HTTP_400_BAD_REQUEST)
    if services.second_factor_check(actor=user, code=otp, via="api") is None:
        return Response({"otp": [_("This code is wrong or already used.")], "code": "otp_invalid"},
                        status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Token"})
    return None


class TokenListApi(APIView):
    """One's own live tokens (never a key): revoke one by its id."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AuthTokenSerializer(many=True), 401: REFUSALS[401]})
    def get(self, request):
        tokens = selectors.tokens_of(request.user)
        return Response(AuthTokenSerializer(tokens, many=True, context={"request": request}).data)


class TokenDetailApi(APIView):
    """Revoke one of one's own tokens (another person's is not found)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, 401: REFUSALS[401],
                              404: OpenApiResponse(response=ErrorSerializer, description="No such token of yours.")})
    def delete(self, request, pk: int):
        token = get_object_or_404(selectors.tokens_of(request.user), pk=pk)
        services.token_revoke(actor=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutApi(APIView):
    """Sign out: revoke the token this request was made with."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={
        204: None, 401: REFUSALS[401],
        400: OpenApiResponse(response=ErrorSerializer, description="This request was not made with a token.")})
    def post(self, request):
        if not isinstance(request.auth, AuthToken):
            raise ValidationError({"detail": _("This request was not made with a token.")})
        services.token_revoke(actor=request.user, token=request.auth, reason="signed out")
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """Sign out everywhere: revoke every token of one's own."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, 401: REFUSALS[401]})
    def post(self, request):
        services.tokens_revoke_all(actor=request.user, user=request.user, cause="signed_out_everywhere")
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """Who am I: username, delegation and roles."""

    # Deliberately any signed-in account: one not yet given a role sees that it has none.
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer, 401: REFUSALS[401]})
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class PartyListApi(APIView):
    """The parties to the conflict: the codes that `alleged_party`, ballots and measures use."""

    permission_classes = ANY_ROLE

    @extend_schema(responses={200: PartySerializer(many=True), **REFUSALS})
    def get(self, request):
        return Response(PartySerializer(Party.objects.order_by("code"), many=True).data)
