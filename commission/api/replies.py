"""The right of reply: GET/POST /api/v1/cases/{id}/replies/ and a reply's
files. Readers of cases and the representatives of a party the case names
use the same endpoints; commission.selectors.hearing decides what each sees,
and a case a representative may not see is 404 like one that does not exist."""

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import PARTY_REPRESENTATIVE, HasRole
from commission import selectors, services
from commission.api.base import READERS, errors, valid
from commission.serializers import HearingSerializer, ReplyInputSerializer, ReplyTextSerializer
from config.errors import TooLarge
from config.schema import ErrorSerializer
from reports.services import EVIDENCE_TYPES, MULTIPART_OVERHEAD

# Readers of cases read; representatives read (their own cases) and reply.
HEARING = [IsAuthenticated, HasRole(PARTY_REPRESENTATIVE, safe_roles=READERS)]


def hearing_case_or_404(user, pk):
    case = selectors.case_get_for_hearing(user, pk)
    if case is None:
        raise NotFound("No such case.")
    return case


class CaseRepliesApi(APIView):
    permission_classes = HEARING
    # JSON for a reply of text alone (files need multipart).
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="cases_replies_list",
        summary="The case's findings and reports' facts, the reply window and the replies",
        description="For verifiers, the chair, members and auditors: every reply. For a party representative "
                    "(only on cases naming their party, from attribution on; 404 otherwise): the findings, the "
                    "reports' facts without who filed them, and their own party's reply.",
        responses={200: HearingSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = hearing_case_or_404(request.user, pk)
        return Response(HearingSerializer(selectors.hearing(case, request.user)).data)

    @extend_schema(
        operation_id="cases_replies_create",
        summary="Submit your party's one reply, with evidence files (party representatives)",
        description="Accepted while the reply window is open and your party, called to reply, has not replied yet "
                    "(409 otherwise).",
        request={"multipart/form-data": ReplyInputSerializer, "application/json": ReplyTextSerializer},
        responses={201: HearingSerializer, **errors(400, 401, 403, 404, 409),
                   413: OpenApiResponse(response=ErrorSerializer, description="A file is too large.")},
    )
    def post(self, request, pk: int):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > (settings.EVIDENCE_MAX_BYTES + MULTIPART_OVERHEAD) * services.MAX_REPLY_FILES:
            raise TooLarge(f"Evidence files are limited to {settings.EVIDENCE_MAX_BYTES} bytes.", field="files")
        case = hearing_case_or_404(request.user, pk)
        data = valid(ReplyInputSerializer, {"text": request.data.get("text"),
                                            "files": request.FILES.getlist("files") if request.FILES else []})
        services.reply_submit(actor=request.user, case=case, text=data["text"], files=data["files"])
        return Response(HearingSerializer(selectors.hearing(case, request.user)).data,
                        status=status.HTTP_201_CREATED)


class ReplyEvidenceDownloadApi(APIView):
    permission_classes = [IsAuthenticated, HasRole(safe_roles=(*READERS, PARTY_REPRESENTATIVE))]

    @extend_schema(
        operation_id="cases_replies_evidence_download",
        summary="Download a reply's file as an attachment (recorded in the trail)",
        responses={**{(200, media_type): OpenApiResponse(response=OpenApiTypes.BINARY, description="the file")
                      for media_type in EVIDENCE_TYPES},
                   **errors(401, 403, 404, missing="case or file")},
    )
    def get(self, request, pk: int, evidence_id: int):
        case = hearing_case_or_404(request.user, pk)
        evidence = selectors.reply_evidence_get_for(request.user, case, evidence_id)
        if evidence is None:
            raise NotFound("No such file.")
        handle = services.reply_evidence_open_for_download(actor=request.user, evidence=evidence)
        response = FileResponse(handle, as_attachment=True,
                                filename=services.reply_evidence_download_name(evidence),
                                content_type=evidence.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response
