"""Evidence: type by content, size limits, content-derived storage, SHA-256,
downloads as attachments, and the trail of uploads and reads."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from reports.models import Evidence
from tests.reports.conftest import JPEG_BYTES, PDF_BYTES, png_bytes

pytestmark = pytest.mark.django_db


def upload(client, report, content: bytes, name="photo.png", content_type="image/png"):
    return client.post(f"/api/v1/reports/{report.pk}/evidence/",
                       {"file": SimpleUploadedFile(name, content, content_type=content_type)}, format="multipart")


def stored_files(media):
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.fixture
def report(people, file_report):
    return file_report(people["monitor"])


@pytest.mark.parametrize(("content", "mime"), [
    (png_bytes(), "image/png"), (JPEG_BYTES, "image/jpeg"), (PDF_BYTES, "application/pdf"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40, "image/webp"),
    (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 40, "video/mp4"),
])
def test_the_allowed_types_are_recognised_by_their_bytes(api, people, report, content, mime):
    # Declared as something else entirely: the bytes decide.
    response = upload(api(people["monitor"]), report, content, name="x.bin", content_type="text/plain")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == mime


def test_the_sha256_and_size_recorded_match_the_bytes_and_name_the_stored_file(api, people, report, media):
    content = png_bytes(8, 8)
    response = upload(api(people["monitor"]), report, content, name="../../etc/passwd.png")
    assert response.status_code == 201
    digest = hashlib.sha256(content).hexdigest()
    evidence = Evidence.objects.get()
    assert evidence.sha256 == digest == response.json()["sha256"]
    assert evidence.size == len(content) == response.json()["size"]
    assert evidence.file.name == f"evidence/{digest[:2]}/{digest}"
    assert (media / evidence.file.name).read_bytes() == content
    [event] = AuditEvent.objects.filter(action="evidence.uploaded")
    assert event.object_type == "evidence" and event.object_id == str(evidence.pk)
    assert event.after == {"report": report.pk, "report_reference": report.reference, "sha256": digest,
                           "size": len(content), "content_type": "image/png"}


def test_the_same_bytes_are_stored_once(api, people, report, media):
    client = api(people["monitor"])
    content = png_bytes(2, 2)
    assert upload(client, report, content).status_code == 201
    assert upload(client, report, content, name="again.png").status_code == 201
    # One original and its one thumbnail, however many rows point to them.
    assert Evidence.objects.count() == 2 and len(stored_files(media)) == 2


def test_it_refuses_a_text_file_named_and_declared_as_png(api, people, report, media):
    response = upload(api(people["monitor"]), report, b"just some text, not an image\n" * 10)
    assert response.status_code == 400 and "file" in response.json()
    assert Evidence.objects.count() == 0 and stored_files(media) == []
    assert not AuditEvent.objects.filter(action__startswith="evidence.").exists()


@pytest.mark.parametrize("content", [
    b"<html><script>alert(1)</script></html>",
    b"PK\x03\x04" + b"\x00" * 100,  # a zip (or docx)
    b"GIF89a" + b"\x00" * 100,      # a real image type, but not on the list
    b"",
], ids=["html", "zip", "gif", "empty"])
def test_it_refuses_types_off_the_list(api, people, report, content):
    response = upload(api(people["monitor"]), report, content)
    assert response.status_code == 400 and "file" in response.json()
    assert Evidence.objects.count() == 0


def test_a_file_over_the_limit_is_refused_with_413(api, people, report, settings, media):
    settings.EVIDENCE_MAX_BYTES = 1000
    content = png_bytes(1, 1) + b"\x00" * 1001
    response = upload(api(people["monitor"]), report, content)
    assert response.status_code == 413 and "file" in response.json()
    assert Evidence.objects.count() == 0 and stored_files(media) == []
    assert not AuditEvent.objects.filter(action="evidence.uploaded").exists()


def test_a_request_whose_content_length_is_far_over_the_limit_is_refused_before_parsing(
        api, people, report, settings, monkeypatch):
    from reports import services

    settings.EVIDENCE_MAX_BYTES = 1000
    called = []
    monkeypatch.setattr(services, "evidence_add_once", lambda **kw: called.append(kw))
    response = upload(api(people["monitor"]), report, b"\x00" * (64 * 1024))
    assert response.status_code == 413
    assert called == []


def test_a_file_at_the_limit_is_accepted(api, people, report, settings):
    content = png_bytes(1, 1)
    settings.EVIDENCE_MAX_BYTES = len(content)
    assert upload(api(people["monitor"]), report, content).status_code == 201


def test_a_missing_file_field_is_a_400(api, people, report):
    response = api(people["monitor"]).post(f"/api/v1/reports/{report.pk}/evidence/", {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_the_evidence_list_shows_what_was_attached(api, people, report):
    upload(api(people["monitor"]), report, png_bytes())
    upload(api(people["verifier"]), report, PDF_BYTES, name="finding.pdf")
    listed = api(people["member1"]).get(f"/api/v1/reports/{report.pk}/evidence/").json()
    assert [(e["content_type"], e["uploaded_by"]) for e in listed] == [
        ("image/png", "monitor1"), ("application/pdf", "verifier1")]
    assert listed[0]["download_url"] == f"/api/v1/evidence/{listed[0]['id']}/download/"


def test_a_download_is_an_attachment_with_nosniff_and_is_recorded(api, people, report):
    content = png_bytes(3, 3)
    evidence_id = upload(api(people["monitor"]), report, content).json()["id"]
    response = api(people["member2"]).get(f"/api/v1/evidence/{evidence_id}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{report.reference}-" in disposition
    assert "passwd" not in disposition
    [event] = AuditEvent.objects.filter(action="evidence.downloaded")
    assert event.actor_username == "member2" and event.object_id == str(evidence_id)
    assert event.after["sha256"] == hashlib.sha256(content).hexdigest()


def test_evidence_of_a_draft_is_only_for_its_author(api, people, file_report):
    draft = file_report(people["monitor"], status="draft")
    evidence_id = upload(api(people["monitor"]), draft, png_bytes()).json()["id"]
    assert api(people["verifier"]).get(f"/api/v1/evidence/{evidence_id}/download/").status_code == 404
    assert api(people["verifier"]).post(f"/api/v1/reports/{draft.pk}/evidence/").status_code == 404
    assert api(people["monitor"]).get(f"/api/v1/evidence/{evidence_id}/download/").status_code == 200
    assert AuditEvent.objects.filter(action="evidence.downloaded").count() == 1


@pytest.mark.parametrize("who", ["verifier", "chair"])
def test_a_verifier_or_the_chair_cannot_add_evidence_to_a_returned_report(api, people, report, who):
    # Returned, the report is its monitor's to complete; triage attaches only to submitted reports.
    from commission.services import report_return

    report_return(actor=people["verifier"], report=report, reason="Which way did the shells come from?")
    response = upload(api(people[who]), report, png_bytes())
    assert response.status_code == 403
    assert not Evidence.objects.filter(report=report).exists()
    # The author still may.
    assert upload(api(people["monitor"]), report, png_bytes()).status_code == 201


# --- Idempotency-Key ---------------------------------------------------------


def upload_with_key(client, report, content: bytes, key: str):
    return client.post(f"/api/v1/reports/{report.pk}/evidence/",
                       {"file": SimpleUploadedFile("photo.png", content, content_type="image/png")},
                       format="multipart", HTTP_IDEMPOTENCY_KEY=key)


def test_an_upload_repeated_with_its_idempotency_key_answers_the_same_evidence_and_stores_nothing(
        api, people, report, media):
    client = api(people["monitor"])
    content = png_bytes(3, 3)
    first = upload_with_key(client, report, content, "upload-1")
    again = upload_with_key(client, report, content, "upload-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Evidence.objects.count() == 1 and len(stored_files(media)) == 2  # the original and its thumbnail
    assert AuditEvent.objects.filter(action="evidence.uploaded").count() == 1


def test_an_idempotency_key_reused_for_another_file_or_report_is_a_422(api, people, report, file_report, media):
    client = api(people["monitor"])
    assert upload_with_key(client, report, png_bytes(3, 3), "upload-1").status_code == 201
    other_file = upload_with_key(client, report, png_bytes(4, 4), "upload-1")
    assert other_file.status_code == 422 and "idempotency_key" in other_file.json()
    other_report = upload_with_key(client, file_report(people["monitor"]), png_bytes(3, 3), "upload-1")
    assert other_report.status_code == 422
    assert Evidence.objects.count() == 1 and len(stored_files(media)) == 2  # the original and its thumbnail
    assert AuditEvent.objects.filter(action="evidence.uploaded").count() == 1


def test_an_idempotency_key_belongs_to_its_user_and_without_one_each_upload_counts(
        api, people, report, media):
    content = png_bytes(3, 3)
    assert upload_with_key(api(people["monitor"]), report, content, "k").status_code == 201
    verifier = upload_with_key(api(people["verifier"]), report, content, "k")
    assert verifier.status_code == 201 and "Idempotent-Replayed" not in verifier.headers
    assert upload(api(people["monitor"]), report, content).status_code == 201
    assert Evidence.objects.count() == 3


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there", "é"])
def test_a_malformed_idempotency_key_on_an_upload_is_a_400(api, people, report, key):
    response = upload_with_key(api(people["monitor"]), report, png_bytes(3, 3), key)
    assert response.status_code == 400 and "idempotency_key" in response.json()
    assert Evidence.objects.count() == 0
