"""The auditor's pages: the trail verified, its exports, the reports' CSV,
and the overview's chart."""

import csv
import io
import json

import pytest

from reports.services import report_create


def file_report(user, **overrides):
    data = {"occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
            "source_type": "uav", "description": "impacts", "alleged_party": "RU"}
    data.update(overrides)
    return report_create(actor=user, data=data)[0]


@pytest.mark.django_db
def test_the_trail_page_shows_the_chain_verified_and_its_events(people, web):
    report = file_report(people["monitor"])
    page = web(people["auditor"]).get("/trail/").content.decode()
    assert 'data-testid="integrity"' in page
    assert "Verified" in page
    assert "report.submitted" in page
    assert f"report:{report.pk}" in page


@pytest.mark.django_db
def test_the_trail_page_names_the_first_bad_event_when_the_chain_is_broken(people, web, monkeypatch):
    from audit import services

    file_report(people["monitor"])
    real = services.trail_verify

    def broken(**kwargs):
        result = real(**kwargs)
        result.ok, result.first_bad_seq, result.problem = False, 1, "seq 1: hash does not match its content (altered)"
        return result

    monkeypatch.setattr(services, "trail_verify", broken)
    page = web(people["auditor"]).get("/trail/").content.decode()
    assert "NOT verified" in page
    assert "#1" in page
    assert "altered" in page


@pytest.mark.django_db
def test_the_trail_page_never_says_on_the_chain_when_the_signed_hash_no_longer_matches(people, web, settings):
    # A forger edits an event and re-hashes the chain after it: the chain is
    # consistent again, but the stored checkpoint signed the old head.
    from django.db import connection

    from audit import chain, triggers
    from audit.models import AuditEvent
    from audit.selectors import event_export_dict
    from audit.services import checkpoint_publish
    from tests.audit.helpers import SIGNING_KEY

    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    file_report(people["monitor"])
    file_report(people["monitor"])
    checkpoint_publish()
    assert "on the chain" in web(people["auditor"]).get("/trail/").content.decode()
    triggers.drop(connection)
    prev = chain.ZERO_HASH
    with connection.cursor() as cursor:
        for event in AuditEvent.objects.order_by("seq"):
            obj = event_export_dict(event)
            obj.pop("hash")
            obj["reason"] = "forged" if event.seq == 1 else obj["reason"]
            obj["prev_hash"] = prev
            prev = chain.event_hash(prev, obj)
            cursor.execute("UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                           [obj["reason"], obj["prev_hash"], prev, event.seq])
    page = web(people["auditor"]).get("/trail/").content.decode()
    assert "NOT verified" in page and "rewritten" in page
    assert ">on the chain<" not in page and "not on the verified chain" in page


@pytest.mark.django_db
def test_the_json_lines_export_is_the_audit_export(people, web):
    file_report(people["monitor"])
    response = web(people["auditor"]).get("/trail/export.jsonl")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert lines[0]["action"] == "report.submitted"
    assert lines[0]["seq"] == 1
    assert set(lines[0]) >= {"seq", "at", "actor", "action", "object_type", "object_id", "before", "after",
                             "reason", "prev_hash", "hash"}


@pytest.mark.django_db
def test_the_reports_csv_lists_submitted_reports_and_defuses_formulas(people, web):
    file_report(people["monitor"], description="=HYPERLINK(\"http://evil\")")
    file_report(people["monitor"], status="draft", description="a draft nobody else sees")
    response = web(people["auditor"]).get("/trail/reports.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["description"].startswith("'=")
    assert rows[0]["alleged_party"] == "RU"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/trail/export.jsonl", "/trail/reports.csv"])
def test_exports_are_for_auditors_and_the_chair(people, web, url):
    assert web().get(url).status_code == 302
    for persona in ("monitor", "member1", "verifier", "outsider"):
        assert web(people[persona]).get(url).status_code == 403
    assert web(people["chair"]).get(url).status_code == 200


@pytest.mark.django_db
def test_the_overview_charts_reports_by_party_and_category(people, web):
    file_report(people["monitor"])
    file_report(people["monitor"], category="drone_strike", alleged_party=None, occurred_at="2026-02-03T10:00:00Z")
    page = web(people["member1"]).get("/overview/").content.decode()
    assert "<svg" in page
    assert "2026-01" in page and "2026-02" in page
    assert "Drone strike" in page
    assert "Not alleged" in page
    assert 'id="map"' in page
    # No tile server configured: the vendored Natural Earth boundaries are the basemap.
    assert "Natural Earth" in page and "vendor/world-atlas/countries-50m.json" in page


@pytest.mark.django_db
def test_the_trail_page_checks_only_after_the_signed_point_in_bounded_queries(people, web, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.services import trail_verify
    from tests.audit.helpers import SIGNING_KEY, record

    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(5)
    trail_verify(full=True)
    record(1)
    client = web(people["auditor"])
    client.get("/trail/")  # the session's first request loads what every later one has cached
    with CaptureQueriesContext(connection) as one:
        page = client.get("/trail/").content.decode()
    assert "Last full verification" in page and "#5," in page
    assert "1 event checked" in page
    record(49)
    with CaptureQueriesContext(connection) as fifty:
        page = client.get("/trail/").content.decode()
    assert "50 events checked" in page
    assert len(fifty) == len(one)
