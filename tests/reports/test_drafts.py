"""A draft is a draft: it keeps any subset of a report's fields, each
checked for its type and range only; filing it (or filing at once) needs
every required field, and the 400 names each one that is missing."""

import pytest
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from reports.models import Report, ReportStatus
from tests.conftest import streamed_json
from tests.reports.conftest import body

URL = "/api/v1/reports/"
pytestmark = pytest.mark.django_db


def test_a_draft_with_only_a_description_is_kept(api, people):
    response = api(people["monitor"]).post(URL, {"status": "draft", "description": "Impacts north of the bridge."},
                                           format="json")
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["status"] == "draft"
    assert answer["occurred_at"] is None
    assert answer["location"]["lat"] is None
    assert answer["category"] == ""
    report = Report.objects.get()
    assert report.description == "Impacts north of the bridge."
    assert AuditEvent.objects.filter(action="report.drafted").count() == 1


def test_an_empty_draft_is_kept(api, people):
    assert api(people["monitor"]).post(URL, {"status": "draft"}, format="json").status_code == 201


def test_a_draft_still_checks_the_fields_it_has(api, people):
    response = api(people["monitor"]).post(URL, {"status": "draft", "location": {"lat": 123}}, format="json")
    assert response.status_code == 400
    assert response.json()["location"]["lat"] == ["Ensure this value is less than or equal to 90."]
    assert Report.objects.count() == 0


def test_filing_without_the_required_fields_names_every_missing_one(api, people):
    response = api(people["monitor"]).post(URL, {"description": "Only this."}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["occurred_at"] == ["This field is required."]
    assert errors["location"] == {"lat": ["This field is required."], "lon": ["This field is required."]}
    assert errors["category"] == ["This field is required."]
    assert errors["source_type"] == ["This field is required."]
    assert "description" not in errors
    assert Report.objects.count() == 0


def test_submitting_an_incomplete_draft_is_refused_with_each_missing_field(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, {"status": "draft", "description": "Impacts."}, format="json").json()
    response = client.patch(f"{URL}{draft['id']}/", {"category": "shelling", "status": "submitted"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"occurred_at", "lat", "lon", "source_type"}
    report = Report.objects.get()
    # Nothing half-stored: not the category either.
    assert report.status == ReportStatus.DRAFT
    assert report.category == ""
    assert not AuditEvent.objects.filter(action__in=["report.updated", "report.submitted"]).exists()


def test_a_draft_completed_field_by_field_is_submitted(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, {"status": "draft", "description": "Impacts."}, format="json").json()
    full = body()
    del full["description"]
    assert client.patch(f"{URL}{draft['id']}/", full, format="json").status_code == 200
    response = client.patch(f"{URL}{draft['id']}/", {"status": "submitted"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert AuditEvent.objects.filter(action="report.submitted").count() == 1


def test_a_draft_without_a_position_is_left_off_the_map_and_has_no_duplicates(api, people):
    client = api(people["monitor"])
    draft = client.post(URL, {"status": "draft", "category": "shelling"}, format="json").json()
    client.post(URL, body(), format="json")
    features = streamed_json(client.get("/api/v1/reports.geojson"))["features"]
    assert [f["properties"]["status"] for f in features] == ["submitted"]
    assert client.get(f"{URL}{draft['id']}/similar/").json() == []
    assert len(client.get(URL).json()["results"]) == 2


def test_the_database_refuses_an_incomplete_report_that_is_not_a_draft(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(author=people["monitor"], status=ReportStatus.SUBMITTED, description="x")


def test_a_wrong_field_and_missing_ones_are_named_in_one_answer(api, people):
    response = api(people["monitor"]).post(URL, {"location": {"lat": 123}, "category": "volcano"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["location"] == {"lat": ["Ensure this value is less than or equal to 90."],
                                  "lon": ["This field is required."]}
    assert errors["category"] == ['"volcano" is not a valid choice.']
    assert errors["occurred_at"] == errors["source_type"] == errors["description"] == ["This field is required."]


def test_the_api_takes_an_mgrs_grid_reference_for_the_position(api, people):
    data = body()
    data["location"] = {"mgrs": "36T YT 15196 72354", "place_name": "Orikhiv"}
    response = api(people["monitor"]).post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    location = response.json()["location"]
    assert location["lat"] == pytest.approx(47.5689, abs=1e-4)
    assert location["lon"] == pytest.approx(35.8612, abs=1e-4)
    assert "mgrs" not in location


@pytest.mark.parametrize(("location", "message"), [
    ({"mgrs": "37U DQ 1234 567"}, "Not an MGRS grid reference"),
    ({"mgrs": "37U DQ 12345 67890", "lat": 47.5}, "Give either lat and lon or mgrs, not both."),
])
def test_the_api_refuses_a_bad_or_contradicted_grid_reference(api, people, location, message):
    response = api(people["monitor"]).post(URL, body(location=location, category="volcano"), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["location"]["mgrs"][0].startswith(message)
    assert "lat" not in errors["location"]
    assert Report.objects.count() == 0
