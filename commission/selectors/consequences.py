"""What an irreversible action would do, said before it is done: closing a
case and deciding a measure. The confirmation page and the API's preview
(GET on the same endpoint) show this, so nobody closes a case or adopts a
measure in one unconsidered click."""

from commission.models import (
    UNSETTLED_DEADLINE,
    Case,
    Compliance,
    Deadline,
    DeadlineKind,
    Measure,
    MeasureStatus,
    Stage,
)
from commission.selectors.actions import close_refusal, measure_decide_refusal

# The deadlines a close settles as met (commission.services.closure uses the
# same tuple, so the preview cannot drift from what the close does).
CLOSE_SETTLES = (DeadlineKind.VERIFICATION, DeadlineKind.MEASURES, DeadlineKind.REPLY)


def case_close_outcome(case: Case) -> str:
    # The chair gives up on a vote that did not decide: the responsibility stays unresolved.
    return "unresolved" if case.stage == Stage.ATTRIBUTION else "decided"


def case_close_preview(case: Case) -> dict:
    refusal = close_refusal(case)
    return {
        "case": case.reference,
        "stage": case.stage,
        "outcome": case_close_outcome(case),
        "allowed": refusal is None,
        "refusal": refusal.message if refusal is not None else None,
        "deadlines_settled": list(Deadline.objects.filter(
            case=case, kind__in=CLOSE_SETTLES, status__in=UNSETTLED_DEADLINE).order_by("due_at", "pk")),
        "measures_followed": list(Measure.objects.select_related("addressee").filter(
            case=case, status=MeasureStatus.ADOPTED, compliance__in=(Compliance.PENDING, Compliance.OVERDUE),
        ).order_by("pk")),
        "irreversible": True,
    }


def measure_decision_preview(measure: Measure, *, adopt: bool) -> dict:
    case = measure.case
    refusal = measure_decide_refusal(case, measure)
    return {
        "measure": measure.pk,
        "case": case.reference,
        "status": MeasureStatus.ADOPTED if adopt else MeasureStatus.REJECTED,
        "allowed": refusal is None,
        "refusal": refusal.message if refusal is not None else None,
        # Adopting starts following compliance, with a deadline when a due date was proposed.
        "compliance_due_at": measure.compliance_due_at if adopt else None,
        "others_pending": Measure.objects.filter(case=case, status=MeasureStatus.PROPOSED).exclude(
            pk=measure.pk).count(),
        "irreversible": True,
    }
