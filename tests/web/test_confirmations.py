"""Closing a case and adopting or rejecting a measure cannot be undone, so
neither happens in one click: the page asks on a confirmation page that says
what will follow, and the API wants `"confirm": true` (and previews on GET).
Without the confirmation nothing changes and nothing enters the trail."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from commission import services
from commission.models import Case, Deadline, Measure

pytestmark = pytest.mark.django_db

CONFIRMED = {"confirming": "1", "confirm": "on"}


@pytest.fixture
def measures(people, case_in):
    """A case in measures with one proposed measure (compliance due in 30 days)."""
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions.",
                                       compliance_due_at=timezone.now() + timedelta(days=30))
    return case, measure


@pytest.fixture
def closable(people, measures):
    case, measure = measures
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    return case


# --- The pages ----------------------------------------------------------------------------


def test_closing_from_the_case_page_asks_for_confirmation_and_changes_nothing(people, closable, web):
    events = AuditEvent.objects.count()
    response = web(people["chair"]).post(f"/cases/{closable.pk}/close/", {"summary": "Attributed to RU."})
    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot be undone" in page
    assert "Attributed to RU." in page  # the summary is carried to the confirmation, still editable
    assert 'name="confirm"' in page and 'name="confirming"' in page
    # What the close settles: the measures stage's deadline, and the compliance still followed.
    assert "deadline (due" in page and "still followed after the close" in page
    assert Case.objects.get(pk=closable.pk).stage == "measures"
    assert AuditEvent.objects.count() == events


def test_the_confirmation_page_opens_by_its_own_address(people, closable, web):
    response = web(people["chair"]).get(f"/cases/{closable.pk}/close/")
    assert response.status_code == 200
    assert f"Close {closable.reference}?" in response.content.decode()


def test_a_close_without_the_ticked_box_is_refused_with_the_reason(people, closable, web):
    response = web(people["chair"]).post(f"/cases/{closable.pk}/close/",
                                         {"summary": "Attributed to RU.", "confirming": "1"})
    assert response.status_code == 400
    assert "Tick the box to confirm" in response.content.decode()
    assert Case.objects.get(pk=closable.pk).stage == "measures"


def test_a_confirmed_close_closes_the_case(people, closable, web):
    response = web(people["chair"]).post(f"/cases/{closable.pk}/close/", {"summary": "Attributed to RU.", **CONFIRMED})
    assert response.status_code == 302
    assert Case.objects.get(pk=closable.pk).stage == "closed"
    assert AuditEvent.objects.filter(action="case.closed", object_id=str(closable.pk)).count() == 1


def test_the_confirmation_says_why_the_close_would_be_refused(people, measures, web):
    case, _measure = measures
    page = web(people["chair"]).get(f"/cases/{case.pk}/close/").content.decode()
    assert "Adopt or reject every proposed measure before closing the case." in page


@pytest.mark.parametrize(("decision", "status", "words"), [
    ("adopt", "adopted", "A compliance deadline is set for"),
    ("reject", "rejected", "it is kept in the case"),
])
def test_a_measure_is_decided_only_after_its_confirmation(people, measures, web, decision, status, words):
    case, measure = measures
    chair = web(people["chair"])
    url = f"/cases/{case.pk}/measures/{measure.pk}/decision/"
    response = chair.post(url, {"decision": decision, "reason": "Considered."})
    assert response.status_code == 200
    assert words in response.content.decode()
    assert Measure.objects.get(pk=measure.pk).status == "proposed"
    assert chair.get(url + f"?decision={decision}").status_code == 200
    assert chair.post(url, {"decision": decision, "reason": "Considered.", "confirming": "1"}).status_code == 400
    assert Measure.objects.get(pk=measure.pk).status == "proposed"
    response = chair.post(url, {"decision": decision, "reason": "Considered.", **CONFIRMED})
    assert response.status_code == 302
    assert Measure.objects.get(pk=measure.pk).status == status


def test_a_confirmation_after_someone_else_decided_says_so_with_409(people, measures, web):
    case, measure = measures
    services.measure_decide(actor=people["chair"], measure=measure, adopt=False, reason="Too broad.")
    response = web(people["chair"]).post(f"/cases/{case.pk}/measures/{measure.pk}/decision/",
                                         {"decision": "adopt", "reason": "Yes.", **CONFIRMED})
    assert response.status_code == 409
    assert "The measure is already rejected." in response.content.decode()
    assert Measure.objects.get(pk=measure.pk).status == "rejected"


@pytest.mark.parametrize("persona", ["member1", "verifier", "auditor"])
def test_only_the_chair_sees_the_confirmation_pages(people, measures, web, persona):
    case, measure = measures
    client = web(people[persona])
    assert client.get(f"/cases/{case.pk}/close/").status_code == 403
    assert client.get(f"/cases/{case.pk}/measures/{measure.pk}/decision/?decision=adopt").status_code == 403


# --- The API -------------------------------------------------------------------------------


def test_the_api_refuses_a_close_without_confirm_and_changes_nothing(people, closable, api):
    chair = api(people["chair"])
    events = AuditEvent.objects.count()
    for body in ({"summary": "Done."}, {"summary": "Done.", "confirm": False}):
        response = chair.post(f"/api/v1/cases/{closable.pk}/close/", body, format="json")
        assert response.status_code == 400
        assert "confirm" in response.json()
    assert Case.objects.get(pk=closable.pk).stage == "measures"
    assert AuditEvent.objects.count() == events
    response = chair.post(f"/api/v1/cases/{closable.pk}/close/", {"summary": "Done.", "confirm": True}, format="json")
    assert response.status_code == 200
    assert response.json()["stage"] == "closed"


def test_the_api_previews_a_close_without_changing_anything(people, closable, api):
    events = AuditEvent.objects.count()
    response = api(people["chair"]).get(f"/api/v1/cases/{closable.pk}/close/")
    assert response.status_code == 200
    preview = response.json()
    assert preview["allowed"] is True and preview["refusal"] is None and preview["irreversible"] is True
    assert preview["outcome"] == "decided"
    measures_deadline = Deadline.objects.get(case=closable, kind="measures")
    assert [d["id"] for d in preview["deadlines_settled"]] == [measures_deadline.pk]
    assert [m["addressee"] for m in preview["measures_followed"]] == ["RU"]
    assert AuditEvent.objects.count() == events


def test_the_api_preview_says_why_a_close_would_be_refused(people, measures, api):
    case, _measure = measures
    preview = api(people["chair"]).get(f"/api/v1/cases/{case.pk}/close/").json()
    assert preview["allowed"] is False
    assert "proposed measure" in preview["refusal"]


@pytest.mark.parametrize(("verb", "status"), [("adopt", "adopted"), ("reject", "rejected")])
def test_the_api_decides_a_measure_only_with_confirm(people, measures, api, verb, status):
    _case, measure = measures
    chair = api(people["chair"])
    preview = chair.get(f"/api/v1/measures/{measure.pk}/{verb}/").json()
    assert (preview["status"], preview["allowed"], preview["others_pending"]) == (status, True, 0)
    assert (preview["compliance_due_at"] is not None) == (verb == "adopt")
    response = chair.post(f"/api/v1/measures/{measure.pk}/{verb}/", {"reason": "Considered."}, format="json")
    assert response.status_code == 400 and "confirm" in response.json()
    assert Measure.objects.get(pk=measure.pk).status == "proposed"
    response = chair.post(f"/api/v1/measures/{measure.pk}/{verb}/", {"reason": "Considered.", "confirm": True},
                          format="json")
    assert response.status_code == 200
    assert Measure.objects.get(pk=measure.pk).status == status


def test_the_schema_documents_confirm_and_the_previews(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    close = schema["paths"]["/api/v1/cases/{id}/close/"]
    assert "400" in close["post"]["responses"] and "confirm" in close["post"]["description"]
    assert close["get"]["operationId"] == "cases_close_preview"
    ref = close["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "confirm" in schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["required"]
    for verb in ("adopt", "reject"):
        assert "get" in schema["paths"][f"/api/v1/measures/{{id}}/{verb}/"]
