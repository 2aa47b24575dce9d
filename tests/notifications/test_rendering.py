"""Texts are rendered in the reader's language when read or sent, never
stored in English: the page and the API in the request's language, the
email in the recipient's (User.language, else the site's)."""

import pytest
from django.core import mail
from django.utils import translation

from commission import services
from notifications.kinds import KINDS, render
from notifications.mailer import notifications_send
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(people, case_in):
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)
    return case


def test_a_notification_is_stored_as_kind_and_params_in_no_language(people, opened):
    note = Notification.objects.get(kind="round_opened", recipient=people["member1"])
    assert note.subject == "" and note.body == ""
    assert note.params["title"] == opened.title and note.params["number"] == 1


def test_a_french_reader_sees_it_in_french_on_the_home_page(people, opened, client):
    client.force_login(people["member1"])
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"{opened.reference} : le tour 1 est ouvert, votez avant le" in page


def test_the_api_gives_it_in_the_requests_language(people, opened, api):
    answer = api(people["member1"]).get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="uk")
    assert answer.status_code == 200
    item = answer.json()["results"][0]
    assert item["kind"] == "round_opened" and item["params"]["number"] == 1
    assert item["subject"].startswith(f"{opened.reference}: раунд 1 відкрито, проголосуйте до ")
    english = api(people["member1"]).get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]
    assert english["subject"].startswith(f"{opened.reference}: round 1 is open, vote by ")


def test_the_email_is_written_in_the_recipients_language(people, case_in):
    people["member1"].language = "fr"
    people["member1"].save()
    people["member2"].language = "uk"
    people["member2"].save()
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)
    mail.outbox.clear()
    with translation.override("en"):  # whatever the worker's own language
        assert notifications_send() == 4
    by = {m.to[0]: m for m in mail.outbox}
    assert by["member1@example.org"].subject.startswith(f"{case.reference} : le tour 1 est ouvert")
    assert "Déposez votre bulletin scellé" in by["member1@example.org"].body
    assert by["member2@example.org"].subject.startswith(f"{case.reference}: раунд 1 відкрито")
    assert by["member3@example.org"].subject.startswith(f"{case.reference}: round 1 is open")  # the site's default


def test_a_notification_stored_before_params_keeps_its_text(people):
    old = Notification.objects.create(recipient=people["chair"], kind="deadline_missed", key="old:1",
                                      subject="CASE-1: verification deadline missed", body="Old English text.")
    with translation.override("fr"):
        assert render(old) == ("CASE-1: verification deadline missed", "Old English text.")


@pytest.mark.parametrize("language", ["en", "fr", "uk"])
def test_every_kind_renders_in_every_language_without_a_placeholder_left(people, language):
    params = {"title": "Shelling of Orikhiv", "reference": "RPT-1", "by": "verifier1", "reason": "How many?",
              "question": "How many?", "party": "RU", "party_name": "Russian Federation",
              "due_at": "2026-12-09T10:00:00+00:00", "closes_at": "2026-12-09T10:00:00+00:00", "waiting": ["RU"],
              "number": 2, "what": "vote", "outcome": "tie", "because": "deadline", "measure_kind": "sanctions",
              "addressee": "RU", "proposer": "member1", "compliance_due_at": "2027-01-01T00:00:00+00:00"}
    for kind in KINDS:
        note = Notification(recipient=people["chair"], kind=kind, key="k", case_reference="CASE-7", params=params)
        with translation.override(language):
            subject, body = render(note)
        assert "%(" not in subject + body and "—" not in subject, (kind, subject, body)
        if language != "en":
            with translation.override("en"):
                assert render(note) != (subject, body), kind  # really translated
