"""Returning a report for more information, in the pages: a verifier returns
it from the inbox with a question; the monitor finds it on their home page,
reads the question on the report and answers by editing it and submitting it
again. Bad input says so by the field with 400 and stores nothing; a report
that left the inbox is a 409; other roles are refused."""

import html
import re

import pytest

from audit.models import AuditEvent
from commission import services as commission_services
from commission.services import report_return
from notifications.models import Notification
from reports.models import Report, ReportStatus

pytestmark = pytest.mark.django_db

QUESTION = "How many impacts did you count yourself, and from where?"


def field_errors(page: str, field_id: str) -> list[str]:
    match = re.search(rf'<ul class="errorlist" id="{field_id}_errors">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def return_url(report) -> str:
    return f"/inbox/{report.pk}/return/"


def reason(report, text=QUESTION) -> dict:
    return {f"return-{report.pk}-reason": text}


def stored_nothing(report) -> bool:
    report.refresh_from_db()
    return (report.status == ReportStatus.SUBMITTED and report.returned_reason == ""
            and not AuditEvent.objects.filter(action="report.returned").exists()
            and not Notification.objects.exists())


@pytest.fixture
def report(people, submitted):  # noqa: F811
    return submitted(people["monitor"])


def edit_form(report, **overrides) -> dict:
    data = {"occurred_at": report.occurred_at.strftime("%Y-%m-%dT%H:%M"), "lat": str(report.lat),
            "lon": str(report.lon), "category": report.category, "source_type": report.source_type,
            "alleged_party": "RU", "description": report.description, "action": "submit"}
    data.update(overrides)
    return data


# --- The verifier --------------------------------------------------------------------


def test_each_inbox_card_has_its_own_return_form(people, report, submitted, web):  # noqa: F811
    other = submitted(people["monitor2"], lat=49.99, lon=36.23)
    page = web(people["verifier"]).get("/inbox/").content.decode()
    for r in (report, other):
        assert f'<form id="return-{r.pk}" method="post" action="{return_url(r)}"' in page
        assert f'name="return-{r.pk}-reason"' in page
        assert f'form="return-{r.pk}"' in page
    assert page.count("Return to the monitor") >= 2


@pytest.mark.parametrize("who", ["verifier", "chair"])
def test_a_verifier_or_the_chair_returns_a_report_from_the_inbox(people, report, web, who):
    client = web(people[who])
    response = client.post(return_url(report), reason(report))
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert report.returned_reason == QUESTION
    assert AuditEvent.objects.get(action="report.returned").actor_username == people[who].username
    assert Notification.objects.get().recipient == people["monitor"]
    page = client.get("/inbox/").content.decode()
    assert "was returned to its monitor" in page
    assert f"/reports/{report.pk}/" not in page


@pytest.mark.parametrize("text", ["", "   "])
def test_a_return_without_a_question_says_so_by_the_field_and_stores_nothing(people, report, web, text):
    response = web(people["verifier"]).post(return_url(report), reason(report, text))
    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page, f"id_return-{report.pk}-reason") == ["This field is required."]
    assert '<details class="return" open>' in page
    assert stored_nothing(report)


def test_a_report_put_in_a_case_meanwhile_is_a_conflict(people, report, web):
    case = commission_services.case_open(actor=people["chair"], title="Orikhiv", reports=[report])
    response = web(people["verifier"]).post(return_url(report), reason(report))
    assert response.status_code == 409
    assert case.reference in html.unescape(response.content.decode())
    assert stored_nothing(report)


def test_a_report_returned_by_someone_else_first_is_a_conflict(people, report, web):
    report_return(actor=people["chair"], report=report, reason="The time, please.")
    response = web(people["verifier"]).post(return_url(report), reason(report))
    assert response.status_code == 409
    report.refresh_from_db()
    assert report.returned_reason == "The time, please."
    assert AuditEvent.objects.filter(action="report.returned").count() == 1


@pytest.mark.parametrize("who", ["monitor", "member1", "auditor", "outsider"])
def test_other_roles_may_not_return_a_report(people, report, web, who):
    assert web(people[who]).post(return_url(report), reason(report)).status_code == 403
    assert stored_nothing(report)


def test_anonymous_visitors_are_sent_to_sign_in(report, web):
    response = web().post(return_url(report), reason(report))
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
    assert stored_nothing(report)


