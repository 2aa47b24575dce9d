"""Notifications in a real browser: a member told a round opened sees it on
their home, chooses on the settings page (screenshot
"notification-preferences") to get measures in the daily digest and their
emails in French; nothing wider than a phone, nothing refused by the
Content-Security-Policy."""

import pytest

from commission import services
from notifications.models import NotificationPreference
from tests.conftest import PASSWORD
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_a_member_sees_a_round_opened_and_chooses_how_they_are_emailed(people, case_in, browser, live_server):
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)

    member = Session(browser, live_server.url)
    page = member.sign_in("member1", PASSWORD)
    assert f"{case.reference}: round 1 is open, vote by" in page.inner_text("main")
    page.get_by_role("link", name="Choose which notifications are emailed to you").click()
    page.wait_for_url(f"{live_server.url}/account/notifications/")
    page.get_by_label("Language of your emails").select_option("fr")
    page.get_by_label("A measure adopted").select_option("off")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/account/notifications/")
    assert "Your notification settings were saved." in page.inner_text("main")
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    member.shoot("notification-preferences")
    member.close()

    people["member1"].refresh_from_db()
    assert people["member1"].language == "fr"
    assert NotificationPreference.objects.get(user=people["member1"], kind="measure_adopted").email == "off"
