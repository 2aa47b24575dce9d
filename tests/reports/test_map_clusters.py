"""GET /api/v1/map/clusters/: every report the caller may see counted once,
in one cell, at every zoom; the same scoping as the report list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import mapgrid
from reports.models import Report
from reports.services import report_create

URL = "/api/v1/map/clusters/"
WORLD = "-180,-90,180,90"

# Positions chosen to sit on edges: the equator and the prime meridian (an
# edge of every zoom), the antimeridian from both sides, the poles and Web
# Mercator's latitude limit, a meridian that is a cell edge from zoom 12 on,
# and the corners of the world.
EDGE_POSITIONS = [
    (0.0, 0.0), (0.0, 180.0), (0.0, -180.0), (90.0, 0.0), (-90.0, 0.0), (90.0, 180.0), (-90.0, -180.0),
    (mapgrid.MAX_LAT, 10.0), (-mapgrid.MAX_LAT, 10.0), (89.99, 179.999), (-89.99, -179.999),
    (48.0, -180 + 360 * 2400 / 4096), (48.0, -180 + 360 * 2400 / 4096 - 1e-12),
    (mapgrid.y_to_lat(1373, 12), 35.0), (mapgrid.y_to_lat(1373, 12) + 1e-12, 35.0),
    (47.5689, 35.8612), (47.5689, 35.8612), (49.9935, 36.2304), (-33.86, 151.2), (64.8, -147.7),
]


@pytest.fixture
def edge_reports(people, file_report):
    monitor, monitor2 = people["monitor"], people["monitor2"]
    mine = [file_report(monitor, lat=lat, lon=lon) for lat, lon in EDGE_POSITIONS]
    theirs = [file_report(monitor2, lat=lat, lon=lon, category="drone_strike") for lat, lon in EDGE_POSITIONS[:7]]
    # Drafts: the author's only; one without a position is on no map.
    report_create(actor=monitor, data={"status": "draft", "lat": 10.0, "lon": 10.0, "description": "half"})
    report_create(actor=monitor2, data={"status": "draft", "description": "nothing yet"})
    report_create(actor=monitor2, data={"status": "draft", "lat": 20.0, "lon": 20.0})
    return {"mine": mine, "theirs": theirs}


def clusters(api, user, **params):
    response = api(user).get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def total(data) -> int:
    return sum(f["properties"]["count"] for f in data["features"])


@pytest.mark.parametrize("zoom", range(0, 19))
def test_every_report_is_counted_once_at_every_zoom(api, people, edge_reports, zoom):
    verifier, monitor = people["verifier"], people["monitor"]
    # The verifier sees every filed report (no drafts); monitor1 their own, their draft with a position included.
    for user, expected in ((verifier, 27), (monitor, 21)):
        data = clusters(api, user, zoom=zoom, bbox=WORLD)
        assert total(data) == expected
        cells = [f["properties"]["cell"] for f in data["features"]]
        assert len(cells) == len(set(cells))
        assert len(cells) <= 4096
    # Far zooms of a reader add up the counts kept on write; close ones group the reports.
    expected_source = "cells" if data["cell_zoom"] <= mapgrid.BASE_ZOOM else "reports"
    assert clusters(api, verifier, zoom=zoom, bbox=WORLD)["source"] == expected_source


@pytest.mark.parametrize("zoom", [0, 3, 6, 9, 10])
def test_the_counts_kept_on_write_answer_exactly_like_grouping_the_reports(api, people, edge_reports, zoom):
    verifier = people["verifier"]
    from_cells = clusters(api, verifier, zoom=zoom, bbox=WORLD)
    # A time filter makes the endpoint group the reports themselves.
    from_reports = clusters(api, verifier, zoom=zoom, bbox=WORLD,
                            occurred_after=(timezone.now() - timedelta(days=3650)).isoformat())
    assert (from_cells["source"], from_reports["source"]) == ("cells", "reports")

    def shape(data):
        return {f["properties"]["cell"]: (f["properties"]["count"], f["properties"].get("reference"),
                                          tuple(round(c, 5) for c in f["geometry"]["coordinates"]))
                for f in data["features"]}

    assert shape(from_cells) == shape(from_reports)


def test_a_cell_holding_one_report_names_it(api, people, file_report):
    report = file_report(people["monitor"], lat=-33.86, lon=151.2)
    file_report(people["monitor"], lat=47.5, lon=35.8)
    file_report(people["monitor"], lat=47.5, lon=35.8)
    for zoom in (2, 15):
        features = clusters(api, people["chair"], zoom=zoom)["features"]
        lone = [f for f in features if f["properties"]["count"] == 1]
        assert [f["properties"]["id"] for f in lone] == [report.pk]
        assert lone[0]["properties"]["reference"] == report.reference
        assert lone[0]["geometry"]["coordinates"] == [151.2, -33.86]
        pair = [f for f in features if f["properties"]["count"] == 2][0]
        assert "id" not in pair["properties"]


def test_a_cells_bbox_lists_its_reports(api, people, edge_reports):
    verifier = people["verifier"]
    for feature in clusters(api, verifier, zoom=5, bbox="20,40,45,55")["features"]:
        west, south, east, north = feature["properties"]["bbox"]
        listed = api(verifier).get("/api/v1/reports/", {"bbox": f"{west},{south},{east},{north}", "page_size": 100})
        assert listed.status_code == 200
        # Reports on the cell's edge are in the neighbour's list too: at least the cell's count.
        assert listed.json()["next"] is None  # one page holds them all (a few dozen here)
        assert len(listed.json()["results"]) >= feature["properties"]["count"]
    # Zooming in on the Orikhiv pair: their own cell at the closest zoom.
    close = clusters(api, verifier, zoom=18, bbox="35.86,47.56,35.87,47.57")["features"]
    assert [f["properties"]["count"] for f in close] == [2]


def test_a_box_across_the_antimeridian_counts_both_sides(api, people, file_report):
    for lon in (179.5, -179.5, 180.0, 0.0):
        file_report(people["monitor"], lat=1.0, lon=lon)
    for zoom in (0, 4, 12, 16):
        data = clusters(api, people["verifier"], zoom=zoom, bbox="179,0,-179,2")
        assert total(data) == 3, zoom


def test_others_drafts_are_never_counted_and_outsiders_are_refused(api, people, edge_reports):
    assert total(clusters(api, people["monitor2"], zoom=3)) == 7 + 1  # their filed reports and their placed draft
    assert total(clusters(api, people["auditor"], zoom=3)) == 27
    assert total(clusters(api, people["auditor"], zoom=14, bbox="5,5,25,25")) == 0  # two drafts lie there
    assert api(people["outsider"]).get(URL, {"zoom": 3}).status_code == 403
    assert api(None).get(URL, {"zoom": 3}).status_code == 401


def test_the_list_filters_narrow_the_map(api, people, edge_reports):
    verifier = people["verifier"]
    assert total(clusters(api, verifier, zoom=4, category="drone_strike")) == 7
    assert total(clusters(api, verifier, zoom=14, category="drone_strike")) == 7
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert total(clusters(api, verifier, zoom=4, occurred_after=future)) == 0
    assert total(clusters(api, verifier, zoom=4, occurred_before=future)) == 27
    assert total(clusters(api, verifier, zoom=4, status="returned")) == 0


@pytest.mark.parametrize("params", [
    {}, {"zoom": -1}, {"zoom": 21}, {"zoom": "x"}, {"zoom": 3, "bbox": "1,2,3"}, {"zoom": 3, "bbox": "0,10,1,5"},
    {"zoom": 3, "bbox": "0,0,200,1"}, {"zoom": 3, "category": "rumour"}, {"zoom": 3, "occurred_after": "soon"},
])
def test_it_refuses_a_bad_query_with_a_message_per_field(api, people, params):
    response = api(people["verifier"]).get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) & {"zoom", "bbox", "category", "occurred_after"}


def test_a_box_too_large_for_its_zoom_gets_coarser_cells(api, people, file_report):
    for i in range(50):
        file_report(people["monitor"], lat=-60 + i * 2.5, lon=-170 + i * 7)
    data = clusters(api, people["verifier"], zoom=18, bbox=WORLD)
    assert data["cell_zoom"] < 20 and total(data) == 50


def test_the_query_count_does_not_grow_with_the_reports(api, people, file_report, django_assert_max_num_queries):
    for i in range(30):
        file_report(people["monitor"], lat=44 + i * 0.3, lon=30 + i * 0.3)
    for user in (people["verifier"], people["monitor"]):
        for zoom in (4, 16):
            client = api(user)
            # The user's roles, the aggregate, the lone reports' references.
            with django_assert_max_num_queries(4):
                response = client.get(URL, {"zoom": zoom, "bbox": WORLD})
            assert response.status_code == 200
    assert Report.objects.count() == 30