def test_an_unknown_or_draft_report_is_404(people, submitted, web):  # noqa: F811
    draft = submitted(people["monitor"], status="draft")
    client = web(people["verifier"])
    assert client.post("/inbox/999999/return/", {"return-999999-reason": QUESTION}).status_code == 404
    assert client.post(return_url(draft), reason(draft)).status_code == 404
    assert client.get(return_url(draft)).status_code == 405


def test_readers_see_the_question_on_the_report(people, report, web):
    report_return(actor=people["verifier"], report=report, reason=QUESTION)
    page = html.unescape(web(people["member1"]).get(f"/reports/{report.pk}/").content.decode())
    assert QUESTION in page
    assert "Returned for more information" in page
    assert f"/reports/{report.pk}/edit/" not in page


# --- The monitor ------------------------------------------------------------------------


def test_the_monitor_finds_the_question_on_their_home_page(people, report, submitted, web):  # noqa: F811
    other = submitted(people["monitor2"])
    report_return(actor=people["verifier"], report=report, reason=QUESTION)
    report_return(actor=people["verifier"], report=other, reason="Not yours.")
    page = html.unescape(web(people["monitor"]).get("/").content.decode())
    assert "Reports returned for more information" in page
    assert QUESTION in page
    assert "verifier1 asked on" in page
    assert f'href="/reports/{report.pk}/edit/"' in page
    assert "Not yours." not in page


def test_nothing_returned_no_section(people, report, web):
    assert "Reports returned for more information" not in web(people["monitor"]).get("/").content.decode()


def test_the_monitor_answers_by_editing_and_submitting_again(people, report, web):
    report_return(actor=people["verifier"], report=report, reason=QUESTION)
    client = web(people["monitor"])
    detail = html.unescape(client.get(f"/reports/{report.pk}/").content.decode())
    assert QUESTION in detail
    assert f'href="/reports/{report.pk}/edit/"' in detail
    form = html.unescape(client.get(f"/reports/{report.pk}/edit/").content.decode())
    assert f"Answer the question on {report.reference}" in form
    assert QUESTION in form
    assert "Submit again" in form
    response = client.post(f"/reports/{report.pk}/edit/",
                           edit_form(report, description="Twelve impacts, counted from the school roof."))
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.pk}/"
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert report.description == "Twelve impacts, counted from the school roof."
    assert report.returned_reason == ""
    assert AuditEvent.objects.get(action="report.resubmitted").before["returned_reason"] == QUESTION
    assert report.reference in web(people["verifier"]).get("/inbox/").content.decode()
    assert "Reports returned for more information" not in client.get("/").content.decode()


def test_saving_without_submitting_keeps_it_returned(people, report, web):
    report_return(actor=people["verifier"], report=report, reason=QUESTION)
    response = web(people["monitor"]).post(f"/reports/{report.pk}/edit/",
                                           edit_form(report, description="Counting again.", action="draft"))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert report.description == "Counting again."
    assert report.returned_reason == QUESTION


def test_a_bad_answer_shows_the_message_and_stores_nothing(people, report, web):
    report_return(actor=people["verifier"], report=report, reason=QUESTION)
    response = web(people["monitor"]).post(f"/reports/{report.pk}/edit/", edit_form(report, lat="123"))
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 90." in field_errors(response.content.decode(), "id_lat")
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert not AuditEvent.objects.filter(action__in=["report.updated", "report.resubmitted"]).exists()


def test_another_monitor_cannot_open_or_answer_it(people, report, web):
    report_return(actor=people["verifier"], report=report, reason=QUESTION)
    client = web(people["monitor2"])
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.post(f"/reports/{report.pk}/edit/", edit_form(report)).status_code == 404
    assert Report.objects.get(pk=report.pk).status == ReportStatus.RETURNED


def test_the_return_pages_speak_french(people, report, web):
    client = web(people["verifier"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = html.unescape(client.get("/inbox/").content.decode())
    assert "Renvoyer à l'observateur" in page
    bad = html.unescape(client.post(return_url(report), reason(report, "")).content.decode())
    assert "Ce champ est obligatoire." in bad
    report_return(actor=people["verifier"], report=report, reason=QUESTION)
    monitor = web(people["monitor"])
    monitor.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    home = html.unescape(monitor.get("/").content.decode())
    assert "Signalements renvoyés pour complément d'information" in home
