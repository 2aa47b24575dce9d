"""Duplicate candidates (similar/), list filters, bounding boxes, GeoJSON,
and list endpoints whose query count does not grow with the page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import geo
from reports.similar import report_similar
from tests.conftest import streamed_json
from tests.reports.conftest import KHARKIV, M_PER_DEG_LAT, ORIKHIV, iso

pytestmark = pytest.mark.django_db


def north_of(point, metres):
    return {"lat": point[0] + metres / M_PER_DEG_LAT, "lon": point[1]}


@pytest.fixture
def t0():
    return timezone.now() - timedelta(hours=12)


def test_similar_lists_same_category_nearby_in_time_nearest_first(people, file_report, t0):
    m1, m2 = people["monitor"], people["monitor2"]
    base = file_report(m1, occurred_at=t0, lat=ORIKHIV[0], lon=ORIKHIV[1])
    far = file_report(m2, occurred_at=t0 + timedelta(hours=1), **north_of(ORIKHIV, 4500))
    near = file_report(m2, occurred_at=t0 - timedelta(hours=5), **north_of(ORIKHIV, 300))
    mid = file_report(m1, occurred_at=t0 + timedelta(minutes=10), **north_of(ORIKHIV, 2000))
    file_report(m2, occurred_at=t0, **north_of(ORIKHIV, 5600))                           # too far
    file_report(m2, occurred_at=t0, category="drone_strike", **north_of(ORIKHIV, 100))   # other category
    file_report(m2, occurred_at=t0 - timedelta(hours=6, minutes=5), **north_of(ORIKHIV, 100))  # too early
    file_report(m2, occurred_at=t0 + timedelta(hours=6, minutes=5), **north_of(ORIKHIV, 100))  # too late
    file_report(m2, occurred_at=t0, status="draft", **north_of(ORIKHIV, 50))              # a draft

    similar = report_similar(base)
    assert [r.pk for r in similar] == [near.pk, mid.pk, far.pk]
    assert [round(r.distance_m, -1) for r in similar] == [300, 2000, 4500]


def test_a_lasting_incident_counts_from_its_whole_span(people, file_report, t0):
    base = file_report(people["monitor"], occurred_at=t0 - timedelta(hours=10), occurred_until=t0)
    later = file_report(people["monitor2"], occurred_at=t0 + timedelta(hours=5), **north_of(ORIKHIV, 100))
    assert [r.pk for r in report_similar(base)] == [later.pk]


def test_similar_follows_the_settings(people, file_report, settings, t0):
    base = file_report(people["monitor"], occurred_at=t0)
    file_report(people["monitor2"], occurred_at=t0 + timedelta(hours=1), **north_of(ORIKHIV, 2000))
    settings.SIMILAR_DISTANCE_M = 1000
    assert report_similar(base) == []
    settings.SIMILAR_DISTANCE_M = 5000
    settings.SIMILAR_WINDOW = timedelta(minutes=30)
    assert report_similar(base) == []


def test_similar_finds_neighbours_across_the_antimeridian(people, file_report, t0):
    base = file_report(people["monitor"], occurred_at=t0, lat=65.0, lon=179.99)
    other = file_report(people["monitor2"], occurred_at=t0, lat=65.0, lon=-179.99)
    [found] = report_similar(base)
    assert found.pk == other.pk and found.distance_m == pytest.approx(940, abs=10)


def test_the_bounding_box_encloses_the_circle():
    min_lat, max_lat, ranges = geo.box_around(60.0, 30.0, 5000)
    for bearing_point in [(60.0449, 30.0), (60.0, 30.0898), (59.9551, 30.0), (60.0, 29.9102)]:
        assert geo.haversine_m(60.0, 30.0, *bearing_point) == pytest.approx(5000, rel=0.01)
        assert min_lat <= bearing_point[0] <= max_lat
        assert any(w <= bearing_point[1] <= e for w, e in ranges)


def test_the_similar_endpoint_shows_only_what_the_caller_may_see(api, people, file_report, t0):
    base = file_report(people["monitor"], occurred_at=t0)
    other = file_report(people["monitor2"], occurred_at=t0, **north_of(ORIKHIV, 1000))
    as_verifier = api(people["verifier"]).get(f"/api/v1/reports/{base.pk}/similar/").json()
    assert [(r["id"], r["distance_m"]) for r in as_verifier] == [(other.pk, pytest.approx(1000, abs=1))]
    assert api(people["monitor"]).get(f"/api/v1/reports/{base.pk}/similar/").json() == []


# --- Filters -------------------------------------------------------------------


@pytest.fixture
def spread(people, file_report, parties, t0):
    m = people["monitor"]
    return {
        "orikhiv": file_report(m, occurred_at=t0, lat=ORIKHIV[0], lon=ORIKHIV[1]),
        "kharkiv": file_report(m, occurred_at=t0 - timedelta(days=2), lat=KHARKIV[0], lon=KHARKIV[1],
                               category="drone_strike", alleged_party=parties["UA"]),
        "draft": file_report(m, occurred_at=t0 - timedelta(days=1), status="draft", alleged_party=None),
    }


def _ids(response):
    assert response.status_code == 200, response.json()
    return {r["id"] for r in response.json()["results"]}


def test_the_list_filters(api, people, spread, t0):
    client = api(people["monitor"])
    url = "/api/v1/reports/"
    ids = {k: r.pk for k, r in spread.items()}
    assert _ids(client.get(url, {"status": "draft"})) == {ids["draft"]}
    assert _ids(client.get(url, {"category": "drone_strike"})) == {ids["kharkiv"]}
    assert _ids(client.get(url, {"alleged_party": "RU"})) == {ids["orikhiv"]}
    assert _ids(client.get(url, {"occurred_after": iso(t0 - timedelta(days=1, minutes=1))})) == {
        ids["orikhiv"], ids["draft"]}
    assert _ids(client.get(url, {"occurred_before": iso(t0 - timedelta(hours=1))})) == {ids["kharkiv"], ids["draft"]}
    assert client.get(url, {"category": "bombing"}).status_code == 400
    assert client.get(url, {"occurred_after": "last week"}).status_code == 400


def test_the_bbox_filter(api, people, spread):
    client = api(people["monitor"])
    around_kharkiv = "36.0,49.8,36.5,50.2"
    assert _ids(client.get("/api/v1/reports/", {"bbox": around_kharkiv})) == {spread["kharkiv"].pk}
    assert _ids(client.get("/api/v1/reports/", {"bbox": "30,45,40,51"})) == {r.pk for r in spread.values()}
    assert _ids(client.get("/api/v1/reports/", {"bbox": "0,0,1,1"})) == set()


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "1,2,3,4,5", "0,91,1,92", "0,10,1,5", "-181,0,0,1", "nan,0,1,1"])
def test_a_malformed_bbox_is_a_400(api, people, bbox):
    response = api(people["monitor"]).get("/api/v1/reports/", {"bbox": bbox})
    assert response.status_code == 400 and "bbox" in response.json()


def test_a_bbox_across_the_antimeridian(api, people, file_report):
    east = file_report(people["monitor"], lat=65.0, lon=179.5)
    west = file_report(people["monitor"], lat=65.0, lon=-179.5)
    file_report(people["monitor"], lat=65.0, lon=0.0)
    assert _ids(api(people["monitor"]).get("/api/v1/reports/", {"bbox": "179,64,-179,66"})) == {east.pk, west.pk}


def test_the_list_is_paginated_by_cursor_newest_first(api, people, file_report):
    from config.api import CursorPage

    size = CursorPage.page_size
    filed = [file_report(people["monitor"]).pk for _ in range(size + 1)]
    client = api(people["monitor"])
    first = client.get("/api/v1/reports/").json()
    # No count: counting a million rows cost more than the page (BENCHMARKS.md, "Lists").
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == size and first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["previous"]
    assert [r["id"] for r in first["results"] + second["results"]] == sorted(filed, reverse=True)


def test_the_geojson_export(api, people, spread):
    response = api(people["verifier"]).get("/api/v1/reports.geojson")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/geo+json")
    data = streamed_json(response)
    assert data["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in data["features"]}
    assert set(by_id) == {spread["orikhiv"].pk, spread["kharkiv"].pk}  # the draft is not the verifier's to see
    feature = by_id[spread["kharkiv"].pk]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [KHARKIV[1], KHARKIV[0]]}
    assert feature["properties"]["reference"] == spread["kharkiv"].reference
    assert feature["properties"]["category"] == "drone_strike" and feature["properties"]["alleged_party"] == "UA"
    filtered = streamed_json(api(people["verifier"]).get("/api/v1/reports.geojson", {"category": "shelling"}))
    assert [f["id"] for f in filtered["features"]] == [spread["orikhiv"].pk]
    assert api(people["verifier"]).get("/api/v1/reports.geojson", {"bbox": "x"}).status_code == 400


# --- Query counts ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/reports/", "/api/v1/reports.geojson"])
@pytest.mark.parametrize("who", ["monitor", "verifier"])
def test_list_endpoints_run_as_many_queries_for_50_reports_as_for_1(api, people, file_report, parties, url, who):
    client = api(people[who])

    def count():
        # A real request loads its user afresh; this test reuses one object,
        # so forget the roles it cached.
        people[who].__dict__.pop("_role_cache", None)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            data = streamed_json(response)  # an export's queries run while it streams
        assert response.status_code == 200
        return len(queries), data

    file_report(people["monitor"], alleged_party=parties["UA"])
    one, data = count()
    for i in range(49):
        file_report(people["monitor"], alleged_party=parties["RU"] if i % 2 else None)
    fifty, data = count()
    assert len(data.get("results", data.get("features"))) == 50
    assert one == fifty


def test_the_evidence_list_runs_as_many_queries_for_many_files_as_for_one(api, people, file_report):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports.services import evidence_add
    from tests.reports.conftest import png_bytes

    report = file_report(people["monitor"])
    client = api(people["member1"])

    def add(n):
        evidence_add(actor=people["monitor"], report=report,
                     upload=SimpleUploadedFile("p.png", png_bytes(n, 1), content_type="image/png"))

    def count():
        people["member1"].__dict__.pop("_role_cache", None)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/reports/{report.pk}/evidence/").status_code == 200
        return len(queries)

    add(1)
    one = count()
    for n in range(2, 12):
        add(n)
    assert count() == one
