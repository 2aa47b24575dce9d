"""Whole journeys in a real browser (headless Debian Chromium): a monitor
files a report with evidence; a verifier returns one with a question and the
monitor answers; a verifier opens a case and confirms it;
members vote (the recused member sees why they cannot); the round closes;
the chair adopts a measure; an auditor opens the trail and sees it
verified. Each main page is saved as a screenshot at 1280 and 360 px."""

import re

import pytest

from reports.models import Evidence, Report, ReportStatus
from tests.web.browser import Session, make_png, needs_chromium

REPORT_PAGE = re.compile(r"/reports/\d+/$")
pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def file_report_in_browser(s: Session, tmp_path, *, description: str, lat="47.5689", lon="35.8612") -> Report:
    page = s.go("/my/reports/new/")
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill(lat)
    page.get_by_label("Longitude").fill(lon)
    page.get_by_label("Place name").fill("Orikhiv")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("Alleged party").select_option("RU")
    page.get_by_label("What happened").fill(description)
    page.get_by_role("button", name="Submit report").click()
    # A report's own page, not "**/reports/*/", which the form's own URL
    # (/my/reports/new/) matches: the device outbox (web/static/web/outbox.js)
    # sends the form first and opens the report's page after the answer.
    page.wait_for_url(REPORT_PAGE)
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
    # The photo is shown inline as the server-made thumbnail (240 px wide: never enlarged).
    page.wait_for_function("() => { const i = document.querySelector(\"img[alt^='Evidence photo']\");"
                           " return i && i.complete && i.naturalWidth > 0; }")
    assert page.locator("img[alt^='Evidence photo']").evaluate("img => img.naturalWidth") == 240
    s.shoot("report-detail")
    s.go("/my/reports/")
    assert page.get_by_role("link", name=report.reference).is_visible()
    s.shoot("my-reports")
    s.go("/my/reports/new/")
    s.shoot("report-form")


def test_a_verifier_returns_a_report_and_its_monitor_answers(people, session, media):
    monitor = session("monitor1")
    report = file_report_in_browser(monitor, media, description="Impacts near the school, count unclear.")

    # The question box sits in the inbox card but belongs to its own form
    # (form="return-<id>"): the browser must send it there, not to the case form.
    verifier = session("verifier1")
    page = verifier.go("/inbox/")
    page.locator("details.return summary").first.click()
    page.get_by_label("Question for the monitor").fill("How many impacts did you count yourself?")
    page.locator(f"button[form='return-{report.pk}']").click()
    page.wait_for_url("**/inbox/")
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert report.returned_reason == "How many impacts did you count yourself?"

    page = monitor.go("/")
    # Under "Reports returned for more information" (the notification repeats it further down).
    assert page.locator("blockquote.question").inner_text() == "How many impacts did you count yourself?"
    monitor.shoot("home-returned")
    page.get_by_role("link", name="Answer: edit and submit again").click()
    page.wait_for_url("**/edit/")
    page.get_by_label("What happened").fill("Twelve impacts, counted from the school roof.")
    page.get_by_role("button", name="Submit again").click()
    page.wait_for_url("**/reports/*/")
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert report.description == "Twelve impacts, counted from the school roof."


def test_the_overview_and_the_trail_in_a_browser(people, session, browser, live_server):
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
    # Without MAP_TILE_URL the clusters show over the vendored Natural Earth boundaries.
    page.wait_for_selector("#map[data-points='3']")
    page.wait_for_selector("#map[data-basemap-ready='1']")
    # Clusters (GET /api/v1/map/clusters/): two of the three share a cell at this zoom.
    drawn = int(page.get_attribute("#map", "data-clusters-drawn"))
    assert page.locator(".leaflet-interactive").count() == drawn >= 2
    assert page.locator(".chart svg[role='img']").count() == 2
    s.shoot("overview")

    a = session("auditor1")
    page = a.go("/trail/")
    assert "Verified" in page.get_by_test_id("integrity").inner_text()
    a.shoot("trail")


