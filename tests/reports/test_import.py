"""Bulk import (POST /api/v1/reports/import/ and import_reports): each row
validated like a single report, filed once with its audit event, or refused
by row and column; a re-run files nothing twice."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from reports.imports import guess_mapping, parse_date
from reports.models import Report

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/import/"
CIR_HEADER = ("entry,date,event_group,title,brief description,lat,lon,country,province,district,town/city,"
              "arms/munition,violence level,link,geolocation")
ACLED_HEADER = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
                "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,"
                "country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,"
                "fatalities,tags,timestamp")

# Good rows, a row without a date, one without coordinates, one repeated.
SAMPLE_CIR = "\n".join([
    CIR_HEADER,
    'CIV0001,24/02/2022,Residential,Strike on apartment block,"Missile hit a 9-storey building.",'
    '"50,4501",30.5234,Ukraine,Kyiv,Kyiv,Kyiv,Kh-101 cruise missile,3,https://example.org/a,',
    "CIV0002,25/02/2022,Civilian infrastructure,Shelling of a school,Artillery impacts near school No. 5.,"
    "49.9935,36.2304,Ukraine,Kharkiv,Kharkiv,Kharkiv,152 mm artillery,2,https://example.org/b https://example.org/c,",
    "CIV0003,,Residential,Undated strike,No date given.,49.99,36.23,Ukraine,Kharkiv,,Kharkiv,,1,,",
    "CIV0004,26/02/2022,Residential,Strike without place,No coordinates.,,,Ukraine,Kharkiv,,Kharkiv,,1,,",
    "CIV0002,25/02/2022,Civilian infrastructure,Shelling of a school,Artillery impacts near school No. 5.,"
    "49.9935,36.2304,Ukraine,Kharkiv,Kharkiv,Kharkiv,152 mm artillery,2,https://example.org/b https://example.org/c,",
]) + "\n"


@pytest.fixture(autouse=True, params=[0, 2], ids=["whole", "parts-of-2"])
def parts(request, settings):
    """Every rule here holds both ways: the batch checked whole and then
    written, and checked in parts of 2 rows, each on the second thread while
    the part before it is written (reports.imports.one_part_ahead)."""
    settings.REPORT_IMPORT_PART_ROWS = request.param
    return request.param


def post(client, text, content_type="text/csv", mapping=None, **extra):
    url = URL + (f"?mapping={mapping}" if mapping else "")
    return client.post(url, data=text.encode(), content_type=content_type, **extra)


def test_a_sample_csv_files_the_good_rows_once_and_reports_the_bad_ones_by_row_and_column(api, people, parties):
    monitor = people["monitor"]
    response = post(api(monitor), SAMPLE_CIR)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mapping"] == "cir"
    assert (body["filed"], body["duplicates"], body["refused"]) == (2, 1, 2)
    rows = {row["row"]: row for row in body["rows"]}
    assert [rows[n]["status"] for n in range(1, 6)] == ["filed", "filed", "refused", "refused", "duplicate"]
    assert rows[3]["errors"] == {"date": ["This field is required."]}
    assert set(rows[4]["errors"]) == {"lat", "lon"}
    assert rows[5]["reference"] == rows[2]["reference"]
    assert rows[3]["reference"] is None

    # Nothing else stored: two reports, two events.
    reports = {r.reference: r for r in Report.objects.all()}
    assert set(reports) == {rows[1]["reference"], rows[2]["reference"]}
    first = reports[rows[1]["reference"]]
    assert (first.lat, first.lon) == (50.4501, 30.5234)  # a comma decimal
    assert first.occurred_at.isoformat() == "2022-02-24T00:00:00+00:00"  # a date: midnight UTC
    assert first.category == "missile_strike" and first.source_type == "open_source"
    assert first.admin1 == "Kyiv" and first.weapons == "Kh-101 cruise missile" and first.severity == 3
    assert reports[rows[2]["reference"]].links == ["https://example.org/b", "https://example.org/c"]
    assert AuditEvent.objects.count() == 2

    # A re-run files nothing twice.
    again = post(api(monitor), SAMPLE_CIR).json()
    assert (again["filed"], again["duplicates"], again["refused"]) == (0, 3, 2)
    assert Report.objects.count() == 2 and AuditEvent.objects.count() == 2
    assert again["rows"][0]["reference"] == rows[1]["reference"]


def test_each_filed_row_has_exactly_one_submitted_event_naming_its_source(api, people, parties):
    post(api(people["monitor"]), SAMPLE_CIR)
    for report in Report.objects.all():
        events = AuditEvent.objects.filter(object_type="report", object_id=str(report.pk))
        assert events.count() == 1
        event = events.get()
        assert event.action == "report.submitted" and event.actor_username == "monitor1"
        assert event.after["reference"] == report.reference and event.after["lat"] == report.lat
        assert event.reason.startswith("import (cir, source id CIV000")


def test_the_trail_of_an_import_is_sealed_and_verifies(api, people, parties):
    from audit.services import trail_verify

    post(api(people["monitor"]), SAMPLE_CIR)
    assert trail_verify().ok


def test_an_acled_export_is_recognised_by_its_header(api, people, parties):
    row = ("UKR1234,2022-03-01,2022,1,Political violence,Explosions/Remote violence,"
           "Shelling/artillery/missile attack,Russian Federation,,8,Civilians (Ukraine),,7,78,Civilian targeting,804,"
           "Europe,Ukraine,Kharkivska,Kharkivskyi,Kharkiv,Kharkiv,49.9935,36.2304,1,Suspilne,National,"
           "Shelling of residential areas.,3,,1646200000")
    other = ("UKR1235,02 March 2022,2022,1,Political violence,Battles,Armed clash,Military Forces of Russia (2000-),"
             ",8,Military Forces of Ukraine (2019-),,1,18,,804,Europe,Ukraine,Donetska,,,Mariupol,47.0951,37.5413,"
             "1,Source,National,Clashes.,0,,1646200000")
    response = post(api(people["monitor"]), f"{ACLED_HEADER}\n{row}\n{other}\n")
    body = response.json()
    assert response.status_code == 200 and body["mapping"] == "acled" and body["filed"] == 2, body
    first, second = (Report.objects.get(pk=int(r["reference"].rsplit("-", 1)[1])) for r in body["rows"])
    assert first.category == "shelling" and first.source_type == "third_party"
    assert first.alleged_party.code == "RU"  # actor1 is a known party's name
    assert first.civilian_killed == 3 and first.place_name == "Kharkiv" and first.admin1 == "Kharkivska"
    assert second.alleged_party is None  # an ACLED actor name is not a party
    assert second.category == "small_arms_fire" and second.civilian_killed == 0
    assert second.occurred_at.isoformat() == "2022-03-02T00:00:00+00:00"


def test_json_lines_in_the_native_mapping_are_filed_like_single_reports(api, people, parties):
    lines = [
        {"source_id": "n-1", "occurred_at": "2026-11-20T06:40:00Z", "lat": 47.5689, "lon": 35.8612,
         "category": "shelling", "description": "Impacts.", "alleged_party": "RU",
         "source_type": "direct_observation", "civilian_injured": 2},
        # The nested shape of a single POST body, with its Idempotency-Key (a device outbox).
        {"idempotency_key": "outbox-7", "occurred_at": "2026-11-21T06:40:00Z",
         "location": {"lat": 49.99, "lon": 36.23}, "category": "drone_strike", "description": "A drone.",
         "source_type": "uav"},
        {"source_id": "n-3", "occurred_at": "2026-11-21T06:40:00Z", "lat": 49.99, "lon": 36.23,
         "category": "teleportation", "description": "?", "source_type": "uav", "alleged_party": "XX"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    response = post(api(people["monitor"]), text, content_type="application/x-ndjson")
    body = response.json()
    assert response.status_code == 200 and body["mapping"] == "native", body
    assert [r["status"] for r in body["rows"]] == ["filed", "filed", "refused"]
    assert set(body["rows"][2]["errors"]) == {"category", "alleged_party"}
    report = Report.objects.get(idempotency_key="outbox-7")
    assert report.category == "drone_strike" and report.lat == 49.99
    assert Report.objects.get(idempotency_key="import:native:n-1").civilian_injured == 2


def test_a_report_already_sent_with_its_idempotency_key_is_a_duplicate_in_an_outbox_flush(api, people, parties):
    from tests.reports.conftest import body

    client = api(people["monitor"])
    single = client.post("/api/v1/reports/", body(), format="json", HTTP_IDEMPOTENCY_KEY="outbox-1")
    assert single.status_code == 201
    line = {"idempotency_key": "outbox-1", **body()}
    answer = post(client, json.dumps(line) + "\n", content_type="application/x-ndjson").json()
    assert answer["rows"][0] == {"row": 1, "status": "duplicate", "reference": single.json()["reference"],
                                 "errors": {}}
    assert Report.objects.count() == 1


def test_a_row_without_a_source_id_is_recognised_by_its_content(api, people, parties):
    text = ("occurred_at,lat,lon,category,description,source_type\n"
            "2026-11-20,47.5,35.8,shelling,Impacts.,open_source\n"
            "2026-11-20,47.5,35.8,shelling,Impacts.,open_source\n")
    body = post(api(people["monitor"]), text, mapping="native").json()
    assert [r["status"] for r in body["rows"]] == ["filed", "duplicate"]
    assert post(api(people["monitor"]), text).json()["duplicates"] == 2
    assert Report.objects.count() == 1


def test_the_same_source_id_of_another_monitor_is_their_own_report(api, people, parties):
    post(api(people["monitor"]), SAMPLE_CIR)
    body = post(api(people["monitor2"]), SAMPLE_CIR).json()
    assert body["filed"] == 2
    assert Report.objects.count() == 4


def test_a_row_breaking_a_rule_of_single_reports_is_refused_with_the_same_message(api, people, parties):
    text = CIR_HEADER + "\nCIV9,01/01/2099,Residential,Future,In the future.,47.5,35.8,Ukraine,,,,,9,not-a-url,\n"
    body = post(api(people["monitor"]), text).json()
    errors = body["rows"][0]["errors"]
    assert body["refused"] == 1
    assert errors["date"] == ["Cannot be in the future."]
    assert "violence level" in errors  # severity 1 to 5
    assert Report.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_an_unreadable_date_is_refused_naming_the_formats(api, people, parties):
    text = CIR_HEADER + "\nCIV9,the day before,Residential,T,D,47.5,35.8,Ukraine,,,,,1,,\n"
    errors = post(api(people["monitor"]), text).json()["rows"][0]["errors"]
    assert "Not a date" in errors["date"][0]


def test_a_wrong_content_type_is_refused_with_415(api, people):
    response = api(people["monitor"]).post(URL, {"rows": []}, format="json")
    assert response.status_code == 415
    assert Report.objects.count() == 0


def test_more_rows_than_allowed_are_refused_with_413_and_nothing_is_stored(api, people, parties, settings):
    settings.REPORT_IMPORT_MAX_ROWS = 3
    response = post(api(people["monitor"]), SAMPLE_CIR)
    assert response.status_code == 413
    assert Report.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_a_body_larger_than_allowed_is_refused_with_413_before_it_is_read(api, people, parties, settings):
    settings.REPORT_IMPORT_MAX_BYTES = 100
    response = post(api(people["monitor"]), SAMPLE_CIR)
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert Report.objects.count() == 0


def test_an_unknown_mapping_is_refused_with_400(api, people, parties):
    response = post(api(people["monitor"]), SAMPLE_CIR, mapping="gdelt")
    assert response.status_code == 400 and "mapping" in response.json()


def test_a_broken_json_lines_file_is_refused_whole_with_400(api, people, parties):
    response = post(api(people["monitor"]), '{"a": 1}\nnot json\n', content_type="application/x-ndjson")
    assert response.status_code == 400
    assert Report.objects.count() == 0


@pytest.mark.parametrize("role", ["verifier", "chair", "member1", "auditor", "outsider"])
def test_only_monitors_import(api, people, parties, role):
    response = post(api(people[role]), SAMPLE_CIR)
    assert response.status_code == 403
    assert Report.objects.count() == 0


def test_an_anonymous_import_is_refused_with_401(api, people, parties):
    assert post(api(), SAMPLE_CIR).status_code == 401


def test_the_command_prints_the_same_summary_and_files_nothing_twice(people, parties, tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text(SAMPLE_CIR, encoding="utf-8")
    out = StringIO()
    call_command("import_reports", str(path), user="monitor1", stdout=out)
    text = out.getvalue()
    assert "mapping cir: filed 2, duplicates 1, refused 2" in text
    assert "row 3: refused (date: This field is required.)" in text
    out = StringIO()
    call_command("import_reports", str(path), user="monitor1", mapping="cir", json=True, stdout=out)
    answer = json.loads(out.getvalue())
    assert (answer["filed"], answer["duplicates"]) == (0, 3)
    assert Report.objects.count() == 2


def test_the_command_files_a_large_file_in_batches_numbering_rows_from_the_start(people, parties, tmp_path,
                                                                                   settings):
    settings.REPORT_IMPORT_MAX_ROWS = 2
    path = tmp_path / "batch.csv"
    path.write_text(SAMPLE_CIR, encoding="utf-8")
    out = StringIO()
    call_command("import_reports", str(path), user="monitor1", json=True, stdout=out)
    answer = json.loads(out.getvalue())
    assert [r["row"] for r in answer["rows"]] == [1, 2, 3, 4, 5]
    assert [r["status"] for r in answer["rows"]] == ["filed", "filed", "refused", "refused", "duplicate"]


def test_the_mapping_is_guessed_from_the_header():
    assert guess_mapping(ACLED_HEADER.split(",")) == "acled"
    assert guess_mapping(CIR_HEADER.split(",")) == "cir"
    assert guess_mapping(["occurred_at", "lat", "lon"]) == "native"


def test_dates_are_read_day_first_and_a_bare_date_is_midnight_utc():
    assert parse_date("03/04/2022", "cir") == "2022-04-03T00:00:00+00:00"
    assert parse_date("01 March 2022", "acled") == "2022-03-01T00:00:00+00:00"
    assert parse_date("2022-03-01T10:00:00+02:00", "native") == "2022-03-01T10:00:00+02:00"
    assert parse_date("2022-03-01 10:00", "native") == "2022-03-01T10:00:00+00:00"
    assert parse_date("yesterday", "cir") is None


def test_the_schema_documents_the_import_with_both_body_types_and_its_answer(api, people):
    schema = api(people["monitor"]).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/reports/import/"]["post"]
    assert set(operation["requestBody"]["content"]) == {"text/csv", "application/x-ndjson"}
    assert {"200", "400", "401", "403", "413", "415"} <= set(operation["responses"])
    mapping = next(p for p in operation["parameters"] if p["name"] == "mapping")
    assert mapping["schema"]["enum"] == ["acled", "cir", "native"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_file_each_row_once(people, parties):
    """The second import's INSERT waits on the unique index behind the first,
    then skips the rows the first committed: they come back as duplicates."""
    import threading

    from django.db import connection, connections

    from reports.imports import import_records, records_from

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions")
    header, records = records_from(SAMPLE_CIR, "text/csv")
    results = [None, None]
    start = threading.Barrier(2)

    def run(index):
        try:
            start.wait(5)
            results[index] = import_records(actor=people["monitor"], header=header, records=records).as_dict()
        except Exception as exc:  # reported by the test, not lost in the thread
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(isinstance(r, dict) for r in results), results
    assert sorted(r["filed"] for r in results) == [0, 2]
    assert sorted(r["duplicates"] for r in results) == [1, 3]
    assert Report.objects.count() == 2 and AuditEvent.objects.count() == 2
    assert {r["rows"][0]["reference"] for r in results} == {Report.objects.get(idempotency_key="import:cir:CIV0001").reference}


def test_the_documented_sample_is_the_one_tested():
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "import-cir-sample.csv"
    assert sample.read_text(encoding="utf-8") == SAMPLE_CIR


def test_an_outbox_key_breaking_the_idempotency_key_rule_is_refused_on_that_row(api, people, parties):
    from tests.reports.conftest import body

    lines = [{"idempotency_key": "bad key\u00e9", **body()}, {"idempotency_key": "good-key", **body()}]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    answer = post(api(people["monitor"]), text, content_type="application/x-ndjson").json()
    assert [r["status"] for r in answer["rows"]] == ["refused", "filed"]
    assert list(answer["rows"][0]["errors"]) == ["idempotency_key"]


def test_a_batch_stores_each_report_and_event_exactly_as_a_single_report_would(people, parties):
    """The batch INSERT sends its columns as binary arrays (config.db.array_cursor),
    not through the ORM: every stored value, and the filing event, must be what
    report_create stores for the same data (non-ASCII text, nulls, floats,
    times with microseconds, JSON links, a party, a draft)."""
    from datetime import UTC, datetime

    from django.forms.models import model_to_dict

    from reports.services import ImportEntry, report_create, report_import

    bodies = [
        {"occurred_at": datetime(2026, 11, 20, 6, 40, 12, 345678, tzinfo=UTC),
         "occurred_until": datetime(2026, 11, 20, 7, 0, tzinfo=UTC), "lat": 47.568912345, "lon": -35.1,
         "precision_m": 250, "place_name": "Запоріжжя \"центр\", O'Brien\\", "admin1": "Zaporizhzhia",
         "category": "shelling", "description": "Удари; «two» buildings\nline 2\ttab, comma", "weapons": "",
         "alleged_party": parties["RU"], "source_type": "direct_observation", "civilian_killed": 1,
         "civilian_injured": 2, "military_killed": 0, "military_injured": 3, "severity": 4,
         "links": ["https://example.org/a?x=1&y=\"2\"", "https://example.org/б"]},
        {"occurred_at": datetime(2026, 11, 21, tzinfo=UTC), "lat": 0.0, "lon": 0.0, "category": "other",
         "description": "Minimal.", "source_type": "uav", "alleged_party": None, "severity": None, "links": []},
        {"status": "draft", "description": "A draft with almost nothing."},
    ]
    monitor = people["monitor"]
    singles = [report_create(actor=monitor, data=dict(body), idempotency_key=f"single-{i}")[0]
               for i, body in enumerate(bodies)]
    outcomes = report_import(actor=monitor, entries=[
        ImportEntry(number=i + 1, data=dict(body), idempotency_key=f"batch-{i}", reason="test")
        for i, body in enumerate(bodies)])
    assert [o.status for o in outcomes] == ["filed"] * 3
    varying = {"id", "idempotency_key", "created_at", "updated_at", "submitted_at"}
    for single, outcome in zip(singles, outcomes, strict=True):
        batch = Report.objects.get(author=monitor, idempotency_key=f"batch-{outcome.number - 1}")
        single.refresh_from_db()
        as_single = {k: v for k, v in model_to_dict(single).items() if k not in varying}
        as_batch = {k: v for k, v in model_to_dict(batch).items() if k not in varying}
        assert as_batch == as_single
        assert (batch.submitted_at is None) == (single.submitted_at is None)
        events = [AuditEvent.objects.get(object_type="report", object_id=str(r.pk)) for r in (single, batch)]
        assert events[0].action == events[1].action
        after = [{k: v for k, v in e.after.items() if k not in ("reference", "sha256")} for e in events]
        assert after[0] == after[1]


@pytest.mark.parametrize("data", [
    {},
    {"status": "draft", "description": "x"},
    {"status": "submitted", "lat": 1.5, "lon": 2.5, "category": "shelling", "description": "d",
     "source_type": "uav", "links": ["https://example.org/"], "severity": 3, "civilian_killed": 2},
    {"alleged_party": None, "returned_by": None, "occurred_until": None, "links": []},
])
def test_new_report_is_the_instance_the_stock_constructor_builds(people, parties, data):
    """reports.services._new_report fills in the defaults Model.__init__ would
    (to spare it a KeyError per missing field): the instance must be the same,
    with mutable defaults fresh for each report."""
    from reports.services import _new_report

    kwargs = {"author": people["monitor"], "idempotency_key": "k", "request_fingerprint": "", **data}
    if "alleged_party" in data:
        kwargs["alleged_party"] = parties["RU"]
    stock, ours, again = Report(**kwargs), _new_report(**kwargs), _new_report(**kwargs)
    for field in Report._meta.concrete_fields:
        assert getattr(ours, field.attname) == getattr(stock, field.attname), field.attname
    assert ours.author == stock.author and ours.alleged_party == stock.alleged_party
    assert ours._state.adding and ours.pk is None
    if "links" not in data:
        assert ours.links is not again.links  # a list per report, as the field's default=list gives


def test_an_import_leaves_the_cycle_collector_as_it_found_it(api, people, parties):
    import gc

    from reports.imports import ImportFormatError, import_records

    assert gc.isenabled()
    assert post(api(people["monitor"]), SAMPLE_CIR).status_code == 200
    assert gc.isenabled()
    with pytest.raises(ImportFormatError):  # an error inside the batch
        import_records(actor=people["monitor"], header=["x"], records=[{"x": "1"}], mapping="nonsense")
    assert gc.isenabled()
    gc.disable()
    try:
        post(api(people["monitor"]), SAMPLE_CIR)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_refusals_in_every_part_speak_the_language_of_the_request(api, people, parties):
    """The parts are checked on another thread: the request's language goes with them."""
    rows = post(api(people["monitor"]), SAMPLE_CIR, HTTP_ACCEPT_LANGUAGE="fr").json()["rows"]
    assert rows[2]["errors"] == {"date": ["Ce champ est obligatoire."]}
    assert rows[3]["status"] == "refused" and rows[4]["status"] == "duplicate"

