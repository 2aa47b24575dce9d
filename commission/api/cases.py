"""Cases: list, open, read, triage, verification, conflicts, rounds and
measures opened on them, closing, and their trail."""


from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.api import EVENT_PAGES, SealedThenWaiting
from audit.selectors import event_list
from audit.serializers import EventSerializer, EventWhereSerializer
from commission import selectors, services
from commission.api.base import (
    CHAIR_ONLY,
    MEMBERS,
    READ,
    TRAIL,
    TRIAGE,
    TRIAGE_OR_READ,
    case_or_404,
    case_response,
    errors,
    round_or_404,
    valid,
)
from commission.filters import CaseFilter
from commission.serializers import (
    CaseClosePreviewSerializer,
    CaseCloseSerializer,
    CaseDetailSerializer,
    CaseOpenSerializer,
    CaseSummarySerializer,
    ConflictSerializer,
    MeasureProposeSerializer,
    MeasureSerializer,
    ReasonSerializer,
    ReportLinkSerializer,
    RoundOpenSerializer,
    RoundSerializer,
    VerificationInputSerializer,
)
from config.api import CursorPage
from config.schema import ErrorSerializer
from reports.selectors import report_get_for

# --- Cases ----------------------------------------------------------------------------


class CaseListCreateApi(GenericAPIView):
    permission_classes = TRIAGE_OR_READ
    serializer_class = CaseSummarySerializer
    # The filters (and their documentation in the schema) are the cases page's too.
    filterset_class = CaseFilter
    # Newest first (the primary key's index), with or without `search`.
    pagination_class = CursorPage

    def get_queryset(self):
        return selectors.case_list_with_deadlines_for(self.request.user)

    @extend_schema(
        operation_id="cases_list",
        summary="Cases, newest first (verifiers, the chair, members, auditors)",
        responses={200: CaseSummarySerializer(many=True), **errors(400, 401, 403, 404, missing="cursor")},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CaseSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="cases_create",
        summary="Open a case from submitted reports (verifiers, the chair); the verification deadline starts",
        request=CaseOpenSerializer,
        responses={201: CaseDetailSerializer, **errors(400, 401, 403),
                   409: OpenApiResponse(response=ErrorSerializer, description="A report is already in another case.")},
    )
    def post(self, request):
        data = valid(CaseOpenSerializer, request.data)
        case = services.case_open(actor=request.user, title=data["title"], reports=data["reports"])
        return case_response(case, user=request.user, code=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    permission_classes = READ

    @extend_schema(operation_id="cases_retrieve", responses={200: CaseDetailSerializer, **errors(401, 403, 404)})
    def get(self, request, pk: int):
        return case_response(case_or_404(request.user, pk), user=request.user, reread=False)


class CaseReportsApi(APIView):
    permission_classes = TRIAGE

    @extend_schema(
        operation_id="cases_reports_link",
        summary="Link more submitted reports to a case in verification (verifiers, the chair)",
        request=ReportLinkSerializer,
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = case_or_404(request.user, pk)
        data = valid(ReportLinkSerializer, request.data)
        case = services.case_link_reports(actor=request.user, case=case, reports=data["reports"])
        return case_response(case, user=request.user)


class CaseReportDetachApi(APIView):
    permission_classes = TRIAGE

    @extend_schema(
        operation_id="cases_reports_detach",
        summary="Detach a report from a case in verification, with a reason (the link is kept, marked detached)",
        request=ReasonSerializer,
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, missing="case or report"),
                   409: OpenApiResponse(response=ErrorSerializer, description="Not in verification, or the case's last report.")},
    )
    def post(self, request, pk: int, report_id: int):
        case = case_or_404(request.user, pk)
        report = report_get_for(request.user, report_id)
        if report is None:
            raise NotFound("No such report.")
        data = valid(ReasonSerializer, request.data)
        case = services.case_detach_report(actor=request.user, case=case, report=report, reason=data["reason"])
        return case_response(case, user=request.user)


