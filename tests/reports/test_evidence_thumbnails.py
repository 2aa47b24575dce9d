"""Evidence images get a server-made thumbnail (small, upright, with no
metadata at all) while the original is kept byte for byte; the capture time
and position in a photo's EXIF are read for the verifier; decompression bombs
are refused before anything is stored."""

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import ExifTags, Image

from audit.models import AuditEvent
from reports import selectors
from reports.models import Evidence
from reports.services import evidence_add
from tests.reports.conftest import JPEG_BYTES, KHARKIV, ORIKHIV, PDF_BYTES, photo_jpeg, png_bytes, png_declaring

pytestmark = pytest.mark.django_db


def upload(client, report, content: bytes, name="photo.jpg"):
    return client.post(f"/api/v1/reports/{report.pk}/evidence/",
                       {"file": SimpleUploadedFile(name, content, content_type="image/jpeg")}, format="multipart")


def stored_files(media):
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def thumbnail_of(client, evidence_id: int) -> Image.Image:
    response = client.get(f"/api/v1/evidence/{evidence_id}/thumbnail/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def report(people, file_report):
    return file_report(people["monitor"])


def test_an_image_gets_a_smaller_jpeg_thumbnail_and_the_original_is_kept_byte_for_byte(api, people, report, media):
    content = photo_jpeg(1200, 800)
    response = upload(api(people["monitor"]), report, content)
    assert response.status_code == 201, response.json()
    body = response.json()
    evidence = Evidence.objects.get()
    assert body["thumbnail_url"] == f"/api/v1/evidence/{evidence.pk}/thumbnail/"
    assert (body["thumbnail_width"], body["thumbnail_height"]) == (320, 213)
    # The original: untouched, its SHA-256 the one recorded.
    original = (media / evidence.file.name).read_bytes()
    assert original == content and hashlib.sha256(original).hexdigest() == evidence.sha256 == body["sha256"]
    thumb = (media / evidence.thumbnail.name).read_bytes()
    assert evidence.thumbnail.name == f"evidence/{evidence.sha256[:2]}/{evidence.sha256}-thumb.jpg"
    assert len(thumb) < len(content) / 5
    image = thumbnail_of(api(people["monitor"]), evidence.pk)
    assert image.format == "JPEG" and image.size == (320, 213)


def test_the_thumbnail_carries_none_of_the_originals_metadata(api, people, report, media):
    content = photo_jpeg(orientation=1)
    assert Image.open(io.BytesIO(content)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the original has GPS
    assert upload(api(people["monitor"]), report, content).status_code == 201
    image = thumbnail_of(api(people["monitor"]), Evidence.objects.get().pk)
    exif = image.getexif()
    assert dict(exif) == {}
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {} and exif.get_ifd(ExifTags.IFD.Exif) == {}
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
    assert b"FieldCam" not in (media / Evidence.objects.get().thumbnail.name).read_bytes()


def test_the_thumbnail_is_turned_upright_by_the_exif_orientation(api, people, report):
    # Orientation 6: the camera was held turned; viewers rotate 90° clockwise,
    # so the stored left (red) half is shown on top.
    assert upload(api(people["monitor"]), report, photo_jpeg(1200, 800, orientation=6)).status_code == 201
    image = thumbnail_of(api(people["monitor"]), Evidence.objects.get().pk).convert("RGB")
    assert image.size == (213, 320)
    top, bottom = image.getpixel((106, 20)), image.getpixel((106, 300))
    assert top[0] > 150 and top[2] < 60, top
    assert bottom[2] > 150 and bottom[0] < 60, bottom


def test_the_exif_capture_time_and_gps_position_are_read_from_the_original(api, people, report):
    response = upload(api(people["monitor"]), report, photo_jpeg(taken="2026:11:30 14:05:00", offset="+02:00"))
    evidence = Evidence.objects.get()
    assert evidence.exif_taken_at == datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
    assert evidence.exif_taken_at_has_offset is True
    assert evidence.exif_lat == pytest.approx(ORIKHIV[0], abs=1e-5)
    assert evidence.exif_lon == pytest.approx(ORIKHIV[1], abs=1e-5)
    exif = response.json()["exif"]  # the uploader sees it
    assert exif["taken_at"] == "2026-11-30T12:05:00Z" and exif["taken_at_has_offset"] is True
    assert exif["lat"] == pytest.approx(ORIKHIV[0], abs=1e-5) and exif["distance_km"] == 0.0


def test_a_capture_time_without_offset_is_the_camera_clock_read_as_utc_and_says_so(api, people, report):
    assert upload(api(people["monitor"]), report, photo_jpeg(offset=None, gps=(-33.9, -70.6))).status_code == 201
    evidence = Evidence.objects.get()
    assert evidence.exif_taken_at == datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    assert evidence.exif_taken_at_has_offset is False
    assert (evidence.exif_lat, evidence.exif_lon) == (pytest.approx(-33.9, abs=1e-5), pytest.approx(-70.6, abs=1e-5))


def test_a_gps_reading_of_zero_zero_is_no_position(api, people, report):
    # What cameras without a fix write; the time is still read.
    assert upload(api(people["monitor"]), report, photo_jpeg(gps=(0.0, 0.0))).status_code == 201
    evidence = Evidence.objects.get()
    assert evidence.exif_lat is None and evidence.exif_lon is None and evidence.exif_taken_at is not None


def test_a_photo_without_exif_has_a_thumbnail_and_no_exif(api, people, report):
    response = upload(api(people["monitor"]), report, photo_jpeg(taken=None, offset=None, gps=None))
    assert response.status_code == 201
    assert response.json()["exif"] is None and response.json()["thumbnail_url"]


def test_the_exif_is_shown_to_verifiers_the_chair_and_the_uploader_but_not_members_or_auditors(
        api, people, file_report):
    report = file_report(people["monitor"])
    assert upload(api(people["monitor"]), report, photo_jpeg()).status_code == 201
    for who in ("monitor", "verifier", "chair"):
        [item] = api(people[who]).get(f"/api/v1/reports/{report.pk}/evidence/").json()
        assert item["exif"] is not None, who
    for who in ("member1", "auditor"):
        [item] = api(people[who]).get(f"/api/v1/reports/{report.pk}/evidence/").json()
        assert item["exif"] is None, who
        assert item["thumbnail_url"]  # the thumbnail itself has no metadata to hide


def test_the_comparison_flags_a_photo_far_from_the_reported_place_and_time(people, file_report):
    occurred = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    report = file_report(people["monitor"], occurred_at=occurred, occurred_until=occurred + timedelta(hours=3))
    near = evidence_add(actor=people["monitor"], report=report, upload=SimpleUploadedFile(
        "a.jpg", photo_jpeg(taken="2026:11:30 13:00:00", offset="+02:00"), "image/jpeg"))
    far = evidence_add(actor=people["monitor"], report=report, upload=SimpleUploadedFile(
        "b.jpg", photo_jpeg(taken="2026:12:02 15:00:00", offset="+00:00", gps=KHARKIV), "image/jpeg"))
    inside = selectors.evidence_exif_for(people["verifier"], near)
    assert inside["hours_apart"] == 0.0 and not inside["far_in_time"]  # 11:00 UTC, within 10:00–13:00
    assert inside["distance_km"] == 0.0 and not inside["far_in_space"]
    away = selectors.evidence_exif_for(people["verifier"], far)
    assert away["hours_apart"] == 50.0 and away["far_in_time"]  # 50 h after the span's end
    assert 270 < away["distance_km"] < 290 and away["far_in_space"]  # Orikhiv to Kharkiv
    assert selectors.evidence_exif_for(people["member1"], far) is None


def test_a_pdf_has_no_thumbnail(api, people, report):
    response = api(people["monitor"]).post(f"/api/v1/reports/{report.pk}/evidence/",
                                           {"file": SimpleUploadedFile("r.pdf", PDF_BYTES)}, format="multipart")
    assert response.status_code == 201
    assert response.json()["thumbnail_url"] is None and response.json()["exif"] is None
    assert api(people["monitor"]).get(f"/api/v1/evidence/{response.json()['id']}/thumbnail/").status_code == 404


def test_a_damaged_image_is_kept_without_a_thumbnail(api, people, report, media):
    # JPEG by its first bytes, but no picture in it: the original is still
    # evidence (a transfer cut short is), so it is stored; pages show a file link.
    response = upload(api(people["monitor"]), report, JPEG_BYTES)
    assert response.status_code == 201
    assert response.json()["thumbnail_url"] is None
    assert [p.name for p in stored_files(media)] == [hashlib.sha256(JPEG_BYTES).hexdigest()]


def test_the_thumbnail_admits_whoever_may_download_the_original_and_writes_no_trail_event(
        api, people, file_report):
    report = file_report(people["monitor"], status="draft")
    assert upload(api(people["monitor"]), report, photo_jpeg()).status_code == 201
    path = f"/api/v1/evidence/{Evidence.objects.get().pk}/thumbnail/"
    assert api(people["monitor"]).get(path).status_code == 200
    # A draft: only its author, as for the original.
    for who, code in (("monitor2", 404), ("verifier", 404), ("outsider", 403)):
        assert api(people[who]).get(path).status_code == code, who
        assert api(people[who]).get(path.replace("thumbnail", "download")).status_code == code, who
    assert api().get(path).status_code == 401
    assert not AuditEvent.objects.filter(action="evidence.downloaded").exists()


def test_a_decompression_bomb_is_refused_with_400_and_nothing_is_stored(api, people, report, media):
    response = upload(api(people["monitor"]), report, png_declaring(30_000, 30_000), name="bomb.png")
    assert response.status_code == 400
    assert "too many pixels" in response.json()["file"][0]
    assert Evidence.objects.count() == 0 and stored_files(media) == []
    assert not AuditEvent.objects.filter(action__startswith="evidence.").exists()


def test_an_image_over_evidence_image_max_pixels_is_refused(api, people, report, settings, media):
    settings.EVIDENCE_IMAGE_MAX_PIXELS = 10_000
    assert upload(api(people["monitor"]), report, png_bytes(200, 100), name="big.png").status_code == 400
    assert upload(api(people["monitor"]), report, png_bytes(100, 100), name="ok.png").status_code == 201
    assert Evidence.objects.count() == 1


def test_the_evidence_thumbnails_command_backfills_evidence_stored_before_thumbnails(people, report, media):
    photo = evidence_add(actor=people["monitor"], report=report,
                         upload=SimpleUploadedFile("a.jpg", photo_jpeg(), "image/jpeg"))
    pdf = evidence_add(actor=people["monitor"], report=report, upload=SimpleUploadedFile("r.pdf", PDF_BYTES))
    # As a row uploaded before this feature looks.
    (media / photo.thumbnail.name).unlink()
    Evidence.objects.filter(pk=photo.pk).update(thumbnail="", thumbnail_width=None, thumbnail_height=None,
                                                exif_taken_at=None, exif_lat=None, exif_lon=None)
    out = io.StringIO()
    call_command("evidence_thumbnails", stdout=out)
    assert "1 thumbnail(s) made" in out.getvalue()
    photo.refresh_from_db()
    assert photo.thumbnail.name.endswith("-thumb.jpg") and (media / photo.thumbnail.name).exists()
    assert (photo.thumbnail_width, photo.thumbnail_height) == (320, 213)
    assert photo.exif_taken_at == datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
    assert photo.exif_lat == pytest.approx(ORIKHIV[0], abs=1e-5)
    pdf.refresh_from_db()
    assert not pdf.thumbnail
    # Run again: nothing left to do.
    out = io.StringIO()
    call_command("evidence_thumbnails", stdout=out)
    assert "0 thumbnail(s) made" in out.getvalue()
