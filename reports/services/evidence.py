"""Evidence: upload (checked by content, stored under its SHA-256, thumbnail
and EXIF derived), download, and the audit event of each."""

import hashlib

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.roles import CHAIR, MONITOR, VERIFIER, has_role
from audit.services import audit_record
from config.errors import Forbidden, TooLarge
from reports import images
from reports.models import Evidence, Report, ReportStatus, evidence_path, evidence_thumbnail_path
from reports.selectors import evidence_readable_by, report_visible_to
from reports.services import (  # defined first in the package, which imports this module last
    EVIDENCE_TYPES,
    HASH_CHUNK,
    IdempotencyKeyReused,
    logger,
)

# --- Evidence --------------------------------------------------------------


def evidence_may_upload(actor, report: Report) -> bool:
    """The author while they may see the report, or a verifier/chair on a
    submitted report (attaching what triage found). Auditors never write."""
    if not report_visible_to(actor, report):
        return False
    if report.author_id == actor.pk and has_role(actor, MONITOR):
        return True
    return has_role(actor, VERIFIER, CHAIR) and report.status == ReportStatus.SUBMITTED


def _inspect(upload) -> tuple[str, int, str]:
    """(sha256, size, mime) of an upload, read in chunks (never whole in
    memory), stopping as soon as it is known to be too large."""
    limit = settings.EVIDENCE_MAX_BYTES
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise TooLarge(_("Evidence files are limited to %(limit)d bytes.") % {"limit": limit}, field="file")
    digest = hashlib.sha256()
    size = 0
    head = b""
    upload.seek(0)
    for chunk in upload.chunks(HASH_CHUNK):
        if len(head) < 262:
            head += chunk[: 262 - len(head)]
        size += len(chunk)
        if size > limit:
            raise TooLarge(_("Evidence files are limited to %(limit)d bytes.") % {"limit": limit}, field="file")
        digest.update(chunk)
    if size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    kind = filetype.guess(head)
    if kind is None or kind.mime not in EVIDENCE_TYPES:
        raise ValidationError({"file": [
            _("Unsupported file type (by content, whatever its name says): accepted are JPEG, PNG, WebP, PDF and MP4.")
        ]})
    return digest.hexdigest(), size, kind.mime


def upload_inspect(upload) -> tuple[str, int, str]:
    """(sha256, size, mime) of an upload under the evidence rules (size limit,
    types by content): for other apps' files, such as a party's reply."""
    return _inspect(upload)


def evidence_add(*, actor, report: Report, upload) -> Evidence:
    """Attach a file to a report. The type is what the bytes are (JPEG, PNG,
    WebP, PDF, MP4), never the declared name or content type; the file is
    stored under its SHA-256, so the uploader's file name never reaches the disk."""
    return evidence_add_once(actor=actor, report=report, upload=upload, idempotency_key=None)[0]


