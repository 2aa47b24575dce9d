"""Deadlines as rows: set with a stage, settled when the stage ends (or by the
sweep, commission.services.sweep), extended, paused and resumed by the chair
with a reason.

Lock order, everywhere in the commission's services: case, then round,
deadline, measure. One order for every transition means two transitions
never deadlock.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import CHAIR
from audit.services import audit_record
from commission.models import (
    UNSETTLED_DEADLINE,
    Case,
    Compliance,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    Round,
)
from commission.selectors import extension_refusal, pause_refusal, resume_refusal
from commission.services.base import future, iso, locked_case, require, text


def deadline_create(*, case: Case, kind: str, due_at: datetime, actor, round: Round | None = None,
                    measure: Measure | None = None) -> Deadline:
    deadline = Deadline.objects.create(case=case, kind=kind, due_at=due_at, round=round, measure=measure)
    audit_record(actor=actor, action="deadline.set", object_type="deadline", object_id=deadline.pk,
                 after={"case": case.reference, "kind": kind, "due_at": iso(due_at)})
    return deadline


def settle_event(deadline: Deadline, *, case: Case, status: str, reason: str = "") -> dict:
    """The audit event of settling `deadline` (as it is before the change):
    audit_record's arguments, shared by deadline_settle and the sweep's
    batched settle so that both write the same event."""
    return {"action": f"deadline.{status}", "object_type": "deadline", "object_id": deadline.pk,
            "before": {"status": deadline.status, "due_at": iso(deadline.due_at)},
            "after": {"case": case.reference, "kind": deadline.kind, "status": status}, "reason": reason}


def deadline_settle(deadline: Deadline, *, case: Case, status: str, actor, now: datetime, reason: str = "") -> None:
    """Mark an open deadline met or missed (the caller holds the locks)."""
    event = settle_event(deadline, case=case, status=status, reason=reason)
    deadline.settle(status, now=now)
    audit_record(actor=actor, **event)


def settle_open_deadlines(case: Case, *, kinds, actor, now: datetime) -> None:
    """The stage these deadlines guard has ended in time: they are met."""
    for deadline in Deadline.objects.select_for_update().filter(case=case, kind__in=kinds, status__in=UNSETTLED_DEADLINE):
        deadline_settle(deadline, case=case, status=DeadlineStatus.MET, actor=actor, now=now)


def deadline_extend(*, actor, deadline: Deadline, due_at: datetime, reason: str,
                    now: datetime | None = None) -> Deadline:
    """The chair moves a deadline later, with a reason. A missed deadline may
    be extended too (the stage gets a second chance and fires again)."""
    require(actor, CHAIR, what=gettext_noop("extend deadlines"))
    reason = text(reason, field="reason")
    given = now
    now = now or timezone.now()
    due_at = future(due_at, field="due_at", now=now)
    with transaction.atomic():
        case = locked_case(deadline.case_id)
        rnd = (Round.objects.select_for_update().get(pk=deadline.round_id)
               if deadline.kind == DeadlineKind.VOTE else None)
        deadline = Deadline.objects.select_for_update().get(pk=deadline.pk)
        refusal = extension_refusal(deadline, case=case, round=rnd, now=given or timezone.now())
        if refusal is not None:
            raise refusal
        if due_at <= deadline.due_at:
            raise ValidationError({"due_at": [_("An extension must be later than the current due time.")]})
        if rnd is not None:
            rnd.closes_at = due_at  # the vote deadline and its round's closing time move together
            rnd.save(update_fields=["closes_at"])
        if deadline.kind == DeadlineKind.COMPLIANCE:
            measure = Measure.objects.select_for_update().get(pk=deadline.measure_id)
            measure.compliance = Compliance.PENDING  # an overdue measure gets its new date
            measure.compliance_due_at = due_at
            measure.save(update_fields=["compliance", "compliance_due_at"])
        before = {"due_at": iso(deadline.due_at), "status": deadline.status}
        deadline.extend_to(due_at)
        audit_record(actor=actor, action="deadline.extended", object_type="deadline", object_id=deadline.pk,
                     before=before, after={"case": case.reference, "kind": deadline.kind, "due_at": iso(due_at),
                                           "status": deadline.status}, reason=reason)
    return deadline


def _locked_deadline(deadline: Deadline) -> tuple[Case, Round | None, Deadline]:
    """The case, the vote's round, then the deadline: the lock order above."""
    case = locked_case(deadline.case_id)
    rnd = Round.objects.select_for_update().get(pk=deadline.round_id) if deadline.round_id else None
    return case, rnd, Deadline.objects.select_for_update().get(pk=deadline.pk)


def deadline_pause(*, actor, deadline: Deadline, reason: str, now: datetime | None = None) -> Deadline:
    """The chair stops a running deadline's clock, with a reason (e.g.
    monitors denied access to the site). While paused, the sweep neither
    fires nor reminds it; a vote's round stays open for ballots. Pausing a
    paused deadline is a 409, like extending a met one."""
    require(actor, CHAIR, what=gettext_noop("pause deadlines"))
    reason = text(reason, field="reason")
    with transaction.atomic():
        case, rnd, deadline = _locked_deadline(deadline)
        now = now or timezone.now()  # after the locks: the time the clock stops
        refusal = pause_refusal(deadline, case=case, round=rnd, now=now)
        if refusal is not None:
            raise refusal
        before = {"status": deadline.status, "due_at": iso(deadline.due_at)}
        deadline.pause(now=now, reason=reason)
        audit_record(actor=actor, action="deadline.paused", object_type="deadline", object_id=deadline.pk,
                     before=before, after={"case": case.reference, "kind": deadline.kind, "status": deadline.status,
                                           "due_at": iso(deadline.due_at), "paused_at": iso(now)},
                     reason=reason)
    return deadline


def deadline_resume(*, actor, deadline: Deadline, reason: str, now: datetime | None = None) -> Deadline:
    """The chair restarts a paused clock, with a reason: the due time moves
    later by exactly the time paused, and what follows the deadline moves
    with it (a vote's closing time, a measure's compliance date)."""
    require(actor, CHAIR, what=gettext_noop("resume deadlines"))
    reason = text(reason, field="reason")
    with transaction.atomic():
        case, rnd, deadline = _locked_deadline(deadline)
        now = now or timezone.now()
        refusal = resume_refusal(deadline)
        if refusal is not None:
            raise refusal
        paused_at = deadline.paused_at
        before = {"status": deadline.status, "due_at": iso(deadline.due_at), "paused_at": iso(paused_at)}
        deadline.resume(now=now)
        if rnd is not None:
            rnd.closes_at = deadline.due_at  # the vote deadline and its round's closing time move together
            rnd.save(update_fields=["closes_at"])
        if deadline.kind == DeadlineKind.COMPLIANCE and deadline.measure_id is not None:
            measure = Measure.objects.select_for_update().get(pk=deadline.measure_id)
            measure.compliance_due_at = deadline.due_at
            measure.save(update_fields=["compliance_due_at"])
        audit_record(actor=actor, action="deadline.resumed", object_type="deadline", object_id=deadline.pk,
                     before=before, after={"case": case.reference, "kind": deadline.kind, "status": deadline.status,
                                           "due_at": iso(deadline.due_at),
                                           "paused_seconds": (now - paused_at).total_seconds()},
                     reason=reason)
    return deadline
