"""The right of reply on the pages: a representative's home lists the cases
awaiting their party's reply with the due time; the reply page shows the
findings and the reports' facts (not who filed them) and takes the one
reply with files; other parties' cases are not found; members read the
replies on the case page above the ballot; the chair's round form takes the
override reason."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from commission.models import Reply, ReplyEvidence
from tests.reports.conftest import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_representatives_home_lists_the_cases_awaiting_their_reply_with_the_due_time(
        web, representatives, case_naming):
    case = case_naming("RU")
    html = web(representatives["RU"]).get("/").content.decode()
    assert case.reference in html and f"/cases/{case.pk}/reply/" in html
    assert "reply by" in html
    assert case.reference not in web(representatives["UA"]).get("/").content.decode()


def test_the_reply_page_shows_findings_and_facts_but_not_who_filed_them(web, representatives, case_naming):
    case = case_naming("RU")
    response = web(representatives["RU"]).get(f"/cases/{case.pk}/reply/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Craters and fragments match 152 mm rounds." in html and "Impacts observed." in html
    for name in ("monitor1", "verifier1"):
        assert name not in html
    assert 'enctype="multipart/form-data"' in html


def test_a_representative_submits_the_reply_with_a_file_on_the_page(web, representatives, case_naming):
    case = case_naming("RU")
    client = web(representatives["RU"])
    response = client.post(f"/cases/{case.pk}/reply/", {
        "text": "Not our battery.", "files": [SimpleUploadedFile("map.png", png_bytes(2, 2))]})
    assert response.status_code == 302
    stored = Reply.objects.get(case=case)
    assert stored.text == "Not our battery." and ReplyEvidence.objects.filter(reply=stored).count() == 1
    assert AuditEvent.objects.filter(action="case.reply_submitted").count() == 1
    html = client.get(f"/cases/{case.pk}/reply/").content.decode()
    assert "Not our battery." in html and "<form" not in html.split('id="h-reply"')[1]


def test_an_empty_reply_is_refused_on_the_page_and_nothing_is_stored(web, representatives, case_naming):
    case = case_naming("RU")
    response = web(representatives["RU"]).post(f"/cases/{case.pk}/reply/", {"text": ""})
    assert response.status_code == 400
    assert not Reply.objects.exists()


def test_another_partys_case_is_not_found_and_the_case_file_is_forbidden(web, representatives, case_naming):
    case = case_naming("RU")
    ua = web(representatives["UA"])
    assert ua.get(f"/cases/{case.pk}/reply/").status_code == 404
    assert ua.post(f"/cases/{case.pk}/reply/", {"text": "x"}).status_code == 404
    ru = web(representatives["RU"])
    assert ru.get(f"/cases/{case.pk}/").status_code == 403
    assert ru.get(f"/cases/{case.pk}/trail/").status_code == 403
    assert ru.get("/trail/").status_code == 403


def test_members_read_the_replies_on_the_case_page_before_the_ballot(web, people, representatives, case_naming):
    from commission import services

    case = case_naming("RU")
    services.reply_submit(actor=representatives["RU"], case=case, text="RU: the craters face the other way.")
    services.round_open(actor=people["chair"], case=case)
    html = web(people["member1"]).get(f"/cases/{case.pk}/").content.decode()
    assert html.index("RU: the craters face the other way.") < html.index('id="h-attribution"')


def test_the_chair_opens_a_round_during_the_window_only_with_a_reason(web, people, representatives, case_naming):
    case = case_naming("RU")
    chair = web(people["chair"])
    assert 'data-testid="reply-hold"' in chair.get(f"/cases/{case.pk}/").content.decode()
    refused = chair.post(f"/cases/{case.pk}/rounds/", {"quorum": "50", "threshold": "simple"})
    assert refused.status_code in (400, 409)
    assert not case.rounds.exists()
    assert "has not replied" in refused.content.decode()
    done = chair.post(f"/cases/{case.pk}/rounds/", {"quorum": "50", "threshold": "simple",
                                                   "override_reason": "The council meets tomorrow."})
    assert done.status_code == 302
    assert AuditEvent.objects.get(action="round.opened").reason == "The council meets tomorrow."