def evidence_add_once(*, actor, report: Report, upload, idempotency_key: str | None) -> tuple[Evidence, bool]:
    """evidence_add with an Idempotency-Key: returns (evidence, created). The
    same key from the same person with the same file for the same report
    returns the first evidence and stores nothing (created=False); the same
    key with another file or report raises IdempotencyKeyReused."""
    if not evidence_may_upload(actor, report):
        raise Forbidden(_("You may not add evidence to this report."))
    sha256, size, mime = _inspect(upload)
    if idempotency_key:
        existing = Evidence.objects.filter(uploaded_by=actor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _evidence_replayed(existing, report, sha256), False
    # Before anything is stored: a decompression bomb is refused here (400).
    derived = _derive(upload, mime)
    evidence = Evidence(report=report, uploaded_by=actor, content_type=mime, size=size, sha256=sha256,
                        original_name=(getattr(upload, "name", "") or "")[:255],
                        idempotency_key=idempotency_key or None)
    _apply(evidence, derived)
    name = evidence_path(evidence, "")
    stored_now = []
    # Content-addressed: the same bytes are stored once, however many times attached.
    if not default_storage.exists(name):
        upload.seek(0)
        name = default_storage.save(name, upload)
        stored_now.append(("file", name))
    evidence.file.name = name
    if derived.thumbnail is not None:
        thumbnail = evidence_thumbnail_path(sha256)
        if not default_storage.exists(thumbnail):
            thumbnail = default_storage.save(thumbnail, ContentFile(derived.thumbnail))
            stored_now.append(("thumbnail", thumbnail))
        evidence.thumbnail.name = thumbnail
    try:
        # A savepoint, as in report_create: a concurrent request with the same
        # key that commits first makes our INSERT fail, and we answer with its row.
        with transaction.atomic():
            evidence.save(force_insert=True)
            audit_record(actor=actor, action="evidence.uploaded", object_type="evidence", object_id=evidence.pk,
                         after={"report": report.pk, "report_reference": report.reference, "sha256": sha256,
                                "size": size, "content_type": mime})
    except Exception as exc:
        # Nothing half-stored: a file that no row points to goes away again.
        for field, stored in stored_now:
            if not Evidence.objects.filter(**{field: stored}).exists():
                default_storage.delete(stored)
        if idempotency_key and isinstance(exc, IntegrityError):
            existing = Evidence.objects.filter(uploaded_by=actor, idempotency_key=idempotency_key).first()
            if existing is not None:
                return _evidence_replayed(existing, report, sha256), False
        raise
    return evidence, True


def _derive(upload, mime: str) -> images.Derived:
    limit = settings.EVIDENCE_IMAGE_MAX_PIXELS
    try:
        return images.derive(upload, mime, max_pixels=limit)
    except images.ImageTooLarge as exc:
        raise ValidationError({"file": [
            _("This image has too many pixels to be processed safely (at most %(limit)d million); "
              "nothing was stored. Send a smaller photo, or a PDF of it.") % {"limit": max(1, limit // 1_000_000)}
        ]}) from exc


def _apply(evidence: Evidence, derived: images.Derived) -> None:
    evidence.thumbnail_width, evidence.thumbnail_height = derived.width, derived.height
    evidence.exif_taken_at, evidence.exif_taken_at_has_offset = derived.taken_at, derived.taken_at_has_offset
    evidence.exif_lat, evidence.exif_lon = derived.lat, derived.lon


def evidence_derive(*, evidence: Evidence, redo: bool = False) -> bool:
    """Make the thumbnail and read the EXIF of evidence stored before
    thumbnails existed (the evidence_thumbnails command). Returns whether
    the row changed. No trail event: what is derived is a pure function of
    the original, whose SHA-256 the upload event already records; an image
    too large to decode is left without a thumbnail (it was accepted then)."""
    if evidence.content_type not in images.IMAGE_TYPES or (evidence.thumbnail and not redo):
        return False
    with evidence.file.storage.open(evidence.file.name, "rb") as handle:
        try:
            derived = images.derive(handle, evidence.content_type, max_pixels=settings.EVIDENCE_IMAGE_MAX_PIXELS)
        except images.ImageTooLarge:
            logger.warning("evidence %s: image too large for a thumbnail", evidence.pk)
            return False
    with transaction.atomic():
        locked = Evidence.objects.select_for_update().get(pk=evidence.pk)
        _apply(locked, derived)
        stored = None
        if derived.thumbnail is not None:
            name = evidence_thumbnail_path(locked.sha256)
            if not default_storage.exists(name):
                name = stored = default_storage.save(name, ContentFile(derived.thumbnail))
            locked.thumbnail.name = name
        try:
            locked.save(update_fields=["thumbnail", "thumbnail_width", "thumbnail_height", "exif_taken_at",
                                       "exif_taken_at_has_offset", "exif_lat", "exif_lon"])
        except Exception:
            if stored:
                default_storage.delete(stored)
            raise
    evidence.refresh_from_db()
    return True


def _evidence_replayed(evidence: Evidence, report: Report, sha256: str) -> Evidence:
    if evidence.report_id != report.pk or evidence.sha256 != sha256:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used for another file; use a new key for a new upload."),
            field="idempotency_key",
        )
    return evidence


def evidence_open_for_download(*, actor, evidence: Evidence):
    """Open the stored file for `actor` and record the read in the trail
    (reading confidential evidence is part of the decision trail)."""
    if not evidence_readable_by(actor, evidence):
        raise Forbidden(_("You may not read this evidence."))
    handle = evidence.file.storage.open(evidence.file.name, "rb")
    try:
        with transaction.atomic():
            audit_record(actor=actor, action="evidence.downloaded", object_type="evidence", object_id=evidence.pk,
                         after={"report": evidence.report_id, "sha256": evidence.sha256})
    except Exception:
        handle.close()
        raise
    return handle


def evidence_download_name(evidence: Evidence) -> str:
    """A safe attachment name: the reference, the hash and the type's extension."""
    ext = EVIDENCE_TYPES.get(evidence.content_type, "bin")
    return f"{evidence.report.reference}-{evidence.sha256[:12]}.{ext}"
