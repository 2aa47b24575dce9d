"""In a real browser (headless Chromium): the verifier's report page shows the
server-made thumbnail (not the original) and, beside the report's own time
and place, the photo's EXIF ones, flagged when far apart. Screenshot:
report-evidence-exif."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.services import evidence_add
from tests.conftest import PASSWORD
from tests.reports.conftest import KHARKIV, photo_jpeg
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_a_verifier_sees_the_thumbnail_and_the_photos_exif_beside_the_report(
        browser, live_server, people, file_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    report = file_report(people["monitor"], occurred_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
                         place_name="Orikhiv")
    evidence_add(actor=people["monitor"], report=report, upload=SimpleUploadedFile(
        "near.jpg", photo_jpeg(4000, 3000, taken="2026:11:30 12:20:00", offset="+02:00"), "image/jpeg"))
    evidence_add(actor=people["monitor"], report=report, upload=SimpleUploadedFile(
        "far.jpg", photo_jpeg(3000, 4000, taken="2026:12:02 08:00:00", offset=None, gps=KHARKIV), "image/jpeg"))
    s = Session(browser, live_server.url)
    try:
        s.sign_in("verifier1", PASSWORD)
        page = s.go(f"/reports/{report.pk}/#evidence")
        page.wait_for_function("() => [...document.querySelectorAll('img.thumb')]"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        sizes = page.locator("img.thumb").evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
        assert sizes == [[320, 240], [240, 320]]
        assert page.locator("dl.exif .far").count() == 2
        assert "more than 5 km from the reported place" in page.locator("dl.exif").nth(1).inner_text()
        page.locator("#evidence").scroll_into_view_if_needed()
        s.shoot("report-evidence-exif")
    finally:
        s.close()
