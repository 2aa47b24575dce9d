"""Writes of reports and evidence. Every change writes its audit event in the
same transaction (audit_record), so a report never exists without its trail."""

import hashlib
import json
import logging
import re
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Party
from accounts.roles import MONITOR, has_role
from audit.receipts import record_sha256
from audit.services import audit_record
from config.errors import ApplicationError, Conflict, Forbidden, TooLarge
from notifications.services import notify
from reports.models import Evidence, Report, ReportStatus
from reports.selectors import party_by_code
from reports.services.counts import report_counts_add, report_counts_follow

logger = logging.getLogger(__name__)

# Clocks of field devices drift; a report "in the future" by less than this
# is someone's phone running fast, not an error worth refusing.
CLOCK_SKEW = timedelta(minutes=5)
MAX_LINKS = 20

# Fields a report's author sets (flat form: the API's nested location and
# casualties are flattened by its serializer, or by _normalize below).
EDITABLE_FIELDS = (
    "occurred_at", "occurred_until", "lat", "lon", "precision_m", "place_name", "admin1", "category",
    "description", "alleged_party", "source_type", "civilian_killed", "civilian_injured", "military_killed",
    "military_injured", "weapons", "severity", "links",
)
LOCATION_FIELDS = ("lat", "lon", "precision_m", "place_name", "admin1")
# What a draft may lack and a submitted report may not (the
# report_submitted_complete constraint says the same to the database).
REQUIRED_TO_SUBMIT = ("occurred_at", "lat", "lon", "category", "source_type", "description")
CASUALTY_FIELDS = ("civilian_killed", "civilian_injured", "military_killed", "military_injured")
# What a monitor may ask for when filing or editing: "returned" is set only by
# commission.services.report_return (triage), never by the author.
FILING_STATUSES = (ReportStatus.DRAFT, ReportStatus.SUBMITTED)
# States in which the author may still edit their report.
EDITABLE_STATUSES = (ReportStatus.DRAFT, ReportStatus.RETURNED)

# Types accepted as evidence, recognised by their first bytes (filetype),
# never by the uploader's file name or declared Content-Type.
EVIDENCE_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
}
HASH_CHUNK = 64 * 1024
# Files sent with the report form itself (more can be added on the report's page).
MAX_FORM_FILES = 10
# Multipart boundaries and part headers around the file: a request may exceed
# the file limit by this much before its Content-Length alone condemns it.
MULTIPART_OVERHEAD = 16 * 1024


def evidence_max_request_bytes() -> int:
    """The largest upload request (API or page) worth reading at all."""
    return settings.EVIDENCE_MAX_BYTES + MULTIPART_OVERHEAD


IDEMPOTENCY_KEY_MAX = 200
# Visible ASCII, spaces only inside: what the schema documents, checked as
# written (the Idempotency-Key header, and a batch row's idempotency_key).
IDEMPOTENCY_KEY = re.compile(r"[!-~]([ -~]*[!-~])?")


class IdempotencyKeyReused(ApplicationError):
    """The Idempotency-Key was already used by this user for a different body."""

    status_code = 422
    default_code = "idempotency_key_reused"


# --- Reports ---------------------------------------------------------------


# json.dumps(data, cls=DjangoJSONEncoder) builds this same encoder on every
# call; one instance writes the same text (as audit.chain's canonical does).
_PLAIN_ENCODER = DjangoJSONEncoder()


def _plain(data: dict) -> dict:
    """JSON-safe copy (datetimes as ISO strings), as the trail will store it."""
    return json.loads(_PLAIN_ENCODER.encode(data))


def _normalize(data: dict) -> dict:
    """Accept the flat shape (the API serializer's output) and, for callers
    such as seed_demo, the API's nested shape with a party code."""
    data = dict(data)
    location = data.pop("location", None)
    if isinstance(location, dict):
        for key in LOCATION_FIELDS:
            if key in location:
                data[key] = location[key]
    casualties = data.pop("casualties", None)
    if isinstance(casualties, dict):
        for key in CASUALTY_FIELDS:
            if key in casualties:
                data[key] = casualties[key]
    party = data.get("alleged_party")
    if isinstance(party, str):
        found = party_by_code(party)
        if found is None:
            raise ValidationError({"alleged_party": [_("Unknown party %(party)s.") % {"party": repr(party)}]})
        data["alleged_party"] = found
    for key in ("place_name", "admin1", "weapons", "category", "source_type", "description"):
        if key in data and data[key] is None:
            data[key] = ""
    for key in CASUALTY_FIELDS:
        if key in data and data[key] is None:
            data[key] = 0
    if "links" in data and data["links"] is None:
        data["links"] = []
    unknown = set(data) - set(EDITABLE_FIELDS) - {"status"}
    if unknown:
        raise ValidationError({key: [_("Unknown field.")] for key in sorted(unknown)})
    return data


