"""The reports' full exports, streamed: CSV (the auditors' download) and
GeoJSON (`GET /api/v1/reports.geojson`).

Both read keyset batches (config.db.keyset_batches: WHERE id > last ORDER BY
id LIMIT EXPORT_BATCH_SIZE), so an export holds one batch in memory, keeps
no transaction open while the client downloads, and resumes from the last id
a client received (`after_id`). Unlike the trail's seq, which is given under
the sealer's lock and so commits in order, a report's id is given at insert:
a report in a long transaction (an import) can commit after a higher id was
already exported, and a resume from that higher id does not include it. A
resumed export is therefore complete for the reports committed when the
first part started; a fresh export has them all.

Two ways write the same bytes:
- On PostgreSQL, the database writes each row's finished text (one CSV line,
  one GeoJSON Feature) in the SELECT, and Python only joins a batch of
  them. The per-row work in Python (psycopg decoding some twenty columns,
  building tuples, the csv writer or a %-format) was the export's cost: at
  980,178 reports the CSV streamed at 47,000 rows/s and the GeoJSON at
  about 75,000, where PostgreSQL's own COPY of the same rows does 310,000
  and 431,000 (BENCHMARKS.md). The SQL mirrors, cell by cell, the Python
  rules it replaces ("Written by PostgreSQL" below).
- Elsewhere (SQLite), and for the GeoJSON when the current time zone is not
  UTC (the database's time text is UTC), rows are tuples, and a feature is
  one %-format, not a DRF serializer: the serializer costs about ten times
  the rest per feature.
tests/reports/test_exports.py proves the bytes equal the stock way's (the
CSV writer over model instances; FeatureCollectionSerializer +
JSONRenderer) on reports whose text, numbers, times and NULLs exercise every
escape and format either writer makes, on both databases.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC

from django.conf import settings
from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.functions import ExtractYear
from django.utils import timezone

from config.api import drf_datetime
from config.db import keyset_batches, utc_text, writes_text_in_database
from reports.models import Report

CSV_COLUMNS = ["reference", "status", "occurred_at", "occurred_until", "lat", "lon", "precision_m", "place_name",
               "admin1", "category", "alleged_party", "source_type", "civilian_killed", "civilian_injured",
               "military_killed", "military_injured", "weapons", "severity", "description", "author",
               "submitted_at"]

# A cell that starts like a formula is text, not a formula, in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GEOJSON_HEAD = '{"type":"FeatureCollection","features":['
GEOJSON_TAIL = "]}"


def csv_cell(value):
    """The stock way's cell: text that starts like a formula gets a quote;
    None is empty."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return "" if value is None else value


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
    batch_size = batch_size or settings.EXPORT_BATCH_SIZE
    # The stock CSV wrote the datetimes as read, in UTC, whatever the zone.
    if writes_text_in_database():
        for lines in _texts_by_database(reports, _csv_line(), after_id=after_id, batch_size=batch_size):
            yield "\r\n".join(lines) + "\r\n"  # the csv writer's line terminator
        return
    for rows in keyset_batches(reports.annotate(year=_YEAR), key="id", after=after_id, fields=_CSV_FIELDS,
                               batch_size=batch_size):
        writer.writerows(_csv_rows(rows))
        yield _take(buffer)


def reports_geojson(reports: QuerySet[Report], *, after_id: int = 0,
                    batch_size: int | None = None) -> Iterator[str]:
    """`reports` (scoped and filtered, with a position) with id > after_id, in
    id order, as one GeoJSON FeatureCollection, one string per batch. A
    resumed export is a FeatureCollection of the features after after_id."""
    batch_size = batch_size or settings.EXPORT_BATCH_SIZE
    # DRF writes times in the current time zone: the database's UTC text only when that is UTC.
    if writes_text_in_database() and timezone.get_current_timezone_name() == "UTC":
        batches = (",".join(features) for features in
                   _texts_by_database(reports, _feature(), after_id=after_id, batch_size=batch_size))
    else:
        zone = timezone.get_current_timezone()
        batches = (_features(rows, zone) for rows in keyset_batches(
            reports.annotate(year=_YEAR), key="id", after=after_id, fields=_GEO_FIELDS, batch_size=batch_size))
    yield GEOJSON_HEAD
    separator = ""
    for text in batches:
        yield separator + _js_safe(text)
        separator = ","
    yield GEOJSON_TAIL


