"""The reports' full exports, streamed: CSV (the auditors' download) and
GeoJSON (`GET /api/v1/reports.geojson`).

Both read keyset batches of tuples (config.db.keyset_batches: WHERE id > last
ORDER BY id LIMIT EXPORT_BATCH_SIZE), so an export holds one batch in memory,
keeps no transaction open while the client downloads, and resumes from the
last id a client received (`after_id`). Unlike the trail's seq, which is
given under the sealer's lock and so commits in order, a report's id is
given at insert: a report in a long transaction (an import) can commit after
a higher id was already exported, and a resume from that higher id does not
include it. A resumed export is therefore complete for the reports committed
when the first part started; a fresh export has them all. Rows are tuples, not model instances,
and a GeoJSON feature is one %-format, not a DRF serializer: the serializer
costs about ten times the rest per feature (BENCHMARKS.md, "Exports").
tests/reports/test_exports.py proves the bytes equal the stock way's (the
CSV writer over model instances; FeatureCollectionSerializer + JSONRenderer).
"""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone

from config.db import formats_time_in_database, keyset_batches, utc_text
from reports.models import Report

CSV_COLUMNS = ["reference", "status", "occurred_at", "occurred_until", "lat", "lon", "precision_m", "place_name",
               "admin1", "category", "alleged_party", "source_type", "civilian_killed", "civilian_injured",
               "military_killed", "military_injured", "weapons", "severity", "description", "author",
               "submitted_at"]
_CSV_FIELDS = ("id", "year", "status", "occurred_at", "occurred_until", "lat", "lon", "precision_m",
               "place_name", "admin1", "category", "alleged_party__code", "source_type", "civilian_killed",
               "civilian_injured", "military_killed", "military_injured", "weapons", "severity", "description",
               "author__username", "submitted_at")
_TIMES = ("occurred_at", "occurred_until", "submitted_at")


def _with_texts(reports: QuerySet[Report], fields: tuple[str, ...], *, utc: bool) -> tuple[QuerySet, tuple]:
    """The year of filing (for the reference) and, on PostgreSQL, the times
    as isoformat() text made by the database (config.db.utc_text): then no
    datetime is parsed in Python. `utc`: the text is only right when the
    output is in UTC."""
    reports = reports.annotate(year=ExtractYear("created_at", tzinfo=UTC))
    if not (utc and formats_time_in_database()):
        return reports, fields
    reports = reports.annotate(**{f"{name}_text": utc_text(name, style="isoformat") for name in _TIMES})
    return reports, tuple(f"{name}_text" if name in _TIMES else name for name in fields)
# A cell that starts like a formula is text, not a formula, in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """The stock way's cell: text that starts like a formula gets a quote;
    None is empty."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return "" if value is None else value


def _text(value):
    # csv_cell for a text column (str or None): the csv writer already
    # writes None as an empty cell.
    return "'" + value if value and value[0] in FORMULA_STARTS else value


def _iso(value) -> str:
    # Text already (PostgreSQL made it), or a datetime (None: empty).
    if value.__class__ is str:
        return value
    return value.isoformat() if value else ""


def _csv_rows(rows) -> list[tuple]:
    text, iso, reference = _text, _iso, Report.reference_for
    return [
        (reference(pk, year), text(status), iso(occurred_at), iso(occurred_until), lat, lon, precision_m,
         text(place_name), text(admin1), text(category), text(party), text(source_type), ck, ci, mk, mi,
         text(weapons), severity, text(description), text(author), iso(submitted_at))
        for (pk, year, status, occurred_at, occurred_until, lat, lon, precision_m, place_name, admin1,
             category, party, source_type, ck, ci, mk, mi, weapons, severity, description, author,
             submitted_at) in rows]


def reports_csv(reports: QuerySet[Report], *, after_id: int = 0, batch_size: int | None = None) -> Iterator[str]:
    """`reports` (already scoped to the reader) with id > after_id, in id
    order, as CSV text, one string per batch. The header row comes first
    only in a whole export (after_id 0): a resumed one is the rest of the
    same file, so the two parts joined are the whole export. A row's id is
    the number at the end of its reference (RPT-2026-000123)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if not after_id:
        writer.writerow(CSV_COLUMNS)
        yield _take(buffer)
    # The stock CSV wrote the datetimes as read, in UTC, whatever the zone.
    reports, fields = _with_texts(reports, _CSV_FIELDS, utc=True)
    for rows in keyset_batches(reports, key="id", after=after_id, fields=fields,
                               batch_size=batch_size or settings.EXPORT_BATCH_SIZE):
        writer.writerows(_csv_rows(rows))
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# --- GeoJSON ---------------------------------------------------------------------

# FeatureSerializer's fields, in its order, as DRF's JSONRenderer writes them
# (compact separators, no ASCII escaping).
_FEATURE = ('{"type":"Feature","id":%d,"geometry":{"type":"Point","coordinates":[%s,%s]},"properties":{'
            '"reference":%s,"status":%s,"category":%s,"occurred_at":%s,"occurred_until":%s,"alleged_party":%s,'
            '"severity":%s,"precision_m":%s,"place_name":%s,"author":%s}}')
_GEO_FIELDS = ("id", "lon", "lat", "year", "status", "category", "occurred_at", "occurred_until",
               "alleged_party__code", "severity", "precision_m", "place_name", "author__username")
GEOJSON_HEAD = '{"type":"FeatureCollection","features":['
GEOJSON_TAIL = "]}"


def _json_string(value) -> str:
    return "null" if value is None else json.encoder.encode_basestring(value)


def _json_int(value) -> str:
    return "null" if value is None else str(value)


def _features(rows, zone) -> str:
    string, number, reference, floatstr = _json_string, _json_int, Report.reference_for, float.__repr__

    def when(value):
        # DRF's DateTimeField: in the current time zone, ISO 8601, "Z" for UTC.
        if value is None:
            return "null"
        text = value if value.__class__ is str else value.astimezone(zone).isoformat()
        return '"' + (text[:-6] + "Z" if text.endswith("+00:00") else text) + '"'

    text = ",".join([
        _FEATURE % (pk, floatstr(lon), floatstr(lat), string(reference(pk, year)), string(status),
                    string(category), when(occurred_at), when(occurred_until), string(party), number(severity),
                    number(precision_m), string(place_name), string(author))
        for (pk, lon, lat, year, status, category, occurred_at, occurred_until, party, severity, precision_m,
             place_name, author) in rows])
    # What DRF's JSONRenderer does to the whole text: these two are valid
    # JSON but not valid JavaScript.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def reports_geojson(reports: QuerySet[Report], *, after_id: int = 0,
                    batch_size: int | None = None) -> Iterator[str]:
    """`reports` (scoped and filtered, with a position) with id > after_id, in
    id order, as one GeoJSON FeatureCollection, one string per batch. A
    resumed export is a FeatureCollection of the features after after_id."""
    zone = timezone.get_current_timezone()
    # DRF writes times in the current time zone: the database's UTC text only when that is UTC.
    reports, fields = _with_texts(reports, _GEO_FIELDS, utc=timezone.get_current_timezone_name() == "UTC")
    yield GEOJSON_HEAD
    separator = ""
    for rows in keyset_batches(reports, key="id", after=after_id, fields=fields,
                               batch_size=batch_size or settings.EXPORT_BATCH_SIZE):
        yield separator + _features(rows, zone)
        separator = ","
    yield GEOJSON_TAIL
