"""Rounds and ballots, measures' decisions and compliance, deadlines, and
returning a report to its monitor (triage)."""


from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from commission import selectors, services
from commission.api.base import (
    CHAIR_ONLY,
    MEMBERS,
    READ,
    TRIAGE,
    errors,
    measure_or_404,
    round_or_404,
    valid,
)
from commission.serializers import (
    BallotInputSerializer,
    ComplianceInputSerializer,
    DeadlineExtendSerializer,
    DeadlineFilterSerializer,
    DeadlineSerializer,
    MeasureDecisionPreviewSerializer,
    MeasureDecisionSerializer,
    MeasureSerializer,
    ReasonSerializer,
    ReportReturnSerializer,
    RoundSerializer,
)
from config.api import CursorPage
from config.schema import ErrorSerializer
from reports.selectors import report_get_for
from reports.serializers import ReportSerializer

# --- Rounds and ballots -----------------------------------------------------------------


class RoundDetailApi(APIView):
    permission_classes = READ

    @extend_schema(
        operation_id="rounds_retrieve",
        summary="A round: turnout while open, the result once closed, and your own ballot",
        responses={200: RoundSerializer, **errors(401, 403, 404, missing="round")},
    )
    def get(self, request, pk: int):
        rnd = round_or_404(request.user, pk)
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
            201: RoundSerializer, 200: RoundSerializer, **errors(400, 401, 404, missing="round"),
            403: OpenApiResponse(response=ErrorSerializer, description="Not a member, or not an eligible voter (the reason is given)."),
            409: OpenApiResponse(response=ErrorSerializer, description="The round is closed."),
        },
    )
    def post(self, request, pk: int):
        rnd = round_or_404(request.user, pk)
        data = valid(BallotInputSerializer, request.data)
        had_ballot = selectors.ballot_own(rnd, request.user) is not None
        receipt = services.ballot_cast(actor=request.user, round=rnd, **data)
        rnd = round_or_404(request.user, receipt.round.pk)
        first = not had_ballot and not receipt.changed
        return Response(RoundSerializer(selectors.round_for(rnd, request.user)).data,
                        status=status.HTTP_201_CREATED if first else status.HTTP_200_OK)


# --- Measures ----------------------------------------------------------------------------


class MeasureDecisionApi(APIView):
    permission_classes = CHAIR_ONLY
    adopt: bool = True

    def get(self, request, pk: int):
        measure = measure_or_404(request.user, pk)
        return Response(MeasureDecisionPreviewSerializer(
            selectors.measure_decision_preview(measure, adopt=self.adopt)).data)

    def post(self, request, pk: int):
        measure = measure_or_404(request.user, pk)
        data = valid(MeasureDecisionSerializer, request.data)
        measure = services.measure_decide(actor=request.user, measure=measure, adopt=self.adopt,
                                          reason=data["reason"])
        return Response(MeasureSerializer(selectors.measure_get_for(request.user, measure.pk)).data)


_CONFIRM = ('The body must carry `"confirm": true`; without it the answer is 400 (`{"confirm": [...]}`) and '
            "nothing changes. GET the same URL to see what the decision will do.")
_PREVIEW = "Changes nothing. Says whether the decision would be accepted now (and why not) and what follows it."


