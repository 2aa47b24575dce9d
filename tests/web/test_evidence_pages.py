"""Evidence on the pages: images are shown as server-made thumbnails that
check the same permission as a download but write no trail event per page
view; opening the original (inline, or as a download) records the read; the
upload page refuses an oversize body from its Content-Length without reading it."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import encode_multipart

from audit.models import AuditEvent
from commission.services.triage import case_open
from reports.models import Evidence
from reports.services import evidence_add
from tests.reports.conftest import PDF_BYTES
from tests.web.browser import make_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(people, file_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = file_report(people["monitor"])
    return evidence_add(actor=people["monitor"], report=report,
                        upload=SimpleUploadedFile("p.png", make_png(), "image/png"))


def downloads():
    return AuditEvent.objects.filter(action="evidence.downloaded").count()


def test_viewing_report_and_case_pages_with_their_thumbnails_writes_no_download_event(people, web, photo):
    case = case_open(actor=people["verifier"], title="Orikhiv", reports=[photo.report])
    member, monitor = web(people["member1"]), web(people["monitor"])
    for client, path in ((monitor, f"/reports/{photo.report.pk}/"), (member, f"/cases/{case.pk}/")):
        page = client.get(path)
        assert page.status_code == 200
        html = page.content.decode()
        # The page shows the server-made thumbnail, linked to the original.
        assert f'<a href="/evidence/{photo.pk}/preview/"><img class="thumb" src="/evidence/{photo.pk}/thumbnail/"' in html
        assert f'src="/evidence/{photo.pk}/preview/"' not in html
        image = client.get(f"/evidence/{photo.pk}/thumbnail/")
        assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
        assert image["X-Content-Type-Options"] == "nosniff"
    assert downloads() == 0


def test_opening_the_original_from_its_thumbnail_shows_it_inline_and_records_the_read(people, web, photo):
    image = web(people["member1"]).get(f"/evidence/{photo.pk}/preview/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == make_png()
    assert image["X-Content-Type-Options"] == "nosniff" and image["Cache-Control"] == "private, no-store"
    assert "attachment" not in image.get("Content-Disposition", "")
    [event] = AuditEvent.objects.filter(action="evidence.downloaded")
    assert event.actor == people["member1"] and event.object_id == str(photo.pk)


def test_downloading_the_original_still_records_the_read(people, api, photo):
    response = api(people["member1"]).get(f"/api/v1/evidence/{photo.pk}/download/")
    assert response.status_code == 200
    assert downloads() == 1


def test_the_preview_admits_only_who_may_see_the_report(people, web, photo):
    assert web(people["monitor2"]).get(f"/evidence/{photo.pk}/preview/").status_code == 404
    assert web(people["outsider"]).get(f"/evidence/{photo.pk}/preview/").status_code == 403
    anonymous = web().get(f"/evidence/{photo.pk}/preview/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/signin/")
    assert web(people["auditor"]).get(f"/evidence/{photo.pk}/preview/").status_code == 200
    assert downloads() == 1  # the auditor's look; the refused ones read nothing


def test_only_images_have_a_preview(people, web, photo):
    pdf = evidence_add(actor=people["monitor"], report=photo.report,
                       upload=SimpleUploadedFile("r.pdf", PDF_BYTES, "application/pdf"))
    assert web(people["monitor"]).get(f"/evidence/{pdf.pk}/preview/").status_code == 404


class CountingInput(io.BytesIO):
    """A request body that remembers whether anyone read it."""

    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self.read_bytes += len(data)
        return data


def test_the_upload_page_refuses_an_oversize_body_from_its_content_length_before_reading_it(
        people, file_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EVIDENCE_MAX_BYTES = 1000
    report = file_report(people["monitor"])
    # CSRF enforced, as in a browser: its check would read the body first.
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["monitor"])
    body = encode_multipart("BoUnDaRy", {"file": SimpleUploadedFile("big.png", make_png() + b"\0" * 64_000)})
    wsgi_input = CountingInput(body)
    response = client.generic("POST", f"/reports/{report.pk}/evidence/", b"",
                              content_type="multipart/form-data; boundary=BoUnDaRy",
                              CONTENT_LENGTH=str(len(body)), **{"wsgi.input": wsgi_input})
    assert response.status_code == 413
    assert "limited to" in response.content.decode()
    assert wsgi_input.read_bytes == 0
    assert Evidence.objects.count() == 0


def test_an_upload_under_the_limit_still_goes_through_the_page(people, web, file_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = file_report(people["monitor"])
    response = web(people["monitor"]).post(f"/reports/{report.pk}/evidence/",
                                           {"file": SimpleUploadedFile("p.png", make_png(), "image/png")})
    assert response.status_code == 302
    assert Evidence.objects.count() == 1
