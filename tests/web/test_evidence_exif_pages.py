"""The report and case pages show each photo's EXIF capture time and position
beside the report's own, with the distance and time between them (flagged
when far apart), to verifiers, the chair and the uploader; files without a
thumbnail appear as a link."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from commission.services.triage import case_open
from reports.models import Evidence
from reports.services import evidence_add
from tests.reports.conftest import KHARKIV, PDF_BYTES, photo_jpeg, png_declaring

pytestmark = pytest.mark.django_db

OCCURRED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def report(people, file_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return file_report(people["monitor"], occurred_at=OCCURRED)


def attach(people, report, content: bytes, name="p.jpg"):
    return evidence_add(actor=people["monitor"], report=report, upload=SimpleUploadedFile(name, content))


def test_the_verifier_sees_the_photos_exif_beside_the_reported_time_and_place(people, web, report):
    attach(people, report, photo_jpeg(taken="2026:11:30 13:00:00", offset="+02:00"))
    html = web(people["verifier"]).get(f"/reports/{report.pk}/").content.decode()
    assert "Taken (photo's EXIF)" in html and "Position (photo's EXIF)" in html
    assert "0.0 km apart" in html and "1.0 h apart" in html
    assert 'class="far"' not in html
    assert "47.5689, 35.8612" in html  # the photo's position, beside the reported one


def test_a_photo_far_from_the_report_in_time_and_place_is_flagged(people, web, report):
    attach(people, report, photo_jpeg(taken="2026:12:03 10:00:00", offset="+00:00", gps=KHARKIV))
    case = case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    for client, path in ((web(people["verifier"]), f"/reports/{report.pk}/"),
                         (web(people["chair"]), f"/cases/{case.pk}/")):
        html = client.get(path).content.decode()
        assert "more than 24 h from the reported time" in html and "72.0 h apart" in html
        assert "more than 5 km from the reported place" in html
        assert html.count('class="far"') == 2


def test_members_and_auditors_see_the_thumbnail_but_not_the_exif(people, web, report):
    evidence = attach(people, report, photo_jpeg())
    case = case_open(actor=people["verifier"], title="Orikhiv", reports=[report])
    for who, path in (("member1", f"/cases/{case.pk}/"), ("auditor", f"/reports/{report.pk}/")):
        html = web(people[who]).get(path).content.decode()
        assert f'src="/evidence/{evidence.pk}/thumbnail/"' in html, who
        assert "EXIF" not in html, who


def test_the_thumbnail_has_its_size_and_loads_lazily_and_a_pdf_is_a_file_link(people, web, report):
    photo = attach(people, report, photo_jpeg(1200, 800))
    pdf = attach(people, report, PDF_BYTES, name="r.pdf")
    html = web(people["monitor"]).get(f"/reports/{report.pk}/").content.decode()
    assert (f'<img class="thumb" src="/evidence/{photo.pk}/thumbnail/" width="320" height="213"' in html)
    assert 'loading="lazy"' in html
    assert f'<a class="file-icon" href="/api/v1/evidence/{pdf.pk}/download/"' in html
    assert f"/evidence/{pdf.pk}/thumbnail/" not in html
    assert web(people["monitor"]).get(f"/evidence/{pdf.pk}/thumbnail/").status_code == 404


def test_the_thumbnail_page_admits_only_who_may_see_the_report(people, web, file_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = file_report(people["monitor"], status="draft")
    photo = attach(people, draft, photo_jpeg())
    path = f"/evidence/{photo.pk}/thumbnail/"
    response = web(people["monitor"]).get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert web(people["verifier"]).get(path).status_code == 404
    assert web(people["outsider"]).get(path).status_code == 403
    assert web().get(path).status_code == 302


def test_the_upload_page_refuses_a_decompression_bomb_with_the_reason_and_stores_nothing(
        people, web, report, tmp_path):
    response = web(people["monitor"]).post(f"/reports/{report.pk}/evidence/", {
        "file": SimpleUploadedFile("bomb.png", png_declaring(30_000, 30_000), "image/png")})
    assert response.status_code == 400
    assert "too many pixels to be processed safely" in response.content.decode()
    assert not Evidence.objects.exists() and not any(p.is_file() for p in tmp_path.rglob("*"))
