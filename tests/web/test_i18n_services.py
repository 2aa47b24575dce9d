
"""The services' refusals speak the language of the request: on a French page
and in an API answer to `Accept-Language: fr` they are French (Ukrainian for
`uk`, the language of most monitors in the field), with the same
status and code as in English. What the services store (the trail, the
notifications) are records, not interface: they stay as written, whatever the
language of the request that wrote them."""

import html
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from audit.models import AuditEvent
from commission import services
from commission.models import Ballot, Deadline, Round
from config.errors import Forbidden
from notifications.kinds import render
from notifications.models import Notification
from tests.conftest import token_for
from tests.web.test_commission_pages import field_errors, later

pytestmark = pytest.mark.django_db

ROUND_CLOSED = {"en": "The round is closed.", "fr": "Le tour de scrutin est clos.", "uk": "Тур голосування закрито."}
LATER_EXTENSION = {"en": "An extension must be later than the current due time.",
                   "fr": "Une prolongation doit être postérieure à l'échéance actuelle.",
                   "uk": "Продовжений строк має бути пізнішим за поточний."}
NOT_A_VOTER = {"en": "You are not an eligible voter in this round. Your delegation is party UA to the conflict.",
               "fr": "Vous n'êtes pas habilité à voter dans ce tour. Votre délégation est la partie UA au conflit.",
               "uk": "Ви не маєте права голосувати в цьому турі. Ваша делегація — сторона конфлікту UA."}


def _in(language, client):
    """The language switcher of the pages, as a person uses it."""
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    return client


def later_dt(days=30):
    return timezone.now() + timedelta(days=days)


def _page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def past_closing(people, case_in):  # noqa: F811
    """An open round whose closing time has passed, not yet tallied by the
    sweep: the ballot reaches the service, which refuses it."""
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    Round.objects.filter(pk=rnd.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    return case, rnd


# --- The pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fr", "uk"])
def test_a_ballot_after_the_closing_time_is_refused_in_the_pages_language(people, past_closing, web, language):
    case, _rnd = past_closing
    client = _in(language, web(people["member1"]))
    response = client.post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Late."})
    assert response.status_code == 409
    page = _page(response)
    assert f'<html lang="{language}">' in page
    assert ROUND_CLOSED[language] in page
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("language", ["en", "fr", "uk"])
def test_an_extension_to_an_earlier_time_is_refused_by_its_field_in_the_pages_language(people, case_in, web,  # noqa: F811
                                                                                       language):
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    client = _in(language, web(people["chair"]))
    response = client.post(f"/cases/{case.pk}/deadlines/{deadline.pk}/extend/",
                           {"due_at": later(days=1), "reason": "Members asked."})
    assert response.status_code == 400
    assert [html.unescape(m) for m in field_errors(response.content.decode(), f"id_extend{deadline.pk}_due_at")] \
        == [LATER_EXTENSION[language]]
    assert Deadline.objects.get(pk=deadline.pk).status == "pending"


def test_a_party_delegations_member_is_told_why_in_french(people, case_in, web):  # noqa: F811
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)
    client = _in("fr", web(people["member5"]))
    response = client.post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Tracks."})
    assert response.status_code == 403
    assert NOT_A_VOTER["fr"] in _page(response)
    # The case page says the same reason (the service's recusal_reason).
    assert "Votre délégation est la partie UA au conflit." in _page(client.get(f"/cases/{case.pk}/"))
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("language, message", [
    ("en", "Your role does not allow you to extend deadlines."),
    ("fr", "Votre rôle ne vous autorise pas à prolonger des échéances."),
    ("uk", "Ваша роль не дозволяє вам продовжувати строки."),
])
def test_a_role_refusal_names_the_action_in_the_language_active_when_it_is_raised(people, case_in,  # noqa: F811
                                                                                  language, message):
    # The pages and the API check roles before the service does, so its own
    # check is called directly: the message, action included, is built when
    # raised, in the language active then.
    deadline = Deadline.objects.get(case=case_in("verification"))
    with translation.override(language), pytest.raises(Forbidden) as refused:
        services.deadline_extend(actor=people["verifier"], deadline=deadline, due_at=later_dt(), reason="x")
    assert refused.value.message == message


