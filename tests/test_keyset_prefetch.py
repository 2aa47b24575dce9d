"""keyset_batches(prefetch=True): the next batch's query runs in a worker
thread while the caller encodes this one. The batches are the plain way's
(same rows, order and boundaries, one query each), and the worker's own
connection is closed however the export ends.

The worker thread's connection cannot see a test transaction's rows, so
these tests commit (transaction=True); inside a transaction the plain way
runs, which the last tests check."""

import math
import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.backends.signals import connection_created
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import config.db
from audit import selectors as audit_selectors
from audit.models import AuditEvent
from config.db import keyset_batches
from reports import selectors as report_selectors
from tests.audit.helpers import record

pytestmark = pytest.mark.django_db(transaction=True)
postgres = pytest.mark.postgres  # the worker thread runs on PostgreSQL only

BATCH = 5


@pytest.fixture(autouse=True)
def small_batches(settings):
    settings.EXPORT_BATCH_SIZE = BATCH


class Worker:
    """The connections opened by prefetch threads, and the queries each ran."""

    def __init__(self):
        self.connections = []
        self.queries = 0
        self.fail_at = None  # the query number (from 1) that raises

    def opened(self, sender, connection, **kwargs):
        if threading.current_thread().name.startswith("keyset-prefetch"):
            self.connections.append(connection)
            connection.execute_wrappers.append(self.count)

    def count(self, execute, sql, params, many, context):
        self.queries += 1
        if self.queries == self.fail_at:
            raise DatabaseError("the database went away")
        return execute(sql, params, many, context)

    def all_closed(self) -> bool:
        alive = [t for t in threading.enumerate() if t.name.startswith("keyset-prefetch")]
        return not alive and all(c.connection is None for c in self.connections)


@pytest.fixture
def worker():
    watch = Worker()
    connection_created.connect(watch.opened)
    yield watch
    connection_created.disconnect(watch.opened)


@pytest.fixture
def plain(monkeypatch):
    """Run a callable with prefetch turned off: the plain way's output."""
    def run(make):
        with monkeypatch.context() as patch:
            patch.setattr(config.db, "_can_prefetch", lambda alias: False)
            return list(make())

    return run


def _batch_reads(queries) -> int:
    return sum(1 for q in queries.captured_queries if '"audit_auditevent"."seq" >' in q["sql"])


# --- The same batches -----------------------------------------------------------


@postgres
@pytest.mark.parametrize(("refs", "after_seq"), [(None, 0), (None, 7), ({("thing", "1"), ("thing", "3")}, 0),
                                                 ({("thing", "1"), ("thing", "3")}, 9)])
def test_it_exports_the_trail_in_the_same_batches_as_the_plain_way(worker, plain, refs, after_seq):
    for object_id in range(4):
        record(6, object_id=str(object_id))
    with CaptureQueriesContext(connection) as queries:
        expected = plain(lambda: audit_selectors.export_lines(refs=refs, after_seq=after_seq))
    assert worker.queries == 0
    got = list(audit_selectors.export_lines(refs=refs, after_seq=after_seq))
    assert got == expected  # the same strings: the same rows, order and batch boundaries
    assert worker.connections and worker.queries == _batch_reads(queries)  # one query per batch, in the worker
    assert worker.all_closed()


@postgres
@pytest.mark.parametrize("reader", ["auditor", "monitor2"])
def test_it_reads_a_scoped_joined_queryset_in_the_same_batches_as_the_plain_way(worker, plain, people,
                                                                                  file_report, reader):
    # 12 reports of monitor1, 2 drafts and 11 reports of monitor2: each reader
    # sees a subset (drafts only their author's), across batches.
    made = [file_report(people["monitor"], description=f"r{i}") for i in range(12)]
    made += [file_report(people["monitor2"], status="draft", description="draft") for _ in range(2)]
    made += [file_report(people["monitor2"], description=f"s{i}") for i in range(11)]
    scoped = report_selectors.report_list_for(people[reader])
    fields = ("id", "status", "author__username", "alleged_party__code", "occurred_at")
    for after_id in (0, made[4].pk, made[13].pk):
        def batches(prefetch, after_id=after_id):
            return keyset_batches(scoped, key="id", after=after_id, fields=fields, batch_size=BATCH,
                                  prefetch=prefetch)

        expected = plain(lambda: batches(False))
        before = worker.queries
        got = list(batches(True))
        assert got == expected and len(got) >= 3, after_id
        assert worker.queries - before == len(got) + (len(got[-1]) == BATCH), after_id
    assert worker.all_closed()


