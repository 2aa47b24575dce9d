"""Two requests with one Idempotency-Key at the same moment create one report:
the unique constraint decides, not the read before the write."""

import threading
import time

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from reports.models import Report
from reports.services import report_create, report_fingerprint
from tests.reports.conftest import body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions")


def _in_thread(target, results, index):
    from django.db import connections

    try:
        results[index] = target()
    except Exception as exc:  # reported by the test, not lost in the thread
        results[index] = exc
    finally:
        connections.close_all()


def test_the_loser_of_a_race_gets_the_winners_report_not_an_error(people, parties):
    """Deterministic: A inserts and holds its transaction open; B's read sees
    nothing, B's insert waits on the unique index, A commits, B's insert fails
    on the constraint inside its savepoint and B returns A's report."""
    monitor = people["monitor"]
    data = {"occurred_at": Report._meta.get_field("occurred_at").to_python("2026-01-10T10:00:00Z"),
            "lat": 47.5, "lon": 35.8, "category": "shelling", "description": "Impacts.",
            "source_type": "acoustic", "alleged_party": parties["RU"]}
    fingerprint = report_fingerprint(data)
    a_inserted = threading.Event()
    results = [None, None]

    def a():
        with transaction.atomic():
            report, created = report_create(actor=monitor, data=data, idempotency_key="race",
                                            request_fingerprint=fingerprint)
            a_inserted.set()
            time.sleep(0.5)  # B is now blocked on the unique index behind us
        return report.pk, created

    def b():
        assert a_inserted.wait(5)
        report, created = report_create(actor=monitor, data=data, idempotency_key="race",
                                        request_fingerprint=fingerprint)
        return report.pk, created

    threads = [threading.Thread(target=_in_thread, args=(f, results, i)) for i, f in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(isinstance(r, Exception) for r in results), results
    (a_pk, a_created), (b_pk, b_created) = results
    assert a_created and not b_created and a_pk == b_pk
    assert Report.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="report").count() == 1


def test_two_concurrent_requests_with_one_key_create_one_report(people, api):
    data = body()
    barrier = threading.Barrier(2)
    results = [None, None]

    def post():
        client = api(people["monitor"])
        barrier.wait(5)
        response = client.post("/api/v1/reports/", data, format="json", HTTP_IDEMPOTENCY_KEY="twice")
        return response.status_code, response.json()["id"], response.headers.get("Idempotent-Replayed")

    threads = [threading.Thread(target=_in_thread, args=(post, results, i)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(isinstance(r, Exception) for r in results), results
    assert [r[0] for r in results] == [201, 201]
    assert results[0][1] == results[1][1]
    assert sorted(str(r[2]) for r in results) == ["None", "true"]
    assert Report.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="report").count() == 1


def test_the_loser_of_an_upload_race_gets_the_winners_evidence_not_an_error(people, file_report, settings, tmp_path):
    """As for reports: A stores and holds its transaction open, B's insert
    with the same key waits on the unique index, then answers with A's row."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports.models import Evidence
    from reports.services import evidence_add_once
    from tests.reports.conftest import png_bytes

    settings.MEDIA_ROOT = tmp_path
    monitor = people["monitor"]
    report = file_report(monitor)
    content = png_bytes(5, 5)
    a_inserted = threading.Event()
    results = [None, None]

    def add():
        return evidence_add_once(actor=monitor, report=report, idempotency_key="race",
                                 upload=SimpleUploadedFile("p.png", content, "image/png"))

    def a():
        with transaction.atomic():
            evidence, created = add()
            a_inserted.set()
            time.sleep(0.5)  # B is now blocked on the unique index behind us
        return evidence.pk, created

    def b():
        assert a_inserted.wait(5)
        evidence, created = add()
        return evidence.pk, created

    threads = [threading.Thread(target=_in_thread, args=(f, results, i)) for i, f in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(isinstance(r, Exception) for r in results), results
    (a_pk, a_created), (b_pk, b_created) = results
    assert a_created and not b_created and a_pk == b_pk
    assert Evidence.objects.count() == 1
    assert AuditEvent.objects.filter(action="evidence.uploaded").count() == 1
