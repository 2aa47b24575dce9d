"""The report form in a phone's browser (Chromium at 360 px), as a monitor
uses it in the field: a draft saved with one field; a point picked on the
map, from the device's position and by MGRS; a time typed in the device's
zone stored as the right UTC instant; two photos attached in the form."""

import re
from datetime import UTC, datetime

import pytest

from reports.models import Evidence, Report, ReportStatus
from tests.conftest import PASSWORD
from tests.web.browser import MAX_HEIGHT, SCREENSHOTS, WIDTHS, Session, make_png, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 740}
# A report's own page. Not "**/reports/*/": the form's own URL (/my/reports/new/)
# matches that, and the form is sent by the device outbox (web/static/web/outbox.js),
# which opens the report's page only once the server has answered.
REPORT_PAGE = re.compile(r"/reports/\d+/$")


class FieldSession(Session):
    """A Session whose browser context is a phone with its own time zone
    and, when given, a position it shares."""

    def __init__(self, browser, base_url: str, **context):
        self.base_url = base_url
        self.context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, **context)
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        self.csp_violations = []
        self.page.on("console", self._watch_console)

    def shoot(self, name: str) -> None:
        """As Session.shoot, but the maps get time to redraw for each width
        (Leaflet redraws its vector layers after a resize, not during it)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page = self.page
        for kind, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(600)
            full = page.evaluate("document.documentElement.scrollHeight")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{kind}.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": min(full, MAX_HEIGHT[kind])})
        page.set_viewport_size(PHONE)


@pytest.fixture
def field_session(browser, live_server):
    opened = []

    def open_as(username: str, **context) -> FieldSession:
        s = FieldSession(browser, live_server.url, **context)
        s.sign_in(username, PASSWORD)
        opened.append(s)
        return s

    yield open_as
    for s in opened:
        s.close()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def fill_the_rest(page) -> None:
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("What happened").fill("Impacts near the school.")


def test_a_draft_is_saved_with_one_field(people, field_session):
    s = field_session("monitor1", timezone_id="Europe/Kyiv")
    page = s.go("/my/reports/new/")
    page.get_by_label("What happened").fill("Smoke rising north of the bridge; details to follow.")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(REPORT_PAGE)
    report = Report.objects.get()
    assert report.status == ReportStatus.DRAFT
    assert report.description == "Smoke rising north of the bridge; details to follow."
    assert report.occurred_at is None and report.lat is None
    assert "Draft" in page.locator("main").inner_text()
    assert page.get_by_text(f"Draft {report.reference} saved.").is_visible()


def test_a_point_is_picked_on_the_map_from_the_device_and_by_mgrs(people, field_session):
    s = field_session("monitor1", timezone_id="Europe/Kyiv", permissions=["geolocation"],
                      geolocation={"latitude": 47.5689, "longitude": 35.8612, "accuracy": 35})
    page = s.go("/my/reports/new/")
    # The basemap is the vendored Natural Earth boundaries: geography with no tile server.
    page.wait_for_selector("#location-map[data-basemap-ready='1']")
    assert page.locator("#location-map path").count() > 100
    # A tap in the middle of the map (centred on 48.5 N, 33.5 E) fills the boxes.
    page.locator("#location-map").click()
    lat, lon = float(page.get_by_label("Latitude").input_value()), float(page.get_by_label("Longitude").input_value())
    assert lat == pytest.approx(48.5, abs=0.2) and lon == pytest.approx(33.5, abs=0.2)
    page.get_by_label("Place name").fill("Field by the Dnipro road")
    s.shoot("report-form-map")

    # The device's position replaces it, with its accuracy as the precision.
    page.get_by_role("button", name="Use my position").click()
    page.wait_for_function("() => document.getElementById('id_lat').value === '47.56890'")
    assert page.get_by_label("Longitude").input_value() == "35.86120"
    assert page.get_by_label("Precision (metres)").input_value() == "35"

    # A grid reference typed by a military monitor: the server converts it.
    page.get_by_label("MGRS grid reference").fill("37U DQ 12345 67890")
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    fill_the_rest(page)
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url(REPORT_PAGE)
    report = Report.objects.get()
    assert (round(report.lat, 3), round(report.lon, 3)) == (49.357, 37.793)
    assert report.place_name == "Field by the Dnipro road"
    assert report.precision_m == 35


def test_a_time_typed_in_kyiv_is_stored_as_its_utc_instant(people, field_session):
    s = field_session("monitor1", timezone_id="Europe/Kyiv")
    page = s.go("/my/reports/new/")
    # Chromium's ICU still says the older name of the same zone.
    assert page.locator("[data-zone-name]").inner_text() in ("Europe/Kyiv", "Europe/Kiev")
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    assert page.locator("[data-utc-for='id_occurred_at']").inner_text() == "= 2026-01-01 08:00 UTC"
    page.get_by_label("Latitude").fill("47,5689")
    page.get_by_label("Longitude").fill("35,8612")
    fill_the_rest(page)
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url(REPORT_PAGE)
    report = Report.objects.get()
    assert report.occurred_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert (report.lat, report.lon) == (47.5689, 35.8612)
    # Shown back in the viewer's zone, UTC on hover.
    when = page.locator("time[data-local]").first
    assert when.get_attribute("title") == "2026-01-01 08:00 UTC"
    assert "10:00" in when.inner_text()


def test_a_draft_edited_in_another_zone_shows_its_time_there(people, field_session):
    s = field_session("monitor1", timezone_id="America/New_York")
    page = s.go("/my/reports/new/")
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(REPORT_PAGE)
    report = Report.objects.get()
    assert report.occurred_at == datetime(2026, 1, 1, 15, 0, tzinfo=UTC)
    # Opened again for editing: the server renders UTC, the page shows it in New York time,
    # and saving it untouched keeps the same instant.
    page = s.go(f"/reports/{report.pk}/edit/")
    assert page.get_by_label("When it happened").input_value() == "2026-01-01T10:00"
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(REPORT_PAGE)
    report.refresh_from_db()
    assert report.occurred_at == datetime(2026, 1, 1, 15, 0, tzinfo=UTC)


def test_two_photos_are_attached_in_the_form(people, field_session, media):
    s = field_session("monitor1", timezone_id="Europe/Kyiv")
    first, second = media / "crater.png", media / "fragment.png"
    first.write_bytes(make_png())
    second.write_bytes(make_png(rgb=(46, 90, 176)))
    page = s.go("/my/reports/new/")
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill("47.5689")
    page.get_by_label("Longitude").fill("35.8612")
    fill_the_rest(page)
    page.get_by_label("Evidence").set_input_files([str(first), str(second)])
    s.shoot("report-form-evidence")
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url(REPORT_PAGE)
    report = Report.objects.get()
    assert sorted(e.original_name for e in Evidence.objects.filter(report=report)) == ["crater.png", "fragment.png"]
    page.wait_for_function("() => Array.from(document.querySelectorAll(\"img[alt^='Evidence photo']\"))"
                           ".filter(i => i.complete && i.naturalWidth > 0).length === 2")
