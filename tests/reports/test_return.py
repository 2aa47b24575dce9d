"""Returning a report to its monitor for more information: who may, from
which state, what is written (event, notification, in one transaction), how
the monitor answers (edit, submit again), and what a returned report is
meanwhile (readable as before, not triageable)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from commission import selectors as commission_selectors
from commission import services as commission_services
from config.errors import Conflict, Forbidden
from notifications.kinds import render
from notifications.models import Notification
from reports import services
from reports.models import Report, ReportStatus
from reports.selectors import report_list_for, reports_returned_to

pytestmark = pytest.mark.django_db

QUESTION = "How many impacts did you count yourself, and from where?"


@pytest.fixture
def report(people, file_report):
    return file_report(people["monitor"])


def returned(people, report, who="verifier", reason=QUESTION):
    return commission_services.report_return(actor=people[who], report=report, reason=reason)


# --- Who may return, and from which state ---------------------------------------


@pytest.mark.parametrize("who", ["verifier", "chair"])
def test_a_verifier_or_the_chair_returns_a_submitted_report_with_a_question(people, report, who):
    before = report.submitted_at
    returned(people, report, who)
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert report.returned_reason == QUESTION
    assert report.returned_by == people[who]
    assert report.returned_at is not None
    assert report.submitted_at == before


@pytest.mark.parametrize("who", ["monitor", "monitor2", "member1", "auditor", "outsider"])
def test_nobody_else_may_return_a_report(people, report, who):
    with pytest.raises(Forbidden):
        returned(people, report, who)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert not AuditEvent.objects.filter(action="report.returned").exists()


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_question_is_required(people, report, reason):
    with pytest.raises(ValidationError) as exc:
        returned(people, report, reason=reason)
    assert "reason" in exc.value.message_dict
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert not Notification.objects.exists()


def test_a_draft_cannot_be_returned(people, file_report):
    draft = file_report(people["monitor"], status="draft")
    with pytest.raises(Conflict):
        returned(people, draft)


def test_a_returned_report_cannot_be_returned_again(people, report):
    returned(people, report)
    with pytest.raises(Conflict):
        returned(people, report, "chair", reason="Another question.")
    assert AuditEvent.objects.filter(action="report.returned").count() == 1


def test_a_report_in_a_case_cannot_be_returned(people, report):
    case = commission_services.case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    with pytest.raises(Conflict) as exc:
        returned(people, report)
    assert case.reference in exc.value.message
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_a_report_detached_from_its_case_can_be_returned(people, report, file_report):
    other = file_report(people["monitor"])
    case = commission_services.case_open(actor=people["verifier"], title="Orikhiv", reports=[report, other])
    commission_services.case_detach_report(actor=people["verifier"], case=case, report=report,
                                           reason="A different incident.")
    returned(people, report)
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED


# --- What is written -------------------------------------------------------------------


def test_it_writes_the_event_with_the_question_as_its_reason(people, report):
    returned(people, report)
    event = AuditEvent.objects.get(action="report.returned")
    assert event.object_type == "report" and event.object_id == str(report.pk)
    assert event.actor == people["verifier"]
    assert event.reason == QUESTION
    assert event.before == {"status": "submitted"}
    assert event.after["status"] == "returned"
    assert event.after["reference"] == report.reference


def test_it_notifies_the_author_and_emails_after_commit(people, report, django_capture_on_commit_callbacks,
                                                        mailoutbox):
    from config.celery import app

    # The enqueued send_notifications runs in-process at commit.
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            returned(people, report)
    finally:
        app.conf.task_always_eager = False
    note = Notification.objects.get()
    assert note.recipient == people["monitor"]
    assert note.kind == "report_returned"
    assert note.key.startswith(f"returned:{report.pk}:")
    assert report.reference in render(note)[0]
    assert QUESTION in render(note)[1]
    assert note.emailed_at is not None
    assert [m.to for m in mailoutbox] == [[people["monitor"].email]]


def test_the_event_and_the_notification_commit_together_or_not_at_all(people, report, monkeypatch):
    # A notification row already holding the key the service will use makes
    # its insert fail: the status change and the event must go with it.
    fixed = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(services.timezone, "now", lambda: fixed)
    Notification.objects.create(recipient=people["monitor"], kind="other", subject="x",
                                key=f"returned:{report.pk}:{fixed.isoformat()}")
    with pytest.raises(IntegrityError):
        returned(people, report)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert report.returned_reason == ""
    assert not AuditEvent.objects.filter(action="report.returned").exists()
    assert Notification.objects.count() == 1


def test_a_caller_rolling_back_leaves_nothing(people, report):
    with pytest.raises(RuntimeError), transaction.atomic():
        returned(people, report)
        raise RuntimeError
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action="report.returned").exists()


# --- While returned -----------------------------------------------------------------------


def test_a_returned_report_leaves_the_triage_inbox(people, report):
    assert report in commission_selectors.inbox_reports(people["verifier"])
    returned(people, report)
    assert report not in commission_selectors.inbox_reports(people["verifier"])
    assert report not in commission_selectors.inbox_reports(people["chair"])


def test_a_returned_report_cannot_be_put_in_a_case(people, report, file_report):
    returned(people, report)
    with pytest.raises(ValidationError):
        commission_services.case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    case = commission_services.case_open(actor=people["verifier"], title="Other",
                                         reports=[file_report(people["monitor"])])
    with pytest.raises(ValidationError):
        commission_services.case_link_reports(actor=people["verifier"], case=case, reports=[report])


@pytest.mark.parametrize("who", ["monitor", "verifier", "chair", "member1", "auditor"])
def test_those_who_saw_it_submitted_still_see_it_returned(people, report, who):
    returned(people, report)
    assert report_list_for(people[who]).filter(pk=report.pk).exists()


@pytest.mark.parametrize("who", ["monitor2", "outsider"])
def test_others_still_do_not_see_it(people, report, who):
    returned(people, report)
    assert not report_list_for(people[who]).filter(pk=report.pk).exists()


def test_the_monitor_finds_what_waits_for_their_answer(people, report, file_report):
    file_report(people["monitor"])
    theirs = file_report(people["monitor2"])
    returned(people, report)
    returned(people, theirs)
    assert list(reports_returned_to(people["monitor"])) == [report]


# --- The answer: edit, submit again --------------------------------------------------------


def test_the_author_edits_a_returned_report_and_it_stays_returned(people, report):
    returned(people, report)
    services.report_update(actor=people["monitor"], report=report, data={"description": "Twelve impacts, counted."})
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert report.description == "Twelve impacts, counted."
    assert report.returned_reason == QUESTION
    event = AuditEvent.objects.get(action="report.updated")
    assert event.before == {"description": "Impacts observed."}


def test_submitting_again_clears_the_question_and_writes_the_answer_to_the_trail(people, report):
    returned(people, report)
    services.report_update(actor=people["monitor"], report=report,
                           data={"description": "Twelve impacts, counted from the school roof.", "status": "submitted"})
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert (report.returned_reason, report.returned_by, report.returned_at) == ("", None, None)
    event = AuditEvent.objects.get(action="report.resubmitted")
    assert event.actor == people["monitor"]
    assert event.before["status"] == "returned"
    assert event.before["returned_reason"] == QUESTION
    assert event.before["returned_by"] == "verifier1"
    assert event.after["status"] == "submitted"
    assert event.after["description"] == "Twelve impacts, counted from the school roof."
    assert not AuditEvent.objects.filter(action="report.submitted", object_id=str(report.pk)).exclude(
        before__isnull=True).exists()


def test_submitting_again_brings_it_back_to_triage_and_tells_who_asked(people, report):
    returned(people, report)
    services.report_update(actor=people["monitor"], report=report, data={"status": "submitted"})
    assert report in commission_selectors.inbox_reports(people["verifier"])
    note = Notification.objects.get(kind="report_resubmitted")
    assert note.recipient == people["verifier"]
    assert QUESTION in render(note)[1]
    case = commission_services.case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    assert case.pk


def test_it_can_be_returned_again_after_an_answer(people, report):
    returned(people, report)
    services.report_update(actor=people["monitor"], report=report, data={"status": "submitted"})
    returned(people, report, "chair", reason="And the time?")
    report.refresh_from_db()
    assert report.returned_reason == "And the time?"
    assert AuditEvent.objects.filter(action="report.returned").count() == 2
    assert Notification.objects.filter(kind="report_returned").count() == 2


@pytest.mark.parametrize("who", ["monitor2", "verifier", "chair"])
def test_only_the_author_edits_a_returned_report(people, report, who):
    returned(people, report)
    with pytest.raises(Forbidden):
        services.report_update(actor=people[who], report=report, data={"status": "submitted"})


def test_a_returned_report_does_not_go_back_to_draft(people, report):
    returned(people, report)
    with pytest.raises(ValidationError) as exc:
        services.report_update(actor=people["monitor"], report=report, data={"status": "draft"})
    assert "status" in exc.value.message_dict
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED


def test_the_edit_is_checked_like_a_draft(people, report):
    returned(people, report)
    with pytest.raises(ValidationError):
        services.report_update(actor=people["monitor"], report=report, data={"lat": 123, "status": "submitted"})
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED


def test_a_report_is_never_filed_as_returned(people, parties):
    from django.utils import timezone

    with pytest.raises(ValidationError):
        services.report_create(actor=people["monitor"], data={
            "occurred_at": timezone.now(), "lat": 47.5, "lon": 35.8, "category": "shelling",
            "description": "x", "source_type": "uav", "status": "returned"})
    assert not Report.objects.exists()


# --- The API ---------------------------------------------------------------------------------


PERSONAS = ["monitor", "monitor2", "verifier", "chair", "member1", "auditor", "outsider", None]
EXPECTED = [403, 403, 200, 200, 403, 403, 403, 401]


@pytest.mark.parametrize(("who", "expected"), list(zip(PERSONAS, EXPECTED, strict=True)),
                         ids=[w or "anonymous" for w in PERSONAS])
def test_the_return_endpoints_permission_matrix(api, people, report, who, expected):
    client = api(people[who] if who else None)
    response = client.post(f"/api/v1/reports/{report.pk}/return/", {"reason": QUESTION}, format="json")
    assert response.status_code == expected
    report.refresh_from_db()
    assert (report.status == ReportStatus.RETURNED) == (expected == 200)


def test_the_api_returns_and_shows_the_question(api, people, report):
    response = api(people["verifier"]).post(f"/api/v1/reports/{report.pk}/return/", {"reason": QUESTION},
                                            format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "returned"
    assert body["returned_reason"] == QUESTION
    assert body["returned_at"]
    mine = api(people["monitor"]).get(f"/api/v1/reports/{report.pk}/").json()
    assert (mine["status"], mine["returned_reason"]) == ("returned", QUESTION)
    listed = api(people["monitor"]).get("/api/v1/reports/?status=returned").json()
    assert [r["id"] for r in listed["results"]] == [report.pk]


def test_the_api_answers_404_400_and_409(api, people, report, file_report):
    client = api(people["verifier"])
    assert client.post("/api/v1/reports/999999/return/", {"reason": QUESTION}, format="json").status_code == 404
    draft = file_report(people["monitor"], status="draft")
    assert client.post(f"/api/v1/reports/{draft.pk}/return/", {"reason": QUESTION},
                       format="json").status_code == 404
    response = client.post(f"/api/v1/reports/{report.pk}/return/", {"reason": " "}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert client.post(f"/api/v1/reports/{report.pk}/return/", {}, format="json").status_code == 400
    commission_services.case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    response = client.post(f"/api/v1/reports/{report.pk}/return/", {"reason": QUESTION}, format="json")
    assert response.status_code == 409
    other = file_report(people["monitor"])
    assert client.post(f"/api/v1/reports/{other.pk}/return/", {"reason": QUESTION}, format="json").status_code == 200
    assert client.post(f"/api/v1/reports/{other.pk}/return/", {"reason": QUESTION}, format="json").status_code == 409
    assert AuditEvent.objects.filter(action="report.returned").count() == 1


def test_the_author_answers_through_patch(api, people, report):
    returned(people, report)
    client = api(people["monitor"])
    response = client.patch(f"/api/v1/reports/{report.pk}/", {"description": "Counted twelve."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "returned"
    response = client.patch(f"/api/v1/reports/{report.pk}/", {"status": "submitted"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    assert response.json()["returned_reason"] == ""
    # Once submitted again it is final for its monitor, as any submitted report.
    assert client.patch(f"/api/v1/reports/{report.pk}/", {"description": "x"}, format="json").status_code == 409


@pytest.mark.parametrize("who", ["monitor2", "verifier", "member1"])
def test_nobody_else_patches_a_returned_report(api, people, report, who):
    returned(people, report)
    response = api(people[who]).patch(f"/api/v1/reports/{report.pk}/", {"status": "submitted"}, format="json")
    assert response.status_code in (403, 404)
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED


def test_the_api_does_not_take_returned_as_a_status_from_a_monitor(api, people, report):
    from tests.reports.conftest import body

    response = api(people["monitor"]).post("/api/v1/reports/", body(status="returned"), format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_the_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/reports/{id}/return/"]["post"]
    assert operation["operationId"] == "reports_return"
    assert {"200", "400", "401", "403", "404", "409"} <= set(operation["responses"])
    report_schema = schema["components"]["schemas"]["Report"]["properties"]
    assert {"returned_reason", "returned_at"} <= set(report_schema)
    assert schema["components"]["schemas"]["StatusEnum"]["enum"] == ["draft", "submitted", "returned"]


# --- Races (PostgreSQL: concurrent transactions) ----------------------------------------------


def _race(first, second):
    """Run `first` in a transaction that holds its locks a moment after its
    work, and `second` meanwhile; returns what each returned or raised."""
    import threading
    import time

    from django.db import connections

    results = [None, None]
    done_first = threading.Event()

    def run(index, target):
        try:
            results[index] = target()
        except Exception as exc:  # reported by the test, not lost in the thread
            results[index] = exc
        finally:
            connections.close_all()

    def a():
        with transaction.atomic():
            out = first()
            done_first.set()
            time.sleep(0.4)  # the second waits on the report row behind us
        return out

    def b():
        assert done_first.wait(5)
        return second()

    threads = [threading.Thread(target=run, args=(0, a)), threading.Thread(target=run, args=(1, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


@pytest.mark.django_db(transaction=True)
def test_a_report_put_in_a_case_while_being_returned_stays_in_the_case(people, file_report):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions")
    report = file_report(people["monitor"])
    opened, refused = _race(
        lambda: commission_services.case_open(actor=people["chair"], title="Orikhiv", reports=[report]),
        lambda: returned(people, report))
    assert not isinstance(opened, Exception), opened
    assert isinstance(refused, Conflict)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert not AuditEvent.objects.filter(action="report.returned").exists()


@pytest.mark.django_db(transaction=True)
def test_a_report_returned_while_a_case_is_being_opened_stays_out_of_the_case(people, file_report):
    from django.db import connection

    from commission.models import Case

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions")
    report = file_report(people["monitor"])
    done, refused = _race(
        lambda: returned(people, report),
        lambda: commission_services.case_open(actor=people["chair"], title="Orikhiv", reports=[report]))
    assert not isinstance(done, Exception), done
    assert isinstance(refused, ValidationError)
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert not Case.objects.exists()
