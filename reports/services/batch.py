"""The batch import of reports (POST /api/v1/reports/import/, import_reports):
rows validated like a single report, filed with their events in one
transaction, duplicates decided by the unique constraint."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import AutoField
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import MONITOR, has_role
from audit.services import audit_record_many, audit_seal_after_commit
from config.db import array_cursor
from config.errors import Forbidden
from reports.models import Report, ReportStatus
from reports.services import (  # defined first in the package, which imports this module last
    FILING_STATUSES,
    _check,
    _created_event_fields,
    _new_report,
    _normalize,
)
from reports.services.counts import report_counts_add

# --- Batch import ------------------------------------------------------------


@dataclass
class ImportEntry:
    """One validated row of a batch: its number in the file, its report data
    (flat, as report_create takes it), the idempotency key that makes a re-run
    file it once, and the audit reason naming its source."""

    number: int
    data: dict
    idempotency_key: str
    reason: str = ""
    # report_fingerprint(data) when the caller computed it (the key of a row
    # without a source id, or one carrying a report's Idempotency-Key): a
    # later single POST with that key and another body is then refused (422).
    fingerprint: str = ""


@dataclass
class ImportOutcome:
    number: int
    status: str  # "filed", "duplicate" or "refused"
    reference: str | None = None
    errors: dict = field(default_factory=dict)


# Rows per INSERT statement: PostgreSQL takes at most 65,535 parameters.
IMPORT_INSERT_CHUNK = 1000


def report_import(*, actor, entries: list[ImportEntry]) -> list[ImportOutcome]:
    """File many reports at once for their author `actor`: each entry checked
    by the same rules as report_create (_check), filed with its
    report.submitted (or report.drafted) event, or reported as a duplicate
    when its idempotency key was filed before (by an earlier import, a single
    POST with that Idempotency-Key, or an earlier row of this batch).

    A refused entry does not stop the others; the good ones are written in
    one transaction, so an unexpected database error leaves nothing stored.
    Outcomes come back in the order of `entries`. (ImportBatch in steps:
    reports.imports checks one part while the previous one is written.)"""
    batch = ImportBatch(actor=actor)
    fresh = batch.check(entries)
    with transaction.atomic():
        batch.write(fresh)
        return batch.finish()


class ImportBatch:
    """report_import in steps, for a caller that interleaves them:

    - check(entries): the rules, in Python only, with no query, so it may run
      on another thread while the previous part is being written;
    - write(fresh): the INSERT of what check() returned;
    - finish(): the events, the counts and the outcomes, in entry order.

    write() and finish() run inside the caller's one transaction. write()
    adds each part's events; the counts are moved once, in finish(): one
    statement per counts table for the whole batch, so that two imports take
    the counts' rows in key order (as reports.services.counts explains)
    instead of part by part, which could deadlock. The seal is asked once
    too, for the whole batch's events."""

    def __init__(self, *, actor):
        if not has_role(actor, MONITOR):
            raise Forbidden(_("Only monitors file reports."))
        self.actor = actor
        self.now = timezone.now()
        self.numbers: list[int] = []
        self.outcomes: dict[int, ImportOutcome] = {}
        self.pending: dict[str, tuple[ImportEntry, Report]] = {}
        self.repeats: list[tuple[ImportEntry, str]] = []  # (entry, key of an earlier row of this batch)
        self.events_written = 0
        self.filed_ids: list[int] = []

    def check(self, entries: list[ImportEntry]) -> list[tuple[ImportEntry, Report]]:
        """The entries' reports that are new to this batch, to write()."""
        fresh = []
        for entry in entries:
            self.numbers.append(entry.number)
            try:
                data = _normalize(entry.data)
                status = data.pop("status", None) or ReportStatus.SUBMITTED
                if status not in FILING_STATUSES:
                    raise ValidationError({"status": [
                        _("Must be one of %(choices)s.") % {"choices": ", ".join(FILING_STATUSES)}]})
                report = _new_report(author=self.actor, status=status, idempotency_key=entry.idempotency_key,
                                     request_fingerprint=entry.fingerprint, **data)
                if status == ReportStatus.SUBMITTED:
                    report.submitted_at = self.now
                _check(report)
            except ValidationError as exc:
                self.outcomes[entry.number] = ImportOutcome(entry.number, "refused", errors=exc.message_dict)
                continue
            if entry.idempotency_key in self.pending:
                self.repeats.append((entry, entry.idempotency_key))
            else:
                self.pending[entry.idempotency_key] = (entry, report)
                fresh.append((entry, report))
        return fresh

    def write(self, fresh: list[tuple[ImportEntry, Report]]) -> None:
        # No read first: the unique constraint on (author, idempotency_key)
        # decides, for earlier batches and concurrent ones alike; the rows
        # it turned away are looked up in finish().
        _insert_ignoring_conflicts([report for _entry, report in fresh])
        events = []
        for entry, report in fresh:
            if report.pk is None:
                continue
            action, after = _created_event_fields(report)
            events.append({"action": action, "object_type": "report", "object_id": report.pk,
                           "after": after, "reason": entry.reason})
            self.filed_ids.append(report.pk)
        # Each part's events with its reports (the COPY then overlaps the
        # next part's check too); the seal is asked once, in finish().
        self.events_written += audit_record_many(actor=self.actor, events=events, seal=False)

    def finish(self) -> list[ImportOutcome]:
        pending = self.pending
        filed_before = _references_by_key(self.actor, [key for key, (_e, report) in pending.items()
                                                       if report.pk is None])
        if self.events_written:
            audit_seal_after_commit(rows=self.events_written)
        # One statement per table for the whole batch (reports.services.counts).
        report_counts_add(report_ids=self.filed_ids)
        outcomes = self.outcomes
        for key, (entry, report) in pending.items():
            if report.pk is not None:
                outcomes[entry.number] = ImportOutcome(entry.number, "filed", reference=report.reference)
            else:
                outcomes[entry.number] = ImportOutcome(entry.number, "duplicate", reference=filed_before[key])
        for entry, key in self.repeats:
            first = pending[key][1]
            outcomes[entry.number] = ImportOutcome(entry.number, "duplicate",
                                                   reference=first.reference or filed_before.get(key))
        return [outcomes[number] for number in self.numbers]


