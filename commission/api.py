"""The commission API: thin views that validate input, call one service or
selector, and serialize the result. Scoping lives in commission.selectors,
the rules in commission.services (whose errors config.api maps to 400, 403,
409). A round's ballots stay sealed here too: the only choice any response
carries is the requester's own (`my_ballot`)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import AUDITOR, CHAIR, MEMBER, VERIFIER, HasRole
from audit.api import AuditEventListApi
from audit.permissions import CanReadTrail
from audit.selectors import event_list
from audit.serializers import EventSerializer
from commission import selectors, services
from commission.models import Case, Round
from commission.serializers import (
    BallotInputSerializer,
    CaseCloseSerializer,
    CaseDetailSerializer,
    CaseFilterSerializer,
    CaseOpenSerializer,
    CaseSummarySerializer,
    ComplianceInputSerializer,
    ConflictSerializer,
    DeadlineExtendSerializer,
    DeadlineFilterSerializer,
    DeadlineSerializer,
    MeasureProposeSerializer,
    MeasureSerializer,
    ReasonSerializer,
    ReportLinkSerializer,
    ReportReturnSerializer,
    RoundOpenSerializer,
    RoundSerializer,
    VerificationInputSerializer,
)
from config.schema import PAGE_NOT_FOUND, ErrorSerializer, error_responses
from reports.selectors import report_get_for
from reports.serializers import ReportSerializer

READERS = (VERIFIER, CHAIR, MEMBER, AUDITOR)
# Everyone of the commission reads; monitors and people without a role do not.
READ = [IsAuthenticated, HasRole(safe_roles=READERS)]
# Verifiers and the chair triage (open cases, link, detach, record findings); members and auditors read.
TRIAGE_OR_READ = [IsAuthenticated, HasRole(VERIFIER, CHAIR, safe_roles=(MEMBER, AUDITOR))]
TRIAGE = [IsAuthenticated, HasRole(VERIFIER, CHAIR)]
MEMBERS = [IsAuthenticated, HasRole(MEMBER)]
CHAIR_ONLY = [IsAuthenticated, HasRole(CHAIR)]
# The decision trail of a case: the auditors' and the chair's, as the whole trail is (audit.api).
TRAIL = [IsAuthenticated, CanReadTrail]


def _errors(*codes: int, missing: str = "case") -> dict:
    text = {
        400: "Invalid input: a message per field, in DRF's usual shape.",
        401: "Not signed in.",
        403: "Your role does not allow this.",
        404: PAGE_NOT_FOUND if missing == "page" else f"No such {missing} (or not one you may see).",
        409: "Not in a state that allows this (the wrong stage, a closed round, already decided).",
    }
    return error_responses(text, *codes)


# --- Lookups ------------------------------------------------------------------------


def _case_or_404(user, pk) -> Case:
    case = selectors.case_get_for(user, pk)
    if case is None:
        raise NotFound("No such case.")
    return case


def _round_or_404(user, pk) -> Round:
    rnd = selectors.round_get_for(user, pk)
    if rnd is None:
        raise NotFound("No such round.")
    return rnd


def _measure_or_404(user, pk):
    measure = selectors.measure_get_for(user, pk)
    if measure is None:
        raise NotFound("No such measure.")
    return measure


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _case_response(case: Case, *, user, reread: bool = True, code=status.HTTP_200_OK) -> Response:
    if reread:
        # A service returns its locked row; read it again with its relations for the response.
        case = _case_or_404(user, case.pk)
    return Response(CaseDetailSerializer(selectors.case_detail(case, user)).data, status=code)


# --- Cases ----------------------------------------------------------------------------


class CaseListCreateApi(GenericAPIView):
    permission_classes = TRIAGE_OR_READ
    serializer_class = CaseSummarySerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="cases_list",
        summary="Cases, newest first (verifiers, the chair, members, auditors)",
        parameters=[CaseFilterSerializer],
        responses={200: CaseSummarySerializer(many=True), **_errors(400, 401, 403, 404, missing="page")},
    )
    def get(self, request):
        filters = _valid(CaseFilterSerializer, request.query_params)
        cases = selectors.case_list_with_deadlines_for(request.user, **filters)
        page = self.paginate_queryset(cases)
        return self.get_paginated_response(CaseSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="cases_create",
        summary="Open a case from submitted reports (verifiers, the chair); the verification deadline starts",
        request=CaseOpenSerializer,
        responses={201: CaseDetailSerializer, **_errors(400, 401, 403),
                   409: OpenApiResponse(response=ErrorSerializer, description="A report is already in another case.")},
    )
    def post(self, request):
        data = _valid(CaseOpenSerializer, request.data)
        case = services.case_open(actor=request.user, title=data["title"], reports=data["reports"])
        return _case_response(case, user=request.user, code=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    permission_classes = READ

    @extend_schema(operation_id="cases_retrieve", responses={200: CaseDetailSerializer, **_errors(401, 403, 404)})
    def get(self, request, pk: int):
        return _case_response(_case_or_404(request.user, pk), user=request.user, reread=False)


class CaseReportsApi(APIView):
    permission_classes = TRIAGE

    @extend_schema(
        operation_id="cases_reports_link",
        summary="Link more submitted reports to a case in verification (verifiers, the chair)",
        request=ReportLinkSerializer,
        responses={200: CaseDetailSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = _case_or_404(request.user, pk)
        data = _valid(ReportLinkSerializer, request.data)
        case = services.case_link_reports(actor=request.user, case=case, reports=data["reports"])
        return _case_response(case, user=request.user)


class CaseReportDetachApi(APIView):
    permission_classes = TRIAGE

    @extend_schema(
        operation_id="cases_reports_detach",
        summary="Detach a report from a case in verification, with a reason (the link is kept, marked detached)",
        request=ReasonSerializer,
        responses={200: CaseDetailSerializer, **_errors(400, 401, 403, 404, missing="case or report"),
                   409: OpenApiResponse(response=ErrorSerializer, description="Not in verification, or the case's last report.")},
    )
    def post(self, request, pk: int, report_id: int):
        case = _case_or_404(request.user, pk)
        report = report_get_for(request.user, report_id)
        if report is None:
            raise NotFound("No such report.")
        data = _valid(ReasonSerializer, request.data)
        case = services.case_detach_report(actor=request.user, case=case, report=report, reason=data["reason"])
        return _case_response(case, user=request.user)


class CaseVerificationApi(APIView):
    permission_classes = TRIAGE

    @extend_schema(
        operation_id="cases_verification",
        summary="Record the verification findings (verifiers, the chair)",
        request=VerificationInputSerializer,
        responses={200: CaseDetailSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = _case_or_404(request.user, pk)
        data = _valid(VerificationInputSerializer, request.data)
        case = services.verification_record(actor=request.user, case=case, **data)
        return _case_response(case, user=request.user)


class CaseConflictApi(APIView):
    permission_classes = MEMBERS

    @extend_schema(
        operation_id="cases_conflicts_declare",
        summary="Declare a conflict of interest: you are recused from the case's votes (members)",
        description="Idempotent: a second declaration returns the first (200). During an open round, only "
                    "before you have voted (409 afterwards).",
        request=ReasonSerializer,
        responses={201: ConflictSerializer, 200: ConflictSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = _case_or_404(request.user, pk)
        data = _valid(ReasonSerializer, request.data)
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
                    "those who declared a conflict.",
        request=RoundOpenSerializer,
        responses={201: RoundSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = _case_or_404(request.user, pk)
        data = _valid(RoundOpenSerializer, request.data)
        rnd = services.round_open(actor=request.user, case=case, closes_at=data.get("closes_at"),
                                  quorum=data["quorum"], threshold=data["threshold"])
        rnd = _round_or_404(request.user, rnd.pk)
        return Response(RoundSerializer(selectors.round_for(rnd, request.user)).data, status=status.HTTP_201_CREATED)


class CaseMeasuresApi(APIView):
    permission_classes = MEMBERS

    @extend_schema(
        operation_id="cases_measures_propose",
        summary="Propose a corrective measure (members; the case must be in measures)",
        request=MeasureProposeSerializer,
        responses={201: MeasureSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        case = _case_or_404(request.user, pk)
        data = _valid(MeasureProposeSerializer, request.data)
        measure = services.measure_propose(actor=request.user, case=case, **data)
        return Response(MeasureSerializer(selectors.measure_get_for(request.user, measure.pk)).data,
                        status=status.HTTP_201_CREATED)


class CaseCloseApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="cases_close",
        summary="Close the case with a public summary (the chair)",
        request=CaseCloseSerializer,
        responses={200: CaseDetailSerializer, **_errors(400, 401, 403, 404),
                   409: OpenApiResponse(response=ErrorSerializer, description="Already closed, or a round is open.")},
    )
    def post(self, request, pk: int):
        case = _case_or_404(request.user, pk)
        data = _valid(CaseCloseSerializer, request.data)
        case = services.case_close(actor=request.user, case=case, summary=data["summary"])
        return _case_response(case, user=request.user)


class CaseTrailApi(GenericAPIView):
    permission_classes = TRAIL
    serializer_class = EventSerializer
    filter_backends: list = []
    # Pages like the whole trail's (page_size up to 500).
    pagination_class = AuditEventListApi.Pagination

    @extend_schema(
        operation_id="cases_trail",
        summary="The case's decision trail in chain order (auditors, the chair)",
        description="Events on the case, its reports (linked now or ever) and their evidence, rounds, ballots "
                    "(commitments only while a round is open), measures and deadlines; in the export's form.",
        responses={200: EventSerializer(many=True), **_errors(401, 403, 404, missing="case (or page)")},
    )
    def get(self, request, pk: int):
        case = _case_or_404(request.user, pk)
        events = event_list(refs=set(selectors.case_object_refs(case)))
        page = self.paginate_queryset(events)
        return self.get_paginated_response(EventSerializer(page, many=True).data)


# --- Rounds and ballots -----------------------------------------------------------------


class RoundDetailApi(APIView):
    permission_classes = READ

    @extend_schema(
        operation_id="rounds_retrieve",
        summary="A round: turnout while open, the result once closed, and your own ballot",
        responses={200: RoundSerializer, **_errors(401, 403, 404, missing="round")},
    )
    def get(self, request, pk: int):
        rnd = _round_or_404(request.user, pk)
        return Response(RoundSerializer(selectors.round_for(rnd, request.user)).data)


class RoundBallotApi(APIView):
    permission_classes = MEMBERS

    @extend_schema(
        operation_id="rounds_ballots_cast",
        summary="Cast or change your sealed ballot (eligible members)",
        description="201 for your first ballot; 200 when it changes it (or repeats it: nothing changes). "
                    "Nobody sees others' choices or running counts until the round closes.",
        request=BallotInputSerializer,
        responses={
            201: RoundSerializer, 200: RoundSerializer, **_errors(400, 401, 404, missing="round"),
            403: OpenApiResponse(response=ErrorSerializer, description="Not a member, or not an eligible voter (the reason is given)."),
            409: OpenApiResponse(response=ErrorSerializer, description="The round is closed."),
        },
    )
    def post(self, request, pk: int):
        rnd = _round_or_404(request.user, pk)
        data = _valid(BallotInputSerializer, request.data)
        had_ballot = selectors.ballot_own(rnd, request.user) is not None
        receipt = services.ballot_cast(actor=request.user, round=rnd, **data)
        rnd = _round_or_404(request.user, receipt.round.pk)
        first = not had_ballot and not receipt.changed
        return Response(RoundSerializer(selectors.round_for(rnd, request.user)).data,
                        status=status.HTTP_201_CREATED if first else status.HTTP_200_OK)


# --- Measures ----------------------------------------------------------------------------


class MeasureDecisionApi(APIView):
    permission_classes = CHAIR_ONLY
    adopt: bool = True

    def post(self, request, pk: int):
        measure = _measure_or_404(request.user, pk)
        data = _valid(ReasonSerializer, request.data)
        measure = services.measure_decide(actor=request.user, measure=measure, adopt=self.adopt,
                                          reason=data["reason"])
        return Response(MeasureSerializer(selectors.measure_get_for(request.user, measure.pk)).data)


class MeasureAdoptApi(MeasureDecisionApi):
    adopt = True

    @extend_schema(
        operation_id="measures_adopt",
        summary="Adopt a proposed measure (the chair); its compliance is followed from now",
        request=ReasonSerializer,
        responses={200: MeasureSerializer, **_errors(400, 401, 403, 404, 409, missing="measure")},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class MeasureRejectApi(MeasureDecisionApi):
    adopt = False

    @extend_schema(
        operation_id="measures_reject",
        summary="Reject a proposed measure (the chair)",
        request=ReasonSerializer,
        responses={200: MeasureSerializer, **_errors(400, 401, 403, 404, 409, missing="measure")},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class MeasureComplianceApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="measures_compliance",
        summary="Record whether an adopted measure was complied with (the chair)",
        request=ComplianceInputSerializer,
        responses={200: MeasureSerializer, **_errors(400, 401, 403, 404, 409, missing="measure")},
    )
    def post(self, request, pk: int):
        measure = _measure_or_404(request.user, pk)
        data = _valid(ComplianceInputSerializer, request.data)
        measure = services.measure_compliance_record(actor=request.user, measure=measure, **data)
        return Response(MeasureSerializer(selectors.measure_get_for(request.user, measure.pk)).data)


# --- Deadlines and notifications ------------------------------------------------------------


class DeadlineListApi(GenericAPIView):
    permission_classes = READ
    serializer_class = DeadlineSerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="deadlines_list",
        summary="Deadlines, soonest first",
        parameters=[DeadlineFilterSerializer],
        responses={200: DeadlineSerializer(many=True), **_errors(400, 401, 403, 404, missing="page")},
    )
    def get(self, request):
        filters = _valid(DeadlineFilterSerializer, request.query_params)
        page = self.paginate_queryset(selectors.deadline_list_for(request.user, **filters))
        return self.get_paginated_response(DeadlineSerializer(page, many=True).data)


class DeadlineExtendApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="deadlines_extend",
        summary="Move a deadline later, with a reason (the chair); a missed one fires again at the new time",
        request=DeadlineExtendSerializer,
        responses={200: DeadlineSerializer, **_errors(400, 401, 403, 404, 409, missing="deadline")},
    )
    def post(self, request, pk: int):
        deadline = selectors.deadline_get_for(request.user, pk)
        if deadline is None:
            raise NotFound("No such deadline.")
        data = _valid(DeadlineExtendSerializer, request.data)
        deadline = services.deadline_extend(actor=request.user, deadline=deadline, **data)
        return Response(DeadlineSerializer(selectors.deadline_get_for(request.user, deadline.pk)).data)


# --- Triage of a report ----------------------------------------------------------------


class ReportReturnApi(APIView):
    permission_classes = TRIAGE

    @extend_schema(
        operation_id="reports_return",
        summary="Return a submitted report to its monitor for more information (verifiers, the chair)",
        description='The report gets status "returned" with the question, leaves the triage inbox and cannot '
                    "be put in a case until its author edits it (PATCH) and submits it again "
                    '(status "submitted"). The author is notified. A report in a case cannot be returned: 409.',
        request=ReportReturnSerializer,
        responses={200: ReportSerializer, **_errors(400, 401, 403, 404, 409, missing="report")},
        examples=[OpenApiExample("A question", request_only=True, value={
            "reason": "How many impacts did you count yourself, and from where?"})],
    )
    def post(self, request, pk: int):
        report = report_get_for(request.user, pk)
        if report is None:
            raise NotFound("No such report.")
        data = _valid(ReportReturnSerializer, request.data)
        report = services.report_return(actor=request.user, report=report, reason=data["reason"])
        return Response(ReportSerializer(report).data)
