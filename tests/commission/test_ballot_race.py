"""Races on PostgreSQL, with real concurrent transactions (one connection per
thread): ballots against the close of their round, and sweeps against each
other. The row locks in commission.services are what is under test, so
nothing here is mocked and SQLite (which has no row locks) is skipped."""

import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import trail_seal, trail_verify
from commission import services
from commission.models import Ballot, Deadline, Round
from config.errors import Conflict
from notifications.models import Notification

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 20
CHOICES = ("RU", "UA", "undetermined", "abstain")


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


def _in_thread(target, *args):
    """Run target in a thread with its own connection, closed at the end."""
    outcome = {}

    def run():
        try:
            outcome["value"] = target(*args)
        except BaseException as exc:  # reported to the test, not swallowed
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _join(started):
    results = []
    for thread, outcome in started:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is stuck (deadlock?)"
        if "error" in outcome:
            raise outcome["error"]
        results.append(outcome.get("value"))
    return results


def _sleep_until(moment):
    delay = (moment - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)


def _voter(member, rnd, start, seed):
    """Cast, then keep changing, until the round refuses: every answer is kept."""
    rng = random.Random(seed)
    answers = []
    _sleep_until(start)
    while True:
        choice = rng.choice(CHOICES)
        rationale = f"{member.username} #{len(answers)}: {choice}"
        try:
            receipt = services.ballot_cast(actor=member, round=rnd, choice=choice, rationale=rationale)
        except Conflict:
            answers.append(("conflict", None, None))
            return answers
        except Exception as exc:  # anything but a 409 is a failure of the rule
            answers.append(("error", repr(exc), None))
            return answers
        answers.append(("ok", receipt.ballot.pk, choice))
        time.sleep(rng.uniform(0, 0.004))


def _closer(deadline_id, closes_at):
    """What the sweep does at the closing time; two of these run at once."""
    _sleep_until(closes_at)
    fired = 0
    while Round.objects.filter(deadline__pk=deadline_id, status="open").exists():
        fired += services.deadline_fire(deadline_id=deadline_id, now=max(timezone.now(), closes_at))
    return fired


def test_a_ballot_racing_the_close_is_either_counted_or_refused_with_409(people, case_in):
    members = [people[f"member{i}"] for i in range(1, 5)]
    accepted = refused = 0
    for attempt in range(ROUNDS):
        case = case_in("attribution")
        closes_at = timezone.now() + timedelta(milliseconds=300)
        rnd = services.round_open(actor=people["chair"], case=case, closes_at=closes_at)
        deadline = Deadline.objects.get(round=rnd)
        # Half of the rounds leave a member out, so the deadline (not "everyone
        # voted") closes them; the others race the early close as well.
        voting = members if attempt % 2 else members[:3]
        start = closes_at - timedelta(milliseconds=40)
        started = [_in_thread(_voter, m, rnd, start, attempt * 10 + i) for i, m in enumerate(voting)]
        started += [_in_thread(_closer, deadline.pk, closes_at) for _ in range(2)]
        results = _join(started)
        answers, fired = results[:len(voting)], results[len(voting):]

        rnd.refresh_from_db()
        assert rnd.status == "closed"
        assert sum(fired) <= 1  # two closers, at most one effect (none when everyone voted first)
        assert AuditEvent.objects.filter(action="round.tallied", object_id=str(rnd.pk)).count() == 1
        finals = {}
        for member, theirs in zip(voting, answers, strict=True):
            assert [a for a in theirs if a[0] == "error"] == []
            assert theirs[-1][0] == "conflict"  # each voter kept going until refused
            oks = [a for a in theirs if a[0] == "ok"]
            accepted += len(oks)
            refused += 1
            if oks:
                finals[member.pk] = oks[-1]
        # Every ballot answered with success is in the trail's reveal, and the
        # last one of each voter is the one counted.
        tallied = AuditEvent.objects.get(action="round.tallied", object_id=str(rnd.pk))
        revealed = {b["commitment"]: b for b in tallied.after["ballots"]}
        stored = {b.pk: b for b in Ballot.objects.filter(round=rnd)}
        for theirs in answers:
            for _status, ballot_pk, _choice in (a for a in theirs if a[0] == "ok"):
                assert stored[ballot_pk].commitment in revealed
        counted = {b.voter_id: b for b in stored.values() if not b.superseded}
        assert {voter: b.pk for voter, b in counted.items()} == {voter: a[1] for voter, a in finals.items()}
        assert rnd.counts == dict(Counter(a[2] for a in finals.values()))
    assert accepted > 0 and refused > 0
    trail_seal(blocking=True)
    assert trail_verify().ok


def _sweep(now, barrier):
    barrier.wait()
    return services.deadlines_sweep(now=now)


def test_two_sweeps_at_once_settle_each_due_deadline_once(people, submitted):
    cases = [services.case_open(actor=people["verifier"], title=f"Case {i}", reports=[submitted(people["monitor"])])
             for i in range(12)]
    deadlines = list(Deadline.objects.filter(case__in=cases))
    late = max(d.due_at for d in deadlines) + timedelta(minutes=1)
    barrier = threading.Barrier(2)
    results = _join([_in_thread(_sweep, late, barrier) for _ in range(2)])
    assert sum(r.fired for r in results) == len(deadlines)
    for deadline in deadlines:
        deadline.refresh_from_db()
        assert deadline.status == "missed"
        assert AuditEvent.objects.filter(action="deadline.missed", object_id=str(deadline.pk)).count() == 1
    assert Notification.objects.filter(kind="deadline_missed", recipient=people["chair"]).count() == len(cases)


def test_two_sweeps_at_once_send_each_reminder_once(people, submitted, settings):
    cases = [services.case_open(actor=people["verifier"], title=f"Case {i}", reports=[submitted(people["monitor"])])
             for i in range(12)]
    deadlines = list(Deadline.objects.filter(case__in=cases))
    soon = max(d.due_at for d in deadlines) - timedelta(hours=1)
    barrier = threading.Barrier(2)
    results = _join([_in_thread(_sweep, soon, barrier) for _ in range(2)])
    assert sum(r.reminded for r in results) == len(deadlines) and sum(r.fired for r in results) == 0
    assert AuditEvent.objects.filter(action="deadline.reminded").count() == len(deadlines)
    assert Notification.objects.filter(kind="deadline_reminder").count() == len(deadlines)


def _fire(deadline_id, now, barrier):
    barrier.wait()
    return services.deadline_fire(deadline_id=deadline_id, now=now)


@pytest.mark.parametrize("kind", ["verification", "vote"])
def test_one_deadline_fired_twice_at_once_has_one_effect(people, case_in, kind):
    for _ in range(5):
        if kind == "verification":
            deadline = Deadline.objects.get(case=case_in("verification"), kind="verification")
        else:
            rnd = services.round_open(actor=people["chair"], case=case_in("attribution"))
            services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Radar tracks.")
            deadline = Deadline.objects.get(round=rnd)
        barrier = threading.Barrier(3)
        results = _join([_in_thread(_fire, deadline.pk, deadline.due_at, barrier) for _ in range(3)])
        assert sorted(results) == [False, False, True]
        deadline.refresh_from_db()
        assert deadline.settled_at is not None
        settled = AuditEvent.objects.filter(object_type="deadline", object_id=str(deadline.pk),
                                            action__in=["deadline.met", "deadline.missed"])
        assert settled.count() == 1
        if kind == "vote":
            assert AuditEvent.objects.filter(action="round.tallied", object_id=str(deadline.round_id)).count() == 1
