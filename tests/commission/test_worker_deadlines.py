"""Deadlines fire from a real Celery worker and beat, with nobody asking.

Each test starts `celery -A config worker` (and `beat` where the schedule is
the point) as subprocesses on a private Redis server, against the committed
rows of the test database (transactional_db), with durations of seconds set
on both sides. Faults are real too: Redis stopped, the same sweep delivered
twice to two workers, a worker SIGKILLed in the middle of a sweep.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import _coalescer, trail_seal
from commission import services, tasks
from commission.models import Case, Deadline, Measure, Round
from notifications.models import Notification
from tests.commission.worker_helpers import ROOT, Cluster, wait_for, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


@pytest.fixture
def cluster(transactional_db, tmp_path, settings):
    if connection.vendor != "postgresql":
        # pytest-django's SQLite test database lives in memory, out of reach
        # of another process; the sweep's SKIP LOCKED claims need PostgreSQL too.
        pytest.skip("the worker tests need PostgreSQL (a worker process cannot see an in-memory SQLite test database)")
    cluster = Cluster(tmp_path, settings)
    yield cluster
    # Before pytest-django's flush (and the trail's triggers being lifted for it).
    cluster.close()
    # Seal what this process left to its exit hook now: at exit the test
    # database is gone.
    trail_seal(blocking=True)
    _coalescer.reset()


def _events(action: str, object_id) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(object_id)).count()


def _chair_notes(people, kind: str, case) -> int:
    return Notification.objects.filter(recipient=people["chair"], kind=kind, case_id=case.pk).count()


# --- The schedule, with nobody asking -------------------------------------------------------------


def test_a_round_closes_at_its_deadline_without_any_request(cluster, people, case_in):
    cluster.start_worker()
    cluster.start_beat()
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(seconds=3))
    # Three of the four eligible members vote; the fourth never does, so only
    # the clock can close the round.
    for who in ("member1", "member2", "member3"):
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale=f"{who}: radar tracks.")
    assert Round.objects.get(pk=rnd.pk).status == "open"

    wait_for(lambda: Round.objects.filter(pk=rnd.pk, status="closed").exists(), what="the round to close")

    rnd.refresh_from_db()
    case.refresh_from_db()
    assert rnd.closed_because == "deadline"
    assert rnd.closed_at >= rnd.closes_at
    assert (rnd.outcome, rnd.counts) == ("RU", {"RU": 3})
    assert _events("round.tallied", rnd.pk) == 1
    assert case.stage == "measures" and case.attributed_party.code == "RU"
    assert Deadline.objects.get(round=rnd).status == "met"
    assert Deadline.objects.filter(case=case, kind="measures", status="pending").count() == 1
    cluster.check_logs()


def test_a_missed_verification_deadline_is_escalated_once(cluster, people, case_in):
    cluster.apply_durations(DEADLINE_VERIFICATION="3s")
    worker = cluster.start_worker()
    cluster.start_beat()
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case, kind="verification")

    wait_for(lambda: Deadline.objects.filter(pk=deadline.pk, status="missed").exists(), what="the deadline to be missed")
    cluster.wait_for_sweeps(worker, 2)  # later sweeps leave it alone

    deadline.refresh_from_db()
    case.refresh_from_db()
    assert deadline.settled_at >= deadline.due_at
    assert case.flagged and case.stage == "verification"
    assert _events("deadline.missed", deadline.pk) == 1
    assert _chair_notes(people, "deadline_missed", case) == 1
    # The sweep also emails what it stored.
    assert Notification.objects.get(recipient=people["chair"], kind="deadline_missed").emailed_at is not None
    cluster.check_logs()


def test_a_passed_compliance_date_makes_the_measure_overdue(cluster, people, case_in):
    worker = cluster.start_worker()
    cluster.start_beat()
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="remedial_demand", addressee="RU",
                                       description="Withdraw the battery from the outskirts.",
                                       compliance_due_at=timezone.now() + timedelta(seconds=3))
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    deadline = Deadline.objects.get(measure=measure)
    assert Measure.objects.get(pk=measure.pk).compliance == "pending"

    wait_for(lambda: Measure.objects.filter(pk=measure.pk, compliance="overdue").exists(),
             what="the measure to become overdue")
    cluster.wait_for_sweeps(worker, 1)

    deadline.refresh_from_db()
    assert deadline.status == "missed" and deadline.settled_at >= deadline.due_at
    assert _events("measure.overdue", measure.pk) == 1
    assert _events("deadline.missed", deadline.pk) == 1
    assert _chair_notes(people, "deadline_missed", case) == 1
    cluster.check_logs()


def test_an_extension_moves_the_time_the_deadline_fires(cluster, people, case_in):
    cluster.apply_durations(DEADLINE_VERIFICATION="3s")
    worker = cluster.start_worker()
    cluster.start_beat()
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case, kind="verification")
    old_due = deadline.due_at
    new_due = old_due + timedelta(seconds=4)
    services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=new_due,
                             reason="The site is not reachable before tomorrow.")

    wait_until(old_due, what="the old due time")
    cluster.wait_for_sweeps(worker, 2)  # at least one whole sweep ran after the old time
    deadline.refresh_from_db()
    assert deadline.status == "extended"
    assert _events("deadline.missed", deadline.pk) == 0

    wait_for(lambda: Deadline.objects.filter(pk=deadline.pk, status="missed").exists(),
             what="the extended deadline to be missed")
    deadline.refresh_from_db()
    assert deadline.settled_at >= new_due
    assert _events("deadline.missed", deadline.pk) == 1
    assert _chair_notes(people, "deadline_missed", case) == 1
    cluster.check_logs()


# --- Faults ---------------------------------------------------------------------------------------

# What a web process does while Redis is down: open a case (its deadline is a
# row, not a message) and close another one (unfounded), whose on-commit enqueue of the
# checkpoint task meets the dead broker.
APP_PROCESS = """
import json, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from commission import services
from commission.models import Case

