"""The sweep settles due deadlines a page per transaction
(commission.services.deadlines_fire_page): the same effects as one deadline
at a time (deadline_fire), each deadline settled exactly once, under a
killed worker and two sweeps at once too, and a page that fails settled
again one deadline at a time.

The first tests run in-process on the test database; the last ones start
real Celery workers (tests/commission/worker_helpers.py) against committed
rows, with many due deadlines written in bulk (the sweep reads rows, however
they got there).
"""

import json
import time
from datetime import timedelta

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import CHAIR
from audit.models import AuditEvent
from commission import services, tasks
from commission.models import Case, Deadline
from notifications.models import Notification, NotificationPreference
from tests.commission.test_worker_deadlines import cluster  # noqa: F401 (the fixture)
from tests.commission.worker_helpers import database_url, sweep_counts, two_sweeps_at_once, wait_for

# --- The same effects as one at a time ------------------------------------------------------------


def _deciding(people, case_in, *, compliance_due):
    """A case in measures with an adopted measure: two deadlines of one case
    (the stage's and the measure's compliance date) in one page."""
    deciding = case_in("measures", title="Strike on Zaporizhzhia")
    measure = services.measure_propose(actor=people["member1"], case=deciding, kind="remedial_demand",
                                       addressee="RU", description="Withdraw the battery.",
                                       compliance_due_at=compliance_due)
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    return deciding


def _scenario(deciding, case_in, case_naming):
    """One of each deadline a page settles, on cases brought there through
    the services: a verification missed, a measures stage missed and a
    measure's compliance date passed, a reply window ended with a party
    still silent. Their ids, oldest first."""
    verifying = case_in("verification", title="Shelling of Orikhiv")
    waiting = case_naming("RU", title="Strikes on Huliaipole")
    ids = list(Deadline.objects.filter(case__in=[verifying, deciding, waiting], status__in=["pending", "extended"])
               .order_by("kind", "pk").values_list("pk", flat=True))
    assert list(Deadline.objects.filter(pk__in=ids).order_by("kind").values_list("kind", flat=True)) == [
        "compliance", "measures", "reply", "verification"]
    return ids


def _effects(deadline_ids, *, now) -> list[dict]:
    """What settling each deadline left, with what differs between two
    copies of the same scenario (ids, references, due times) named instead."""
    found = []
    for d in Deadline.objects.filter(pk__in=deadline_ids).select_related("case", "measure").order_by("pk"):
        names = {d.case.reference: "<reference>", d.due_at.isoformat(): "<due_at>", f":{d.pk}:": ":<deadline>:"}

        def named(value, names=names):
            text = json.dumps(value, sort_keys=True, default=str)
            for real, name in names.items():
                text = text.replace(real, name)
            return json.loads(text)

        events = AuditEvent.objects.filter(Q(object_type="deadline", object_id=str(d.pk))
                                           | Q(object_type="measure", object_id=str(d.measure_id))).order_by("id")
        # By the key's head ("missed:<id>:"): ":<id>:" alone also matches a
        # due time's minutes ("T10:16:34") when they equal the id.
        notes = (Notification.objects.filter(case_id=d.case_id, key__regex=rf"^[\w-]+:{d.pk}:")
                 .order_by("recipient_id"))
        found.append(named({
            "deadline": [d.kind, d.status, d.settled_at == now, d.paused_at, d.pause_reason, d.paused_from],
            "case": [d.case.stage, d.case.flagged],
            "measure": d.measure.compliance if d.measure else None,
            "events": [[e.action, e.object_type, e.actor_id, e.actor_username, e.before, e.after, e.reason]
                       for e in events],
            "notifications": [[n.recipient.username, n.kind, n.key, n.params, n.subject, n.body, n.email,
                               n.emailed_at is None, n.case_reference, n.read_at] for n in notes],
        }))
    return found