def geojson_of(reports: Iterable[Report]) -> str:
    """A few reports already read (a page's, with author and alleged_party
    selected), as the same bytes as FeatureCollectionSerializer through
    JSONRenderer: the inbox's small map. The serializer took 7 % of the
    inbox page's time for its 50 features (BENCHMARKS.md, "The inbox's map
    text"); this is the export's %-format, from the instances."""
    rows = [(r.pk, r.lon, r.lat, r.created_at.year, r.status, r.category, r.occurred_at, r.occurred_until,
             r.alleged_party.code if r.alleged_party is not None else None, r.severity, r.precision_m,
             r.place_name, r.author.username) for r in reports]
    return GEOJSON_HEAD + _js_safe(_features(rows, timezone.get_current_timezone())) + GEOJSON_TAIL


def _js_safe(text: str) -> str:
    # What DRF's JSONRenderer does to the whole text: these two are valid
    # JSON but not valid JavaScript.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# --- Written by PostgreSQL ----------------------------------------------------------
# Each function below is the SQL twin of one rule of the Python writer. In a
# template, {x} is the column; it may appear more than once (a column brings
# no parameters). Constants are parameters (_concat) or literals: no input
# reaches this SQL.

def _texts_by_database(reports: QuerySet[Report], text: Func, *, after_id: int, batch_size: int) -> Iterator[list]:
    """The `text` of each report, one list per keyset batch. Not prefetched
    (config.db.keyset_batches' prefetch): the database writing the text is
    nearly all of the time, so there is little Python work to overlap with
    it; measured back to back, neither this nor the GeoJSON gained (±5 %)."""
    reports = reports.annotate(export_text=text)
    for rows in keyset_batches(reports, key="id", after=after_id, fields=("id", "export_text"),
                               batch_size=batch_size):
        yield [text for _pk, text in rows]


def _sql(template: str, column) -> Func:
    """`template` over `column` (a field's name, or an expression without
    parameters: a repeated placeholder does not repeat its parameters)."""
    return Func(F(column) if isinstance(column, str) else column, template=template.replace("{x}", "%(expressions)s"),
                output_field=TextField())


def _concat(*parts) -> Func:
    """SQL concat() of the parts: a str is a constant (sent as a parameter),
    anything else an expression."""
    return Func(*(Value(part) if isinstance(part, str) else part for part in parts), function="concat",
                output_field=TextField())


def _reference() -> Func:
    # Report.reference_for: RPT-<year filed, in UTC>-<id, at least six digits>.
    padded = _sql("CASE WHEN {x} < 1000000 THEN lpad({x}::text, 6, '0') ELSE {x}::text END", "id")
    return _concat(f"{Report.REFERENCE_PREFIX}-", _YEAR, "-", padded)


def _float(column: str) -> Func:
    """repr() of a float column, as the csv writer and json write it; NULL
    stays NULL. PostgreSQL's float8 text has the same shortest round-trip
    digits (with extra_float_digits >= 1, its default since version 12) and
    switches to an exponent below 1e-4 as Python does ("1e-05"), but writes
    a whole number without ".0" ("50", "-0"). It also switches to an
    exponent from 1e15 where Python does from 1e16: lat and lon are within
    ±180 (the model's CHECK constraints)."""
    return _sql("CASE WHEN {x} = trunc({x}) THEN {x}::text || '.0' ELSE {x}::text END", column)


# The csv writer's QUOTE_MINIMAL: a cell in double quotes (its quotes
# doubled) when it holds a comma, a quote, \r or \n.
_NEEDS_QUOTES = r"""(strpos({x}, ',') > 0 OR strpos({x}, '"') > 0 OR strpos({x}, E'\r') > 0 OR strpos({x}, E'\n') > 0)"""
# csv_cell: a quote before text that starts like a formula (ascii(): the
# first character's code point).
_FORMULA = f"ascii({{x}}) IN ({', '.join(str(ord(start)) for start in FORMULA_STARTS)})"


def _csv_text(column) -> Func:
    """csv_cell, then the csv writer's quoting; NULL empty. Most cells need
    neither, and are tested once (strpos and ascii cost less than a regular
    expression)."""
    quoted = f"""'"' || CASE WHEN {_FORMULA} THEN '''' ELSE '' END || replace({{x}}, '"', '""') || '"'"""
    return _sql(f"coalesce(CASE WHEN {_FORMULA} OR {_NEEDS_QUOTES} THEN"
                f" CASE WHEN {_NEEDS_QUOTES} THEN {quoted} ELSE '''' || {{x}} END"
                " ELSE {x} END, '')", column)


def _csv_other(column) -> Func:
    # A number or a time: nothing to quote; NULL empty.
    return _sql("coalesce({x}::text, '')", column)


