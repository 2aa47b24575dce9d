"""The reports API: thin views that validate input, call one service or
selector, and serialize the result. Scoping lives in reports.selectors."""

from django.conf import settings
from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import AUDITOR, CHAIR, MEMBER, MONITOR, VERIFIER, HasRole
from config.api import CursorPage, JSONParser
from config.errors import TooLarge
from config.schema import CURSOR_NOT_FOUND, error_responses
from reports import exports, imports, selectors, services, similar
from reports.filters import ReportFilter
from reports.map_serializers import ClusterCollectionSerializer, FeatureCollectionSerializer, MapClustersQuerySerializer
from reports.models import Report
from reports.serializers import (
    EvidenceSerializer,
    EvidenceUploadSerializer,
    ExportParamsSerializer,
    FiledReportSerializer,
    ImportResultSerializer,
    ReceiptProofSerializer,
    ReportInputSerializer,
    ReportSerializer,
    SimilarReportSerializer,
)

READ_ROLES = (VERIFIER, CHAIR, MEMBER, AUDITOR)
# Monitors file and edit; the others read (scoping decides what).
REPORT_ACCESS = [IsAuthenticated, HasRole(MONITOR, safe_roles=READ_ROLES)]
# The author, verifiers and the chair attach evidence; members and auditors read it.
EVIDENCE_ACCESS = [IsAuthenticated, HasRole(MONITOR, VERIFIER, CHAIR, safe_roles=(MEMBER, AUDITOR))]
# The rule lives in the service (a batch import's keys obey it too).
IDEMPOTENCY_KEY_MAX = services.IDEMPOTENCY_KEY_MAX
IDEMPOTENCY_KEY = services.IDEMPOTENCY_KEY
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX,
                          "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"}


def _errors(*codes: int, page: bool = False) -> dict:
    text = {
        400: "Invalid input: a message per field, in DRF's usual shape.",
        401: "Not signed in.",
        403: "Your role does not allow this.",
        404: "No such report (or not one you may see).",
        409: "The report is not in a state that allows this (a submitted report cannot be edited; a report "
             "in a case cannot be returned).",
        413: "The file is larger than EVIDENCE_MAX_BYTES.",
        415: "The body is not JSON: a report's nested fields (location, casualties) have no form encoding.",
        422: "This Idempotency-Key was already used for a different body (another report, or another file).",
    }
    if page:
        text[404] = CURSOR_NOT_FOUND
    return error_responses(text, *codes)


# --- Views -------------------------------------------------------------------


