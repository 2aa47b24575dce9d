"""audit_record stores exactly the event it returns, in one statement."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import audit_record, trail_verify

pytestmark = pytest.mark.django_db


def _record(**kwargs):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        event = audit_record(**kwargs)
    return event, [q["sql"] for q in queries.captured_queries]


def test_the_returned_event_is_the_stored_row(people):
    when = datetime(2026, 11, 24, 6, 40, 0, 123456, tzinfo=UTC)
    event, _ = _record(actor=people["verifier"], action="report.verified", object_type="report", object_id=42,
                       before={"status": "submitted", "at": when, "score": Decimal("1.50")},
                       after={"status": "verified", "note": "café ✓", "list": [1, 2.5, None]}, reason="checked")
    assert event.pk is not None and not event._state.adding
    stored = AuditEvent.objects.get(pk=event.pk)
    for field in AuditEvent._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(event, field.attname), field.name
    assert stored.actor_id == people["verifier"].pk and stored.actor_username == "verifier1"
    assert stored.object_id == "42"
    assert stored.before == {"status": "submitted", "at": "2026-11-24T06:40:00.123Z", "score": "1.50"}
    assert stored.after == {"status": "verified", "note": "café ✓", "list": [1, 2.5, None]}
    assert (stored.seq, stored.prev_hash, stored.hash) == (None, None, None)  # sealed after the commit


def test_the_system_records_with_no_actor_and_empty_snapshots_stay_null(db):
    event, _ = _record(actor=None, action="deadline.missed", object_type="deadline", object_id=7)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_username, stored.before, stored.after, stored.reason) == (
        None, "", None, None, "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT before IS NULL, after IS NULL FROM audit_auditevent WHERE id = %s", [event.pk])
        assert cursor.fetchone() == (True, True)  # SQL NULL, not JSON null


def test_an_event_is_one_insert(people):
    _, sql = _record(actor=people["monitor"], action="test.changed", object_type="thing", object_id=1, after={"i": 1})
    inserts = [s for s in sql if s.startswith("INSERT")]
    assert len(inserts) == 1 and "audit_auditevent" in inserts[0]


def test_recorded_events_seal_into_a_chain_that_verifies(people):
    for i in range(3):
        _record(actor=people["monitor"], action="test.changed", object_type="thing", object_id=i, after={"i": i})
    assert trail_verify().ok
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0
