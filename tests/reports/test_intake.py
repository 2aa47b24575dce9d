"""Filing reports: the response, drafts, edits, submission, idempotent replay."""

import re

import pytest

from audit.models import AuditEvent
from reports.models import Report
from reports.services import IdempotencyKeyReused, report_create
from tests.reports.conftest import body

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/"


def events(action=None):
    qs = AuditEvent.objects.filter(object_type="report")
    return list(qs.filter(action=action) if action else qs)


def test_a_monitor_files_a_report_and_gets_its_reference(api, people):
    response = api(people["monitor"]).post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    report = Report.objects.get()
    assert data["id"] == report.pk
    assert re.fullmatch(r"RPT-\d{4}-\d{6}", data["reference"]) and data["reference"] == report.reference
    assert data["status"] == "submitted" and data["author"] == "monitor1"
    assert data["location"]["lat"] == pytest.approx(47.5689) and data["alleged_party"] == "RU"
    assert data["casualties"]["civilian_injured"] == 2
    assert data["created_at"] and data["submitted_at"]
    [event] = events("report.submitted")
    assert event.object_id == str(report.pk) and event.actor_username == "monitor1"
    assert event.after["reference"] == report.reference and event.after["category"] == "shelling"


def test_the_service_accepts_the_nested_shape_with_a_party_code_as_seed_demo_sends(people, parties):
    data = body()
    data["occurred_at"] = Report._meta.get_field("occurred_at").to_python(data["occurred_at"])
    report, created = report_create(actor=people["monitor"], data=data, idempotency_key="seed-1")
    assert created and report.lat == pytest.approx(47.5689) and report.alleged_party == parties["RU"]
    assert report.civilian_injured == 2
    again, created = report_create(actor=people["monitor"], data=data, idempotency_key="seed-1")
    assert not created and again.pk == report.pk


