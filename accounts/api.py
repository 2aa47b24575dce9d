from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Party
from accounts.roles import ALL_ROLES, HasRole, roles_of

# Anyone with a role; an account without one (created but not yet assigned) reads nothing.
ANY_ROLE = [IsAuthenticated, HasRole(*ALL_ROLES)]
REFUSALS = {401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Your account has no role yet.")}


class TokenApi(ObtainAuthToken):
    """POST username and password, get {"token": ...} for `Authorization: Token <token>`."""

    @extend_schema(
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}),
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()}), 400: None},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class MeApi(APIView):
    """Who am I: username, delegation and roles."""

    # Deliberately any signed-in account: one not yet given a role sees that it has none.
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: inline_serializer(
                "Me",
                {
                    "username": serializers.CharField(),
                    "delegation": serializers.CharField(allow_null=True),
                    "roles": serializers.ListField(child=serializers.CharField()),
                },
            ),
            401: REFUSALS[401],
        },
    )
    def get(self, request):
        user = request.user
        return Response(
            {
                "username": user.username,
                "delegation": user.delegation.code if user.delegation_id else None,
                "roles": sorted(roles_of(user)),
            }
        )


class PartyListApi(APIView):
    """The parties to the conflict: the codes that `alleged_party`, ballots and measures use."""

    permission_classes = ANY_ROLE

    @extend_schema(
        responses={
            200: inline_serializer("Party", {"code": serializers.CharField(), "name": serializers.CharField()},
                                   many=True),
            **REFUSALS,
        },
    )
    def get(self, request):
        return Response([{"code": p.code, "name": p.name} for p in Party.objects.order_by("code")])
