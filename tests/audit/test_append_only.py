"""The database itself refuses to change or remove the trail."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from audit import services
from audit.models import AuditEvent, Checkpoint
from audit.services import checkpoint_publish, trail_verify
from tests.audit.helpers import SIGNING_KEY, record

pytestmark = pytest.mark.django_db


def _refused(sql, params=()):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_an_update_of_a_sealed_event():
    event = record(1)[0]
    _refused("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(after={"i": 99})


def test_the_database_refuses_to_reseal_an_event():
    event = record(1)[0]
    _refused("UPDATE audit_auditevent SET hash = %s WHERE id = %s", ["f" * 64, event.pk])
    _refused("UPDATE audit_auditevent SET seq = 7 WHERE id = %s", [event.pk])


def test_the_seal_may_not_carry_a_change_of_content():
    event = record(1, seal=False)[0]
    _refused("UPDATE audit_auditevent SET seq = 1, prev_hash = %s, hash = %s, action = 'other' WHERE id = %s",
             ["0" * 64, "a" * 64, event.pk])
    _refused("UPDATE audit_auditevent SET reason = 'sneaky' WHERE id = %s", [event.pk])


# For each column other than the seal's three: a value the seal may not slip in.
_OTHER_COLUMNS = {
    "id": lambda event, people: event.pk + 1000,
    "at": lambda event, people: datetime(2000, 1, 1, tzinfo=UTC),
    "actor_id": lambda event, people: people["verifier"].pk,
    "actor_username": lambda event, people: "verifier1",
    "action": lambda event, people: "test.other",
    "object_type": lambda event, people: "other",
    "object_id": lambda event, people: "9999",
    "before": lambda event, people: '{"i": 1}',
    "after": lambda event, people: '{"i": 1, "note": "cafe"}',
    "reason": lambda event, people: "sneaky",
}
_SEAL_COLUMNS = {"seq", "prev_hash", "hash"}


def test_every_column_of_the_trail_is_covered_by_the_seal_tests():
    # A column added to the event must get a case below (the trigger covers
    # it already; this keeps the proof of that in step).
    assert {f.column for f in AuditEvent._meta.concrete_fields} == set(_OTHER_COLUMNS) | _SEAL_COLUMNS


@pytest.mark.parametrize("column", sorted(_OTHER_COLUMNS))
def test_the_seal_may_not_change_any_other_column(column, people):
    event = record(1, actor=people["monitor"], seal=False)[0]
    value = _OTHER_COLUMNS[column](event, people)
    _refused(f"UPDATE audit_auditevent SET seq = 1, prev_hash = %s, hash = %s, {column} = %s WHERE id = %s",  # noqa: S608 (column names from the list above)
             ["0" * 64, "a" * 64, value, event.pk])
    # Nor may it empty a column (`before` was NULL: the case above set it).
    if column in ("actor_id", "after"):
        _refused(f"UPDATE audit_auditevent SET seq = 1, prev_hash = %s, hash = %s, {column} = NULL WHERE id = %s",  # noqa: S608
                 ["0" * 64, "a" * 64, event.pk])


def test_a_seal_must_set_all_three_seal_columns():
    event = record(1, seal=False)[0]
    _refused("UPDATE audit_auditevent SET seq = 1, prev_hash = %s WHERE id = %s", ["0" * 64, event.pk])
    _refused("UPDATE audit_auditevent SET seq = 1, hash = %s WHERE id = %s", ["a" * 64, event.pk])
    _refused("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", ["0" * 64, "a" * 64, event.pk])


def test_a_batch_of_events_is_sealed_in_one_go_and_verifies():
    record(25)
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 26))
    assert trail_verify().ok


def test_a_batch_seal_that_would_miss_an_event_writes_none_of_it():
    sealed = record(1)[0]
    pending = record(1, seal=False)[0]
    # The second id is sealed already: the statement would seal one of two.
    with pytest.raises(RuntimeError, match="sealed 1 of 2"), transaction.atomic():
        services._write_seals([(2, "0" * 64, "a" * 64, pending.pk), (3, "a" * 64, "b" * 64, sealed.pk)])
    assert AuditEvent.objects.get(pk=pending.pk).seq is None


def test_the_database_refuses_a_delete_of_an_event_sealed_or_not():
    sealed = record(1)[0]
    pending = record(1, seal=False)[0]
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [sealed.pk])
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [pending.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


@pytest.mark.postgres
def test_the_database_refuses_to_truncate_the_trail():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    record(1)
    with connection.cursor() as cursor:
        # Fire the deferred FK checks of the insert now; PostgreSQL refuses a
        # TRUNCATE with pending trigger events before ours would even run.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _refused("TRUNCATE audit_auditevent")
    _refused("TRUNCATE audit_checkpoint")


def test_checkpoints_are_append_only_too(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(1)
    checkpoint = checkpoint_publish()
    _refused("UPDATE audit_checkpoint SET hash = %s WHERE id = %s", ["e" * 64, checkpoint.pk])
    _refused("DELETE FROM audit_checkpoint WHERE id = %s", [checkpoint.pk])
    assert Checkpoint.objects.get().hash == checkpoint.hash