def _csv_line() -> Func:
    """One CSV row, CSV_COLUMNS as _csv_rows writes them, without its line
    terminator."""
    text, other = _csv_text, _csv_other
    cells = [_reference(), text("status")]
    cells += [other(utc_text(name, style="isoformat")) for name in ("occurred_at", "occurred_until")]
    cells += [other(_float("lat")), other(_float("lon")), other("precision_m")]
    cells += [text(name) for name in ("place_name", "admin1", "category", "alleged_party__code", "source_type")]
    cells += [other(name) for name in ("civilian_killed", "civilian_injured", "military_killed", "military_injured")]
    cells += [text("weapons"), other("severity"), text("description"), text("author__username"),
              other(utc_text("submitted_at", style="isoformat"))]
    # concat_ws would skip a NULL (and its comma): no cell is NULL.
    return Func(Value(","), *cells, function="concat_ws", output_field=TextField())


def _json_string(column) -> Func:
    # json's encode_basestring (ensure_ascii=False) and PostgreSQL's to_json
    # escape the same characters the same way (\" \\ \b \f \n \r \t, and
    # \u00xx, in lowercase, for the other control characters).
    return _sql("coalesce(to_json({x})::text, 'null')", column)


def _json_other(column) -> Func:
    return _sql("coalesce({x}::text, 'null')", column)


def _json_time(column: str) -> Func:
    return _sql("""coalesce('"' || {x} || '"', 'null')""", utc_text(column, style="drf"))


def _feature() -> Func:
    """One GeoJSON Feature, as _FEATURE; the line and paragraph separators
    are escaped afterwards, over the whole batch."""
    string, other, when = _json_string, _json_other, _json_time
    return _concat(
        '{"type":"Feature","id":', other("id"),
        ',"geometry":{"type":"Point","coordinates":[', _float("lon"), ",", _float("lat"),
        ']},"properties":{"reference":"', _reference(), '","status":', string("status"),
        ',"category":', string("category"), ',"occurred_at":', when("occurred_at"),
        ',"occurred_until":', when("occurred_until"), ',"alleged_party":', string("alleged_party__code"),
        ',"severity":', other("severity"), ',"precision_m":', other("precision_m"),
        ',"place_name":', string("place_name"), ',"author":', string("author__username"), "}}")


# --- Written by Python (SQLite; the GeoJSON in another time zone) ---------------------

_YEAR = ExtractYear("created_at", tzinfo=UTC)  # of filing, for the reference
_CSV_FIELDS = ("id", "year", "status", "occurred_at", "occurred_until", "lat", "lon", "precision_m",
               "place_name", "admin1", "category", "alleged_party__code", "source_type", "civilian_killed",
               "civilian_injured", "military_killed", "military_injured", "weapons", "severity", "description",
               "author__username", "submitted_at")


def _text(value):
    # csv_cell for a text column (str or None): the csv writer already
    # writes None as an empty cell.
    return "'" + value if value and value[0] in FORMULA_STARTS else value


def _iso(value) -> str:
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


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# FeatureSerializer's fields, in its order, as DRF's JSONRenderer writes them
# (compact separators, no ASCII escaping).
_FEATURE = ('{"type":"Feature","id":%d,"geometry":{"type":"Point","coordinates":[%s,%s]},"properties":{'
            '"reference":%s,"status":%s,"category":%s,"occurred_at":%s,"occurred_until":%s,"alleged_party":%s,'
            '"severity":%s,"precision_m":%s,"place_name":%s,"author":%s}}')
_GEO_FIELDS = ("id", "lon", "lat", "year", "status", "category", "occurred_at", "occurred_until",
               "alleged_party__code", "severity", "precision_m", "place_name", "author__username")


def _py_json_string(value) -> str:
    return "null" if value is None else json.encoder.encode_basestring(value)


def _py_json_int(value) -> str:
    return "null" if value is None else str(value)


def _features(rows, zone) -> str:
    string, number, reference, floatstr = _py_json_string, _py_json_int, Report.reference_for, float.__repr__

    def when(value):
        # DRF's DateTimeField (config.api.drf_datetime), as a JSON string or null.
        return "null" if value is None else '"' + drf_datetime(value, zone) + '"'

    return ",".join([
        _FEATURE % (pk, floatstr(lon), floatstr(lat), string(reference(pk, year)), string(status),
                    string(category), when(occurred_at), when(occurred_until), string(party), number(severity),
                    number(precision_m), string(place_name), string(author))
        for (pk, lon, lat, year, status, category, occurred_at, occurred_until, party, severity, precision_m,
             place_name, author) in rows])
