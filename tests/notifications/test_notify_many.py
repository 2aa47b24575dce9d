"""notify_many stores, for many subjects at once, the rows notify stores one
subject at a time; from NOTIFY_UNNEST_ROWS rows on PostgreSQL it inserts them
with one array per column instead of bulk_create's VALUES, and the rows must
be the same either way."""

import pytest
from django.db import IntegrityError, transaction

from notifications import services
from notifications.models import Notification
from notifications.services import notification_preferences_set, notify, notify_many

pytestmark = pytest.mark.django_db


def _notes(people, tag: str, n: int) -> list[dict]:
    told = [people["chair"], people["member1"], people["member2"]]
    return [{"recipients": [*told, told[0]], "kind": "deadline_missed", "key": f"{tag}:{i}",
             "params": {"title": f"Обстріл №{i} — Orikhiv", "what": "verification", "due_at": "2026-12-01T10:00:00"},
             "case_id": 1000 + i, "case_reference": f"CASE-2026-{i:04d}"} for i in range(n)]


def _rows(tag: str) -> list[tuple]:
    return [(n.recipient_id, n.case_id, n.case_reference, n.kind, n.key.split(":", 1)[1], n.params, n.subject,
             n.body, n.email, n.emailed_at is None, n.read_at, n.email_claimed_at, n.created_at is not None)
            for n in Notification.objects.filter(key__startswith=f"{tag}:").order_by("key", "recipient_id")]


def test_a_page_of_notifications_is_stored_as_bulk_create_stores_it(people, monkeypatch):
    notification_preferences_set(actor=people["member1"], email={"deadline_missed": "digest"})
    notification_preferences_set(actor=people["member2"], email={"deadline_missed": "off"})
    assert notify_many(notes=_notes(people, "arrays", 30), email_now=False) == 90  # 90 rows: the array insert
    monkeypatch.setattr(services, "NOTIFY_UNNEST_ROWS", 10**9)  # the stock way, bulk_create
    assert notify_many(notes=_notes(people, "stock", 30), email_now=False) == 90

    assert _rows("arrays") == _rows("stock")
    assert len(_rows("arrays")) == 90  # each recipient once per subject
    assert {row[8] for row in _rows("arrays")} == {"immediate", "digest", "off"}


def test_a_repeated_page_stores_nothing_twice(people):
    notify_many(notes=_notes(people, "again", 30), email_now=False)
    notify_many(notes=_notes(people, "again", 30), email_now=False)
    assert Notification.objects.filter(key__startswith="again:").count() == 90


def test_notify_is_notify_many_of_one(people):
    note = _notes(people, "one", 1)[0]
    notify(**note, email_now=False)
    notify_many(notes=[{**note, "key": "many:0"}], email_now=False)
    assert _rows("one") == _rows("many")


def test_a_person_s_own_action_stored_twice_is_refused_not_skipped(people):
    note = _notes(people, "own", 1)[0]
    notify(**note, email_now=False, once=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        notify(**note, email_now=False, once=False)
