"""The public bulletin: read by anyone without signing in, published on
demand by the chair (beat publishes the scheduled ones), and the chair's
mark that makes a case's closing summary public."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from commission import services
from commission.api.base import CHAIR_ONLY, case_or_404, case_response, errors, valid
from commission.selectors.bulletin import bulletin_dict, bulletin_get, bulletin_list
from commission.serializers import BulletinSerializer, CaseDetailSerializer, SummaryPublicSerializer
from config.schema import ErrorSerializer

_NO_KEY = OpenApiResponse(response=ErrorSerializer,
                          description="AUDIT_SIGNING_KEY is not set: no signed tree head, so no bulletin.")


class BulletinListApi(GenericAPIView):
    serializer_class = BulletinSerializer
    filter_backends: list = []
    throttle_scope = "bulletin"

    def get_authenticators(self):
        # Reading is public and ignores credentials: a stale token sent by
        # habit must not turn a public read into a 401. Publishing (POST) is
        # the chair's, so only it authenticates.
        # (No request while the schema is generated: document the POST's.)
        request = getattr(self, "request", None)
        return super().get_authenticators() if request is None or request.method == "POST" else []

    def get_permissions(self):
        # Reading is public; publishing is the chair's. Any other method is
        # left to DRF's 405, not refused as unauthenticated first.
        request = getattr(self, "request", None)
        return [p() for p in CHAIR_ONLY] if request is None or request.method == "POST" else [AllowAny()]

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "GET" else []

    @extend_schema(
        operation_id="bulletins_list",
        summary="Published bulletins, newest period first (public: no sign-in)",
        auth=[],
        responses={200: BulletinSerializer(many=True), **errors(404, missing="page"),
                   429: OpenApiResponse(response=ErrorSerializer, description="Too many requests (BULLETIN_RATE).")},
    )
    def get(self, request):
        page = self.paginate_queryset(bulletin_list())
        return self.get_paginated_response([bulletin_dict(b) for b in page])

    @extend_schema(
        operation_id="bulletins_publish",
        summary="Publish a bulletin now (the chair)",
        description="Covers from the end of the latest bulletin up to now minus BULLETIN_DELAY. 201 when "
                    "published; 200 with the bulletin that already covers that period (nothing is published twice).",
        request=None,
        responses={201: BulletinSerializer, 200: BulletinSerializer, **errors(401, 403), 503: _NO_KEY},
    )
    def post(self, request):
        bulletin, created = services.bulletin_publish(actor=request.user, on_demand=True)
        return Response(bulletin_dict(bulletin), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BulletinDetailApi(APIView):
    # Public: credentials are ignored (see BulletinListApi.get_authenticators).
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "bulletin"

    @extend_schema(
        operation_id="bulletins_retrieve",
        summary="One published bulletin (public: no sign-in)",
        auth=[],
        responses={200: BulletinSerializer, **errors(404, missing="bulletin"),
                   429: OpenApiResponse(response=ErrorSerializer, description="Too many requests (BULLETIN_RATE).")},
    )
    def get(self, request, pk: int):
        bulletin = bulletin_get(pk)
        if bulletin is None:
            raise Http404("No such bulletin.")
        return Response(bulletin_dict(bulletin))


class CaseSummaryPublicApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="cases_summary_public",
        summary="Make a closed case's summary public, for the bulletin (the chair)",
        request=SummaryPublicSerializer,
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404),
                   409: OpenApiResponse(response=ErrorSerializer, description="The case is not closed with a summary.")},
    )
    def post(self, request, pk: int):
        case = case_or_404(request.user, pk)
        data = valid(SummaryPublicSerializer, request.data)
        case = services.case_summary_publish(actor=request.user, case=case, public=data["public"])
        return case_response(case, user=request.user)
