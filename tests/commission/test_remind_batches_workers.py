"""Reminders sent a page per transaction (deadlines_remind_page) by real
Celery workers: a worker killed in the middle of a sweep, and two sweeps at
once on two workers, leave every deadline reminded exactly once.

The in-process tests of the same pages are in test_remind_batches.py; the
settlement's counterparts of these in test_sweep_batches.py, whose
bulk-written deadlines these reuse, due in half an hour here: inside a
reminder window of an hour (set for the workers and this process alike), so
the sweep settles none of them and reminds them all.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import trail_verify
from commission import tasks
from commission.models import Deadline
from notifications.models import Notification
from tests.commission.test_sweep_batches import _many_due
from tests.commission.test_worker_deadlines import cluster  # noqa: F401 (the fixture)
from tests.commission.worker_helpers import sweep_counts, two_sweeps_at_once, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.postgres]

MANY = 2000
PAGE = 50
WINDOW = "1h"  # DEADLINE_REMINDER_BEFORE, for the workers and this process alike


def _to_remind(people) -> list[int]:
    return _many_due(people, MANY, due_at=timezone.now() + timedelta(minutes=30))


def _reminded(ids) -> int:
    return Deadline.objects.filter(pk__in=ids, reminded_at__isnull=False).count()


def _reminded_once(ids, people) -> None:
    """Each deadline's flag, event and notification, once. The event is the
    check that a deadline reminded twice would fail: a second notification
    of the same key is refused by the database (notification_once_per_key)."""
    assert Deadline.objects.filter(pk__in=ids, reminded_at__isnull=False, status="pending").count() == len(ids)
    reminded = sorted(AuditEvent.objects.filter(action="deadline.reminded").values_list("object_id", flat=True))
    assert reminded == sorted(str(pk) for pk in ids)
    keys = list(Notification.objects.filter(kind="deadline_reminder").values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == len(ids)
    assert Notification.objects.filter(recipient=people["verifier"], kind="deadline_reminder").count() == len(ids)
    assert not AuditEvent.objects.filter(action__in=["deadline.missed", "deadline.met"]).exists()
    assert trail_verify().ok  # the killed transaction's events left no hole in the chain


def test_a_worker_killed_mid_sweep_leaves_whole_pages_and_every_reminder_sent_exactly_once(
        cluster, people):  # noqa: F811
    # 2,000 reminders in pages of 50: a sweep of 40 transactions, long enough
    # to kill the worker between two of them. A page commits whole or not at
    # all; the redelivered sweep (acks late, visibility timeout) reminds what
    # the dead one had not committed, and none of what it had.
    cluster.apply_durations(DEADLINE_REMINDER_BEFORE=WINDOW)
    ids = _to_remind(people)
    first = cluster.start_worker(CELERY_VISIBILITY_TIMEOUT="3s", DEADLINE_SWEEP_PAGE=str(PAGE))
    sweep_id = cluster.send(tasks.sweep_deadlines)
    sent = time.monotonic()

    wait_for(lambda: _reminded(ids) >= PAGE, interval=0.02, what="the sweep's first page of reminders to commit")
    first.kill()
    by_first = dict(Deadline.objects.filter(pk__in=ids, reminded_at__isnull=False).values_list("pk", "reminded_at"))
    assert 0 < len(by_first) < len(ids), "the sweep was not interrupted"
    assert len(by_first) % PAGE == 0  # whole pages: the one in flight was rolled back
    assert AuditEvent.objects.filter(action="deadline.reminded").count() == len(by_first)
    assert Notification.objects.filter(kind="deadline_reminder").count() == len(by_first)
    assert any(sweep_id.encode() in message for message in cluster.redis.client().hvals("unacked"))

    wait_for(lambda: time.monotonic() - sent > 3.5, what="the visibility timeout")
    second = cluster.start_worker(CELERY_VISIBILITY_TIMEOUT="3s", DEADLINE_SWEEP_PAGE=str(PAGE))
    wait_for(lambda: _reminded(ids) == len(ids), timeout=120, what="every deadline to be reminded")
    wait_for(lambda: [t["id"] for t in second.succeeded("commission.tasks.sweep_deadlines")] == [sweep_id],
             timeout=120, what="the redelivered sweep to finish")
    assert sweep_counts(second, "reminded") == len(ids) - len(by_first)
    # The dead sweep's pages were not claimed again (reminded_at is the claim).
    assert dict(Deadline.objects.filter(pk__in=by_first).values_list("pk", "reminded_at")) == by_first
    _reminded_once(ids, people)
    cluster.check_logs()


def test_two_sweeps_at_once_on_two_workers_send_each_reminder_once(cluster, people):  # noqa: F811
    cluster.apply_durations(DEADLINE_REMINDER_BEFORE=WINDOW)
    ids = _to_remind(people)
    workers = two_sweeps_at_once(cluster, page=PAGE)
    assert sum(sweep_counts(w, "reminded") for w in workers) == len(ids)  # between them, once each
    _reminded_once(ids, people)
    cluster.check_logs()