def _references_by_key(actor, keys: list[str]) -> dict[str, str]:
    found = {}
    for start in range(0, len(keys), IMPORT_INSERT_CHUNK):
        rows = Report.objects.filter(author=actor, idempotency_key__in=keys[start:start + IMPORT_INSERT_CHUNK])
        for pk, key, created_at in rows.values_list("pk", "idempotency_key", "created_at"):
            found[key] = Report(pk=pk, created_at=created_at).reference
    return found


def _insert_ignoring_conflicts(reports: list[Report]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the ORM's bulk_create
    cannot both skip conflicts and return the new ids. A report whose key a
    concurrent transaction committed first is skipped (its pk stays None);
    the unique constraint, not our earlier read, is what decides. Returns how
    many rows were inserted."""
    fields = [f for f in Report._meta.local_concrete_fields if not isinstance(f, AutoField)]
    table = connection.ops.quote_name(Report._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    by_key = {report.idempotency_key: report for report in reports}
    now = timezone.now()
    for report in reports:
        report.created_at = report.updated_at = now
    # The values as they are, but for what the driver cannot take as such
    # (JSON); pre_save is not needed: the only auto fields are set above.
    adapt = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    rows = [[f.get_db_prep_save(getattr(report, f.attname), connection) if f.attname in adapt
             else getattr(report, f.attname) for f in fields] for report in reports]
    statements = []
    if connection.vendor == "postgresql":
        # One array per column, unnested server-side: a statement with a
        # handful of parameters however many rows, where VALUES (...), (...)
        # would take 30 parameters a row for the driver to splice in; the
        # arrays go in binary (config.db.array_cursor).
        arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in fields)
        for start in range(0, len(rows), IMPORT_INSERT_CHUNK * 10):
            chunk = rows[start:start + IMPORT_INSERT_CHUNK * 10]
            statements.append((f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608 (names from the model)
                               "ON CONFLICT DO NOTHING RETURNING id, idempotency_key",
                               [list(column) for column in zip(*chunk, strict=True)]))
    else:
        placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), IMPORT_INSERT_CHUNK):
            chunk = rows[start:start + IMPORT_INSERT_CHUNK]
            statements.append((f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholder] * len(chunk))} "  # noqa: S608 (names from the model)
                               "ON CONFLICT DO NOTHING RETURNING id, idempotency_key",
                               [value for row in chunk for value in row]))
    inserted = 0
    with array_cursor() as cursor:
        for query, params in statements:
            cursor.execute(query, params)
            for pk, key in cursor.fetchall():
                by_key[key].pk = pk
                inserted += 1
    return inserted
