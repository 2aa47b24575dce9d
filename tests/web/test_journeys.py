"""Whole journeys in a real browser (headless Debian Chromium): a monitor
files a report with evidence; a verifier opens a case and confirms it;
members vote (the recused member sees why they cannot); the round closes;
the chair adopts a measure; an auditor opens the trail and sees it
verified. Each main page is saved as a screenshot at 1280 and 360 px."""

import pytest

from reports.models import Evidence, Report, ReportStatus
from tests.conftest import PASSWORD
from tests.web.browser import Session, browser, make_png, needs_chromium  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session(browser, live_server):  # noqa: F811
    opened = []

    def open_as(username: str) -> Session:
        s = Session(browser, live_server.url)
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


def file_report_in_browser(s: Session, tmp_path, *, description: str, lat="47.5689", lon="35.8612") -> Report:
    page = s.go("/my/reports/new/")
    page.get_by_label("When it happened (UTC)").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill(lat)
    page.get_by_label("Longitude").fill(lon)
    page.get_by_label("Place name").fill("Orikhiv")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("Alleged party").select_option("RU")
    page.get_by_label("What happened").fill(description)
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url("**/reports/*/")
    report = Report.objects.get(description=description)
    photo = tmp_path / "impact.png"
    photo.write_bytes(make_png())
    page.get_by_label("File").set_input_files(str(photo))
    page.get_by_role("button", name="Attach").click()
    page.wait_for_url("**/reports/*/#evidence")
    return report


def test_a_monitor_files_a_report_with_evidence(people, session, media):
    s = session("monitor1")
    s.shoot("home-monitor")
    page = s.go("/my/reports/new/")
    # Bad input first: the API's message appears next to the field, nothing is filed.
    page.get_by_label("Latitude").fill("123")
    page.get_by_role("button", name="Submit report").click()
    assert page.locator("#id_lat_errors").inner_text() == "Ensure this value is less than or equal to 90."
    assert page.locator("#id_occurred_at_errors").inner_text() == "This field is required."
    s.shoot("report-form-errors")
    assert Report.objects.count() == 0

    report = file_report_in_browser(s, media, description="About twelve impacts on the northern outskirts.")
    assert report.status == ReportStatus.SUBMITTED
    assert Evidence.objects.filter(report=report).count() == 1
    page = s.page
    assert page.get_by_role("heading", name=report.reference).is_visible()
    # The photo is shown inline, through the download endpoint.
    page.wait_for_function("() => { const i = document.querySelector(\"img[alt^='Evidence photo']\");"
                           " return i && i.complete && i.naturalWidth > 0; }")
    assert page.locator("img[alt^='Evidence photo']").evaluate("img => img.naturalWidth") == 240
    s.shoot("report-detail")
    s.go("/my/reports/")
    assert page.get_by_role("link", name=report.reference).is_visible()
    s.shoot("my-reports")
    s.go("/my/reports/new/")
    s.shoot("report-form")


def test_the_overview_and_the_trail_in_a_browser(people, session, browser, live_server):  # noqa: F811
    from tests.web.test_auditor_pages import file_report

    file_report(people["monitor"])
    file_report(people["monitor"], category="drone_strike", lat=48.0, lon=37.8, occurred_at="2026-02-03T10:00:00Z")
    file_report(people["monitor"], alleged_party="UA", lat=47.1, lon=35.2, occurred_at="2026-02-13T10:00:00Z")

    anonymous = Session(browser, live_server.url)
    anonymous.go("/signin/")
    anonymous.shoot("signin")
    anonymous.close()

    s = session("member1")
    page = s.go("/overview/")
    # Without MAP_TILE_URL the points still show, on a plain background.
    page.wait_for_selector("#map[data-points='3']")
    assert page.locator(".leaflet-interactive").count() == 3
    assert page.locator(".chart svg").count() == 2
    s.shoot("overview")

    a = session("auditor1")
    page = a.go("/trail/")
    assert "Verified" in page.get_by_test_id("integrity").inner_text()
    a.shoot("trail")
