"""Cases and triage, at the service level: who may open a case, from which
reports, how reports are linked and detached, and what the trail records."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import trail_seal, trail_verify
from commission import selectors, services
from commission.models import CaseReport, Deadline
from config.errors import Conflict, Forbidden

pytestmark = pytest.mark.django_db


def actions(object_type, object_id):
    return list(AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id))
                .order_by("id").values_list("action", flat=True))


def test_a_verifier_opens_a_case_from_submitted_reports(people, submitted, settings):
    reports = [submitted(people["monitor"]), submitted(people["monitor2"])]
    before = timezone.now()
    case = services.case_open(actor=people["verifier"], title="  Shelling of Orikhiv ", reports=reports)
    assert re.fullmatch(rf"CASE-{case.created_at:%Y}-{case.pk:06d}", case.reference)
    assert case.stage == "verification" and case.title == "Shelling of Orikhiv"
    assert case.verifier == people["verifier"] and case.opened_by == people["verifier"]
    assert list(selectors.case_reports(case)) == reports
    deadline = Deadline.objects.get(case=case)
    assert deadline.kind == "verification" and deadline.status == "pending"
    assert before + settings.DEADLINE_VERIFICATION <= deadline.due_at <= timezone.now() + settings.DEADLINE_VERIFICATION


def test_the_chair_may_open_a_case_too_and_no_verifier_is_assigned(people, submitted):
    case = services.case_open(actor=people["chair"], title="Drone strike", reports=[submitted(people["monitor"])])
    assert case.opened_by == people["chair"] and case.verifier is None


@pytest.mark.parametrize("who", ["monitor", "member1", "auditor", "outsider"])
def test_only_verifiers_and_the_chair_open_cases(people, submitted, who):
    report = submitted(people["monitor"])
    with pytest.raises(Forbidden):
        services.case_open(actor=people[who], title="Not mine to open", reports=[report])
    assert not CaseReport.objects.exists()


def test_opening_a_case_writes_its_events(people, submitted):
    reports = [submitted(people["monitor"]), submitted(people["monitor"])]
    case = services.case_open(actor=people["verifier"], title="Two reports", reports=reports)
    assert actions("case", case.pk) == ["case.opened", "case.report_linked", "case.report_linked"]
    opened = AuditEvent.objects.get(action="case.opened")
    assert opened.actor == people["verifier"]
    assert opened.after["reference"] == case.reference
    assert opened.after["reports"] == [r.reference for r in reports]
    deadline = Deadline.objects.get(case=case)
    assert actions("deadline", deadline.pk) == ["deadline.set"]
    trail_seal()
    assert trail_verify().ok


def test_a_draft_cannot_be_triaged(people, submitted):
    draft = submitted(people["monitor"], status="draft")
    with pytest.raises(ValidationError) as err:
        services.case_open(actor=people["verifier"], title="From a draft", reports=[draft])
    assert "reports" in err.value.message_dict
    # Answered like an unknown id: the verifier does not learn that a draft exists.
    assert draft.reference not in str(err.value.message_dict)
    assert not CaseReport.objects.exists()


@pytest.mark.parametrize("reports", [[], [987654]])
def test_a_case_needs_existing_reports(people, reports):
    with pytest.raises(ValidationError) as err:
        services.case_open(actor=people["verifier"], title="Nothing", reports=reports)
    assert "reports" in err.value.message_dict


def test_a_title_is_required(people, submitted):
    with pytest.raises(ValidationError) as err:
        services.case_open(actor=people["verifier"], title="   ", reports=[submitted(people["monitor"])])
    assert "title" in err.value.message_dict


def test_a_report_belongs_to_at_most_one_case(people, submitted):
    report = submitted(people["monitor"])
    first = services.case_open(actor=people["verifier"], title="First", reports=[report])
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as err:
        services.case_open(actor=people["verifier"], title="Second", reports=[report, submitted(people["monitor"])])
    assert err.value.status_code == 409 and first.reference in err.value.message
    # Nothing of the refused case is half-stored.
    assert CaseReport.objects.count() == 1 and AuditEvent.objects.count() == events + 1  # + the new report's event
    assert selectors.case_of_report(report) == first


def test_the_database_itself_refuses_a_second_live_link(people, submitted):
    report = submitted(people["monitor"])
    services.case_open(actor=people["verifier"], title="First", reports=[report])
    other = services.case_open(actor=people["verifier"], title="Other", reports=[submitted(people["monitor"])])
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseReport.objects.create(case=other, report=report, linked_by=people["verifier"])


def test_reports_are_linked_later_with_an_event_each(people, submitted):
    case = services.case_open(actor=people["verifier"], title="Grows", reports=[submitted(people["monitor"])])
    later = [submitted(people["monitor2"]), submitted(people["monitor2"])]
    services.case_link_reports(actor=people["verifier"], case=case, reports=[r.pk for r in later])
    assert selectors.case_reports(case).count() == 3
    linked = AuditEvent.objects.filter(action="case.report_linked", object_id=str(case.pk)).order_by("id")
    assert [e.after["report"] for e in linked][1:] == [r.reference for r in later]


def test_linking_a_report_already_in_another_case_is_a_conflict(people, submitted):
    taken = submitted(people["monitor"])
    services.case_open(actor=people["verifier"], title="Has it", reports=[taken])
    case = services.case_open(actor=people["verifier"], title="Wants it", reports=[submitted(people["monitor"])])
    with pytest.raises(Conflict):
        services.case_link_reports(actor=people["verifier"], case=case, reports=[taken])
    assert selectors.case_reports(case).count() == 1


def test_reports_are_linked_only_during_verification(people, submitted, case_in):
    case = case_in("attribution")
    with pytest.raises(Conflict):
        services.case_link_reports(actor=people["verifier"], case=case, reports=[submitted(people["monitor"])])


@pytest.mark.parametrize("who", ["monitor", "member1", "auditor"])
def test_only_verifiers_and_the_chair_link_reports(people, submitted, case_in, who):
    case = case_in("verification")
    with pytest.raises(Forbidden):
        services.case_link_reports(actor=people[who], case=case, reports=[submitted(people["monitor"])])


def test_a_wrongly_linked_report_is_detached_with_a_reason(people, submitted):
    keep, wrong = submitted(people["monitor"]), submitted(people["monitor"])
    case = services.case_open(actor=people["verifier"], title="Mixed up", reports=[keep, wrong])
    services.case_detach_report(actor=people["chair"], case=case, report=wrong, reason="Different town.")
    assert list(selectors.case_reports(case)) == [keep]
    link = CaseReport.objects.get(report=wrong)
    assert link.detached_by == people["chair"] and link.detach_reason == "Different town." and link.detached_at
    event = AuditEvent.objects.get(action="case.report_detached")
    assert event.reason == "Different town." and event.before["report"] == wrong.reference
    # Once detached, the report is free for the right case.
    right = services.case_open(actor=people["verifier"], title="The right one", reports=[wrong])
    assert selectors.case_of_report(wrong) == right
    assert len(selectors.case_links(case)) == 2  # the detached link is kept, with who/when/why


def test_detaching_needs_a_reason(people, submitted):
    reports = [submitted(people["monitor"]), submitted(people["monitor"])]
    case = services.case_open(actor=people["verifier"], title="Two", reports=reports)
    with pytest.raises(ValidationError) as err:
        services.case_detach_report(actor=people["verifier"], case=case, report=reports[1], reason=" ")
    assert "reason" in err.value.message_dict
    assert selectors.case_reports(case).count() == 2


def test_the_last_report_cannot_be_detached(people, submitted):
    report = submitted(people["monitor"])
    case = services.case_open(actor=people["verifier"], title="One", reports=[report])
    with pytest.raises(Conflict) as err:
        services.case_detach_report(actor=people["verifier"], case=case, report=report, reason="Wrong case.")
    assert err.value.code == "last_report"
    assert selectors.case_of_report(report) == case


def test_detaching_a_report_that_is_not_linked_is_refused(people, submitted, case_in):
    case = case_in("verification", reports=2)
    with pytest.raises(ValidationError):
        services.case_detach_report(actor=people["verifier"], case=case, report=submitted(people["monitor"]),
                                    reason="Never was here.")


@pytest.mark.parametrize("who", ["monitor", "member1", "auditor"])
def test_only_verifiers_and_the_chair_detach(people, case_in, who):
    case = case_in("verification", reports=2)
    report = selectors.case_reports(case).first()
    with pytest.raises(Forbidden):
        services.case_detach_report(actor=people[who], case=case, report=report, reason="Not mine.")


def test_the_triage_inbox_holds_submitted_reports_not_in_a_case(people, submitted):
    draft = submitted(people["monitor"], status="draft")
    free, taken = submitted(people["monitor"]), submitted(people["monitor"])
    services.case_open(actor=people["verifier"], title="Taken", reports=[taken])
    inbox = list(selectors.inbox_reports(people["verifier"]))
    assert free in inbox and taken not in inbox and draft not in inbox
    assert list(selectors.inbox_reports(people["member1"])) == []


def test_cases_are_read_by_the_commission_not_by_monitors(people, case_in):
    case = case_in("verification")
    for who in ("verifier", "chair", "member1", "auditor"):
        assert selectors.case_get_for(people[who], case.pk) == case
    for who in ("monitor", "outsider"):
        assert selectors.case_get_for(people[who], case.pk) is None
        assert not selectors.case_list_for(people[who]).exists()
