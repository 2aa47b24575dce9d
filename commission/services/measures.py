"""Corrective measures: proposed by members after an attribution, adopted or
rejected by the chair, and followed to compliance."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Party
from accounts.roles import CHAIR, MEMBER
from audit.services import audit_record
from commission.models import (
    UNSETTLED_DEADLINE,
    Case,
    Compliance,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    MeasureKind,
    MeasureStatus,
)
from commission.selectors import compliance_refusal, measure_decide_refusal, measure_propose_refusal
from commission.services.base import chairs, future, iso, locked_case, require, text
from commission.services.deadlines import deadline_create, deadline_settle
from commission.services.notify import members, notify_about


def measure_propose(*, actor, case: Case, kind: str, addressee: str, description: str,
                    compliance_due_at: datetime | None = None) -> Measure:
    require(actor, MEMBER, what=gettext_noop("propose measures"))
    errors = {}
    if kind not in MeasureKind.values:
        errors["kind"] = [_("Must be one of %(choices)s.") % {"choices": ", ".join(MeasureKind.values)}]
    party = Party.objects.filter(code=addressee).first() if isinstance(addressee, str) else None
    if party is None:
        errors["addressee"] = [_("Must be a party code.")]
    if errors:
        raise ValidationError(errors)
    description = text(description, field="description")
    now = timezone.now()
    if compliance_due_at is not None:
        compliance_due_at = future(compliance_due_at, field="compliance_due_at", now=now)
    with transaction.atomic():
        case = locked_case(case.pk)
        refusal = measure_propose_refusal(case)
        if refusal is not None:
            raise refusal
        measure = Measure.objects.create(case=case, kind=kind, addressee=party, description=description,
                                         compliance_due_at=compliance_due_at, proposed_by=actor)
        audit_record(actor=actor, action="measure.proposed", object_type="measure", object_id=measure.pk,
                     after={"case": case.reference, "kind": kind, "addressee": party.code,
                            "description": description, "compliance_due_at": iso(compliance_due_at)})
        notify_about(case, recipients=chairs(), kind="measure_proposed", key=f"measure:{measure.pk}:proposed",
                     params={"measure": measure.pk, "measure_kind": kind, "addressee": party.code,
                             "proposer": actor.get_username()})
    return measure


def measure_decide(*, actor, measure: Measure, adopt: bool, reason: str) -> Measure:
    require(actor, CHAIR, what=gettext_noop("adopt or reject measures"))
    reason = text(reason, field="reason")
    now = timezone.now()
    with transaction.atomic():
        case = locked_case(measure.case_id)
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        refusal = measure_decide_refusal(case, measure)
        if refusal is not None:
            raise refusal
        measure.status = MeasureStatus.ADOPTED if adopt else MeasureStatus.REJECTED
        measure.decided_by = actor
        measure.decided_at = now
        measure.decision_reason = reason
        if adopt:
            measure.compliance = Compliance.PENDING
        measure.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "compliance"])
        audit_record(actor=actor, action=f"measure.{measure.status}", object_type="measure", object_id=measure.pk,
                     before={"status": MeasureStatus.PROPOSED},
                     after={"case": case.reference, "status": measure.status, "compliance": measure.compliance},
                     reason=reason)
        if adopt and measure.compliance_due_at:
            due = measure.compliance_due_at if measure.compliance_due_at > now else now
            deadline_create(case=case, kind=DeadlineKind.COMPLIANCE, due_at=due, actor=actor, measure=measure)
        # Members, and the addressed party's own delegation where it has
        # people here: a measure addressed to them is theirs to know of.
        addressed = measure.addressee.delegation
        told = [*members(), *(addressed.users.filter(is_active=True) if addressed is not None else [])]
        notify_about(case, recipients=told, kind=f"measure_{measure.status}",
                     key=f"measure:{measure.pk}:{measure.status}",
                     params={"measure": measure.pk, "measure_kind": measure.kind, "addressee": measure.addressee.code,
                             "compliance_due_at": iso(measure.compliance_due_at) if adopt else None})
    return measure


def measure_compliance_record(*, actor, measure: Measure, compliance: str, note: str) -> Measure:
    require(actor, CHAIR, what=gettext_noop("record compliance"))
    if compliance not in (Compliance.COMPLIED, Compliance.NOT_COMPLIED):
        raise ValidationError({"compliance": [_("Must be complied or not_complied.")]})
    note = text(note, field="note")
    now = timezone.now()
    with transaction.atomic():
        case = locked_case(measure.case_id)
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        refusal = compliance_refusal(measure)
        if refusal is not None:
            raise refusal
        before = {"compliance": measure.compliance}
        measure.compliance = compliance
        measure.compliance_note = note
        measure.compliance_recorded_at = now
        measure.save(update_fields=["compliance", "compliance_note", "compliance_recorded_at"])
        audit_record(actor=actor, action="measure.compliance_recorded", object_type="measure",
                     object_id=measure.pk, before=before,
                     after={"case": case.reference, "compliance": compliance, "note": note})
        deadline = Deadline.objects.select_for_update().filter(measure=measure, status__in=UNSETTLED_DEADLINE).first()
        if deadline is not None:
            deadline_settle(deadline, case=case, status=DeadlineStatus.MET, actor=actor, now=now)
    return measure
