"""Who seals an import's events: a batch of at least AUDIT_SEAL_IN_WORKER_ROWS
events is sealed by a real Celery worker after the commit, not by the request
that wrote it; with the broker down the request seals the batch itself; a
smaller one is sealed by the request, as any change is."""

import contextlib
import logging

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import _coalescer, trail_seal, trail_verify
from config.celery import app
from config.queue import publish
from reports.models import Report
from tests.commission.test_enqueue_broker_down import _closed_port
from tests.commission.worker_helpers import Cluster, wait_for
from tests.reports.test_import import SAMPLE_CIR, post

# SAMPLE_CIR files two rows (two events); a threshold of 2 makes it "a batch".
BATCH = 2


def _unsealed() -> int:
    return AuditEvent.objects.filter(seq__isnull=True).count()


@contextlib.contextmanager
def _broker(url: str):
    """Point this test process's publishing at another broker."""
    saved = app.conf.broker_url, app.conf.broker_write_url
    app.conf.broker_url, app.conf.broker_write_url = url, None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_write_url = saved


@pytest.fixture
def cluster(transactional_db, tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot see an in-memory SQLite test database")
    cluster = Cluster(tmp_path, settings)
    yield cluster
    cluster.close()
    trail_seal(blocking=True)
    _coalescer.reset()


@pytest.mark.worker
@pytest.mark.postgres
def test_a_large_batch_is_left_to_the_worker_which_seals_it(cluster, settings, api, people, parties):
    settings.AUDIT_SEAL_IN_WORKER_ROWS = BATCH
    with _broker(cluster.redis.url):
        response = post(api(people["monitor"]), SAMPLE_CIR)
    assert response.status_code == 200 and response.json()["filed"] == 2, response.content
    # Committed with their reports, and not sealed by the request: no worker runs yet.
    assert Report.objects.count() == 2
    assert AuditEvent.objects.filter(action="report.submitted").count() == 2
    assert _unsealed() == 2

    worker = cluster.start_worker()
    wait_for(lambda: _unsealed() == 0, timeout=30, what="the worker to seal the import")
    # The task commits its seal before the worker logs that it succeeded: wait
    # for the line, which says how many events that task sealed (both of ours).
    done = wait_for(lambda: worker.succeeded("audit.tasks.seal_trail"), timeout=10, what="the task's log line")
    assert [task["result"] for task in done] == ["2"]
    assert trail_verify().ok
    cluster.check_logs()


@pytest.mark.django_db
def test_with_the_broker_down_the_request_seals_its_batch_itself(
        settings, api, people, parties, django_capture_on_commit_callbacks, caplog):
    settings.AUDIT_SEAL_IN_WORKER_ROWS = BATCH
    caplog.set_level(logging.WARNING, logger="audit.services")
    with _broker(f"redis://127.0.0.1:{_closed_port()}/0"):
        with contextlib.suppress(Exception):  # the first publish imports kombu's transport
            from audit.tasks import seal_trail
            publish(seal_trail)
        with django_capture_on_commit_callbacks(execute=True):
            response = post(api(people["monitor"]), SAMPLE_CIR)
    assert response.status_code == 200 and response.json()["filed"] == 2, response.content
    assert "sealing it here" in caplog.text  # the broker really refused the task
    assert _unsealed() == 0
    assert trail_verify().ok


@pytest.mark.django_db
def test_a_batch_under_the_threshold_is_sealed_by_the_request(
        settings, api, people, parties, django_capture_on_commit_callbacks):
    settings.AUDIT_SEAL_IN_WORKER_ROWS = BATCH + 1
    settings.AUDIT_SEAL_COALESCE_MS = 0  # seal after this very commit, not at most once per 100 ms
    # Were it enqueued, nothing would seal it: the broker is a closed port.
    with _broker(f"redis://127.0.0.1:{_closed_port()}/0"), django_capture_on_commit_callbacks(execute=True):
        response = post(api(people["monitor"]), SAMPLE_CIR)
    assert response.json()["filed"] == 2, response.content
    assert _unsealed() == 0
