"""The database itself refuses to change or remove the trail."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent, Checkpoint
from audit.services import checkpoint_publish
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