def test_a_page_has_exactly_the_effects_of_settling_its_deadlines_one_at_a_time(request, people, case_in,
                                                                                case_naming):
    # A second chair, who asked for a digest of missed deadlines: rows carry
    # each recipient's own email mode.
    second = User.objects.create_user(username="chair2", email="chair2@example.org")
    second.groups.add(Group.objects.get(name=CHAIR))
    NotificationPreference.objects.create(user=second, kind="deadline_missed", email="digest")
    compliance_due = timezone.now() + timedelta(days=2)
    # Both cases in measures first: once RU has a representative, a round
    # waits for the reply window.
    deciding = [_deciding(people, case_in, compliance_due=compliance_due) for _ in range(2)]
    request.getfixturevalue("representatives")
    paged = _scenario(deciding[0], case_in, case_naming)
    one_by_one = _scenario(deciding[1], case_in, case_naming)
    later = timezone.now() + timedelta(days=15)  # past every due time above

    assert services.deadlines_fire_page(deadline_ids=paged, now=later) == 4
    assert [services.deadline_fire(deadline_id=pk, now=later) for pk in one_by_one] == [True] * 4

    assert _effects(paged, now=later) == _effects(one_by_one, now=later)
    effects = _effects(paged, now=later)  # and they are the effects meant, not nothing twice
    by_kind = {e["deadline"][0]: e for e in effects}
    assert sorted(by_kind) == ["compliance", "measures", "reply", "verification"]
    assert all(e["deadline"][1:3] == ["missed", True] for e in effects)
    assert by_kind["compliance"]["measure"] == "overdue"
    assert [len(e["notifications"]) for e in effects] == [2, 2, 2, 2]
    assert {n[6] for e in effects for n in e["notifications"] if n[1] == "deadline_missed"} == {"immediate", "digest"}
    assert not by_kind["reply"]["case"][1]  # a party's silence flags nothing
    assert all(e["case"][1] for kind, e in by_kind.items() if kind != "reply")


def test_a_page_settled_again_changes_nothing(people, case_in):
    ids = [Deadline.objects.get(case=case_in("verification", title=f"Shelling #{i}")).pk for i in range(3)]
    later = timezone.now() + timedelta(days=4)
    assert services.deadlines_fire_page(deadline_ids=ids, now=later) == 3

    assert services.deadlines_fire_page(deadline_ids=ids, now=later) == 0
    assert services.deadlines_sweep(now=later).fired == 0
    assert AuditEvent.objects.filter(action="deadline.missed").count() == 3
    assert Notification.objects.filter(kind="deadline_missed").count() == 3


def test_a_page_costs_the_same_few_queries_however_many_deadlines_it_settles(people, case_in,
                                                                            django_assert_max_num_queries):
    for i in range(40):
        case_in("verification", title=f"Shelling #{i}")
    later = timezone.now() + timedelta(days=4)

    # One at a time this was about a dozen statements a deadline (480 here).
    with django_assert_max_num_queries(20):
        assert services.deadlines_sweep(now=later).fired == 40

    assert Case.objects.filter(flagged=True).count() == 40


# --- A page that fails ----------------------------------------------------------------------------


def _due_cases(case_in, n: int) -> list[int]:
    return [Deadline.objects.get(case=case_in("verification", title=f"Shelling #{i}")).pk for i in range(n)]


def _settled_once(ids) -> None:
    assert Deadline.objects.filter(pk__in=ids, status="missed").count() == len(ids)
    missed = sorted(AuditEvent.objects.filter(action="deadline.missed").values_list("object_id", flat=True))
    assert missed == sorted(str(pk) for pk in ids)
    keys = list(Notification.objects.filter(kind="deadline_missed").values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == len(ids)
    assert Case.objects.filter(deadlines__in=ids, flagged=True).count() == len(ids)


def test_a_deadline_that_cannot_be_settled_fails_alone_and_the_rest_of_its_page_is_settled(people, case_in,
                                                                                          caplog):
    good = _due_cases(case_in, 4)
    # A compliance deadline whose measure is gone (written behind the
    # services): settling it raises, in the page and one at a time alike.
    bad = Deadline.objects.create(case=Deadline.objects.get(pk=good[1]).case, kind="compliance",
                                  due_at=timezone.now() - timedelta(hours=1))
    later = timezone.now() + timedelta(days=4)

    result = services.deadlines_sweep(now=later)

    assert result.fired == len(good)
    _settled_once(good)
    bad.refresh_from_db()
    assert bad.status == "pending" and bad.settled_at is None  # due still: tried again next sweep
    assert "could not be settled at once; settling them one by one" in caplog.text
    assert f"deadline {bad.pk} could not be settled" in caplog.text
    assert services.deadlines_sweep(now=later).fired == 0
    _settled_once(good)


@pytest.mark.postgres
def test_a_deadline_the_database_refuses_fails_alone_and_the_rest_of_its_page_is_settled(people, case_in):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL trigger stands for the database refusing one row")
    good = _due_cases(case_in, 5)
    refused = good.pop(2)
    # The database refuses to change one deadline (a constraint, a trigger,
    # a row of bad data): the page's transaction is aborted, not only a row.
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION test_refuse_deadline() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       "RAISE EXCEPTION 'refused'; END $$")
        cursor.execute("CREATE TRIGGER test_refuse_deadline BEFORE UPDATE ON commission_deadline FOR EACH ROW "
                       f"WHEN (OLD.id = {int(refused)}) EXECUTE FUNCTION test_refuse_deadline()")

    assert services.deadlines_sweep(now=timezone.now() + timedelta(days=4)).fired == len(good)

    _settled_once(good)
    assert Deadline.objects.get(pk=refused).status == "pending"
    assert not AuditEvent.objects.filter(object_type="deadline", object_id=str(refused),
                                         action="deadline.missed").exists()


