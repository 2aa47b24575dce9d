"""The overview's map in a real browser on a phone (360 px): the reports
come as clusters from GET /api/v1/map/clusters/, every report counted, and
selecting a cluster zooms in on it (screenshot "overview-map")."""

from datetime import UTC, datetime

import pytest

from reports.services import ImportEntry, report_import
from tests.conftest import PASSWORD
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_the_overview_map_shows_every_report_as_clusters_on_a_phone(people, browser, live_server):
    # 600 reports along the front, as an import files them (one batch).
    entries = [ImportEntry(number=i + 1, idempotency_key=f"front-{i}", data={
        "occurred_at": datetime(2026, 1 + i % 6, 1 + i % 27, 8, tzinfo=UTC), "lat": 46.6 + (i % 40) * 0.08,
        "lon": 32.6 + (i % 60) * 0.09, "category": ("shelling", "drone_strike")[i % 2],
        "description": f"impacts {i}", "source_type": "open_source"}) for i in range(600)]
    assert {o.status for o in report_import(actor=people["monitor"], entries=entries)} == {"filed"}

    s = Session(browser, live_server.url)
    s.sign_in("member1", PASSWORD)
    s.page.set_viewport_size({"width": 360, "height": 740})
    page = s.go("/overview/")
    page.wait_for_selector("#map[data-points='600']")
    page.wait_for_selector("#map[data-basemap-ready='1']")
    drawn = int(page.get_attribute("#map", "data-clusters-drawn"))
    assert 1 < drawn < 600
    assert page.locator("#map .map-cluster").count() == drawn
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    s.shoot("overview-map")

    # The biggest cluster: selecting it zooms the map in on its cell.
    biggest = max(range(drawn), key=lambda i: int(page.locator("#map .map-cluster").nth(i).inner_text() or "1"))
    count = int(page.locator("#map .map-cluster").nth(biggest).inner_text())
    assert count > 1
    page.locator("#map .map-cluster").nth(biggest).click()
    page.wait_for_selector("#map:not([data-points='600'])")
    shown = int(page.get_attribute("#map", "data-points"))
    assert count <= shown < 600, (count, shown)
    s.close()