def report_fingerprint(data: dict) -> str:
    """SHA-256 of a report body in canonical form: two requests carry "the same
    body" when their validated data are equal, whatever their JSON spelling."""
    data = _normalize(data)
    # Omitted fields count as their defaults: {"civilian_killed": 0} and no
    # casualties at all file the same report.
    full = {field: Report._meta.get_field(field).get_default() for field in EDITABLE_FIELDS}
    full["status"] = ReportStatus.SUBMITTED
    full.update(data)
    canonical = {}
    for key, value in full.items():
        if isinstance(value, Party):
            value = value.code
        elif hasattr(value, "astimezone"):
            value = value.astimezone(UTC).isoformat()
        canonical[key] = value
    text = json.dumps(_plain(canonical), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _check(report: Report) -> None:
    """The rules every report obeys, whoever files it (API, web form, seed).
    The API's serializer checks the same first, with nested field names."""
    errors: dict[str, list[str]] = {}
    try:
        # Uniqueness and the check constraints are the database's job (and the
        # idempotency constraint is the point of the savepoint in report_create):
        # skipping them here saves queries on every intake.
        report.full_clean(exclude=["author", "alleged_party"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    now = timezone.now()
    if report.occurred_at and report.occurred_at > now + CLOCK_SKEW:
        errors.setdefault("occurred_at", []).append(_("The incident cannot be in the future."))
    if report.occurred_until and report.occurred_at and report.occurred_until < report.occurred_at:
        errors.setdefault("occurred_until", []).append(_("occurred_until cannot be before occurred_at."))
    if report.occurred_until and report.occurred_until > now + CLOCK_SKEW:
        errors.setdefault("occurred_until", []).append(_("The incident cannot end in the future."))
    if report.description and len(report.description) > settings.REPORT_DESCRIPTION_MAX:
        errors.setdefault("description", []).append(
            _("At most %(n)d characters.") % {"n": settings.REPORT_DESCRIPTION_MAX})
    if not isinstance(report.links, list) or len(report.links) > MAX_LINKS:
        errors.setdefault("links", []).append(_("A list of at most %(n)d URLs.") % {"n": MAX_LINKS})
    if report.status != ReportStatus.DRAFT:
        # A draft keeps any subset of its fields; filing it needs them all,
        # and the refusal names every one that is missing.
        for field in REQUIRED_TO_SUBMIT:
            value = getattr(report, field)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors.setdefault(field, []).append(_("This field is required."))
    if errors:
        raise ValidationError(errors)


def _new_report(**values) -> Report:
    """Report(**values) with every column the values leave out given its
    default (the field's own get_default(), a fresh one per report): the same
    instance, but Model.__init__ no longer raises and catches a KeyError for
    each missing field, which took half of its time for a filed report."""
    for model_field in Report._meta.concrete_fields:
        if model_field.attname not in values and model_field.name not in values:
            values[model_field.attname] = model_field.get_default()
    return Report(**values)


def _value(report: Report, field: str):
    if field == "alleged_party":
        return report.alleged_party.code if report.alleged_party_id else None
    return getattr(report, field)


def _snapshot(report: Report, fields=None) -> dict:
    fields = fields or ("status", *EDITABLE_FIELDS)
    return _plain({field: _value(report, field) for field in fields})


def _as_filed(report: Report) -> dict:
    """The report as filed, the value of its filing event's `after`: the
    reference, the author and every field, plus `sha256`, the SHA-256 of the
    rest in the trail's canonical JSON (docs/audit.md, "Receipts"). The
    receipt signs that sha256; the event carrying it is what an inclusion
    proof then shows to be in the trail."""
    filed = {"reference": report.reference, "author": report.author.get_username(), **_snapshot(report)}
    return {**filed, "sha256": record_sha256(filed)}


def _created_event_fields(report: Report) -> tuple[str, dict]:
    """(action, after) of a new report's event: one place for the single
    intake (report_create) and the batch one (report_import)."""
    if report.status == ReportStatus.SUBMITTED:
        return "report.submitted", _as_filed(report)
    return "report.drafted", {"reference": report.reference, "author": report.author.get_username(),
                              **_snapshot(report)}


def _created_event(report: Report) -> None:
    action, after = _created_event_fields(report)
    audit_record(actor=report.author, action=action, object_type="report", object_id=report.pk, after=after)


def report_create(
    *, actor, data: dict, idempotency_key: str | None = None, request_fingerprint: str | None = None
) -> tuple[Report, bool]:
    """File a report (status "submitted" unless data says "draft").

    Returns (report, created). With an idempotency_key already used by this
    actor, returns the first report and creates nothing (created=False). When
    `request_fingerprint` is given (the API passes report_fingerprint of the
    body) and differs from the first request's, raises IdempotencyKeyReused:
    one key, one body. Internal callers such as seed_demo, whose data holds
    times relative to "now", pass none and get "create once" semantics.
    """
    if not has_role(actor, MONITOR):
        raise Forbidden(_("Only monitors file reports."))
    data = _normalize(data)
    status = data.pop("status", None) or ReportStatus.SUBMITTED
    if status not in FILING_STATUSES:
        raise ValidationError({"status": [_("Must be one of %(choices)s.") % {"choices": ", ".join(FILING_STATUSES)}]})

    if idempotency_key:
        existing = Report.objects.filter(author=actor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, request_fingerprint), False

    report = _new_report(author=actor, status=status, idempotency_key=idempotency_key or None,
                         request_fingerprint=request_fingerprint or "", **data)
    if status == ReportStatus.SUBMITTED:
        report.submitted_at = timezone.now()
    _check(report)
    try:
        # A savepoint: when a concurrent request with the same key wins the
        # race, our INSERT waits for its commit and then violates the unique
        # constraint; only the savepoint is rolled back, and the caller's
        # transaction (if any) stays usable to read the winner's row.
        with transaction.atomic():
            report.save(force_insert=True)
            _created_event(report)
            report_counts_add(report_ids=[report.pk])
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = Report.objects.filter(author=actor, idempotency_key=idempotency_key).first()
        if existing is None:  # some other constraint failed
            raise
        return _replayed(existing, request_fingerprint), False
    return report, True


def report_create_with_evidence(
    *, actor, data: dict, uploads: list, idempotency_key: str | None = None
) -> tuple[Report, bool]:
    """report_create, then evidence_add for each upload, all or nothing.

    Every file is inspected (type by content, size) before anything is
    written: one refused file refuses the whole report, with a message that
    names the file (ValidationError on "evidence"). A replay of the same
    Idempotency-Key returns the first report and attaches nothing again.
    """
    if len(uploads) > MAX_FORM_FILES:
        raise ValidationError({"evidence": [
            _("At most %(n)d files can be sent with a report; attach more on its page.") % {"n": MAX_FORM_FILES}]})
    for upload in uploads:
        try:
            _inspect(upload)
        except ValidationError as exc:
            name = getattr(upload, "name", "") or "?"
            raise ValidationError({"evidence": [f"{name}: {m}" for m in exc.messages]}) from exc
        except TooLarge as exc:
            name = getattr(upload, "name", "") or "?"
            raise TooLarge(f"{name}: {exc.message}", field="evidence") from exc
    stored: list[str] = []
    try:
        with transaction.atomic():
            report, created = report_create(actor=actor, data=data, idempotency_key=idempotency_key)
            if created:
                for upload in uploads:
                    stored.append(evidence_add(actor=actor, report=report, upload=upload).file.name)
    except Exception:
        # Nothing half-stored: the rows are rolled back, and a file that no
        # remaining row points to goes away too.
        for name in stored:
            if not Evidence.objects.filter(file=name).exists():
                default_storage.delete(name)
        raise
    return report, created


def _replayed(report: Report, request_fingerprint: str | None) -> Report:
    if request_fingerprint and report.request_fingerprint and report.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used for a different report (%(reference)s); "
              "use a new key for a new report.") % {"reference": report.reference},
            field="idempotency_key",
        )
    return report


def report_update(*, actor, report: Report, data: dict) -> Report:
    """Edit a draft or a returned report (author only), and submit it with
    data status="submitted".

    Writes report.updated with before/after of the fields that changed, and
    report.submitted when a draft is submitted, report.resubmitted (with the
    question it answers) when a returned report is submitted again; the
    question is then cleared and the verifier who asked is notified. A
    returned report cannot go back to draft (its readers saw it submitted).
    A submitted report is final for its monitor: 409.
    """
    data = _normalize(data)
    new_status = data.pop("status", None)
    with transaction.atomic():
        # Lock: a double-clicked "submit" or two tabs editing the same draft
        # serialize here, and the second sees the first's result.
        report = (Report.objects.select_for_update(of=("self",))
                  .select_related("author", "alleged_party", "returned_by").get(pk=report.pk))
        if report.author_id != actor.pk or not has_role(actor, MONITOR):
            raise Forbidden(_("Only the report's author may edit it."))
        if report.status not in EDITABLE_STATUSES:
            raise Conflict(
                _("%(reference)s is already submitted; a submitted report cannot be edited. "
                  "Add evidence or ask a verifier to correct the record.") % {"reference": report.reference},
            )
        returned = report.status == ReportStatus.RETURNED
        allowed = (None, ReportStatus.RETURNED, ReportStatus.SUBMITTED) if returned else (None, *FILING_STATUSES)
        if new_status not in allowed:
            if returned:
                raise ValidationError({"status": [
                    _("A returned report stays returned until you submit it again (status=submitted).")]})
            raise ValidationError({"status": [_("Must be one of %(choices)s.") % {"choices": ", ".join(FILING_STATUSES)}]})

        changed = [f for f in EDITABLE_FIELDS if f in data and _differs(report, f, data[f])]
        before = _snapshot(report, changed) if changed else None
        for field in changed:
            setattr(report, field, data[field])
        submitting = new_status == ReportStatus.SUBMITTED
        asker = report.returned_by
        question = {"returned_reason": report.returned_reason,
                    "returned_by": asker.get_username() if asker else None,
                    "returned_at": report.returned_at}
        if submitting:
            report.status = ReportStatus.SUBMITTED
            report.submitted_at = timezone.now()
            report.returned_reason, report.returned_by, report.returned_at = "", None, None
        if not changed and not submitting:
            return report
        _check(report)
        # The overview's and the map's counts: a returned report is counted
        # (its old values come out here), a draft is not (it comes in with its submission).
        with report_counts_follow(report_ids=[report.pk] if returned else []):
            report.save()
        if submitting and not returned:
            report_counts_add(report_ids=[report.pk])
        if changed:
            audit_record(actor=actor, action="report.updated", object_type="report", object_id=report.pk,
                         before=before, after=_snapshot(report, changed))
        if submitting:
            after = _as_filed(report)
            if returned:
                audit_record(actor=actor, action="report.resubmitted", object_type="report", object_id=report.pk,
                             before=_plain({"status": ReportStatus.RETURNED, **question}), after=after)
                if asker is not None:
                    # The answer is in: whoever asked hears of it (the report
                    # is back in the triage inbox).
                    notify(recipients=[asker], kind="report_resubmitted",
                           key=f"resubmitted:{report.pk}:{report.submitted_at.isoformat()}",
                           params={"reference": report.reference, "question": question["returned_reason"]},
                           once=False)
            else:
                audit_record(actor=actor, action="report.submitted", object_type="report", object_id=report.pk,
                             before={"status": ReportStatus.DRAFT}, after=after)
    return report


def _differs(report: Report, field: str, value) -> bool:
    if field == "alleged_party":
        return report.alleged_party_id != (value.pk if value is not None else None)
    return getattr(report, field) != value



# The batch import and the evidence services live beside this module; they
# are imported last because they use the helpers above. `from reports import
# services` still reaches every service of the app.
from reports.services.batch import ImportBatch, ImportEntry, ImportOutcome, report_import  # noqa: E402
from reports.services.evidence import (  # noqa: E402
    _inspect,
    evidence_add,
    evidence_add_once,
    evidence_derive,
    evidence_download_name,
    evidence_may_upload,
    evidence_open_for_download,
    upload_inspect,
)

__all__ = [
    "ImportBatch",
    "ImportEntry",
    "ImportOutcome",
    "evidence_add",
    "evidence_add_once",
    "evidence_derive",
    "evidence_download_name",
    "evidence_may_upload",
    "evidence_open_for_download",
    "report_counts_add",
    "report_counts_follow",
    "report_import",
    "upload_inspect",
]
