"""The decision record in a real browser (headless Chromium): the chair opens
a closed case's record from the case page, reads the revealed ballots and the
trail head, prints it (print media: no navigation, no buttons) and downloads
the PDF. Screenshots at 1280 and 360 px, on screen and as printed."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from commission import selectors, services
from tests.audit.helpers import SIGNING_KEY
from tests.conftest import PASSWORD
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def closed_case(people, case_in):
    case = case_in("measures", title="Shelling of Orikhiv, northern outskirts")
    measure = services.measure_propose(actor=people["member2"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions on the brigade.",
                                       compliance_due_at=timezone.now() + timedelta(days=30))
    measure = services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    services.measure_compliance_record(actor=people["chair"], measure=measure, compliance="complied",
                                       note="Sanctions in force since Monday.")
    return services.case_close(actor=people["chair"], case=case, summary="Attributed; sanctions complied with.")


def test_the_chair_reads_prints_and_downloads_a_decision_record(settings, browser, live_server, people,
                                                                 closed_case, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    s = Session(browser, live_server.url)
    try:
        s.sign_in("chair", PASSWORD)
        page = s.go(f"/cases/{closed_case.pk}/")
        page.get_by_role("link", name="Decision record (page and PDF)").click()
        page.wait_for_url(f"**/cases/{closed_case.pk}/record/")
        assert page.get_by_test_id("record-result").inner_text() == "Russian Federation (RU)"
        assert page.get_by_test_id("record-ballot").count() == 4
        head = selectors.case_trail_head(closed_case)
        assert page.get_by_test_id("record-head-hash").inner_text() == head.hash
        s.shoot("decision-record")

        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()
        assert not page.get_by_role("link", name="Download the PDF").is_visible()
        assert page.get_by_test_id("record-integrity").is_visible()
        s.shoot("decision-record-print")
        page.emulate_media(media="screen")

        with page.expect_download() as download:
            page.get_by_role("link", name="Download the PDF").click()
        path = Path(tmp_path) / "record.pdf"
        download.value.save_as(path)
        assert download.value.suggested_filename == f"{closed_case.reference}-record.pdf"
        assert path.read_bytes().startswith(b"%PDF")
    finally:
        s.close()