User = get_user_model()
report_id, other_case_id = int(sys.argv[1]), int(sys.argv[2])
started = time.monotonic()
case = services.case_open(actor=User.objects.get(username="verifier1"), title="Opened while Redis is down",
                          reports=[report_id])
# Unfounded findings close the case, which enqueues a checkpoint on commit.
services.verification_record(actor=User.objects.get(username="verifier1"), case=Case.objects.get(pk=other_case_id),
                             outcome="unfounded", findings="Duplicate of another case.")
print(json.dumps({"case": case.pk, "seconds": time.monotonic() - started}))
"""


def test_with_redis_down_a_case_still_opens_and_its_deadline_fires_once_redis_is_back(cluster, people, case_in,
                                                                                       submitted):
    cluster.apply_durations(DEADLINE_VERIFICATION="4s")
    worker = cluster.start_worker()
    beat = cluster.start_beat()
    report = submitted(people["monitor"])
    other = case_in("verification", title="Second report of the same shelling")

    cluster.redis.stop()
    app = subprocess.run([sys.executable, "-c", APP_PROCESS, str(report.pk), str(other.pk)], cwd=ROOT,
                         env=cluster.env(), capture_output=True, text=True, timeout=60)
    assert app.returncode == 0, app.stderr
    assert "could not enqueue audit.tasks.publish_checkpoint" in app.stderr  # the broker really was down
    opened = json.loads(app.stdout)
    assert opened["seconds"] < 5  # failing fast: no request hangs on the broker
    deadline = Deadline.objects.get(case_id=opened["case"], kind="verification")
    assert Case.objects.get(pk=other.pk).stage == "closed"

    # Nothing fires while the broker is down...
    wait_until(deadline.due_at + timedelta(seconds=1), what="the due time")
    assert Deadline.objects.get(pk=deadline.pk).status == "pending"

    # ...and once it is back (empty: the queue was lost with it), beat's next
    # sweep settles the deadline from the database.
    cluster.redis.start()
    wait_for(lambda: Deadline.objects.filter(pk=deadline.pk, status="missed").exists(), timeout=45,
             what="the deadline to fire after Redis came back")
    assert worker.alive() and beat.alive()
    assert _events("deadline.missed", deadline.pk) == 1
    assert Case.objects.get(pk=opened["case"]).flagged
    assert Notification.objects.filter(kind="deadline_missed", case_id=opened["case"]).count() == 1
    cluster.check_logs(errors_allowed=True)  # connection errors, but no unregistered task


# A worker settling one due deadline per transaction, as the sweep did before
# pages: slow enough to be caught mid-sweep.
ONE_A_PAGE = {"DEADLINE_SWEEP_PAGE": "1"}


def _due_verification_deadlines(people, submitted, n: int) -> list[int]:
    """n cases opened through the service whose verification deadlines (1s)
    are all due on return; their ids in the order a sweep walks them."""
    verifier = people["verifier"]
    for i in range(n):
        services.case_open(actor=verifier, title=f"Shelling #{i}", reports=[submitted(people["monitor"])])
    ids = list(Deadline.objects.filter(kind="verification", status="pending").order_by("due_at", "id")
               .values_list("id", flat=True))
    assert len(ids) == n
    wait_until(Deadline.objects.get(pk=ids[-1]).due_at, what="every deadline to be due")
    return ids


def _fired(worker) -> int:
    """Deadlines this worker's tasks settled, from the results it logged."""
    total = 0
    for done in worker.succeeded():  # (the send_notifications the fired deadlines enqueued settle none)
        if done["name"] == "commission.tasks.sweep_deadlines":
            total += int(json.loads(done["result"].replace("'", '"'))["fired"])
        elif done["name"] == "commission.tasks.fire_deadline":
            total += done["result"] == "True"
    return total


