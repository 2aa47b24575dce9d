"""Reading a batch of reports: CSV or JSON Lines, in one of three column
mappings (docs/import.md has the tables). Pure functions, no writes: each
row becomes the body of a single `POST /api/v1/reports/` (the API's nested
shape), which reports.services.report_import then validates exactly like a
single report.

A mapping knows, for every API field it fills, which source column it came
from, so that a refused row's errors name the column the person can fix."""

import csv
import gc
import io
import json
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import serializers

MAPPINGS = ("acled", "cir", "native")

# Errors about the file as a whole (not one row): the view answers 400.


class ImportFormatError(ValueError):
    pass


@dataclass
class Row:
    """One source row: its 1-based number in the file (header excluded), the
    report body it maps to, its source id (None: the content hash is used),
    and, for the native mapping, a report Idempotency-Key given verbatim."""

    number: int
    body: dict
    source_id: str | None = None
    idempotency_key: str | None = None
    # API field (flat: lat, occurred_at, ...) -> source column, for errors.
    columns: dict = field(default_factory=dict)
    # Errors found while mapping (a date no format reads), by source column.
    errors: dict = field(default_factory=dict)


# --- Reading the file ---------------------------------------------------------


def read_csv(text: str) -> tuple[list[str], list[dict]]:
    """(header, records): each record a dict of the header's columns; empty
    cells are left out (a missing value, as if the column were absent)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], []
    except csv.Error as exc:
        raise ImportFormatError(_("Unreadable CSV: %(error)s") % {"error": exc}) from exc
    # Column names are matched in lower case (ACLED's are; CIR's header is
    # sometimes written with capitals).
    header = [h.strip().lower() for h in header]
    records = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # a blank line (spreadsheets add them at the end)
            records.append({h: v.strip() for h, v in zip(header, values, strict=False) if h and v.strip()})
    except csv.Error as exc:
        raise ImportFormatError(_("Unreadable CSV at line %(line)d: %(error)s") % {
            "line": reader.line_num, "error": exc}) from exc
    return header, records


def read_json_lines(text: str) -> tuple[list[str], list[dict]]:
    """(keys of the first object, records): one JSON object per line; blank
    lines are skipped. A line that is not an object fails the whole file (a
    broken file, not a refused report)."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise ImportFormatError(_("Line %(line)d is not JSON: %(error)s") % {"line": number, "error": exc}) from exc
        if not isinstance(value, dict):
            raise ImportFormatError(_("Line %(line)d is not a JSON object.") % {"line": number})
        records.append({k: v for k, v in value.items() if v is not None and v != ""})
    return (list(records[0]) if records else []), records


def guess_mapping(header: Iterable[str]) -> str:
    """acled if the header has ACLED's id and date columns, cir if it has
    CIR's entry and violence level, else native (the API's own names)."""
    names = {h.strip().lower() for h in header}
    if {"event_id_cnty", "event_date"} <= names:
        return "acled"
    if {"entry", "date", "violence level"} <= names:
        return "cir"
    return "native"


# --- Values -------------------------------------------------------------------

DATE_FORMATS = {
    # Day first where slashes or dots are used (CIR, European spreadsheets):
    # 03/04/2022 is 3 April, never 4 March.
    "acled": ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d/%m/%Y"),
    "cir": ("%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d %B %Y"),
    "native": ("%Y-%m-%d",),
}


_NUMERIC_DATE = re.compile(r"(?P<iso>(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2}))"
                           r"|(?P<d2>\d{1,2})(?P<sep>[/.])(?P<m2>\d{1,2})(?P=sep)(?P<y2>\d{4})")