class MeasureAdoptApi(MeasureDecisionApi):
    adopt = True

    @extend_schema(
        operation_id="measures_adopt_preview",
        summary="What adopting the measure would do, before it is done (the chair)",
        description=_PREVIEW,
        responses={200: MeasureDecisionPreviewSerializer, **errors(401, 403, 404, missing="measure")},
    )
    def get(self, request, pk: int):
        return super().get(request, pk)

    @extend_schema(
        operation_id="measures_adopt",
        summary="Adopt a proposed measure (the chair); its compliance is followed from now; cannot be undone",
        description=_CONFIRM,
        request=MeasureDecisionSerializer,
        responses={200: MeasureSerializer, **errors(400, 401, 403, 404, 409, missing="measure")},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class MeasureRejectApi(MeasureDecisionApi):
    adopt = False

    @extend_schema(
        operation_id="measures_reject_preview",
        summary="What rejecting the measure would do, before it is done (the chair)",
        description=_PREVIEW,
        responses={200: MeasureDecisionPreviewSerializer, **errors(401, 403, 404, missing="measure")},
    )
    def get(self, request, pk: int):
        return super().get(request, pk)

    @extend_schema(
        operation_id="measures_reject",
        summary="Reject a proposed measure (the chair); cannot be undone",
        description=_CONFIRM,
        request=MeasureDecisionSerializer,
        responses={200: MeasureSerializer, **errors(400, 401, 403, 404, 409, missing="measure")},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class MeasureComplianceApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="measures_compliance",
        summary="Record whether an adopted measure was complied with (the chair)",
        request=ComplianceInputSerializer,
        responses={200: MeasureSerializer, **errors(400, 401, 403, 404, 409, missing="measure")},
    )
    def post(self, request, pk: int):
        measure = measure_or_404(request.user, pk)
        data = valid(ComplianceInputSerializer, request.data)
        measure = services.measure_compliance_record(actor=request.user, measure=measure, **data)
        return Response(MeasureSerializer(selectors.measure_get_for(request.user, measure.pk)).data)


# --- Deadlines and notifications ------------------------------------------------------------


class DeadlineCursorPage(CursorPage):
    # Soonest first; the id breaks ties (commission_deadline_due_idx).
    ordering = ("due_at", "id")


class DeadlineListApi(GenericAPIView):
    permission_classes = READ
    serializer_class = DeadlineSerializer
    filter_backends: list = []
    pagination_class = DeadlineCursorPage

    @extend_schema(
        operation_id="deadlines_list",
        summary="Deadlines, soonest first",
        parameters=[DeadlineFilterSerializer],
        responses={200: DeadlineSerializer(many=True), **errors(400, 401, 403, 404, missing="cursor")},
    )
    def get(self, request):
        filters = valid(DeadlineFilterSerializer, request.query_params)
        page = self.paginate_queryset(selectors.deadline_list_for(request.user, **filters))
        return self.get_paginated_response(DeadlineSerializer(page, many=True).data)


def _deadline_or_404(request, pk: int):
    deadline = selectors.deadline_get_for(request.user, pk)
    if deadline is None:
        raise NotFound("No such deadline.")
    return deadline


def _deadline_answer(request, deadline) -> Response:
    # Read again through the selector: the answer shows what the caller may see, as stored.
    return Response(DeadlineSerializer(selectors.deadline_get_for(request.user, deadline.pk)).data)


class DeadlineExtendApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="deadlines_extend",
        summary="Move a deadline later, with a reason (the chair); a missed one fires again at the new time",
        request=DeadlineExtendSerializer,
        responses={200: DeadlineSerializer, **errors(400, 401, 403, 404, 409, missing="deadline")},
    )
    def post(self, request, pk: int):
        deadline = _deadline_or_404(request, pk)
        data = valid(DeadlineExtendSerializer, request.data)
        deadline = services.deadline_extend(actor=request.user, deadline=deadline, **data)
        return _deadline_answer(request, deadline)


class DeadlinePauseApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="deadlines_pause",
        summary="Stop a running deadline's clock, with a reason (the chair)",
        description='The deadline shows status "paused" (with paused_at and pause_reason); the sweep neither '
                    "fires nor reminds it, and a vote's round stays open for ballots. 409 when it is already "
                    "paused, met or missed, already due, or its stage is over. A paused deadline cannot be "
                    "extended: resume it first.",
        request=ReasonSerializer,
        responses={200: DeadlineSerializer, **errors(400, 401, 403, 404, 409, missing="deadline")},
        examples=[OpenApiExample("A reason", request_only=True,
                                 value={"reason": "Monitors denied access to the site."})],
    )
    def post(self, request, pk: int):
        deadline = _deadline_or_404(request, pk)
        data = valid(ReasonSerializer, request.data)
        deadline = services.deadline_pause(actor=request.user, deadline=deadline, reason=data["reason"])
        return _deadline_answer(request, deadline)


class DeadlineResumeApi(APIView):
    permission_classes = CHAIR_ONLY

    @extend_schema(
        operation_id="deadlines_resume",
        summary="Restart a paused deadline's clock, with a reason (the chair); due_at moves by the time paused",
        description="The status returns to what it was before the pause (pending or extended); a vote's closing "
                    "time and a measure's compliance date move with due_at. 409 when it is not paused.",
        request=ReasonSerializer,
        responses={200: DeadlineSerializer, **errors(400, 401, 403, 404, 409, missing="deadline")},
        examples=[OpenApiExample("A reason", request_only=True,
                                 value={"reason": "Access to the site restored."})],
    )
    def post(self, request, pk: int):
        deadline = _deadline_or_404(request, pk)
        data = valid(ReasonSerializer, request.data)
        deadline = services.deadline_resume(actor=request.user, deadline=deadline, reason=data["reason"])
        return _deadline_answer(request, deadline)


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
        responses={200: ReportSerializer, **errors(400, 401, 403, 404, 409, missing="report")},
        examples=[OpenApiExample("A question", request_only=True, value={
            "reason": "How many impacts did you count yourself, and from where?"})],
    )
    def post(self, request, pk: int):
        report = report_get_for(request.user, pk)
        if report is None:
            raise NotFound("No such report.")
        data = valid(ReportReturnSerializer, request.data)
        report = services.report_return(actor=request.user, report=report, reason=data["reason"])
        return Response(ReportSerializer(report).data)
