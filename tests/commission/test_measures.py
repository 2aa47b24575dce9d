"""Corrective measures: proposed by members in the measures stage, adopted or
rejected by the chair with a reason, followed up for compliance (overdue at
the compliance date escalates), and the case closed with a summary."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import trail_seal, trail_verify
from commission import services
from commission.models import Deadline
from config.errors import Conflict, Forbidden
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def propose(people, case, who="member1", **fields):
    data = {"kind": "sanctions", "addressee": "RU", "description": "Targeted sanctions on the brigade.",
            "compliance_due_at": timezone.now() + timedelta(days=30)}
    data.update(fields)
    return services.measure_propose(actor=people[who], case=case, **data)


def adopted(people, case, **fields):
    measure = propose(people, case, **fields)
    return services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")


@pytest.fixture
def case(case_in):
    return case_in("measures")


def test_a_member_proposes_a_measure(people, case):
    measure = propose(people, case, kind="diplomatic_action", addressee="RU")
    assert measure.status == "proposed" and measure.compliance == "" and measure.proposed_by == people["member1"]
    event = AuditEvent.objects.get(action="measure.proposed")
    assert event.after["kind"] == "diplomatic_action" and event.after["addressee"] == "RU"
    assert not Deadline.objects.filter(measure=measure).exists()  # followed up only once adopted


@pytest.mark.parametrize("who", ["chair", "verifier", "monitor", "auditor"])
def test_only_members_propose_measures(people, case, who):
    with pytest.raises(Forbidden):
        propose(people, case, who=who)


@pytest.mark.parametrize("stage", ["verification", "attribution"])
def test_measures_are_proposed_only_in_the_measures_stage(people, case_in, stage):
    with pytest.raises(Conflict):
        propose(people, case_in(stage))


@pytest.mark.parametrize(("field", "fields"), [
    ("kind", {"kind": "bombing"}),
    ("addressee", {"addressee": "XX"}),
    ("addressee", {"addressee": None}),
    ("description", {"description": "  "}),
    ("compliance_due_at", {"compliance_due_at": timezone.now() - timedelta(days=1)}),
    ("compliance_due_at", {"compliance_due_at": "next week"}),
])
def test_a_proposal_is_validated(people, case, field, fields):
    with pytest.raises(ValidationError) as err:
        propose(people, case, **fields)
    assert field in err.value.message_dict


def test_the_chair_adopts_with_a_reason_and_compliance_is_followed(people, case):
    measure = propose(people, case)
    measure = services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    assert measure.status == "adopted" and measure.compliance == "pending"
    assert measure.decided_by == people["chair"] and measure.decision_reason == "Proportionate."
    event = AuditEvent.objects.get(action="measure.adopted")
    assert event.reason == "Proportionate." and event.after["compliance"] == "pending"
    deadline = Deadline.objects.get(measure=measure)
    assert deadline.kind == "compliance" and deadline.due_at == measure.compliance_due_at


def test_the_chair_rejects_with_a_reason(people, case):
    measure = services.measure_decide(actor=people["chair"], measure=propose(people, case), adopt=False,
                                      reason="Disproportionate.")
    assert measure.status == "rejected" and measure.compliance == ""
    assert AuditEvent.objects.get(action="measure.rejected").reason == "Disproportionate."
    assert not Deadline.objects.filter(measure=measure).exists()


def test_a_decision_needs_a_reason_and_is_taken_once(people, case):
    measure = propose(people, case)
    with pytest.raises(ValidationError):
        services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="")
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Yes.")
    with pytest.raises(Conflict):
        services.measure_decide(actor=people["chair"], measure=measure, adopt=False, reason="On second thought.")


@pytest.mark.parametrize("who", ["member1", "verifier", "auditor"])
def test_only_the_chair_decides_measures(people, case, who):
    with pytest.raises(Forbidden):
        services.measure_decide(actor=people[who], measure=propose(people, case), adopt=True, reason="Mine.")


@pytest.mark.parametrize("compliance", ["complied", "not_complied"])
def test_compliance_is_recorded_with_a_note_and_meets_the_deadline(people, case, compliance):
    measure = adopted(people, case)
    measure = services.measure_compliance_record(actor=people["chair"], measure=measure, compliance=compliance,
                                                 note="Observed by the monitors.")
    assert measure.compliance == compliance and measure.compliance_note == "Observed by the monitors."
    assert Deadline.objects.get(measure=measure).status == "met"
    with pytest.raises(Conflict):
        services.measure_compliance_record(actor=people["chair"], measure=measure, compliance="complied",
                                           note="Again.")


def test_compliance_is_validated(people, case):
    measure = adopted(people, case)
    for compliance, note in (("overdue", "x"), ("pending", "x"), ("complied", "")):
        with pytest.raises(ValidationError):
            services.measure_compliance_record(actor=people["chair"], measure=measure, compliance=compliance,
                                               note=note)
    with pytest.raises(Conflict):
        services.measure_compliance_record(actor=people["chair"], measure=propose(people, case),
                                           compliance="complied", note="Not adopted yet.")
    with pytest.raises(Forbidden):
        services.measure_compliance_record(actor=people["member1"], measure=measure, compliance="complied",
                                           note="Not mine.")


def test_a_pending_measure_becomes_overdue_at_its_date_and_escalates(people, case):
    measure = adopted(people, case)
    deadline = Deadline.objects.get(measure=measure)
    assert not services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at - timedelta(seconds=1))
    assert services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at)
    assert not services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at + timedelta(hours=1))
    measure.refresh_from_db()
    deadline.refresh_from_db()
    case.refresh_from_db()
    assert measure.compliance == "overdue" and deadline.status == "missed" and case.flagged
    overdue = AuditEvent.objects.get(action="measure.overdue")
    assert overdue.before == {"compliance": "pending"} and overdue.actor is None
    assert AuditEvent.objects.filter(action="deadline.missed", object_id=str(deadline.pk)).count() == 1
    note = Notification.objects.get(kind="deadline_missed")
    assert note.recipient == people["chair"] and (note.case_id, note.case_reference) == (case.pk, case.reference)
    # Overdue is still answerable: the chair records what happened after all.
    services.measure_compliance_record(actor=people["chair"], measure=measure, compliance="not_complied",
                                       note="No change on the ground.")
    measure.refresh_from_db()
    assert measure.compliance == "not_complied"
    trail_seal()
    assert trail_verify().ok


def test_a_measure_recorded_in_time_is_not_overdue(people, case):
    measure = adopted(people, case)
    services.measure_compliance_record(actor=people["chair"], measure=measure, compliance="complied", note="Done.")
    deadline = Deadline.objects.get(measure=measure)
    assert not services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at + timedelta(days=1))
    assert not Notification.objects.filter(kind="deadline_missed").exists()


def test_extending_a_missed_compliance_deadline_puts_the_measure_back_to_pending(people, case):
    measure = adopted(people, case)
    deadline = Deadline.objects.get(measure=measure)
    services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at)
    later = deadline.due_at + timedelta(days=10)
    deadline = services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=later,
                                        reason="The addressee asked for ten more days.")
    measure.refresh_from_db()
    assert deadline.status == "extended" and deadline.due_at == later
    assert measure.compliance == "pending" and measure.compliance_due_at == later
    # At the new date it fires again, and escalates again.
    assert services.deadline_fire(deadline_id=deadline.pk, now=later)
    measure.refresh_from_db()
    assert measure.compliance == "overdue"
    assert Notification.objects.filter(kind="deadline_missed", recipient=people["chair"]).count() == 2


def test_the_chair_closes_the_case_with_a_summary(people, case):
    adopted(people, case)
    with pytest.raises(ValidationError):
        services.case_close(actor=people["chair"], case=case, summary=" ")
    with pytest.raises(Forbidden):
        services.case_close(actor=people["member1"], case=case, summary="Done.")
    services.case_close(actor=people["chair"], case=case, summary="Attributed to RU; sanctions adopted.")
    case.refresh_from_db()
    assert case.stage == "closed" and case.summary == "Attributed to RU; sanctions adopted."
    assert case.closed_by == people["chair"]
    assert Deadline.objects.get(case=case, kind="measures").status == "met"
    assert Deadline.objects.get(case=case, kind="compliance").status == "pending"  # still followed
    closed = AuditEvent.objects.get(action="case.closed", object_id=str(case.pk))
    assert closed.after["summary"] == case.summary
    with pytest.raises(Conflict):
        services.case_close(actor=people["chair"], case=case, summary="Twice.")
    with pytest.raises(Conflict):
        propose(people, case)


def test_a_case_does_not_close_while_a_round_is_open(people, case_in):
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)
    with pytest.raises(Conflict) as err:
        services.case_close(actor=people["chair"], case=case, summary="Too early.")
    assert err.value.code == "round_open"
    case.refresh_from_db()
    assert case.stage == "attribution"


def test_a_case_does_not_close_while_a_measure_waits_for_a_decision(people, case):
    measure = propose(people, case)
    with pytest.raises(Conflict) as err:
        services.case_close(actor=people["chair"], case=case, summary="Too early.")
    assert err.value.code == "measures_pending"
    services.measure_decide(actor=people["chair"], measure=measure, adopt=False, reason="Too broad.")
    services.case_close(actor=people["chair"], case=case, summary="Attributed; no measure adopted.")
    case.refresh_from_db()
    assert (case.stage, case.outcome) == ("closed", "decided")


def test_a_case_in_verification_closes_only_by_its_findings(people, case_in):
    case = case_in("verification")
    with pytest.raises(Conflict) as err:
        services.case_close(actor=people["chair"], case=case, summary="Skipping verification.")
    assert err.value.code == "wrong_stage"
    case.refresh_from_db()
    assert case.stage == "verification"


def test_a_case_in_attribution_closes_only_after_a_round_that_did_not_decide(people, case_in):
    case = case_in("attribution")
    with pytest.raises(Conflict):
        services.case_close(actor=people["chair"], case=case, summary="No vote at all.")
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Radar.")
    services.ballot_cast(actor=people["member2"], round=rnd, choice="UA", rationale="Crater.")
    services.round_close_due(round_id=rnd.pk, now=rnd.closes_at + timedelta(seconds=1))
    rnd.refresh_from_db()
    assert rnd.outcome == "tie"
    services.case_close(actor=people["chair"], case=case, summary="The commission could not attribute it.")
    case.refresh_from_db()
    assert (case.stage, case.outcome, case.flagged) == ("closed", "unresolved", False)
