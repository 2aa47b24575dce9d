"""The auditors' API: the trail, its verification, export and checkpoints.

Only auditors and the chair read the whole trail; everyone else gets 403.
"""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import scopes, selectors, services
from audit.permissions import CanReadTrail

READ_TRAIL = [IsAuthenticated, CanReadTrail]

_ERRORS = {
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Only auditors and the chair read the trail."),
}


class EventSerializer(serializers.Serializer):
    """An event in the export's form (docs/audit.md); seq/prev_hash/hash are
    null for the few milliseconds between its commit and its sealing."""

    seq = serializers.IntegerField(allow_null=True)
    at = serializers.CharField(help_text="ISO 8601 UTC, microseconds, e.g. 2026-11-24T10:00:00.123456Z")
    actor = serializers.CharField(allow_null=True, help_text="username; null for the system")
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    reason = serializers.CharField()
    prev_hash = serializers.CharField(allow_null=True)
    hash = serializers.CharField(allow_null=True)

    def to_representation(self, instance):
        return selectors.event_export_dict(instance)


class CheckpointSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    at = serializers.CharField()
    signature = serializers.CharField(help_text="Ed25519 over canonical({seq, hash, at}), hex")
    public_key = serializers.CharField(help_text="the signer's Ed25519 public key, hex")

    def to_representation(self, instance):
        return selectors.checkpoint_dict(instance)


class EventFilterSerializer(serializers.Serializer):
    case = serializers.CharField(required=False, help_text="case reference, e.g. CASE-2026-000001")
    actor = serializers.CharField(required=False, help_text="username")
    action = serializers.CharField(required=False, help_text='e.g. "ballot.cast"')
    after = serializers.DateTimeField(required=False, help_text="events at or after this time")
    before = serializers.DateTimeField(required=False, help_text="events before this time")


class AuditEventListApi(APIView):
    permission_classes = READ_TRAIL

    class Pagination(PageNumberPagination):
        page_size_query_param = "page_size"
        max_page_size = 500

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[EventFilterSerializer],
        responses={200: EventSerializer(many=True), 400: OpenApiResponse(description="Bad filter."), **_ERRORS},
    )
    def get(self, request):
        filters = EventFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        case = data.pop("case", None)
        refs = scopes.case_refs(case) if case else None
        events = selectors.event_list(refs=refs, **data)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(EventSerializer(page, many=True).data)


class AuditVerifyApi(APIView):
    permission_classes = READ_TRAIL

    @extend_schema(
        operation_id="audit_verify",
        responses={
            200: inline_serializer("TrailVerification", {
                "ok": serializers.BooleanField(),
                "checked": serializers.IntegerField(),
                "first_bad_seq": serializers.IntegerField(allow_null=True),
                "problem": serializers.CharField(allow_null=True),
                "head": inline_serializer("TrailHead", {
                    "seq": serializers.IntegerField(), "hash": serializers.CharField()}, allow_null=True),
            }),
            **_ERRORS,
        },
    )
    def get(self, request):
        return Response(services.trail_verify().as_dict())


class AuditExportApi(APIView):
    permission_classes = READ_TRAIL

    @extend_schema(
        operation_id="audit_export",
        parameters=[OpenApiParameter("case", OpenApiTypes.STR, description="only this case's events")],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR,
                description='JSON Lines: one event per line in the recipe\'s form, then {"checkpoint": {...}}.'),
            400: OpenApiResponse(description="Unknown case."),
            **_ERRORS,
        },
    )
    def get(self, request):
        lines = services.trail_export(case_reference=request.query_params.get("case") or None, actor=request.user)
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.jsonl"'
        return response


class CheckpointListApi(APIView):
    permission_classes = READ_TRAIL

    @extend_schema(
        operation_id="audit_checkpoints_list",
        responses={200: CheckpointSerializer(many=True), **_ERRORS},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.checkpoint_list(), request, view=self)
        return paginator.get_paginated_response(CheckpointSerializer(page, many=True).data)


class PublicKeyApi(APIView):
    permission_classes = READ_TRAIL

    @extend_schema(
        operation_id="audit_public_key",
        responses={
            200: inline_serializer("CheckpointKey", {
                "algorithm": serializers.CharField(), "public_key": serializers.CharField()}),
            503: OpenApiResponse(description="No signing key is configured."),
            **_ERRORS,
        },
    )
    def get(self, request):
        return Response({"algorithm": "Ed25519", "public_key": services.signing_public_key_hex()})
