"""Who may do what: every persona and an anonymous client against every
reports endpoint and method. The report under test belongs to monitor1
(monitor2 is another monitor: they do not even learn that it exists)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import Evidence
from reports.services import evidence_add
from tests.reports.conftest import body, png_bytes

pytestmark = pytest.mark.django_db

PERSONAS = ["monitor", "monitor2", "verifier", "chair", "member1", "member5", "auditor", "outsider", None]

#   endpoint        method   monitor monitor2 verifier chair member1 member5 auditor outsider anonymous
MATRIX = {
    ("list", "get"):              (200, 200, 200, 200, 200, 200, 200, 403, 401),
    ("list", "post"):             (201, 201, 403, 403, 403, 403, 403, 403, 401),
    ("geojson", "get"):           (200, 200, 200, 200, 200, 200, 200, 403, 401),
    ("detail", "get"):            (200, 404, 200, 200, 200, 200, 200, 403, 401),
    ("draft", "patch"):           (200, 404, 403, 403, 403, 403, 403, 403, 401),
    ("detail", "patch"):          (409, 404, 403, 403, 403, 403, 403, 403, 401),
    ("similar", "get"):           (200, 404, 200, 200, 200, 200, 200, 403, 401),
    ("evidence", "get"):          (200, 404, 200, 200, 200, 200, 200, 403, 401),
    ("evidence", "post"):         (201, 404, 201, 201, 403, 403, 403, 403, 401),
    ("download", "get"):          (200, 404, 200, 200, 200, 200, 200, 403, 401),
}
CASES = [
    (endpoint, method, who, expected)
    for (endpoint, method), statuses in MATRIX.items()
    for who, expected in zip(PERSONAS, statuses, strict=True)
]


def _url(endpoint, report, draft, evidence):
    return {
        "list": "/api/v1/reports/",
        "geojson": "/api/v1/reports.geojson",
        "detail": f"/api/v1/reports/{report.pk}/",
        "draft": f"/api/v1/reports/{draft.pk}/",
        "similar": f"/api/v1/reports/{report.pk}/similar/",
        "evidence": f"/api/v1/reports/{report.pk}/evidence/",
        "download": f"/api/v1/evidence/{evidence.pk}/download/",
    }[endpoint]


def _payload(endpoint, method):
    if endpoint == "evidence" and method == "post":
        return {"data": {"file": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")},
                "format": "multipart"}
    if method == "post":
        return {"data": body(), "format": "json"}
    if method == "patch":
        return {"data": {"description": "Edited."}, "format": "json"}
    return {}


@pytest.mark.parametrize(("endpoint", "method", "who", "expected"), CASES,
                         ids=[f"{e}-{m}-{w or 'anonymous'}" for e, m, w, _x in CASES])
def test_the_permission_matrix(api, people, file_report, endpoint, method, who, expected):
    report = file_report(people["monitor"])
    draft = file_report(people["monitor"], status="draft")
    evidence = evidence_add(actor=people["monitor"], report=report,
                            upload=SimpleUploadedFile("e.png", png_bytes(), content_type="image/png"))
    evidence_before = Evidence.objects.count()
    client = api(people[who] if who else None)
    response = getattr(client, method)(_url(endpoint, report, draft, evidence), **_payload(endpoint, method))
    assert response.status_code == expected, getattr(response, "data", response)
    if expected in (401, 403, 404) and method != "get":
        assert Evidence.objects.count() == evidence_before
        report.refresh_from_db()
        draft.refresh_from_db()
        assert report.description == draft.description == "Impacts observed."


def test_the_api_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/v1/reports/", "/api/v1/reports/{id}/", "/api/v1/reports.geojson",
                 "/api/v1/reports/{id}/similar/", "/api/v1/reports/{id}/evidence/",
                 "/api/v1/evidence/{id}/download/"):
        assert path in schema["paths"], path
    create = schema["paths"]["/api/v1/reports/"]["post"]
    assert {"201", "400", "401", "403", "422"} <= set(create["responses"])
    assert {"400", "413"} <= set(schema["paths"]["/api/v1/reports/{id}/evidence/"]["post"]["responses"])
    assert "409" in schema["paths"]["/api/v1/reports/{id}/"]["patch"]["responses"]


def test_the_service_itself_refuses_a_monitor_editing_another_monitors_report(people, file_report):
    # Not only the API's scoping: reports.services checks the author on its own.
    from config.errors import Forbidden
    from reports.models import Report
    from reports.services import report_update

    draft = file_report(people["monitor"], status="draft")
    with pytest.raises(Forbidden):
        report_update(actor=people["monitor2"], report=draft, data={"description": "Rewritten by someone else."})
    assert Report.objects.get(pk=draft.pk).description != "Rewritten by someone else."