# --- Locks ----------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_case_another_transaction_holds_is_skipped_without_waiting_and_settled_next_sweep(transactional_db,
                                                                                           people, case_in):
    if connection.vendor != "postgresql":
        pytest.skip("row locks held by another connection need PostgreSQL")
    ids = _due_cases(case_in, 6)
    held = Deadline.objects.get(pk=ids[3]).case_id
    later = timezone.now() + timedelta(days=4)
    with psycopg.connect(database_url()) as other:  # someone acting on one case, mid-transaction
        other.execute("SELECT id FROM commission_case WHERE id = %s FOR UPDATE", [held])
        started = time.monotonic()
        assert services.deadlines_sweep(now=later).fired == 5
        assert time.monotonic() - started < 5  # skipped, not waited for
        assert Deadline.objects.get(pk=ids[3]).status == "pending"
        other.rollback()

    assert services.deadlines_sweep(now=later).fired == 1
    _settled_once(ids)


# --- Real workers ---------------------------------------------------------------------------------


def _many_due(people, n: int, *, due_at=None) -> list[int]:
    """n cases in verification with their verification deadlines due at
    due_at (an hour ago unless given; the reminder tests give a time to
    come), written in bulk (as bench/deadlines.py does) and committed; their
    deadline ids in the order a sweep walks them."""
    verifier = people["verifier"]
    cases = Case.objects.bulk_create([Case(title=f"Shelling #{i}", stage="verification", opened_by=verifier,
                                           verifier=verifier) for i in range(n)])
    for case in cases:
        case.reference = f"CASE-2026-{case.pk:05d}"
    Case.objects.bulk_update(cases, ["reference"])
    due = due_at or timezone.now() - timedelta(hours=1)
    Deadline.objects.bulk_create([Deadline(case=case, kind="verification", due_at=due + timedelta(microseconds=i))
                                  for i, case in enumerate(cases)])
    return list(Deadline.objects.filter(kind="verification", status="pending").order_by("due_at", "id")
                .values_list("id", flat=True))


def _missed(ids) -> int:
    return Deadline.objects.filter(pk__in=ids, status="missed").count()


KILLED = 2000
PAGE = 50


@pytest.mark.worker
@pytest.mark.postgres
def test_a_worker_killed_mid_sweep_leaves_whole_pages_and_every_deadline_settled_exactly_once(
        cluster, people):  # noqa: F811
    # Pages of 50 over 2,000 due deadlines: a sweep of 40 transactions, long
    # enough to kill the worker between two of them. A page commits whole or
    # not at all; the redelivered sweep (acks late, visibility timeout)
    # settles what the dead one had not committed.
    ids = _many_due(people, KILLED)
    first = cluster.start_worker(CELERY_VISIBILITY_TIMEOUT="3s", DEADLINE_SWEEP_PAGE=str(PAGE))
    sweep_id = cluster.send(tasks.sweep_deadlines)
    sent = time.monotonic()

    wait_for(lambda: _missed(ids) >= PAGE, interval=0.02, what="the sweep's first page to commit")
    first.kill()
    done_by_first = _missed(ids)
    assert 0 < done_by_first < len(ids), "the sweep was not interrupted"
    assert done_by_first % PAGE == 0  # whole pages: the one in flight was rolled back
    assert AuditEvent.objects.filter(action="deadline.missed").count() == done_by_first
    assert any(sweep_id.encode() in message for message in cluster.redis.client().hvals("unacked"))

    wait_for(lambda: time.monotonic() - sent > 3.5, what="the visibility timeout")
    second = cluster.start_worker(CELERY_VISIBILITY_TIMEOUT="3s", DEADLINE_SWEEP_PAGE=str(PAGE))
    wait_for(lambda: _missed(ids) == len(ids), timeout=120, what="every deadline to be settled")
    wait_for(lambda: [t["id"] for t in second.succeeded("commission.tasks.sweep_deadlines")] == [sweep_id],
             timeout=120, what="the redelivered sweep to finish")
    assert sweep_counts(second, "fired") == len(ids) - done_by_first
    _settled_once(ids)
    assert Notification.objects.filter(recipient=people["chair"], kind="deadline_missed").count() == len(ids)
    cluster.check_logs()


@pytest.mark.worker
@pytest.mark.postgres
def test_two_sweeps_at_once_on_two_workers_settle_each_deadline_once(cluster, people):  # noqa: F811
    ids = _many_due(people, KILLED)
    workers = two_sweeps_at_once(cluster, page=100)
    assert sum(sweep_counts(w, "fired") for w in workers) == len(ids)  # between them, once each
    _settled_once(ids)
    cluster.check_logs()