def _report_or_404(user, pk) -> Report:
    report = selectors.report_get_for(user, pk)
    if report is None:
        raise NotFound("No such report.")
    return report


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if len(key) > IDEMPOTENCY_KEY_MAX or not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError({"idempotency_key": [f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters."]})
    return key


class ReportListCreateApi(GenericAPIView):
    permission_classes = REPORT_ACCESS
    # JSON only: a report's nested fields (location, casualties) have no form encoding.
    parser_classes = [JSONParser]
    filterset_class = ReportFilter
    serializer_class = ReportSerializer
    # Newest first, by the primary key's own index; each filter narrows that walk.
    pagination_class = CursorPage

    def get_queryset(self):
        return selectors.report_list_for(self.request.user)

    @extend_schema(
        operation_id="reports_list",
        summary="Reports you may see",
        description="A monitor sees their own reports (drafts included); verifiers, the chair, members and "
                    "auditors see every submitted report.",
        responses={200: ReportSerializer(many=True), **_errors(400, 401, 403, 404, page=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ReportSerializer(page, many=True).data)

    @extend_schema(
        operation_id="reports_create",
        summary="File a report (monitors)",
        request=ReportInputSerializer,
        parameters=[OpenApiParameter(
            "Idempotency-Key", IDEMPOTENCY_KEY_SCHEMA, OpenApiParameter.HEADER, required=False,
            description="Repeat a request safely: the same key (per user) with the same body returns the first "
                        "report (201, header Idempotent-Replayed: true) and creates nothing. 1 to "
                        f"{IDEMPOTENCY_KEY_MAX} printable ASCII characters, no space at either end (400 otherwise).")],
        responses={201: FiledReportSerializer, **_errors(400, 401, 403, 415, 422)},
        examples=[OpenApiExample("A shelling report", request_only=True, value={
            "occurred_at": "2026-11-24T06:40:00Z",
            "location": {"lat": 47.5689, "lon": 35.8612, "precision_m": 500, "place_name": "Orikhiv",
                         "admin1": "Zaporizhzhia Oblast"},
            "category": "shelling", "description": "About twelve impacts on the northern outskirts.",
            "alleged_party": "RU", "source_type": "direct_observation",
            "casualties": {"civilian_killed": 0, "civilian_injured": 2, "military_killed": 0, "military_injured": 0},
            "weapons": "152 mm artillery", "severity": 3, "links": ["https://example.org/post/1"]})],
    )
    def post(self, request):
        key = _idempotency_key(request)
        serializer = ReportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report, created = services.report_create(
            actor=request.user, data=data, idempotency_key=key,
            request_fingerprint=services.report_fingerprint(data) if key else None)
        response = Response(_filed(request.user, report), status=status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class _BatchParser(BaseParser):
    """The body as text (UTF-8, a byte-order mark tolerated), read to at most
    REPORT_IMPORT_MAX_BYTES: the view splits it into rows itself."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.REPORT_IMPORT_MAX_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise TooLarge(_("An import is limited to %(n)d bytes; split the file.") % {"n": limit})
        try:
            return self.media_type, raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ParseError(_("The file is not UTF-8 text."))


class CsvParser(_BatchParser):
    media_type = "text/csv"


class JsonLinesParser(_BatchParser):
    media_type = "application/x-ndjson"


def import_too_large(request, *args, **kwargs):
    """The answer to an import whose Content-Length is already too large
    (config.uploads refuses it before its body is read)."""
    return JsonResponse({"detail": _("An import is limited to %(n)d bytes; split the file.") % {
        "n": settings.REPORT_IMPORT_MAX_BYTES}, "code": "too_large"}, status=413)


class ReportImportApi(APIView):
    # Filing is a monitor's; no reader role may import.
    permission_classes = [IsAuthenticated, HasRole(MONITOR)]
    parser_classes = [CsvParser, JsonLinesParser]

    @extend_schema(
        operation_id="reports_import",
        summary="File many reports at once from CSV or JSON Lines (monitors)",
        description="Each record is mapped (docs/import.md: `acled`, `cir` or `native`, guessed from the header "
                    "unless `mapping` is given), validated exactly like `POST /api/v1/reports/`, and filed with "
                    "its audit event, or refused with its errors by source column. A record whose source id "
                    "(ACLED `event_id_cnty`, CIR `entry`, native `source_id` or `idempotency_key`), or whose "
                    "content when it has no id, was filed before by the same monitor is a duplicate: a re-run "
                    "files nothing twice. Refused records do not stop the others. At most "
                    "REPORT_IMPORT_MAX_ROWS records and REPORT_IMPORT_MAX_BYTES bytes per request (413).",
        parameters=[OpenApiParameter("mapping", str, OpenApiParameter.QUERY, required=False,
                                     enum=list(imports.MAPPINGS),
                                     description="the column mapping; default: guessed from the header")],
        request={"text/csv": OpenApiTypes.STR, "application/x-ndjson": OpenApiTypes.STR},
        responses={200: ImportResultSerializer, **error_responses({
            400: "The file cannot be read (not UTF-8, broken CSV, a line that is not a JSON object) or the "
                 "mapping is unknown. Nothing was stored.",
            401: "Not signed in.",
            403: "Your role does not allow this.",
            413: "More than REPORT_IMPORT_MAX_ROWS records or REPORT_IMPORT_MAX_BYTES bytes. Nothing was stored.",
            415: "The body is neither text/csv nor application/x-ndjson.",
        }, 400, 401, 403, 413, 415)},
    )
    def post(self, request):
        mapping = request.query_params.get("mapping") or None
        if mapping is not None and mapping not in imports.MAPPINGS:
            raise ValidationError({"mapping": [_("One of %(choices)s.") % {"choices": ", ".join(imports.MAPPINGS)}]})
        parsed = request.data
        media_type, text = parsed if isinstance(parsed, tuple) else ("text/csv", "")
        try:
            header, records = imports.records_from(text, media_type)
        except imports.ImportFormatError as exc:
            raise ParseError(str(exc))
        if len(records) > settings.REPORT_IMPORT_MAX_ROWS:
            raise TooLarge(_("An import is limited to %(n)d records; split the file.") % {
                "n": settings.REPORT_IMPORT_MAX_ROWS})
        result = imports.import_records(actor=request.user, header=header, records=records, mapping=mapping)
        return Response(ImportResultSerializer(result.as_dict()).data)


class ReportDetailApi(APIView):
    permission_classes = REPORT_ACCESS
    parser_classes = [JSONParser]

    @extend_schema(operation_id="reports_retrieve", responses={200: FiledReportSerializer, **_errors(401, 403, 404)})
    def get(self, request, pk: int):
        return Response(_filed(request.user, _report_or_404(request.user, pk)))

    @extend_schema(
        operation_id="reports_partial_update",
        summary="Edit a draft or a returned report, or submit it with status=submitted (its author only)",
        request=ReportInputSerializer(partial=True),
        responses={200: FiledReportSerializer, **_errors(400, 401, 403, 404, 409, 415)},
    )
    def patch(self, request, pk: int):
        report = _report_or_404(request.user, pk)
        serializer = ReportInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        report = services.report_update(actor=request.user, report=report, data=serializer.validated_data)
        return Response(_filed(request.user, report))


def _filed(user, report: Report) -> dict:
    """The report, with its receipt when `user` is its author."""
    return FiledReportSerializer(report, context={"receipt": selectors.report_receipt_for(user, report)}).data


class ReportReceiptApi(APIView):
    permission_classes = REPORT_ACCESS

    @extend_schema(
        operation_id="reports_receipt",
        summary="The report's receipt with its filing event, the newest signed tree head and the inclusion proof "
                "(its author only)",
        responses={200: ReceiptProofSerializer,
                   **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        bundle = selectors.report_receipt_proof_for(request.user, _report_or_404(request.user, pk))
        if bundle is None:
            raise NotFound("This report has no receipt for you (not its author, a draft, or no signing key).")
        return Response(ReceiptProofSerializer(bundle).data)


class ReportSimilarApi(APIView):
    permission_classes = REPORT_ACCESS

    @extend_schema(
        operation_id="reports_similar",
        summary="Duplicate candidates: same category, within SIMILAR_DISTANCE_M and SIMILAR_WINDOW, nearest first",
        description="The nearest SIMILAR_LIMIT (default 10) of them, among the reports you may see: a cluster of "
                    "identical reports (one row imported many times) answers with its nearest, not all of it. "
                    "The inbox's cards show the same list (reports.similar.report_similar).",
        responses={200: SimilarReportSerializer(many=True), **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        report = _report_or_404(request.user, pk)
        candidates = similar.report_similar(report, among=selectors.report_list_for(request.user))
        return Response(SimilarReportSerializer(candidates, many=True).data)


class ReportGeoJsonApi(GenericAPIView):
    permission_classes = REPORT_ACCESS
    filterset_class = ReportFilter
    pagination_class = None
    serializer_class = ReportSerializer

    def get_queryset(self):
        return selectors.report_list_for(self.request.user)

    @extend_schema(
        operation_id="reports_geojson",
        summary="The reports you may see as a GeoJSON FeatureCollection (same filters as the list)",
        description="All of them, in id order, streamed in batches of EXPORT_BATCH_SIZE; narrow with the filters "
                    "(bbox, time). A draft without a position yet is left out. An interrupted download resumes "
                    "with after_id=<the last feature's id>: a FeatureCollection of the features after it.",
        parameters=[ExportParamsSerializer],
        responses={(200, "application/geo+json"): FeatureCollectionSerializer,
                   **_errors(400, 401, 403)},
    )
    def get(self, request):
        params = ExportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        reports = selectors.report_mappable(self.filter_queryset(self.get_queryset()))
        body = exports.reports_geojson(reports, after_id=params.validated_data["after_id"])
        return StreamingHttpResponse(body, content_type="application/geo+json")


class MapClustersApi(APIView):
    permission_classes = REPORT_ACCESS

    @extend_schema(
        operation_id="map_clusters",
        summary="The reports you may see, counted per cell of the map's grid (every report at every zoom)",
        description="A grid of Web Mercator cells of 64 pixels at the given zoom (tiles of zoom + 2), coarser "
                    "when the box would hold more than 4096 cells: every report you may see that has a position "
                    "is counted in exactly one cell. Every cell the box touches is counted in full. A cell "
                    "holding one report names it (`id`, `reference`); any cell's `bbox` is the report list's "
                    "`bbox` filter for its reports (or zoom in). The same scoping as the report list: a "
                    "monitor sees their own reports, nobody sees another's drafts.",
        parameters=[MapClustersQuerySerializer],
        responses={(200, "application/geo+json"): ClusterCollectionSerializer, **_errors(400, 401, 403)},
    )
    def get(self, request):
        query = MapClustersQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = selectors.report_clusters(request.user, **query.validated_data)
        return Response(data, content_type="application/geo+json")


class ReportEvidenceApi(APIView):
    permission_classes = EVIDENCE_ACCESS
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="reports_evidence_list",
                   responses={200: EvidenceSerializer(many=True), **_errors(401, 403, 404)})
    def get(self, request, pk: int):
        report = _report_or_404(request.user, pk)
        return Response(EvidenceSerializer(selectors.evidence_list_for(request.user, report), many=True,
                                           context={"request": request}).data)

    @extend_schema(
        operation_id="reports_evidence_create",
        summary="Attach a file (the report's author, verifiers, the chair)",
        description="The type is recognised by the file's bytes (JPEG, PNG, WebP, PDF, MP4); the declared "
                    "content type and file name are ignored. Anything else: 400 on the `file` field. Images get "
                    "a thumbnail (`thumbnail_url`) and their EXIF time and GPS read (`exif`); an image with more "
                    "pixels than EVIDENCE_IMAGE_MAX_PIXELS (a decompression bomb) is refused with 400, nothing "
                    "stored. The original is kept byte for byte.",
        request={"multipart/form-data": EvidenceUploadSerializer},
        parameters=[OpenApiParameter(
            "Idempotency-Key", IDEMPOTENCY_KEY_SCHEMA, OpenApiParameter.HEADER, required=False,
            description="Repeat an upload safely: the same key (per user) with the same file for the same report "
                        "returns the first evidence (201, header Idempotent-Replayed: true) and stores nothing; "
                        "the same key with another file or report: 422. 1 to "
                        f"{IDEMPOTENCY_KEY_MAX} printable ASCII characters, no space at either end (400 otherwise).")],
        responses={201: EvidenceSerializer, **_errors(400, 401, 403, 404, 413, 422)},
    )
    def post(self, request, pk: int):
        # Refuse an oversized upload from its Content-Length, before Django
        # reads and spools the body; the service checks the real size too.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > services.evidence_max_request_bytes():
            raise TooLarge(f"Evidence files are limited to {settings.EVIDENCE_MAX_BYTES} bytes.", field="file")
        key = _idempotency_key(request)
        report = _report_or_404(request.user, pk)
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence, created = services.evidence_add_once(
            actor=request.user, report=report, upload=serializer.validated_data["file"], idempotency_key=key)
        response = Response(EvidenceSerializer(evidence, context={"request": request}).data,
                            status=status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class EvidenceDownloadApi(APIView):
    permission_classes = [IsAuthenticated, HasRole(safe_roles=(MONITOR, *READ_ROLES))]

    @extend_schema(
        operation_id="evidence_download",
        summary="Download evidence as an attachment (recorded in the trail)",
        responses={
            # The file's own type, as recognised on upload.
            **{(200, media_type): OpenApiResponse(response=OpenApiTypes.BINARY, description="the file")
               for media_type in services.EVIDENCE_TYPES},
            **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        evidence = selectors.evidence_get_for(request.user, pk)
        if evidence is None:
            raise NotFound("No such evidence.")
        handle = services.evidence_open_for_download(actor=request.user, evidence=evidence)
        response = FileResponse(handle, as_attachment=True, filename=services.evidence_download_name(evidence),
                                content_type=evidence.content_type)
        # Never let a browser reinterpret an upload (a "PDF" as HTML, say).
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class EvidenceThumbnailApi(APIView):
    permission_classes = [IsAuthenticated, HasRole(safe_roles=(MONITOR, *READ_ROLES))]

    @extend_schema(
        operation_id="evidence_thumbnail",
        summary="The server-made thumbnail of an image (not recorded in the trail)",
        description="A JPEG of at most 320 px, made from the pixels alone: no EXIF (time, GPS), XMP or ICC profile "
                    "of the original, and already turned upright. Whoever may download the original may fetch it; "
                    "404 for files without one (PDF, MP4, images the server could not read).",
        responses={(200, "image/jpeg"): OpenApiResponse(response=OpenApiTypes.BINARY, description="the thumbnail"),
                   **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        evidence = selectors.evidence_thumbnail_for(request.user, pk)
        if evidence is None:
            raise NotFound("No such evidence, or it has no thumbnail.")
        response = FileResponse(selectors.evidence_open_thumbnail(evidence), content_type="image/jpeg")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=300"
        return response
