"""In a real browser: the chair closes a case only through its confirmation
page (screenshot "confirm-close"), and an auditor reads the case's trail in
words, with a changed field as before and after (screenshot "trail-readable"),
nothing wider than a 360 px phone."""

import pytest

from commission import services
from commission.models import Case
from tests.conftest import PASSWORD
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_the_chair_confirms_the_close_and_the_auditor_reads_the_trail(people, case_in, browser, live_server):
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions on the battery's brigade.")
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")

    chair = Session(browser, live_server.url)
    chair.sign_in("chair", PASSWORD)
    page = chair.go(f"/cases/{case.pk}/")
    page.get_by_label("Public summary").fill("Shelling attributed to the Russian Federation; sanctions adopted.")
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/close/")
    consequences = page.get_by_test_id("consequences").inner_text()
    assert "cannot be undone" in consequences and "still followed after the close" in consequences
    assert Case.objects.get(pk=case.pk).stage == "measures"
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    chair.shoot("confirm-close")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("I understand that closing the case cannot be undone.").check()
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    assert Case.objects.get(pk=case.pk).stage == "closed"
    chair.close()

    auditor = Session(browser, live_server.url)
    auditor.sign_in("auditor1", PASSWORD)
    page = auditor.go(f"/cases/{case.pk}/trail/")
    page.get_by_label("Action").select_option("measure.adopted")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/trail/?*action=measure.adopted*")
    timeline = page.locator("ol.timeline").inner_text()
    assert "Measure adopted" in timeline and "Case closed" not in timeline
    assert page.locator("table.diff del", has_text="Proposed").count() == 1
    assert page.locator("table.diff ins", has_text="Adopted").count() == 1
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    auditor.shoot("trail-readable")
    auditor.close()