# --- The API --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fr", "uk"])
def test_the_api_refuses_a_late_ballot_in_the_language_asked_for(api, people, past_closing, language):
    _case, rnd = past_closing
    response = api(people["member1"]).post(f"/api/v1/rounds/{rnd.pk}/ballots/",
                                           {"choice": "RU", "rationale": "Late."}, format="json",
                                           HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 409
    assert response["Content-Language"] == language
    # The code is for programs and never changes; the detail is for people.
    assert response.json() == {"detail": ROUND_CLOSED[language], "code": "round_closed"}
    assert not Ballot.objects.exists()


def test_a_token_client_asking_for_french_gets_the_services_reasons_in_french(client, people, case_in):  # noqa: F811
    # Accept-Language chooses the language of a token client's answers.
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    token = token_for(people["member5"])
    response = client.post(f"/api/v1/rounds/{rnd.pk}/ballots/", {"choice": "RU", "rationale": "Tracks."},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}",
                           HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 403
    assert response.json() == {"detail": NOT_A_VOTER["fr"], "code": "not_eligible"}
    shown = client.get(f"/api/v1/rounds/{rnd.pk}/", HTTP_AUTHORIZATION=f"Token {token}",
                       HTTP_ACCEPT_LANGUAGE="fr").json()
    assert shown["recused_reason"] == "Votre délégation est la partie UA au conflit."


def test_the_api_puts_a_services_field_message_in_french_by_its_field(api, people, case_in):  # noqa: F811
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    response = api(people["chair"]).post(f"/api/v1/deadlines/{deadline.pk}/extend/",
                                         {"due_at": deadline.due_at - timedelta(hours=1),
                                          "reason": "Members asked."}, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert response.json() == {"due_at": [LATER_EXTENSION["fr"]]}


def test_the_reports_service_refuses_in_french_too(api, people, submitted):  # noqa: F811
    report = submitted(people["monitor"])
    response = api(people["monitor"]).patch(f"/api/v1/reports/{report.pk}/", {"description": "More."},
                                            format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"{report.reference} est déjà soumis ; un signalement soumis ne peut plus être modifié. "
        "Joignez des preuves ou demandez à un vérificateur de rectifier le signalement.")


# --- Records stay as written ----------------------------------------------------------------


def test_a_french_request_stores_its_notification_as_data_and_its_trail_in_english(api, people, submitted):  # noqa: F811
    report = submitted(people["monitor"])
    response = api(people["verifier"]).post(f"/api/v1/reports/{report.pk}/return/",
                                            {"reason": "Combien d'impacts ?"}, format="json",
                                            HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    note = Notification.objects.get(recipient=people["monitor"])
    # Stored as data, in no language: each reader gets it in theirs.
    assert note.subject == "" and note.body == "" and note.params["reference"] == report.reference
    with translation.override("en"):
        subject, body = render(note)
    assert subject == f"{report.reference} was returned to you for more information"
    assert body.endswith("Edit the report and submit it again.")
    event = AuditEvent.objects.get(action="report.returned")
    assert event.reason == "Combien d'impacts ?"
    assert event.after["status"] == "returned"


# --- Ukrainian, the language most monitors in the field read --------------------------------


def test_a_party_delegations_member_is_told_why_in_ukrainian(people, case_in, web):  # noqa: F811
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)
    client = _in("uk", web(people["member5"]))
    response = client.post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Tracks."})
    assert response.status_code == 403
    assert NOT_A_VOTER["uk"] in _page(response)
    assert "Ваша делегація — сторона конфлікту UA." in _page(client.get(f"/cases/{case.pk}/"))
    assert not Ballot.objects.exists()


def test_a_token_client_asking_for_ukrainian_gets_the_services_reasons_in_ukrainian(client, people,
                                                                                    case_in):  # noqa: F811
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    token = token_for(people["member5"])
    response = client.post(f"/api/v1/rounds/{rnd.pk}/ballots/", {"choice": "RU", "rationale": "Tracks."},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}",
                           HTTP_ACCEPT_LANGUAGE="uk-UA,uk;q=0.9")
    assert response.status_code == 403
    assert response["Content-Language"] == "uk"
    assert response.json() == {"detail": NOT_A_VOTER["uk"], "code": "not_eligible"}


def test_the_api_puts_a_services_field_message_in_ukrainian_by_its_field(api, people, case_in):  # noqa: F811
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    response = api(people["chair"]).post(f"/api/v1/deadlines/{deadline.pk}/extend/",
                                         {"due_at": deadline.due_at - timedelta(hours=1),
                                          "reason": "Members asked."}, format="json", HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 400
    assert response.json() == {"due_at": [LATER_EXTENSION["uk"]]}


def test_the_reports_service_refuses_in_ukrainian_too(api, people, submitted):  # noqa: F811
    report = submitted(people["monitor"])
    response = api(people["monitor"]).patch(f"/api/v1/reports/{report.pk}/", {"description": "More."},
                                            format="json", HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"{report.reference} уже подано; подане повідомлення не можна редагувати. "
        "Додайте докази або попросіть верифікатора виправити запис.")


def test_a_ukrainian_request_stores_its_notification_as_data_and_its_trail_in_english(api, people, submitted):  # noqa: F811
    report = submitted(people["monitor"])
    response = api(people["verifier"]).post(f"/api/v1/reports/{report.pk}/return/",
                                            {"reason": "Скільки було влучань?"}, format="json",
                                            HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 200
    note = Notification.objects.get(recipient=people["monitor"])
    # Stored as data, in no language: each reader gets it in theirs.
    assert note.subject == "" and note.body == "" and note.params["reference"] == report.reference
    with translation.override("en"):
        subject, body = render(note)
    assert subject == f"{report.reference} was returned to you for more information"
    assert body.endswith("Edit the report and submit it again.")
    event = AuditEvent.objects.get(action="report.returned")
    assert event.reason == "Скільки було влучань?"
