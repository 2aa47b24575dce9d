"""Verification: an outcome with findings; confirmed moves the case on to
attribution, the other outcomes close it with that outcome."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from commission import services
from commission.models import Deadline
from config.errors import Conflict, Forbidden

pytestmark = pytest.mark.django_db

FINDINGS = "Craters and fragments match 152 mm rounds fired from the south-east."


def test_confirmed_moves_the_case_to_attribution(people, case_in):
    case = case_in("verification")
    case = services.verification_record(actor=people["verifier"], case=case, outcome="confirmed",
                                        findings=FINDINGS)
    case.refresh_from_db()
    assert case.stage == "attribution" and case.verification_outcome == "confirmed"
    assert case.findings == FINDINGS and case.verified_by == people["verifier"] and case.verified_at
    assert case.outcome == "" and case.closed_at is None
    event = AuditEvent.objects.get(action="verification.recorded")
    assert event.after == {"outcome": "confirmed", "findings": FINDINGS, "stage": "attribution"}
    assert event.before == {"stage": "verification"}
    assert not AuditEvent.objects.filter(action="case.closed").exists()


@pytest.mark.parametrize("outcome", ["not_confirmed", "unfounded"])
def test_the_other_outcomes_close_the_case_with_that_outcome(people, case_in, outcome):
    case = case_in("verification")
    services.verification_record(actor=people["verifier"], case=case, outcome=outcome, findings=FINDINGS)
    case.refresh_from_db()
    assert case.stage == "closed" and case.outcome == outcome and case.closed_at
    closed = AuditEvent.objects.get(action="case.closed", object_id=str(case.pk))
    assert closed.after == {"stage": "closed", "outcome": outcome}


@pytest.mark.parametrize("outcome", ["confirmed", "unfounded"])
def test_recording_in_time_meets_the_verification_deadline(people, case_in, outcome):
    case = case_in("verification")
    services.verification_record(actor=people["verifier"], case=case, outcome=outcome, findings=FINDINGS)
    deadline = Deadline.objects.get(case=case, kind="verification")
    assert deadline.status == "met" and deadline.settled_at
    assert AuditEvent.objects.filter(action="deadline.met", object_id=str(deadline.pk)).count() == 1


@pytest.mark.parametrize("findings", ["", "   ", None])
def test_findings_are_required(people, case_in, findings):
    case = case_in("verification")
    with pytest.raises(ValidationError) as err:
        services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings=findings)
    assert "findings" in err.value.message_dict
    case.refresh_from_db()
    assert case.stage == "verification"


@pytest.mark.parametrize("outcome", ["", "maybe", "CONFIRMED", None])
def test_the_outcome_must_be_one_of_three(people, case_in, outcome):
    case = case_in("verification")
    with pytest.raises(ValidationError) as err:
        services.verification_record(actor=people["verifier"], case=case, outcome=outcome, findings=FINDINGS)
    assert "outcome" in err.value.message_dict


def test_a_second_record_is_a_conflict(people, case_in):
    case = case_in("verification")
    services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings=FINDINGS)
    with pytest.raises(Conflict) as err:
        services.verification_record(actor=people["chair"], case=case, outcome="unfounded", findings="Changed mind")
    assert err.value.status_code == 409
    case.refresh_from_db()
    assert case.stage == "attribution" and case.verification_outcome == "confirmed"
    assert AuditEvent.objects.filter(action="verification.recorded").count() == 1


def test_the_chair_may_record_findings(people, case_in):
    case = services.verification_record(actor=people["chair"], case=case_in("verification"),
                                        outcome="confirmed", findings=FINDINGS)
    assert case.verified_by == people["chair"]


@pytest.mark.parametrize("who", ["monitor", "member1", "auditor", "outsider"])
def test_only_verifiers_and_the_chair_record_findings(people, case_in, who):
    case = case_in("verification")
    with pytest.raises(Forbidden):
        services.verification_record(actor=people[who], case=case, outcome="confirmed", findings=FINDINGS)
    case.refresh_from_db()
    assert case.stage == "verification"
