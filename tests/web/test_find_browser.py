"""Finding things, in a real browser (headless Chromium): the verifier
filters the inbox, adds a report to its duplicate's case in one click and
returns two reports at once; a member searches and filters the cases.
Screenshots: inbox-tools, case-list-filters (1280 and 360 px)."""

import pytest

from commission import services
from commission.models import Case, CaseReport
from reports.models import ReportStatus
from tests.web.browser import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_the_verifier_filters_the_inbox_and_acts_on_several_reports(people, parties, submitted, session):
    m, m2 = people["monitor"], people["monitor2"]
    first = submitted(m, place_name="Orikhiv", admin1="Zaporizhzhia Oblast", description="Twelve impacts, north.")
    case = services.case_open(actor=people["verifier"], title="Shelling of Orikhiv", reports=[first])
    twin = submitted(m2, place_name="Orikhiv", admin1="Zaporizhzhia Oblast",
                     description="Impacts north of the town, heard from the east.")
    market = submitted(m, lat=49.99, lon=36.23, place_name="Kharkiv", admin1="Kharkiv Oblast",
                       category="drone_strike", description="Drone over the market.")
    depot = submitted(m2, lat=49.98, lon=36.25, place_name="Kharkiv", admin1="Kharkiv Oblast",
                      category="drone_strike", description="Drone strike on a fuel depot.")
    submitted(m, lat=46.63, lon=32.61, place_name="Kherson", admin1="Kherson Oblast", alleged_party=parties["UA"],
              category="small_arms_fire", description="Small arms fire across the river.")

    verifier = session("verifier1")
    page = verifier.go("/inbox/")
    # The duplicate joins the case its twin is in, in one click.
    page.get_by_role("button", name=f"Add to {case.reference}").click()
    page.wait_for_url("**/inbox/")
    assert CaseReport.objects.filter(case=case, report=twin).exists()

    # Filter: drones alleged on RU, newest first; the map follows the list.
    page.get_by_text("Filters").first.click()
    page.get_by_label("Category").select_option("drone_strike")
    page.get_by_label("Alleged party").select_option("RU")
    page.get_by_label("Order").select_option("newest")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/inbox/?*")
    cards = page.locator("ul.cards > li.card label.checkbox strong").all_inner_texts()
    assert cards == [depot.reference, market.reference]
    page.locator(f"input[name=reports][value='{market.pk}']").check()
    page.locator(f"input[name=reports][value='{depot.pk}']").check()
    page.get_by_label("One question for all the selected reports").fill("How far were you from the impact?")
    verifier.shoot("inbox-tools")
    page.get_by_role("button", name="Return the selected reports").click()
    page.wait_for_url("**/inbox/")
    assert page.get_by_text("2 reports were returned to their monitors.").is_visible()
    for report in (market, depot):
        report.refresh_from_db()
        assert report.status == ReportStatus.RETURNED


def test_a_member_searches_and_filters_the_cases(people, parties, submitted, session):
    v = people["verifier"]
    services.case_open(actor=v, title="Shelling of Orikhiv", reports=[
        submitted(people["monitor"], admin1="Zaporizhzhia Oblast", place_name="Orikhiv")])
    kharkiv = services.case_open(actor=v, title="Tirs d'artillerie près de Kharkiv", reports=[
        submitted(people["monitor"], admin1="Kharkiv Oblast", lat=49.99, lon=36.23, alleged_party=parties["UA"])])
    Case.objects.filter(pk=kharkiv.pk).update(flagged=True)

    member = session("member1")
    page = member.go("/cases/")
    page.get_by_label("Search").fill("artillerie")
    page.get_by_text("Filters").first.click()
    page.get_by_label("Party").select_option("UA")
    page.get_by_label("Flagged").select_option("true")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/cases/?*")
    rows = page.locator("tbody tr").all_inner_texts()
    assert len(rows) == 1 and kharkiv.reference in rows[0]
    member.shoot("case-list-filters")
