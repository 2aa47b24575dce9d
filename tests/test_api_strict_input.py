"""The API takes what its schema says and refuses what it does not (found by
schemathesis against a live server, scripts/schemathesis_live.sh): a number
where the schema says string, a page size that is not a positive number, a
form-encoded body (it cannot say null); and the schema says what the API
does accept: an empty query parameter means "not given", a monitor files
only a draft or a submitted report."""

import pytest

from tests.reports.conftest import body

pytestmark = pytest.mark.django_db


def _schema(client):
    return client.get("/api/schema/?format=json").json()


def test_a_number_where_the_schema_says_string_is_refused(api, people, file_report):
    report = file_report(people["monitor"])
    response = api(people["verifier"]).post(f"/api/v1/reports/{report.pk}/return/", {"reason": 0}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    report.refresh_from_db()
    assert report.status == "submitted"


def test_a_page_size_that_is_not_a_positive_number_is_refused(api, people):
    for bad in ("null", "0", "-3", "x"):
        response = api(people["auditor"]).get(f"/api/v1/audit/events/?page_size={bad}")
        assert response.status_code == 400 and "page_size" in response.json(), bad
    assert api(people["auditor"]).get("/api/v1/audit/events/?page_size=2").status_code == 200


def test_an_empty_query_parameter_means_not_given_and_the_schema_says_so(api, people, client):
    assert api(people["verifier"]).get("/api/v1/reports/?occurred_before=&status=").status_code == 200
    parameters = _schema(client)["paths"]["/api/v1/reports/"]["get"]["parameters"]
    optional_query = [p for p in parameters if p["in"] == "query" and not p.get("required")]
    assert optional_query and all(p.get("allowEmptyValue") is True for p in optional_query)


def test_the_schema_offers_a_monitor_only_the_statuses_a_report_is_filed_with(client):
    schemas = _schema(client)["components"]["schemas"]
    status = schemas["ReportInputRequest"]["properties"]["status"]
    ref = next(item["$ref"] for item in status.get("allOf", [status]) if "$ref" in item)
    assert schemas[ref.rsplit("/", 1)[1]]["enum"] == ["draft", "submitted"]
    assert schemas["StatusEnum"]["enum"] == ["draft", "submitted", "returned"]  # what a report shows


def test_the_bbox_parameter_documents_its_four_numbers(client):
    parameters = _schema(client)["paths"]["/api/v1/reports/"]["get"]["parameters"]
    bbox = next(p for p in parameters if p["name"] == "bbox")
    assert "pattern" in bbox["schema"]


@pytest.mark.outside_schema
def test_api_bodies_are_json_not_forms(api, people):
    data = body()
    data.pop("location"), data.pop("casualties"), data.pop("links")
    response = api(people["monitor"]).post("/api/v1/reports/", data, format="multipart")
    assert response.status_code == 415
