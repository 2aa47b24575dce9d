"""The auditors' API: the trail, its verification, export and checkpoints.

Only auditors and the chair read the whole trail; everyone else gets 403.
A full verification pass on demand (?full=1) is the auditors' alone.
"""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import scopes, selectors, services
from audit.permissions import VERIFY_IN_FULL_REFUSED, CanReadTrail, can_verify_trail_in_full
from audit.serializers import (
    CheckpointKeySerializer,
    CheckpointSerializer,
    ConsistencyParamsSerializer,
    ConsistencyProofSerializer,
    EventFilterSerializer,
    EventSerializer,
    ExportFilterSerializer,
    InclusionParamsSerializer,
    InclusionProofSerializer,
    TrailVerificationSerializer,
    VerifyParamsSerializer,
)
from config.api import CursorPage
from config.errors import Forbidden
from config.schema import CURSOR_NOT_FOUND, PAGE_NOT_FOUND, ErrorSerializer

READ_TRAIL = [IsAuthenticated, CanReadTrail]

_ERRORS = {
    401: OpenApiResponse(response=ErrorSerializer, description="Not signed in."),
    403: OpenApiResponse(response=ErrorSerializer, description="Only auditors and the chair read the trail."),
}


class SealedThenWaiting(CursorPage):
    """The trail's cursor: one range of the seq index per page, from where
    the last page stopped (no COUNT(*) nor OFFSET over millions of events:
    a numbered page read 0.2 s of the database at five million). Events not sealed yet
    have no seq (they get it a moment after their commit), so they cannot
    sit on a seq cursor: the page at the newest end (no `next`) also lists
    up to a page of them, oldest first, after the sealed ones; a backlog
    longer than that (a stalled sealer) shows its first page only until it
    is sealed. The links are made from the sealed events only, so a cursor
    is always a seq."""

    ordering = ("seq",)  # unique: a cursor's offset is capped at one row (config.api.CursorTies)

    def paginate_queryset(self, queryset, request, view=None):
        page = super().paginate_queryset(queryset.filter(seq__isnull=False), request, view)
        if self.has_next:
            return page
        after = page[-1].seq if page else self._position()
        return page + selectors.newest_end(queryset, after_seq=after, size=self.page_size)

    def _position(self) -> int:
        position = self.cursor.position if self.cursor is not None else None
        return int(position) if position is not None else 0


EVENT_PAGES = (
    "Events in chain order (`seq`), a page at a time by cursor: follow `next` (no `count`, no `page`). The newest "
    "page (no `next`) also lists, after its sealed events, those sealed since it was read and then up to "
    "`page_size` events not sealed yet (`seq` null, oldest first; they get their seq moments after their commit), "
    "so it may hold up to twice `page_size` events.")


class AuditEventListApi(GenericAPIView):
    permission_classes = READ_TRAIL
    serializer_class = EventSerializer
    # A generic view with its paginator, so the schema shows the page envelope and its parameters.
    filter_backends: list = []

    pagination_class = SealedThenWaiting

    @extend_schema(
        operation_id="audit_events_list",
        description=EVENT_PAGES,
        parameters=[EventFilterSerializer],
        responses={200: EventSerializer(many=True),
                   400: OpenApiResponse(response=ErrorSerializer, description="Bad filter, or `page` (this list "
                                        "pages by cursor: follow `next`)."),
                   404: OpenApiResponse(response=ErrorSerializer, description=CURSOR_NOT_FOUND), **_ERRORS},
    )
    def get(self, request):
        filters = EventFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        case = data.pop("case", None)
        refs = scopes.case_refs(case) if case else None
        events = selectors.event_list(refs=refs, **data)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)


class AuditVerifyApi(APIView):
    permission_classes = READ_TRAIL

    @extend_schema(
        operation_id="audit_verify",
        parameters=[VerifyParamsSerializer],
        responses={
            200: TrailVerificationSerializer,
            400: OpenApiResponse(response=ErrorSerializer, description="Malformed `full`."),
            401: _ERRORS[401],
            403: OpenApiResponse(
                response=ErrorSerializer,
                description="Only auditors and the chair read the trail; only auditors ask for `full` "
                            "(code `full_verification_refused`)."),
        },
    )
    def get(self, request):
        params = VerifyParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        full = params.validated_data["full"]
        if full and not can_verify_trail_in_full(request.user):
            raise Forbidden(str(VERIFY_IN_FULL_REFUSED), code="full_verification_refused")
        return Response(TrailVerificationSerializer(services.trail_verify(full=full).as_dict()).data)


class AuditExportApi(APIView):
    permission_classes = READ_TRAIL

    @extend_schema(
        operation_id="audit_export",
        parameters=[ExportFilterSerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR,
                description='JSON Lines: one event per line in the recipe\'s form, in seq order, then '
                            '{"checkpoint": {...}}. Streamed in batches of EXPORT_BATCH_SIZE events; an '
                            'interrupted download resumes with after_seq=<the last seq received>.'),
            400: OpenApiResponse(response=ErrorSerializer,
                                 description="Unknown or malformed case reference; after_seq not a whole number "
                                             "from 0."),
            **_ERRORS,
        },
    )
    def get(self, request):
        filters = ExportFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        lines = services.trail_export(case_reference=filters.validated_data.get("case") or None,
                                      after_seq=filters.validated_data["after_seq"], actor=request.user)
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.jsonl"'
        return response


class CheckpointListApi(GenericAPIView):
    permission_classes = READ_TRAIL
    serializer_class = CheckpointSerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="audit_checkpoints_list",
        responses={200: CheckpointSerializer(many=True),
                   404: OpenApiResponse(response=ErrorSerializer, description=PAGE_NOT_FOUND), **_ERRORS},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.checkpoint_list())
        return self.get_paginated_response(CheckpointSerializer(page, many=True).data)


class PublicKeyApi(APIView):
    permission_classes = READ_TRAIL

    @extend_schema(
        operation_id="audit_public_key",
        responses={
            200: CheckpointKeySerializer,
            503: OpenApiResponse(response=ErrorSerializer, description="No signing key is configured."),
            **_ERRORS,
        },
    )
    def get(self, request):
        return Response({"algorithm": "Ed25519", "public_key": services.signing_public_key_hex()})


# Proofs carry hashes only (no event's content), so any signed-in user may ask
# for them: a monitor proves their receipt's report is in a signed tree head
# without reading the trail (docs/audit.md, "Proofs").
PROOF_ERRORS = {
    400: OpenApiResponse(response=ErrorSerializer,
                         description="Bad parameters, or a tree larger than the sealed trail."),
    401: OpenApiResponse(response=ErrorSerializer, description="Not signed in."),
}


class InclusionProofApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="audit_inclusion_proof",
        parameters=[InclusionParamsSerializer],
        responses={200: InclusionProofSerializer, **PROOF_ERRORS,
                   404: OpenApiResponse(response=ErrorSerializer, description="No such path: seq is not a number.")},
    )
    def get(self, request, seq: int):
        params = InclusionParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        proof = selectors.inclusion_proof(seq=seq, tree_size=params.validated_data["tree_size"])
        return Response(InclusionProofSerializer(proof).data)


class ConsistencyProofApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="audit_consistency_proof",
        parameters=[ConsistencyParamsSerializer],
        responses={200: ConsistencyProofSerializer, **PROOF_ERRORS},
    )
    def get(self, request):
        params = ConsistencyParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        proof = selectors.consistency_proof(**params.validated_data)
        return Response(ConsistencyProofSerializer(proof).data)
