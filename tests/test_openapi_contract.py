"""The schema check of tests/openapi_contract.py bites, and the schema says
what the API enforces (issue 9, item 4)."""

import json

import pytest

from tests.openapi_contract import Contract, SchemaMismatch

# The schema is generated with the database at hand (it lists the parties).
pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
ME_BODY = {"username": "chair", "delegation": "FR", "roles": ["chair"]}


def _check(contract, *, status=200, content_type="application/json", body=ME_BODY, path=ME, method="GET"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    contract.check(method, path, status, content_type, raw)


def test_a_documented_answer_passes(openapi_contract):
    _check(openapi_contract)
    _check(openapi_contract, status=401, body={"detail": "Authentication credentials were not provided."})


@pytest.mark.parametrize("change, reason", [
    ({"body": {**ME_BODY, "email": "chair@example.org"}}, "does not match"),
    ({"body": {"username": "chair", "roles": []}}, "does not match"),
    ({"body": {**ME_BODY, "roles": "chair"}}, "does not match"),
    ({"status": 418}, "status not documented"),
    ({"content_type": "text/html"}, "content type 'text/html' not documented"),
    ({"path": "/api/v1/nowhere/"}, "path not documented"),
    ({"method": "DELETE"}, "method not documented"),
])
def test_an_undocumented_answer_fails(openapi_contract, change, reason):
    with pytest.raises(SchemaMismatch, match=reason):
        _check(openapi_contract, **change)


def test_a_body_where_none_is_documented_fails():
    contract = Contract({"paths": {"/api/v1/ping/": {"get": {"responses": {"204": {"description": "nothing"}}}}}})
    contract.check("GET", "/api/v1/ping/", 204, "", b"")
    with pytest.raises(SchemaMismatch, match="documents none"):
        contract.check("GET", "/api/v1/ping/", 204, "application/json", b"{}")


def _component(schema, name):
    return schema["components"]["schemas"][name]


def _operation(schema, path, method="get"):
    return schema["paths"][path][method]


def test_the_checkpoint_list_is_documented_as_the_numbered_pages_it_answers(openapi_schema):
    # A checkpoint an hour (AUDIT_CHECKPOINT_INTERVAL): numbered pages with their count stay cheap.
    operation = _operation(openapi_schema, "/api/v1/audit/checkpoints/")
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    page = _component(openapi_schema, body["$ref"].rsplit("/", 1)[1])
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert "page" in {p["name"] for p in operation["parameters"]}
    assert "404" in operation["responses"]


def test_the_real_content_types_are_documented(openapi_schema):
    geojson = _operation(openapi_schema, "/api/v1/reports.geojson")["responses"]["200"]["content"]
    assert set(geojson) == {"application/geo+json"}
    download = _operation(openapi_schema, "/api/v1/evidence/{id}/download/")["responses"]["200"]["content"]
    assert set(download) == {"image/jpeg", "image/png", "image/webp", "application/pdf", "video/mp4"}
    for method in ("post",):
        assert set(_operation(openapi_schema, "/api/v1/reports/", method)["requestBody"]["content"]) == {
            "application/json"}
    assert set(_operation(openapi_schema, "/api/v1/reports/{id}/", "patch")["requestBody"]["content"]) == {
        "application/json"}


def _enum(schema, field):
    if "allOf" in field:
        (ref,) = field["allOf"]
        field = _component(schema, ref["$ref"].rsplit("/", 1)[1])
    return set(field["enum"])


def test_party_codes_are_enums(openapi_schema):
    choice = _component(openapi_schema, "BallotInputRequest")["properties"]["choice"]
    assert _enum(openapi_schema, choice) == {"RU", "UA", "undetermined", "abstain"}
    addressee = _component(openapi_schema, "MeasureProposeRequest")["properties"]["addressee"]
    assert _enum(openapi_schema, addressee) == {"RU", "UA"}


def test_report_lists_may_not_be_empty(openapi_schema):
    for name in ("CaseOpenRequest", "ReportLinkRequest"):
        assert _component(openapi_schema, name)["properties"]["reports"]["minItems"] == 1


def test_the_idempotency_key_has_its_limits(openapi_schema):
    (key,) = [p for p in _operation(openapi_schema, "/api/v1/reports/", "post")["parameters"]
              if p["name"] == "Idempotency-Key"]
    assert key["schema"]["maxLength"] == 200
    assert key["schema"]["minLength"] == 1
    assert "pattern" in key["schema"]


@pytest.mark.parametrize("key", ["k\u00e9", "a\tb", " " * 3])
def test_a_key_outside_the_documented_pattern_is_refused(api, people, key):
    from tests.reports.conftest import body

    response = api(people["monitor"]).post("/api/v1/reports/", body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "idempotency_key" in response.json()


@pytest.mark.parametrize("role, path", [("auditor", "/api/v1/audit/checkpoints/")])
def test_a_page_past_the_end_is_a_documented_404(api, people, role, path):
    # The response check (tests/openapi_contract.py) fails this test if the 404 is not in the schema.
    response = api(people[role]).get(path, {"page": 99})
    assert response.status_code == 404


CURSOR_LISTS = [("monitor", "/api/v1/reports/"), ("chair", "/api/v1/cases/"), ("chair", "/api/v1/deadlines/"),
                ("chair", "/api/v1/notifications/"), ("auditor", "/api/v1/audit/events/")]


@pytest.mark.parametrize("role, path", CURSOR_LISTS)
def test_a_cursor_list_documents_its_cursor_and_refuses_a_page_number(api, people, openapi_schema, role, path):
    client = api(people[role])
    # Both answers are checked against the schema by the response check.
    assert client.get(path, {"cursor": "bm9wZQ"}).status_code == 404
    refused = client.get(path, {"page": 2})
    assert refused.status_code == 400 and "next" in refused.json()["page"][0]
    names = {p["name"] for p in openapi_schema["paths"][path]["get"]["parameters"]}
    assert {"cursor", "page_size"} <= names and "page" not in names
    listed = openapi_schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "count" not in json.dumps(listed)


@pytest.mark.django_db
def test_without_parties_to_read_the_schema_still_generates_with_a_plain_string():
    # The deploy check runs before the first migrate; a new install has no parties yet.
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    choice = _component(schema, "BallotInputRequest")["properties"]["choice"]
    assert "enum" not in choice and choice["type"] == "string"
    assert "party code" in choice["description"] and "abstain" in choice["description"]
