"""The reports' full exports (CSV for auditors and the chair, GeoJSON for
every reader) stream in keyset batches, resume with after_id, and write the
same bytes as the stock way (model instances through the csv writer;
FeatureCollectionSerializer through DRF's JSONRenderer)."""

import csv
import io
import json
import math
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.models import Party, User
from reports import exports, selectors
from reports.map_serializers import FeatureCollectionSerializer
from reports.models import Report

pytestmark = pytest.mark.django_db

CSV_URL = "/trail/reports.csv"
GEO_URL = "/api/v1/reports.geojson"
BATCH = 5


@pytest.fixture(autouse=True)
def small_batches(settings):
    settings.EXPORT_BATCH_SIZE = BATCH


@pytest.fixture
def web():
    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def body(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.fixture
def many(people, file_report):
    """12 submitted reports and a draft (the draft is its author's only)."""
    reports = [file_report(people["monitor"], description=f"report {i}") for i in range(12)]
    file_report(people["monitor"], status="draft", description="a draft")
    return reports


def _id_of_csv_row(row: str) -> int:
    return int(row.split(",", 1)[0].rsplit("-", 1)[1])  # RPT-2026-000123 -> 123


def test_a_csv_cut_after_k_rows_and_resumed_after_its_last_id_is_the_whole_export(people, web, many):
    client = web(people["auditor"])
    whole = body(client.get(CSV_URL))
    rows = whole.split("\r\n")[:-1]
    header, data = rows[0], rows[1:]
    assert header.startswith("reference,status,") and len(data) == 12
    for k in (0, 1, 4, 5, 6, 11, 12):
        after = _id_of_csv_row(data[k - 1]) if k else 0
        rest = body(client.get(CSV_URL, {"after_id": after})) if k else body(client.get(CSV_URL))
        head = "\r\n".join([header, *data[:k]]) + "\r\n" if k else ""
        assert head + rest == whole, k  # no gap, no duplicate; a resumed part has no header


def test_a_geojson_cut_after_k_features_and_resumed_after_its_last_id_is_the_whole_export(api, people, many):
    client = api(people["verifier"])
    whole = json.loads(body(client.get(GEO_URL)))
    features = whole["features"]
    assert [f["id"] for f in features] == sorted(r.pk for r in many)  # every report, in id order
    for k in (1, 4, 5, 6, 11, 12):
        rest = json.loads(body(client.get(GEO_URL, {"after_id": features[k - 1]["id"]})))
        assert rest["type"] == "FeatureCollection"
        assert features[:k] + rest["features"] == features, k


def test_the_geojson_is_no_longer_cut_at_the_newest_ten_thousand(api, people, many, settings):
    # (The whole set streams; at 3 per batch, 12 reports take 5 queries.)
    settings.EXPORT_BATCH_SIZE = 3
    features = json.loads(body(api(people["chair"]).get(GEO_URL)))["features"]
    assert len(features) == 12


def test_the_geojson_keeps_its_filters_and_scoping_when_resumed(api, people, many, file_report):
    file_report(people["monitor"], category="drone_strike")
    mine = json.loads(body(api(people["monitor"]).get(GEO_URL, {"after_id": many[5].pk})))["features"]
    assert [f["id"] for f in mine][:6] == [r.pk for r in many[6:]]
    drones = json.loads(body(api(people["verifier"]).get(GEO_URL, {"after_id": many[0].pk,
                                                                   "category": "drone_strike"})))["features"]
    assert [f["properties"]["category"] for f in drones] == ["drone_strike"]
    assert api(people["verifier"]).get(GEO_URL, {"after_id": 1, "bbox": "x"}).status_code == 400


BAD = ["x", "-1", "1.5", "5.0", "+5", " 5", "٣", "9223372036854775808", "1e3"]


@pytest.mark.parametrize("value", BAD)
def test_it_refuses_an_after_id_that_is_not_a_whole_number_from_0(api, people, web, value):
    response = api(people["verifier"]).get(GEO_URL, {"after_id": value})
    assert response.status_code == 400 and "after_id" in response.json()
    assert web(people["auditor"]).get(CSV_URL, {"after_id": value}).status_code == 400


@pytest.mark.parametrize(("who", "csv_status", "geo_status"), [
    ("auditor", 200, 200), ("chair", 200, 200), ("verifier", 403, 200), ("member1", 403, 200),
    ("monitor", 403, 200), ("outsider", 403, 403), (None, 302, 401),
])
def test_who_may_export_is_unchanged_by_resuming(api, people, web, many, who, csv_status, geo_status):
    user = people[who] if who else None
    assert web(user).get(CSV_URL, {"after_id": many[3].pk}).status_code == csv_status
    assert api(user).get(GEO_URL, {"after_id": many[3].pk}).status_code == geo_status


def _queries(fetch) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        body(fetch())
    batch_reads = [q["sql"] for q in queries.captured_queries
                   if 'FROM "reports_report"' in q["sql"] and '"reports_report"."id" >' in q["sql"]]
    return len(queries), batch_reads


@pytest.mark.parametrize("url", [CSV_URL, GEO_URL])
def test_an_export_runs_one_query_per_batch_and_holds_at_most_a_batch(api, people, web, file_report, url,
                                                                      django_assert_max_num_queries):
    client = web(people["auditor"]) if url == CSV_URL else api(people["auditor"])
    for i in range(12):
        file_report(people["monitor"], description=f"r{i}")
    total_12, reads_12 = _queries(lambda: client.get(url))
    for i in range(12):
        file_report(people["monitor"], description=f"s{i}")
    total_24, reads_24 = _queries(lambda: client.get(url))
    assert len(reads_12) == math.ceil(12 / BATCH) and len(reads_24) == math.ceil(24 / BATCH)
    assert total_24 - len(reads_24) <= total_12 - len(reads_12)  # only the batches grow
    assert all(sql.endswith(f"LIMIT {BATCH}") for sql in reads_12 + reads_24)  # never more rows than a batch
    with django_assert_max_num_queries(total_12 - len(reads_12) + math.ceil(24 / BATCH)):
        body(client.get(url))


# --- The same bytes as the stock way ------------------------------------------


def _stock_csv(reports) -> str:
    """The CSV as the auditors' page wrote it before (model instances)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(exports.CSV_COLUMNS)
    cell = exports.csv_cell
    for r in reports.order_by("id"):
        writer.writerow([cell(v) for v in (
            r.reference, r.status, r.occurred_at.isoformat() if r.occurred_at else "",
            r.occurred_until.isoformat() if r.occurred_until else "", r.lat, r.lon, r.precision_m,
            r.place_name, r.admin1, r.category, r.alleged_party.code if r.alleged_party_id else "",
            r.source_type, r.civilian_killed, r.civilian_injured, r.military_killed, r.military_injured,
            r.weapons, r.severity, r.description, r.author.username,
            r.submitted_at.isoformat() if r.submitted_at else "")])
    return out.getvalue()


@pytest.fixture
def tricky(people, file_report):
    """Reports whose text, numbers, times and NULLs test every escape and
    format either writer makes (on PostgreSQL the database writes the rows:
    exports' "Written by PostgreSQL")."""
    texts = ['=HYPERLINK("http://evil")', "+1", "-5 km", "@cmd", "\tTab", "quote \" and, comma",
             "line\nbreak", "Кураховe ✓ 🕊", "sep\u2028and\u2029", "", "back\\slash \x01 ctrl",
             "\rstarts with CR", "ends with CR\r", "crlf\r\ninside", '"', "'already quoted", "-", "=",
             "del \x7f and \x1f \b \f", "\U0001F600 non-BMP", "a,b", "  spaces  ", "tab\tinside"]
    # Python's float repr: ".0" on whole numbers, "-0.0", the switch to an
    # exponent below 1e-4, 17 significant digits.
    lats = [47.5689, 48.123456789012345, -0.0, 1e-05, 50.0, 0.0001, 9.999999999999999e-05, -1.2345678901234567,
            5e-324, 89.99999999999999, 0.30000000000000004, -90.0, 0.0]
    lons = [35.8612, 37.1, 179.999999, -180.0, 0.0, -1.5e-07, 123.45678901234568, 1e-100, -0.0, 180.0, 2.5e-05]
    odd = User.objects.create_user(username="-dash+@odd", password="x-unused-9", delegation=people["monitor"].delegation)
    odd_party = Party.objects.create(code='=P,"Q', name="A code with a formula, a comma and a quote")
    made = []
    for i, text in enumerate(texts):
        report = file_report(people["monitor"], description=text or "plain",
                             alleged_party=None if i % 3 == 0 else report_party(i))
        Report.objects.filter(pk=report.pk).update(
            place_name=text, admin1=texts[-1 - i], weapons=texts[(i + 3) % len(texts)],
            # (The category is the GeoJSON's too, whose schema holds it to its choices.)
            source_type=texts[(i + 7) % len(texts)] or "other",
            lat=lats[i % len(lats)], lon=lons[i % len(lons)],
            precision_m=None if i % 2 else 250 + i, severity=None if i % 4 else 3,
            civilian_killed=i, military_injured=1000 * i,
            occurred_at=datetime(2026, 3, 1, 10, 0, 0, [0, 123456, 1, 999999, 100000][i % 5], tzinfo=UTC),
            occurred_until=None if i % 3 else datetime(2026, 3, 1, 11, 30, 0, 0 if i % 2 else 500, tzinfo=UTC),
            submitted_at=datetime(2026, 3, 2, 8, 0, 0, 0 if i % 3 else 42, tzinfo=UTC))
        made.append(report)
    Report.objects.filter(pk__in=[r.pk for r in made[2::5]]).update(author=odd)
    Report.objects.filter(pk__in=[r.pk for r in made[1::5]]).update(alleged_party=odd_party)
    # A report filed in the last microsecond of 2025 (UTC: RPT-2025-...), whose
    # id has more than six digits.
    big = Report.objects.get(pk=made[5].pk)
    big.pk, big.idempotency_key = 1_234_567, None
    big.save(force_insert=True)
    Report.objects.filter(pk=big.pk).update(created_at=datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    made.append(big)
    file_report(people["monitor"], status="draft", description="a draft", lat=None, lon=None)
    file_report(people["monitor"], status="draft", description="a mapped draft")
    return made


def report_party(i):
    return Party.objects.get(code="RU" if i % 2 else "UA")


def test_the_csv_is_byte_for_byte_the_stock_csv(people, web, tricky):
    for who in ("auditor", "chair"):
        user = people[who]
        fast = body(web(user).get(CSV_URL))
        assert fast == _stock_csv(selectors.report_list_for(user))
        assert "'=HYPERLINK" in fast


@pytest.mark.parametrize("who", ["verifier", "monitor", "auditor"])
def test_the_geojson_is_byte_for_byte_the_serializers_rendering(api, people, tricky, who):
    user = people[who]
    fast = body(api(user).get(GEO_URL))
    reports = selectors.report_mappable(selectors.report_list_for(user)).order_by("id")
    stock = JSONRenderer().render(FeatureCollectionSerializer(reports).data).decode("utf-8")
    assert fast == stock
    assert "\\u2028" in fast  # DRF's escape of the line separator, kept
    # batch size does not change a byte
    assert "".join(exports.reports_geojson(reports, batch_size=2)) == stock


def test_in_another_time_zone_both_exports_are_still_the_stock_bytes(people, tricky):
    # The CSV's times and every reference's year stay in UTC (as the stock
    # CSV wrote them); the GeoJSON's times move to the zone, as DRF writes
    # them (there Python writes the features: the database's text is UTC).
    with timezone.override("Europe/Kyiv"):
        reports = selectors.report_list_for(people["auditor"])
        stock_csv = _stock_csv(reports)
        assert "".join(exports.reports_csv(reports)) == stock_csv
        assert "\r\nRPT-2025-1234567," in stock_csv  # filed in 2025 in UTC, in 2026 in Kyiv
        mappable = selectors.report_mappable(reports).order_by("id")
        stock = JSONRenderer().render(FeatureCollectionSerializer(mappable).data).decode("utf-8")
        assert "".join(exports.reports_geojson(mappable, batch_size=4)) == stock
        assert '"occurred_at":"2026-03-01T12:00:00.123456+02:00"' in stock


def test_a_page_of_reports_as_geojson_is_the_serializers_rendering_in_any_time_zone(people, tricky):
    # exports.geojson_of: the inbox's small map, from instances already read.
    reports = list(selectors.report_mappable(selectors.report_list_for(people["auditor"]))
                   .select_related("author", "alleged_party").order_by("-id"))
    assert len(reports) > 2
    for zone in ("UTC", "Europe/Kyiv"):
        with timezone.override(zone):
            stock = JSONRenderer().render(FeatureCollectionSerializer(reports).data).decode("utf-8")
            assert exports.geojson_of(reports) == stock
    assert "\\u2028" in exports.geojson_of(reports)
    assert exports.geojson_of([]) == JSONRenderer().render(FeatureCollectionSerializer([]).data).decode("utf-8")


def test_on_postgresql_the_database_writes_each_row_and_elsewhere_python_does(people, web, tricky):
    with CaptureQueriesContext(connection) as queries:
        body(web(people["auditor"]).get(CSV_URL))
    batch_reads = [q["sql"] for q in queries.captured_queries if '"reports_report"."id" >' in q["sql"]]
    assert batch_reads
    in_database = connection.vendor == "postgresql"
    assert all(('AS "export_text"' in sql) == in_database for sql in batch_reads)
