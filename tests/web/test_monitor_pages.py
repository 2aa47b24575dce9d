"""The monitor's pages: the report form shows the API's messages next to the
fields and stores nothing on bad input; a resubmitted form files once."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from reports.models import Evidence, Report, ReportStatus
from tests.web.browser import make_png

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def form_data(**overrides):
    data = {"idempotency_key": "key-1", "occurred_at": "2026-01-01T10:00", "lat": "47.5689", "lon": "35.8612",
            "place_name": "Orikhiv", "category": "shelling", "source_type": "direct_observation",
            "alleged_party": "RU", "description": "About twelve impacts.", "civilian_injured": "2",
            "severity": "3", "links": "https://example.org/a\nhttps://example.org/b", "action": "submit"}
    data.update(overrides)
    return data


def field_errors(html: str, field: str) -> list[str]:
    match = re.search(rf'<ul class="errorlist" id="id_{field}_errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


@pytest.mark.django_db
def test_it_files_a_report_and_shows_its_reference(people, web):
    client = web(people["monitor"])
    response = client.post("/my/reports/new/", form_data())
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.pk}/"
    assert report.status == ReportStatus.SUBMITTED
    assert report.alleged_party.code == "RU"
    assert report.links == ["https://example.org/a", "https://example.org/b"]
    assert report.civilian_injured == 2
    page = client.get("/my/reports/").content.decode()
    assert report.reference in page
    assert "Submitted" in page


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), [
    ("lat", "123", "Ensure this value is less than or equal to 90."),
    ("lon", "east", "A valid number is required."),
    ("occurred_at", "2999-01-01T00:00", "Cannot be in the future."),
    ("occurred_at", "", "This field is required."),
    ("occurred_until", "2025-12-31T00:00", "Cannot be before occurred_at."),
    ("category", "volcano", "&quot;volcano&quot; is not a valid choice."),
    ("source_type", "", "This field is required."),
    ("lat", "", "This field is required."),
    ("alleged_party", "XX", "Object with code=XX does not exist."),
    ("description", "", "This field is required."),
    ("description", "x" * 10001, "Ensure this field has no more than 10000 characters."),
    ("civilian_killed", "-1", "Ensure this value is greater than or equal to 0."),
    ("severity", "9", "Ensure this value is less than or equal to 5."),
    ("links", "ftp://example.org/x", "Item 1: Enter a valid http(s) URL."),
])
def test_bad_input_shows_the_apis_message_next_to_the_field_and_stores_nothing(people, web, field, value, message):
    response = web(people["monitor"]).post("/my/reports/new/", form_data(**{field: value}))
    assert response.status_code == 200
    assert message in field_errors(response.content.decode(), field)
    assert Report.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_form_shows_the_same_message_as_the_api(people, web, api):
    api_body = api(people["monitor"]).post("/api/v1/reports/", {
        "occurred_at": "2026-01-01T10:00:00Z", "location": {"lat": 123, "lon": 35},
        "category": "shelling", "source_type": "uav", "description": "x"}, format="json").json()
    page = web(people["monitor"]).post("/my/reports/new/", form_data(lat="123")).content.decode()
    assert field_errors(page, "lat") == api_body["location"]["lat"]


@pytest.mark.django_db
def test_a_resubmitted_form_files_once(people, web):
    client = web(people["monitor"])
    first = client.post("/my/reports/new/", form_data())
    second = client.post("/my/reports/new/", form_data())
    assert Report.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert AuditEvent.objects.filter(action="report.submitted").count() == 1
    assert "already sent" in client.get(second["Location"]).content.decode()


@pytest.mark.django_db
def test_each_new_form_gets_its_own_key(people, web):
    client = web(people["monitor"])
    keys = {re.search(r'name="idempotency_key" value="([^"]+)"', client.get("/my/reports/new/").content.decode())
            .group(1) for _ in range(2)}
    assert len(keys) == 2


@pytest.mark.django_db
def test_a_draft_is_saved_then_edited_then_submitted(people, web):
    client = web(people["monitor"])
    client.post("/my/reports/new/", form_data(action="draft", severity=""))
    report = Report.objects.get()
    assert report.status == ReportStatus.DRAFT
    response = client.get(f"/reports/{report.pk}/edit/")
    assert 'value="Orikhiv"' in response.content.decode()
    bad = client.post(f"/reports/{report.pk}/edit/", form_data(description="", action="submit"))
    assert "This field is required." in field_errors(bad.content.decode(), "description")
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert report.description == "About twelve impacts."
    client.post(f"/reports/{report.pk}/edit/", form_data(description="Twelve impacts, confirmed.", action="submit"))
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert report.description == "Twelve impacts, confirmed."
    # Submitted: the edit page no longer edits.
    assert client.get(f"/reports/{report.pk}/edit/").status_code == 302


@pytest.mark.django_db
def test_evidence_is_attached_and_a_file_of_the_wrong_type_is_refused(people, web, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = web(people["monitor"])
    client.post("/my/reports/new/", form_data())
    report = Report.objects.get()
    bad = client.post(f"/reports/{report.pk}/evidence/",
                      {"file": SimpleUploadedFile("photo.png", b"<html>not a png</html>", "image/png")})
    assert bad.status_code == 400
    assert "Unsupported file type" in field_errors(bad.content.decode(), "file")[0]
    assert Evidence.objects.count() == 0
    empty = client.post(f"/reports/{report.pk}/evidence/", {})
    assert field_errors(empty.content.decode(), "file") == ["No file was submitted."]
    good = client.post(f"/reports/{report.pk}/evidence/",
                       {"file": SimpleUploadedFile("p.png", make_png(), "image/png")})
    assert good.status_code == 302
    evidence = Evidence.objects.get()
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert f'<img class="thumb" src="/evidence/{evidence.pk}/thumbnail/"' in page
    assert f'href="/api/v1/evidence/{evidence.pk}/download/"' in page


@pytest.mark.django_db
def test_my_reports_list_runs_the_same_queries_for_1_and_50(people, web, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.services import report_create

    client = web(people["monitor"])

    def file(n):
        for i in range(n):
            report_create(actor=people["monitor"], data={
                "occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
                "source_type": "uav", "description": f"r{i}"})

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/my/reports/").status_code == 200
        return len(ctx.captured_queries)

    file(1)
    one = count()
    file(49)
    assert count() == one
