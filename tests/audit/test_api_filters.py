"""The event list filters by case, actor, action and time in the API as the
trail pages do, together, in the database; one case's trail takes the same
filters but case; the schema documents every one of them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from commission import services

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/audit/events/"


def _z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def two_cases(people, case_in):
    """A case in measures with a measure adopted, and another in verification."""
    case = case_in("measures", title="Decided")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions.")
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    return case, case_in("verification", title="Other")


def _actions(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [e["action"] for e in response.json()["results"]]


def test_the_filters_combine(api, people, two_cases):
    case, other = two_cases
    client = api(people["auditor"])
    whole = len(client.get(EVENTS, {"page_size": 500}).json()["results"])
    mine = len(client.get(EVENTS, {"case": case.reference, "page_size": 500}).json()["results"])
    assert 0 < mine < whole
    assert _actions(client.get(EVENTS, {"case": case.reference, "actor": "chair", "action": "measure.adopted"})) == [
        "measure.adopted"]
    assert _actions(client.get(EVENTS, {"case": other.reference, "action": "measure.adopted"})) == []
    assert _actions(client.get(EVENTS, {"case": case.reference, "actor": "member1", "action": "measure.adopted"})) == []
    now = timezone.now()
    window = {"case": case.reference, "after": _z(now - timedelta(hours=1)), "before": _z(now + timedelta(hours=1)),
              "page_size": 500}
    assert len(client.get(EVENTS, window).json()["results"]) == mine
    assert client.get(EVENTS, {**window, "before": _z(now - timedelta(hours=1))}).json()["results"] == []


def test_one_case_trail_takes_the_same_filters(api, people, two_cases):
    case, _other = two_cases
    client = api(people["auditor"])
    url = f"/api/v1/cases/{case.pk}/trail/"
    assert _actions(client.get(url, {"actor": "chair", "action": "measure.adopted"})) == ["measure.adopted"]
    proposed = _actions(client.get(url, {"actor": "member1"}))
    assert "measure.proposed" in proposed and "measure.adopted" not in proposed
    assert client.get(url, {"after": _z(timezone.now() + timedelta(hours=1))}).json()["results"] == []
    bad = client.get(url, {"before": "soon"})
    assert bad.status_code == 400 and "before" in bad.json()


def test_a_filter_reads_only_what_it_matches(api, people, two_cases):
    case, _other = two_cases
    expected = AuditEvent.objects.filter(actor_username="chair", action="deadline.set").count()
    body = api(people["chair"]).get(EVENTS, {"actor": "chair", "action": "deadline.set", "page_size": 500}).json()
    assert len(body["results"]) == expected
    assert {(e["actor"], e["action"]) for e in body["results"]} <= {("chair", "deadline.set")}


def test_the_schema_documents_the_filters(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    def names(path):
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    assert {"case", "actor", "action", "after", "before", "cursor", "page_size"} <= names(EVENTS)
    assert {"actor", "action", "after", "before"} <= names("/api/v1/cases/{id}/trail/")
    assert "400" in schema["paths"]["/api/v1/cases/{id}/trail/"]["get"]["responses"]