class CaseVerificationApi(APIView):
    permission_classes = TRIAGE

    @extend_schema(
        operation_id="cases_verification",
        summary="Record the verification findings (verifiers, the chair)",
        request=VerificationInputSerializer,
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = case_or_404(request.user, pk)
        data = valid(VerificationInputSerializer, request.data)
        case = services.verification_record(actor=request.user, case=case, **data)
        return case_response(case, user=request.user)


class CaseConflictApi(APIView):
    permission_classes = MEMBERS

    @extend_schema(
        operation_id="cases_conflicts_declare",
        summary="Declare a conflict of interest: you are recused from the case's votes (members)",
        description="Idempotent: a second declaration returns the first (200). During an open round, only "
                    "before you have voted (409 afterwards).",
        request=ReasonSerializer,
        responses={201: ConflictSerializer, 200: ConflictSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = case_or_404(request.user, pk)
        data = valid(ReasonSerializer, request.data)
        existed = selectors.conflict_of(case, request.user) is not None
        declaration = services.conflict_declare(actor=request.user, case=case, reason=data["reason"])
        return Response(ConflictSerializer(declaration).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class CaseRoundsApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="cases_rounds_open",
        summary="Open an attribution vote (the chair)",
        description="Eligible voters are fixed now: the members, less those whose delegation is a party and "
                    "those who declared a conflict. While the parties' reply window is open and a called party "
                    "has not replied: 409 unless `override_reason` is given (recorded in the round's event).",
        request=RoundOpenSerializer,
        responses={201: RoundSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = case_or_404(request.user, pk)
        data = valid(RoundOpenSerializer, request.data)
        rnd = services.round_open(actor=request.user, case=case, closes_at=data.get("closes_at"),
                                  quorum=data["quorum"], threshold=data["threshold"],
                                  override_reason=data["override_reason"])
        rnd = round_or_404(request.user, rnd.pk)
        return Response(RoundSerializer(selectors.round_for(rnd, request.user)).data, status=status.HTTP_201_CREATED)


class CaseMeasuresApi(APIView):
    permission_classes = MEMBERS

    @extend_schema(
        operation_id="cases_measures_propose",
        summary="Propose a corrective measure (members; the case must be in measures)",
        request=MeasureProposeSerializer,
        responses={201: MeasureSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = case_or_404(request.user, pk)
        data = valid(MeasureProposeSerializer, request.data)
        measure = services.measure_propose(actor=request.user, case=case, **data)
        return Response(MeasureSerializer(selectors.measure_get_for(request.user, measure.pk)).data,
                        status=status.HTTP_201_CREATED)


class CaseCloseApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="cases_close_preview",
        summary="What closing the case would do, before it is done (the chair)",
        description="Changes nothing. Says whether the close would be accepted now (and why not), the outcome "
                    "it would record, the deadlines it would settle and the measures still followed after it.",
        responses={200: CaseClosePreviewSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = case_or_404(request.user, pk)
        return Response(CaseClosePreviewSerializer(selectors.case_close_preview(case)).data)

    @extend_schema(
        operation_id="cases_close",
        summary="Close the case with a public summary (the chair); cannot be undone",
        description='The body must carry `"confirm": true`; without it the answer is 400 '
                    '(`{"confirm": [...]}`) and nothing changes. GET the same URL to see what the close will do.',
        request=CaseCloseSerializer,
        responses={200: CaseDetailSerializer, **errors(400, 401, 403, 404),
                   409: OpenApiResponse(response=ErrorSerializer, description="Already closed, or a round is open.")},
    )
    def post(self, request, pk: int):
        case = case_or_404(request.user, pk)
        data = valid(CaseCloseSerializer, request.data)
        case = services.case_close(actor=request.user, case=case, summary=data["summary"])
        return case_response(case, user=request.user)


class CaseTrailApi(GenericAPIView):
    permission_classes = TRAIL
    serializer_class = EventSerializer
    filter_backends: list = []
    # Pages like the whole trail's: a cursor along seq (page_size up to 500).
    pagination_class = SealedThenWaiting

    @extend_schema(
        operation_id="cases_trail",
        summary="The case's decision trail in chain order (auditors, the chair)",
        description="Events on the case, its reports (linked now or ever) and their evidence, rounds, ballots "
                    "(commitments only while a round is open), measures and deadlines; in the export's form. "
                    + EVENT_PAGES,
        parameters=[EventWhereSerializer],
        responses={200: EventSerializer(many=True), **errors(400, 401, 403, 404, missing="case (or cursor)")},
    )
    def get(self, request, pk: int):
        case = case_or_404(request.user, pk)
        filters = EventWhereSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = event_list(refs=set(selectors.case_object_refs(case)), **filters.validated_data)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)