def test_a_draft_is_edited_then_submitted_with_its_events(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, body(status="draft"), format="json").json()
    assert draft["status"] == "draft" and draft["submitted_at"] is None
    assert [e.action for e in events()] == ["report.drafted"]

    edited = client.patch(f"{URL}{draft['id']}/", {"description": "Corrected: nine impacts.", "severity": 2},
                          format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["description"] == "Corrected: nine impacts." and edited.json()["status"] == "draft"
    [update] = events("report.updated")
    assert update.before == {"description": body()["description"], "severity": 3}
    assert update.after == {"description": "Corrected: nine impacts.", "severity": 2}

    submitted = client.patch(f"{URL}{draft['id']}/", {"status": "submitted"}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"]
    [event] = events("report.submitted")
    assert event.before == {"status": "draft"} and event.after["status"] == "submitted"


def test_a_draft_edit_of_the_location_changes_only_what_was_sent(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, body(status="draft"), format="json").json()
    response = client.patch(f"{URL}{draft['id']}/", {"location": {"place_name": "Orikhiv north"}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["location"]["place_name"] == "Orikhiv north"
    assert response.json()["location"]["lat"] == pytest.approx(47.5689)


def test_a_draft_edit_is_checked_against_the_stored_start_time(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, body(status="draft", occurred_at="2026-01-10T10:00:00Z"), format="json").json()
    response = client.patch(f"{URL}{draft['id']}/", {"occurred_until": "2026-01-10T09:00:00Z"}, format="json")
    assert response.status_code == 400 and "occurred_until" in response.json()
    assert Report.objects.get().occurred_until is None
    assert events("report.updated") == []


def test_it_refuses_to_edit_a_submitted_report(api, people):
    client = api(people["monitor"])
    report = client.post(URL, body(), format="json").json()
    response = client.patch(f"{URL}{report['id']}/", {"description": "Changed my mind."}, format="json")
    assert response.status_code == 409
    assert "submitted" in response.json()["detail"] and report["reference"] in response.json()["detail"]
    assert Report.objects.get().description == body()["description"]
    assert events("report.updated") == []


def test_an_empty_edit_writes_no_event(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, body(status="draft"), format="json").json()
    assert client.patch(f"{URL}{draft['id']}/", {"severity": 3}, format="json").status_code == 200
    assert events("report.updated") == []


def test_drafts_are_invisible_to_everyone_but_their_author(api, people):
    draft = api(people["monitor"]).post(URL, body(status="draft"), format="json").json()
    for who in ("verifier", "chair", "member1", "auditor", "monitor2"):
        client = api(people[who])
        assert client.get(f"{URL}{draft['id']}/").status_code == 404, who
        assert client.get(URL).json()["results"] == [], who
    assert len(api(people["monitor"]).get(URL).json()["results"]) == 1


def test_a_monitor_sees_only_their_own_reports(api, people):
    api(people["monitor"]).post(URL, body(), format="json")
    api(people["monitor2"]).post(URL, body(), format="json")
    mine = api(people["monitor"]).get(URL).json()
    assert len(mine["results"]) == 1 and mine["results"][0]["author"] == "monitor1"
    assert len(api(people["verifier"]).get(URL).json()["results"]) == 2


# --- Idempotency-Key ---------------------------------------------------------


def test_a_replayed_key_returns_the_first_report_and_creates_nothing(api, people):
    client = api(people["monitor"])
    data = body()
    first = client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Report.objects.count() == 1 and len(events()) == 1


def test_a_replay_spelled_differently_is_still_the_same_body(api, people):
    client = api(people["monitor"])
    data = body(occurred_at="2026-01-10T10:00:00Z")
    respelled = {**data, "occurred_at": "2026-01-10T12:00:00+02:00", "casualties": {"civilian_injured": 2}}
    first = client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="same")
    again = client.post(URL, respelled, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Report.objects.count() == 1 and len(events()) == 1


def test_the_same_key_with_a_different_body_is_refused_with_422(api, people):
    client = api(people["monitor"])
    data = body()
    assert client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    response = client.post(URL, {**data, "severity": 5}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert "idempotency_key" in response.json()
    assert Report.objects.count() == 1 and len(events()) == 1


def test_keys_belong_to_their_user(api, people):
    data = body()
    a = api(people["monitor"]).post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    b = api(people["monitor2"]).post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_an_overlong_key_is_refused(api, people):
    response = api(people["monitor"]).post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert response.status_code == 400 and "idempotency_key" in response.json()
    assert Report.objects.count() == 0


def test_the_service_refuses_a_different_body_under_a_used_key(people):
    from reports.services import report_fingerprint

    data = {"occurred_at": Report._meta.get_field("occurred_at").to_python("2026-01-01T00:00:00Z"),
            "lat": 1.0, "lon": 2.0, "category": "other", "description": "x", "source_type": "uav"}
    report_create(actor=people["monitor"], data=data, idempotency_key="svc",
                  request_fingerprint=report_fingerprint(data))
    other = {**data, "description": "y"}
    with pytest.raises(IdempotencyKeyReused):
        report_create(actor=people["monitor"], data=other, idempotency_key="svc",
                      request_fingerprint=report_fingerprint(other))


def _token_client(api, user):
    from tests.conftest import token_for

    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def test_filing_a_report_costs_the_token_the_party_the_rows_the_counts_and_nothing_else(api, people,
                                                                                 django_assert_num_queries):
    from django.db import connection

    client = _token_client(api, people["monitor"])
    assert client.post(URL, body(), format="json").status_code == 201
    # Token with user and roles (SQLite: roles apart), the party by its code,
    # the savepoint of the report and its event (the test's transaction is
    # outermost), INSERT report, INSERT event, the three counts kept on write
    # (the overview's daily and monthly counts, the map's cells:
    # reports.services.counts), release. Sealing runs after a real commit only.
    expected = 9 if connection.vendor == "postgresql" else 10
    with django_assert_num_queries(expected):
        assert client.post(URL, body(alleged_party="UA"), format="json").status_code == 201
    assert list(Report.objects.order_by("pk").values_list("alleged_party__code", flat=True)) == ["RU", "UA"]


def test_a_party_added_while_the_service_runs_is_accepted_at_once(api, people):
    from accounts.models import Party

    client = api(people["monitor"])
    assert client.post(URL, body(), format="json").status_code == 201
    Party.objects.create(code="XA", name="A third party")
    response = client.post(URL, body(alleged_party="XA"), format="json")
    assert response.status_code == 201, response.json()
    assert Report.objects.get(pk=response.json()["id"]).alleged_party.code == "XA"


def test_a_deleted_party_is_refused_from_then_on(api, people):
    from accounts.models import Party

    Party.objects.create(code="XB", name="Short-lived")
    client = api(people["monitor"])
    assert client.post(URL, body(alleged_party="XB", status="draft"), format="json").status_code == 201
    Report.objects.filter(alleged_party__code="XB").update(alleged_party=None)
    Party.objects.filter(code="XB").delete()
    response = client.post(URL, body(alleged_party="XB"), format="json")
    assert response.status_code == 400
    assert response.json()["alleged_party"] == ["Object with code=XB does not exist."]