def parse_date(value: str, mapping: str) -> str | None:
    """An ISO 8601 text the serializer reads, or None if no accepted format
    matches. A date without a time is midnight UTC of that day; a date-time
    without a zone is UTC. Date-times in ISO 8601 are passed through."""
    text = str(value).strip()
    # The common numeric forms without strptime (a tenth of a row's mapping
    # time in a 10,000-row batch); what they accept is what strptime would.
    match = _NUMERIC_DATE.fullmatch(text)
    if match and (match["iso"] or mapping != "native"):
        year, month, day = (match["y1"], match["m1"], match["d1"]) if match["iso"] else (
            match["y2"], match["m2"], match["d2"])
        if match["sep"] == "." and mapping != "cir":
            return None
        try:
            return datetime(int(year), int(month), int(day), tzinfo=UTC).isoformat()
        except ValueError:
            return None
    for fmt in DATE_FORMATS[mapping]:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).isoformat()
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def decimal(value):
    """A coordinate as written by a spreadsheet in a comma-decimal locale
    ("47,5689") is read as 47.5689; anything else goes to the serializer as is."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+,\d+", text):
            return text.replace(",", ".")
        return text
    return value


URL = re.compile(r"https?://\S+")


def urls(value) -> list[str]:
    """Links from a cell holding one or more URLs (separated by spaces, commas,
    semicolons or line breaks); a JSON list is taken as it is."""
    if isinstance(value, list):
        return value
    return [u.rstrip(",;") for u in URL.findall(str(value))]


def _integer(value):
    """'3' -> 3; other text goes to the serializer, which says what is wrong."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    return value


# --- Categories ---------------------------------------------------------------

# ACLED's sub_event_type (then event_type) -> our category; anything not
# listed is "other". https://acleddata.com/acleddatanew/wp-content/uploads/2021/11/ACLED_Codebook_v1_January-2021.pdf
ACLED_CATEGORIES = {
    "shelling/artillery/missile attack": "shelling",
    "air/drone strike": "air_strike",
    "remote explosive/landmine/ied": "mine_ied",
    "armed clash": "small_arms_fire",
    "grenade": "small_arms_fire",
    "government regains territory": "ground_assault",
    "non-state actor overtakes territory": "ground_assault",
    "looting/property destruction": "infrastructure_attack",
    "explosions/remote violence": "shelling",
    "battles": "small_arms_fire",
}

# Words in CIR's event_group, arms/munition or title -> our category, the
# first that matches winning (so "drone" before "air", "missile" before
# "shelling"); no match is "other".
KEYWORD_CATEGORIES = (
    ("drone_strike", ("drone", "uav", "shahed", "loitering", "lancet")),
    ("missile_strike", ("missile", "kalibr", "iskander", "kh-", "s-300", "tochka")),
    ("air_strike", ("air strike", "airstrike", "aerial bomb", "glide bomb", "kab", "fab-", "aircraft")),
    ("shelling", ("shell", "artillery", "mortar", "mlrs", "grad", "uragan", "smerch", "howitzer", "rocket")),
    ("mine_ied", ("mine", "ied", "explosive device", "booby")),
    ("small_arms_fire", ("small arms", "gunfire", "shooting", "sniper", "rifle")),
    ("infrastructure_attack", ("infrastructure", "power plant", "substation", "dam")),
)


def keyword_category(*texts: str) -> str:
    text = " ".join(t.lower() for t in texts if t)
    for category, words in KEYWORD_CATEGORIES:
        if any(word in text for word in words):
            return category
    return "other"


# --- Mappings -----------------------------------------------------------------


def _party(value, parties: dict) -> str | None:
    """A party code if the value is a known party's code or name (any case);
    else None: the source's actor names are not our parties' names."""
    if not value:
        return None
    return parties.get(str(value).strip().lower())


def _date(row: Row, record: dict, column: str, mapping: str, api_field: str = "occurred_at") -> None:
    row.columns[api_field] = column
    if column not in record:
        return  # left out: the serializer says it is required
    text = parse_date(record[column], mapping)
    if text is None:
        row.errors[column] = [_("Not a date this mapping reads: %(value)s (accepted: %(formats)s or ISO 8601).")
                              % {"value": repr(record[column]), "formats": ", ".join(DATE_FORMATS[mapping])}]
    else:
        row.body[api_field] = text


def _location(row: Row, record: dict, columns: dict) -> None:
    location = {}
    for api_field, column in columns.items():
        row.columns[api_field] = column
        if column in record:
            value = record[column]
            location[api_field] = decimal(value) if api_field in ("lat", "lon") else value
    row.body["location"] = location


