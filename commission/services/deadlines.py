"""Deadlines as rows: set with a stage, settled when the stage ends (or by the
sweep, commission.services.sweep), extended by the chair with a reason.

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
    OPEN_DEADLINE,
    Case,
    Compliance,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    Round,
)
from commission.selectors import extension_refusal
from commission.services.base import future, iso, locked_case, require, text


def deadline_create(*, case: Case, kind: str, due_at: datetime, actor, round: Round | None = None,
                    measure: Measure | None = None) -> Deadline:
    deadline = Deadline.objects.create(case=case, kind=kind, due_at=due_at, round=round, measure=measure)
    audit_record(actor=actor, action="deadline.set", object_type="deadline", object_id=deadline.pk,
                 after={"case": case.reference, "kind": kind, "due_at": iso(due_at)})
    return deadline


def deadline_settle(deadline: Deadline, *, case: Case, status: str, actor, now: datetime, reason: str = "") -> None:
    """Mark an open deadline met or missed (the caller holds the locks)."""
    before = {"status": deadline.status, "due_at": iso(deadline.due_at)}
    deadline.settle(status, now=now)
    audit_record(actor=actor, action=f"deadline.{status}", object_type="deadline", object_id=deadline.pk,
                 before=before, after={"case": case.reference, "kind": deadline.kind, "status": status},
                 reason=reason)


def settle_open_deadlines(case: Case, *, kinds, actor, now: datetime) -> None:
    """The stage these deadlines guard has ended in time: they are met."""
    for deadline in Deadline.objects.select_for_update().filter(case=case, kind__in=kinds, status__in=OPEN_DEADLINE):
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