def _settled_once(ids, people) -> None:
    """Every deadline missed, with exactly one event and one chair notification each."""
    assert Deadline.objects.filter(pk__in=ids, status="missed").count() == len(ids)
    missed = list(AuditEvent.objects.filter(action="deadline.missed").values_list("object_id", flat=True))
    assert sorted(missed) == sorted(str(i) for i in ids)
    keys = list(Notification.objects.filter(recipient=people["chair"], kind="deadline_missed")
                .values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == len(ids)


def test_the_same_sweep_delivered_twice_to_two_workers_settles_each_deadline_once(cluster, people, submitted):
    cluster.apply_durations(DEADLINE_VERIFICATION="1s")
    ids = _due_verification_deadlines(people, submitted, 120)
    # Pages of one, so that each copy takes long enough to overlap the other
    # (pages of many at once: test_sweep_batches.py).
    workers = [cluster.start_worker(**ONE_A_PAGE), cluster.start_worker(**ONE_A_PAGE)]  # no beat: only these tasks

    # One fire_deadline delivered twice (same task id), for the deadline the
    # sweeps reach last; then one sweep delivered twice, one copy per worker.
    fire_id = cluster.send(tasks.fire_deadline, ids[-1])
    cluster.send(tasks.fire_deadline, ids[-1], task_id=fire_id)
    sweep_id = cluster.send(tasks.sweep_deadlines)
    cluster.send(tasks.sweep_deadlines, task_id=sweep_id)

    def deliveries_done():
        return sum(1 for w in workers for t in w.succeeded() if t["id"] in (fire_id, sweep_id))

    wait_for(lambda: deliveries_done() == 4, what="the four deliveries to run")
    sweeps = [w.succeeded("commission.tasks.sweep_deadlines") for w in workers]
    assert [len(s) for s in sweeps] == [1, 1]  # each worker ran one copy...
    a, b = sweeps[0][0], sweeps[1][0]
    assert a["started"] < b["ended"] and b["started"] < a["ended"]  # ...at the same time
    assert sum(_fired(w) for w in workers) == len(ids)  # effects add up to one per deadline
    _settled_once(ids, people)
    assert Case.objects.filter(flagged=True).count() == len(ids)
    cluster.check_logs()


# A sweep of this many due deadlines, one per transaction (ONE_A_PAGE), takes
# about a second in one worker: long enough to kill the worker in the middle
# of it. Pages of many: test_sweep_batches.py.
BATCH = 150
VISIBILITY = "3s"


def _missed(ids) -> int:
    return Deadline.objects.filter(pk__in=ids, status="missed").count()


def test_a_worker_killed_mid_sweep_leaves_every_deadline_settled_exactly_once(cluster, people, submitted):
    # Relied on (config/settings.py): CELERY_TASK_ACKS_LATE, so the sweep's
    # message stays unacknowledged in Redis while it runs; Redis hands an
    # unacknowledged message back after the visibility timeout (short here,
    # 5m by default), when a worker starts or polls; and each deadline is
    # settled in its own transaction, claimed under lock with a status check,
    # so the redelivered sweep skips what the dead one committed.
    cluster.apply_durations(DEADLINE_VERIFICATION="1s")
    ids = _due_verification_deadlines(people, submitted, BATCH)
    first = cluster.start_worker(CELERY_VISIBILITY_TIMEOUT=VISIBILITY, **ONE_A_PAGE)
    sweep_id = cluster.send(tasks.sweep_deadlines)
    sent = time.monotonic()

    wait_for(lambda: _missed(ids) >= 10, what="the sweep to be under way")
    first.kill()
    done_by_first = _missed(ids)
    assert 0 < done_by_first < len(ids), "the sweep was not interrupted"
    unacked = cluster.redis.client().hvals("unacked")
    assert any(sweep_id.encode() in message for message in unacked)  # acks late: not acknowledged, not lost

    wait_for(lambda: time.monotonic() - sent > 3.5, what="the visibility timeout")
    second = cluster.start_worker(CELERY_VISIBILITY_TIMEOUT=VISIBILITY, **ONE_A_PAGE)  # no beat: only the redelivery can finish
    wait_for(lambda: _missed(ids) == len(ids), what="every deadline to be settled")
    wait_for(lambda: [t["id"] for t in second.succeeded("commission.tasks.sweep_deadlines")] == [sweep_id],
             what="the redelivered sweep to finish")
    assert int(json.loads(second.succeeded("commission.tasks.sweep_deadlines")[0]["result"].replace("'", '"'))
               ["fired"]) == len(ids) - done_by_first
    _settled_once(ids, people)
    cluster.check_logs()


def _pool_children(worker) -> list[int]:
    pid = worker.proc.pid
    return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]