def map_acled(number: int, record: dict, parties: dict) -> Row:
    row = Row(number=number, body={}, source_id=record.get("event_id_cnty"))
    _date(row, record, "event_date", "acled")
    _location(row, record, {"lat": "latitude", "lon": "longitude", "place_name": "location", "admin1": "admin1"})
    kind = record.get("sub_event_type", "").lower()
    row.body["category"] = ACLED_CATEGORIES.get(kind) or ACLED_CATEGORIES.get(
        record.get("event_type", "").lower(), "other")
    row.columns["category"] = "sub_event_type"
    if "notes" in record:
        row.body["description"] = record["notes"]
    row.columns["description"] = "notes"
    row.body["alleged_party"] = _party(record.get("actor1"), parties)
    row.body["source_type"] = "third_party"
    # ACLED counts fatalities without saying who: civilians only where the
    # event targeted civilians; otherwise the count is not mapped.
    if record.get("civilian_targeting") and "fatalities" in record:
        row.body["casualties"] = {"civilian_killed": _integer(record["fatalities"])}
        row.columns["civilian_killed"] = "fatalities"
    return row


def map_cir(number: int, record: dict, parties: dict) -> Row:
    row = Row(number=number, body={}, source_id=record.get("entry"))
    _date(row, record, "date", "cir")
    _location(row, record, {"lat": "lat", "lon": "lon", "place_name": "town/city", "admin1": "province"})
    title, brief = record.get("title", ""), record.get("brief description", "")
    description = f"{title}\n\n{brief}" if title and brief else (title or brief)
    if description:
        row.body["description"] = description
    row.columns["description"] = "brief description"
    row.body["category"] = keyword_category(record.get("event_group", ""), record.get("arms/munition", ""), title)
    row.columns["category"] = "event_group"
    if "arms/munition" in record:
        row.body["weapons"] = record["arms/munition"]
    row.columns["weapons"] = "arms/munition"
    if "violence level" in record:
        row.body["severity"] = _integer(record["violence level"])
    row.columns["severity"] = "violence level"
    links = urls(record.get("link", "")) + urls(record.get("geolocation", ""))
    if links:
        row.body["links"] = list(dict.fromkeys(links))
    row.columns["links"] = "link"
    row.body["source_type"] = "open_source"
    return row


NATIVE_LOCATION = ("lat", "lon", "precision_m", "place_name", "admin1")
NATIVE_CASUALTIES = ("civilian_killed", "civilian_injured", "military_killed", "military_injured")
NATIVE_FIELDS = ("occurred_at", "occurred_until", "category", "description", "alleged_party", "source_type",
                 "weapons", "severity", "links", "status", "location", "casualties")


def map_native(number: int, record: dict, parties: dict) -> Row:
    """The API's own field names, flat (lat, lon, civilian_killed, ...) or, in
    JSON Lines, nested like a single POST body; plus `source_id` and
    `idempotency_key`. An unknown column is an error (a typo must not drop data)."""
    row = Row(number=number, body={}, source_id=_text_or_none(record.get("source_id")),
              idempotency_key=_text_or_none(record.get("idempotency_key")))
    location = dict(record["location"]) if isinstance(record.get("location"), dict) else {}
    casualties = dict(record["casualties"]) if isinstance(record.get("casualties"), dict) else {}
    for key, value in record.items():
        if key in ("source_id", "idempotency_key"):
            continue
        if key in NATIVE_LOCATION:
            location[key] = decimal(value) if key in ("lat", "lon") else _integer(value) if key == "precision_m" else value
        elif key in NATIVE_CASUALTIES:
            casualties[key] = _integer(value)
        elif key in ("occurred_at", "occurred_until") and isinstance(value, str):
            text = parse_date(value, "native")
            if text is None:
                row.errors[key] = [_("Not a date: %(value)s (ISO 8601 or YYYY-MM-DD).") % {"value": repr(value)}]
            else:
                row.body[key] = text
        elif key == "links":
            row.body[key] = urls(value)
        elif key == "severity":
            row.body[key] = _integer(value)
        elif key in NATIVE_FIELDS:
            if key not in ("location", "casualties"):
                row.body[key] = value
        else:
            row.errors[key] = [_("Unknown column.")]
    row.body["location"] = location
    if casualties:
        row.body["casualties"] = casualties
    if isinstance(row.body.get("alleged_party"), str):
        # A name is accepted as well as a code; an unknown one is refused by
        # the serializer's own check (the code as written).
        row.body["alleged_party"] = _party(row.body["alleged_party"], parties) or row.body["alleged_party"]
    return row