def test_the_commission_journey_from_report_to_adopted_measure(people, session, media):
    # A monitor files a report with evidence.
    monitor = session("monitor1")
    report = file_report_in_browser(monitor, media, description="Twelve impacts near the school, 06:40.")

    # A verifier opens a case from it in the inbox, and confirms it.
    verifier = session("verifier1")
    page = verifier.go("/inbox/")
    assert page.get_by_text(report.reference).first.is_visible()
    verifier.shoot("inbox")
    page.locator(f"input[name=reports][value='{report.pk}']").check()
    page.get_by_label("Case title").fill("Shelling of Orikhiv, 1 January")
    page.get_by_role("button", name="Open a case from the selected reports").click()
    page.wait_for_url("**/cases/*/")
    case_url = page.url
    assert "Verification" in page.locator("h1").inner_text()
    page.get_by_label("Confirmed", exact=True).check()
    page.get_by_label("Findings").fill("Craters and fragments consistent with 152 mm artillery fired from the east.")
    page.get_by_role("button", name="Record the findings").click()
    page.wait_for_url("**/cases/*/#h-verification")
    assert "Attribution" in page.locator("h1").inner_text()
    verifier.shoot("case-verified")

    # The chair opens a round.
    chair = session("chair")
    page = chair.go(case_url.replace(chair.base_url, ""))
    page.get_by_role("button", name="Open the round").click()
    page.wait_for_url("**/cases/*/#h-attribution")
    assert page.get_by_text("0 of 4 eligible members have voted.").is_visible()

    # The recused member (UA delegation) sees why they cannot vote.
    member5 = session("member5")
    page = member5.go(case_url.replace(member5.base_url, ""))
    recusal = page.get_by_test_id("recusal")
    assert "cannot vote" in recusal.inner_text()
    assert "UA" in recusal.inner_text()
    assert page.get_by_role("button", name="Cast the sealed ballot").count() == 0
    member5.shoot("case-recused")

    # Members vote; member1 changes their ballot; the round closes early once all eligible voted.
    for i, username in enumerate(["member1", "member2", "member3", "member4"]):
        m = session(username)
        page = m.go(case_url.replace(m.base_url, ""))
        page.get_by_label("RU · Russian Federation").check() if i != 0 else page.get_by_label("Undetermined").check()
        page.get_by_label("Rationale").fill("Trajectory analysis and the verifier's findings.")
        page.get_by_role("button", name="Cast the sealed ballot").click()
        page.wait_for_url("**/cases/*/#h-attribution")
        if username == "member1":
            assert "Undetermined" in page.get_by_test_id("my-ballot").inner_text()
            m.shoot("case-ballot")
            page.get_by_label("RU · Russian Federation").check()
            page.get_by_label("Rationale").fill("On reflection, the trajectory points east.")
            page.get_by_role("button", name="Cast the sealed ballot").click()
            page.wait_for_url("**/cases/*/#h-attribution")
            assert "RU" in page.get_by_test_id("my-ballot").inner_text()

    page = chair.go(case_url.replace(chair.base_url, ""))
    assert "Result: Russian Federation" in page.locator("#h-attribution ~ article, section[aria-labelledby=h-attribution]").first.inner_text()
    assert "Measures" in page.locator("h1").inner_text()

    # A member proposes a measure; the chair adopts it.
    m = session("member2")
    page = m.go(case_url.replace(m.base_url, ""))
    page.get_by_label("Kind of measure").select_option("sanctions")
    page.get_by_label("Addressed to").select_option("RU")
    page.get_by_label("Description").fill("Targeted sanctions on the units identified.")
    page.get_by_role("button", name="Propose the measure").click()
    page.wait_for_url("**/cases/*/#h-measures")
    page = chair.go(case_url.replace(chair.base_url, ""))
    page.get_by_label("Adopt").check()
    page.locator("form[action*='/decision/'] textarea[name=reason]").fill("Proportionate and agreed by the members.")
    page.get_by_role("button", name="Record the decision").click()
    # Adopting cannot be undone: a confirmation page says what follows, and waits for the box.
    assert "cannot be undone" in page.get_by_test_id("consequences").inner_text()
    page.get_by_label("I understand that this decision cannot be undone.").check()
    page.get_by_role("button", name="Adopt the measure").click()
    page.wait_for_url("**/cases/*/#h-measures")
    assert page.locator("#h-measures ~ article .badge", has_text="Adopted").count() == 1
    chair.shoot("case-measures")
    chair.go("/board/")
    chair.shoot("board")

    # An auditor opens the case's trail and sees it verified.
    auditor = session("auditor1")
    page = auditor.go(case_url.replace(auditor.base_url, "") + "trail/")
    assert "Verified" in page.get_by_test_id("integrity").inner_text()
    assert page.get_by_text("ballot", exact=False).count() > 0
    auditor.shoot("case-trail")
