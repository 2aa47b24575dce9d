"""No 5xx from input, and JSON errors everywhere under /api/: unmatched paths,
uncaught errors and a database that is down answer JSON there (503 with
Retry-After for the database), pages answer HTML."""

import json

import pytest
from django.db import OperationalError
from django.test import Client

from reports.models import Report
from tests.conftest import streamed

pytestmark = [pytest.mark.django_db, pytest.mark.outside_schema]


def _quiet_client(user=None):
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def test_an_unmatched_api_path_answers_json_404(people):
    response = _quiet_client(people["monitor"]).get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_an_unmatched_page_still_answers_html_404(people):
    response = _quiet_client(people["monitor"]).get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_json_nested_deeper_than_python_can_parse_is_a_400_and_nothing_is_stored(people):
    body = '{"description": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = _quiet_client(people["monitor"]).post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]
    assert not Report.objects.exists()


@pytest.mark.parametrize("url", ["/api/v1/reports/", "/api/v1/reports.geojson"])
def test_a_time_filter_with_an_offset_postgresql_refuses_is_compared_in_utc(people, file_report, url):
    file_report(people["monitor"])
    response = _quiet_client(people["verifier"]).get(url, {"occurred_after": "2020-01-01T00:00:00-22:00"})
    assert response.status_code == 200
    streamed(response)  # the GeoJSON export queries while it streams


def test_a_nul_byte_in_the_exports_case_is_a_400(people):
    response = _quiet_client(people["auditor"]).get("/api/v1/audit/export/", {"case": "\x00"})
    assert response.status_code == 400 and "case" in response.json()


@pytest.mark.parametrize("field", ["case", "actor", "action"])
def test_a_nul_byte_in_the_trail_pages_filters_is_a_400(people, field):
    assert _quiet_client(people["auditor"]).get("/trail/", {field: "a\x00b"}).status_code == 400


def test_a_nul_byte_in_the_trail_pages_export_is_a_400(people):
    assert _quiet_client(people["auditor"]).get("/trail/export.jsonl", {"case": "\x00"}).status_code == 400


def test_an_api_list_asked_for_html_answers_406_json_not_a_crash(people):
    response = _quiet_client(people["verifier"]).get("/api/v1/reports/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406 and response["Content-Type"].startswith("application/json")


def test_an_uncaught_error_in_the_api_answers_json_500(people, monkeypatch):
    from reports import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "report_list_for", broken)
    response = _quiet_client(people["verifier"]).get("/api/v1/reports/")
    assert response.status_code == 500 and response.json() == {"detail": "Server error.", "code": "server_error"}


def test_the_database_down_in_an_api_view_is_a_json_503_with_retry_after(people, monkeypatch):
    from reports import selectors

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "report_list_for", down)
    response = _quiet_client(people["verifier"]).get("/api/v1/reports/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response.json()["code"] == "unavailable"


def test_the_database_down_before_any_view_is_a_503_page_or_json(people, monkeypatch):
    # The session and user lookups run in middleware, before any view.
    from django.contrib.sessions.backends import db

    def down(self, *args, **kwargs):
        raise OperationalError("connection refused")

    client = _quiet_client(people["verifier"])
    monkeypatch.setattr(db.SessionStore, "load", down)
    page = client.get("/cases/")
    assert page.status_code == 503 and b"Briefly unavailable" in page.content and page["Retry-After"]
    api = client.get("/api/v1/cases/")
    assert api.status_code == 503 and json.loads(api.content)["code"] == "unavailable"
