"""A paused deadline does not fire, and fires at the moved time after the
chair resumes it, through a real Celery worker and beat (the processes of
tests.commission.worker_helpers, against the committed rows of the test
database), with nobody asking."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from commission import services
from commission.models import Case, Deadline, Round
from tests.commission.test_worker_deadlines import cluster  # noqa: F401 (the fixture)
from tests.commission.worker_helpers import wait_for, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def _events(action: str, object_id) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(object_id)).count()


def test_a_paused_deadline_does_not_fire_and_fires_at_the_moved_time_after_resume(cluster, people,  # noqa: F811
                                                                                  case_in):
    cluster.apply_durations(DEADLINE_VERIFICATION="3s")
    worker = cluster.start_worker()
    cluster.start_beat()
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case, kind="verification")
    due = deadline.due_at
    services.deadline_pause(actor=people["chair"], deadline=deadline, reason="Monitors denied access to the site.")

    wait_until(due + timedelta(seconds=1), what="the original due time")
    cluster.wait_for_sweeps(worker, 2)  # at least one whole sweep ran after the due time
    deadline.refresh_from_db()
    assert deadline.status == "paused" and deadline.settled_at is None
    assert _events("deadline.missed", deadline.pk) == 0
    assert not Case.objects.get(pk=case.pk).flagged

    deadline = services.deadline_resume(actor=people["chair"], deadline=deadline, reason="Access restored.")
    resumed = AuditEvent.objects.get(action="deadline.resumed", object_id=str(deadline.pk))
    moved = deadline.due_at
    assert moved == due + timedelta(seconds=resumed.after["paused_seconds"])
    assert moved > timezone.now()  # the time left when paused is left again

    wait_for(lambda: Deadline.objects.filter(pk=deadline.pk, status="missed").exists(),
             what="the resumed deadline to be missed")
    deadline.refresh_from_db()
    assert deadline.settled_at >= moved
    assert _events("deadline.missed", deadline.pk) == 1
    assert Case.objects.get(pk=case.pk).flagged
    cluster.check_logs()


def test_a_paused_vote_is_not_closed_by_the_worker_until_resumed(cluster, people, case_in):  # noqa: F811
    worker = cluster.start_worker()
    cluster.start_beat()
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(seconds=3))
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Radar tracks.")
    deadline = Deadline.objects.get(round=rnd)
    services.deadline_pause(actor=people["chair"], deadline=deadline, reason="Monitors denied access to the site.")

    wait_until(rnd.closes_at + timedelta(seconds=1), what="the closing time")
    cluster.wait_for_sweeps(worker, 2)
    assert Round.objects.get(pk=rnd.pk).status == "open"
    # The clock stands still: a ballot after the closing time is taken.
    services.ballot_cast(actor=people["member2"], round=rnd, choice="RU", rationale="Crater analysis.")

    services.deadline_resume(actor=people["chair"], deadline=deadline, reason="Access restored.")
    rnd.refresh_from_db()
    assert rnd.closes_at == Deadline.objects.get(pk=deadline.pk).due_at > timezone.now()
    wait_for(lambda: Round.objects.filter(pk=rnd.pk, status="closed").exists(), what="the round to close")
    rnd.refresh_from_db()
    assert rnd.closed_because == "deadline" and rnd.closed_at >= rnd.closes_at
    assert rnd.counts == {"RU": 2}
    cluster.check_logs()
