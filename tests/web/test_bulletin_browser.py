"""The public bulletin in a real browser: the chair publishes one from the
board; anyone, signed out, reads the latest at 1280 and 360 px (screenshot
"bulletin") with nothing wider than the phone's screen and nothing refused
by the Content-Security-Policy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from commission import services
from tests.audit.helpers import SIGNING_KEY
from tests.conftest import PASSWORD
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PLACES = [("shelling", "Zaporizhzhia", 47.5689, 35.8612), ("shelling", "Zaporizhzhia", 47.61, 35.79),
          ("drone_strike", "Kherson", 46.64, 32.61), ("missile_strike", "Kharkiv", 49.99, 36.23),
          ("drone_strike", "Donetsk", 48.59, 38.0), ("small_arms_fire", "Donetsk", 48.03, 37.76)]


def test_the_chair_publishes_and_the_public_reads_the_bulletin(people, submitted, case_in, browser, live_server,
                                                               settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    settings.BULLETIN_DELAY = timedelta(hours=48)
    for hours, (category, region, lat, lon) in enumerate(PLACES, start=2):
        submitted(people["monitor"], category=category, admin1=region, lat=lat, lon=lon,
                  occurred_at=timezone.now() - timedelta(hours=hours))
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions on the battery's brigade.")
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    services.case_close(actor=people["chair"], case=case,
                        summary="Shelling of Orikhiv attributed to the Russian Federation; sanctions adopted.")
    services.case_summary_publish(actor=people["chair"], case=case)
    # The bulletin of the last day as it will be once the delay has passed.
    services.bulletin_publish(actor=people["chair"], on_demand=True,
                              now=timezone.now() + settings.BULLETIN_DELAY + timedelta(minutes=1))

    chair = Session(browser, live_server.url)
    chair.sign_in("chair", PASSWORD)
    page = chair.go("/board/")
    page.get_by_role("button", name="Publish a bulletin now").click()
    page.wait_for_url(f"{live_server.url}/bulletin/*/")
    assert "Bulletin published." in page.inner_text("main")
    chair.close()

    public = Session(browser, live_server.url)
    page = public.go("/bulletin/")
    main = page.inner_text("main")
    assert "Public bulletin" in main and "Zaporizhzhia" in main and "sanctions adopted" in main
    assert "47.5689" not in main and "battery" not in main and "monitor1" not in main
    assert page.get_by_test_id("bulletin-figures").is_visible()
    page.get_by_text("Signed tree head", exact=True).click()
    assert "signature" in page.get_by_test_id("tree-head").inner_text()
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    public.shoot("bulletin")
    public.close()