def _text_or_none(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


MAPPERS = {"acled": map_acled, "cir": map_cir, "native": map_native}


def rows_from(records: list[dict], mapping: str, parties: dict, *, first: int = 1) -> list[Row]:
    """`parties`: lower-case code and name -> code (reports.selectors.party_lookup).
    `first`: the number of records[0] in the file."""
    mapper = MAPPERS[mapping]
    return [mapper(number, record, parties) for number, record in enumerate(records, start=first)]


# --- A whole batch ------------------------------------------------------------

CONTENT_TYPES = {"text/csv": read_csv, "application/x-ndjson": read_json_lines}


@dataclass
class ImportResult:
    mapping: str
    outcomes: list

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def as_dict(self) -> dict:
        """The API's answer (ImportResultSerializer) and the command's --json."""
        return {
            "mapping": self.mapping,
            "filed": self.count("filed"),
            "duplicates": self.count("duplicate"),
            "refused": self.count("refused"),
            "rows": [{"row": o.number, "status": o.status, "reference": o.reference, "errors": o.errors}
                     for o in self.outcomes],
        }


def records_from(text: str, media_type: str) -> tuple[list[str], list[dict]]:
    return CONTENT_TYPES[media_type](text)


@contextmanager
def _no_cycle_collection():
    """A batch allocates a few hundred thousand objects (records, rows,
    validated data, reports, events) and keeps them to its end: Python's
    cyclic collector ran some 350 times in a 10,000-row batch, rescanning
    them all, for about 8 % of the batch's CPU, and found nothing to free.
    Reference counting frees as usual meanwhile; the collector is back (and
    takes any cycle left) when the batch ends. Left off if it was off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_records(*, actor, header: list[str], records: list[dict], mapping: str | None = None) -> ImportResult:
    """Map, validate and file a batch (the API and import_reports both call
    this): each row goes through ReportInputSerializer, the single report's
    validation, then reports.services.report_import files the good ones."""
    with _no_cycle_collection():
        return _import_records(actor=actor, header=header, records=records, mapping=mapping)


def _import_records(*, actor, header: list[str], records: list[dict], mapping: str | None) -> ImportResult:
    # Imported here: the serializers and services sit above this module's
    # pure reading functions, which the tests use on their own.
    from reports.selectors import parties_by_code
    from reports.serializers import ReportInputSerializer
    from reports.services import ImportBatch, ImportEntry, ImportOutcome, report_fingerprint

    mapping = mapping or guess_mapping(header)
    if mapping not in MAPPINGS:
        raise ImportFormatError(_("Unknown mapping %(mapping)s: one of %(choices)s.") % {
            "mapping": repr(mapping), "choices": ", ".join(MAPPINGS)})
    batch = ImportBatch(actor=actor)
    by_code = parties_by_code()
    names = {}
    for code, party in by_code.items():
        names[party.name.lower()] = code
        names[code.lower()] = code
    # One serializer for the whole batch: its fields are built once, and
    # run_validation applies the same field and object rules as is_valid.
    serializer = ReportInputSerializer(context={"parties": by_code})
    refused: dict[int, ImportOutcome] = {}

    def check(first: int) -> list:
        """Map, validate and check the part of `records` from number `first`:
        what batch.write() takes. Runs on the reading thread (no query)."""
        entries = []
        for row in rows_from(records[first - 1:first - 1 + part], mapping, names, first=first):
            try:
                data = serializer.run_validation(row.body)
            except serializers.ValidationError as exc:
                errors = _by_column(row, exc.detail)
                errors.update(row.errors)
                refused[row.number] = ImportOutcome(row.number, "refused", errors=errors)
                continue
            if row.errors:
                refused[row.number] = ImportOutcome(row.number, "refused", errors=row.errors)
                continue
            # The content's hash only where it is needed: the key of a row with
            # no id, or the body a report Idempotency-Key stands for.
            fingerprint = report_fingerprint(data) if row.idempotency_key or not row.source_id else ""
            key, reason, error = _key(row, mapping, fingerprint)
            if error:
                refused[row.number] = ImportOutcome(row.number, "refused", errors=error)
                continue
            entries.append(ImportEntry(number=row.number, data=data, idempotency_key=key, reason=reason,
                                       fingerprint=fingerprint))
        return batch.check(entries)

    part = settings.REPORT_IMPORT_PART_ROWS or max(len(records), 1)
    firsts = range(1, len(records) + 1, part)
    with transaction.atomic():
        if settings.REPORT_IMPORT_PART_ROWS and len(firsts) > 1:
            with closing(one_part_ahead(check, firsts)) as checked:
                for fresh in checked:
                    batch.write(fresh)
        else:
            for first in firsts:
                batch.write(check(first))
        filed = {outcome.number: outcome for outcome in batch.finish()}
    outcomes = []
    for number in range(1, len(records) + 1):
        outcome = refused.get(number)
        if outcome is None:
            outcome = filed[number]
            if outcome.errors:  # the service's own rules speak of API fields: name the columns
                outcome.errors = _by_column(_row_columns(mapping, records[number - 1], number, names), outcome.errors)
        outcomes.append(outcome)
    return ImportResult(mapping=mapping, outcomes=outcomes)


def one_part_ahead(work, parts):
    """Yield work(part) for each part in order, computing the next one on a
    second thread while the caller handles this one.

    Why: an import's time is Python (mapping and validating rows) and then
    PostgreSQL (writing them), one after the other; while this thread waits
    for the database to write one part, the next part is validated. The
    interpreter lock lets only one of the two run Python at a time, so what
    overlaps is the database's own time. The BENCHMARKS ("Bulk import", "One
    part ahead") measure it against REPORT_IMPORT_PART_ROWS=0 back to back.

    `work` must not touch the database: it would run on the second thread's
    own connection, outside the caller's transaction. A query there raises.
    The active language and time zone are carried over, so the errors and
    times read as they would on this thread."""
    language = translation.get_language()
    zone = timezone.get_current_timezone()

    def run(part):
        with translation.override(language), timezone.override(zone), \
                connections[DEFAULT_DB_ALIAS].execute_wrapper(_no_query_here):
            return work(part)

    parts = list(parts)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-check") as pool:
        try:
            ahead = pool.submit(run, parts[0])
            for part in parts[1:]:
                current = ahead.result()
                ahead = pool.submit(run, part)
                yield current
            yield ahead.result()
        finally:
            # The thread's own connection, had anything opened it.
            pool.submit(connections.close_all).result()


def _no_query_here(execute, sql, params, many, context):
    raise RuntimeError("A batch's rows are checked without queries (reports.imports.one_part_ahead).")


IDEMPOTENCY_KEY_MAX = 200


def _key(row: Row, mapping: str, fingerprint: str) -> tuple[str | None, str, dict | None]:
    """(idempotency key, audit reason, error). The source's own id when it
    has one, else the content hash; the native mapping's idempotency_key is
    the report's Idempotency-Key as is, so a device outbox that already sent
    a report on its own files nothing twice."""
    if row.idempotency_key:
        # The rule of the Idempotency-Key header, which this key stands for.
        from reports.services import IDEMPOTENCY_KEY
        from reports.services import IDEMPOTENCY_KEY_MAX as HEADER_MAX

        if len(row.idempotency_key) > HEADER_MAX or not IDEMPOTENCY_KEY.fullmatch(row.idempotency_key):
            return None, "", {"idempotency_key": [
                _("1 to %(n)d printable ASCII characters, no space at either end.") % {"n": HEADER_MAX}]}
        key, reason = row.idempotency_key, f"import ({mapping}, idempotency key {row.idempotency_key})"
        column = "idempotency_key"
    elif row.source_id:
        key, reason = f"import:{mapping}:{row.source_id}", f"import ({mapping}, source id {row.source_id})"
        column = {"acled": "event_id_cnty", "cir": "entry"}.get(mapping, "source_id")
    else:
        return f"import:sha256:{fingerprint}", f"import ({mapping}, content hash)", None
    if len(key) > IDEMPOTENCY_KEY_MAX:
        room = IDEMPOTENCY_KEY_MAX - (len(key) - len(row.idempotency_key or row.source_id))
        return None, reason, {column: [_("At most %(n)d characters.") % {"n": room}]}
    return key, reason, None


def _row_columns(mapping: str, record: dict, number: int, names: dict) -> Row:
    return MAPPERS[mapping](number, record, names)


def _by_column(row: Row, detail) -> dict:
    """Errors keyed by the source's column names (nested API errors such as
    location.lat flattened first); keys with no column keep the API name."""
    flat: dict[str, list[str]] = {}

    def add(key, messages):
        if isinstance(messages, dict):
            for inner, value in messages.items():
                add(inner, value)
            return
        if not isinstance(messages, list):
            messages = [messages]
        flat.setdefault(row.columns.get(key, key), []).extend(str(m) for m in messages)

    for key, value in (detail.items() if isinstance(detail, dict) else [("non_field_errors", detail)]):
        add(key, value)
    return flat