def test_a_pool_process_killed_mid_sweep_is_replaced_and_the_sweep_runs_again(cluster, people, submitted):
    # Relied on: CELERY_TASK_REJECT_ON_WORKER_LOST with acks late, so the
    # worker whose pool process died puts the message back at once instead of
    # acknowledging it as failed.
    cluster.apply_durations(DEADLINE_VERIFICATION="1s")
    ids = _due_verification_deadlines(people, submitted, BATCH)
    worker = cluster.start_worker(pool="prefork", concurrency=1, **ONE_A_PAGE)
    [child] = _pool_children(worker)
    sweep_id = cluster.send(tasks.sweep_deadlines)

    wait_for(lambda: _missed(ids) >= 10, what="the sweep to be under way")
    os.kill(child, signal.SIGKILL)
    done_before = _missed(ids)
    assert 0 < done_before < len(ids), "the sweep was not interrupted"

    wait_for(lambda: _missed(ids) == len(ids), what="every deadline to be settled")
    wait_for(lambda: worker.succeeded("commission.tasks.sweep_deadlines"), what="the sweep to finish")
    log = worker.log()
    assert "WorkerLostError" in log
    assert log.count(f"commission.tasks.sweep_deadlines[{sweep_id}] received") == 2
    assert child not in _pool_children(worker)  # a new pool process ran it
    _settled_once(ids, people)
    cluster.check_logs(errors_allowed=True)  # the lost pool process is logged as an error

