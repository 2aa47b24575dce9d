from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Party
from accounts.roles import ALL_ROLES, HasRole
from accounts.serializers import MeSerializer, PartySerializer, TokenRequestSerializer, TokenResponseSerializer
from config.schema import ErrorSerializer

# Anyone with a role; an account without one (created but not yet assigned) reads nothing.
ANY_ROLE = [IsAuthenticated, HasRole(*ALL_ROLES)]
REFUSALS = {401: OpenApiResponse(response=ErrorSerializer, description="Not signed in."),
            403: OpenApiResponse(response=ErrorSerializer, description="Your account has no role yet.")}


class TokenApi(ObtainAuthToken):
    """POST username and password, get {"token": ...} for `Authorization: Token <token>`."""

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, 400: OpenApiResponse(response=ErrorSerializer, description="Wrong username or password.")},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


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