@postgres
def test_it_reads_one_batch_ahead_at_most(worker):
    record(23)
    held = []
    for rows in keyset_batches(AuditEvent.objects.all(), key="seq", after=0, fields=("seq",), batch_size=BATCH,
                               prefetch=True):
        held.append(len(rows))
        assert worker.queries <= len(held) + 1  # the batch in hand and the next one
    assert held == [5, 5, 5, 5, 3] and worker.queries == 5


@postgres
def test_a_trail_of_whole_batches_ends_with_one_empty_read_as_the_plain_way(worker):
    record(20)
    batches = list(keyset_batches(AuditEvent.objects.all(), key="seq", after=0, fields=("seq",),
                                  batch_size=BATCH, prefetch=True))
    assert [len(rows) for rows in batches] == [5, 5, 5, 5] and worker.queries == math.ceil(21 / BATCH)


# --- The worker's connection ------------------------------------------------------


@postgres
def test_it_closes_the_workers_connection_when_the_export_ends(worker):
    record(12)
    assert sum(chunk.count("\n") for chunk in audit_selectors.export_lines()) == 12
    assert len(worker.connections) == 1 and worker.all_closed()


@postgres
def test_it_closes_the_workers_connection_when_the_client_goes_away(worker):
    record(23)
    # The export view's response (the test client would read it all).
    response = StreamingHttpResponse(audit_selectors.export_lines())
    chunks = iter(response.streaming_content)
    assert next(chunks).count(b"\n") == BATCH
    assert worker.connections and not worker.all_closed()  # reading the next batch, or done with it
    response.close()  # what the WSGI server does when the client disconnects
    assert worker.all_closed() and worker.queries <= 2


@postgres
def test_it_closes_the_workers_connection_when_a_query_fails(worker):
    record(23)
    worker.fail_at = 3
    lines = audit_selectors.export_lines()
    assert next(lines).count("\n") == BATCH and next(lines).count("\n") == BATCH
    with pytest.raises(DatabaseError, match="went away"):
        next(lines)
    assert worker.all_closed() and worker.queries == 3


@postgres
def test_it_opens_no_thread_for_a_generator_never_started(worker):
    record(3)
    lines = audit_selectors.export_lines()
    del lines
    assert not worker.connections and worker.all_closed()


# --- Inside a transaction, the plain way ----------------------------------------------


@postgres
def test_inside_a_transaction_it_reads_on_the_callers_connection_and_sees_its_rows(worker, people, file_report):
    with transaction.atomic():
        made = [file_report(people["monitor"], occurred_at=timezone.now() - timedelta(hours=i)) for i in range(7)]
        got = list(keyset_batches(report_selectors.report_list_for(people["auditor"]), key="id", after=0,
                                  fields=("id",), batch_size=BATCH, prefetch=True))
    assert [pk for rows in got for (pk,) in rows] == [r.pk for r in made]  # uncommitted rows: only the caller sees
    assert not worker.connections and worker.queries == 0


def test_it_is_the_plain_way_on_sqlite_and_a_worker_thread_on_postgresql(worker, people, file_report):
    made = [file_report(people["monitor"]) for _ in range(7)]
    got = list(keyset_batches(report_selectors.report_list_for(people["auditor"]), key="id", after=0,
                              fields=("id",), batch_size=BATCH, prefetch=True))
    assert [pk for rows in got for (pk,) in rows] == [r.pk for r in made]
    assert bool(worker.connections) == (connection.vendor == "postgresql")
