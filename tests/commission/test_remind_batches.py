"""The sweep sends reminders a page per transaction
(commission.services.deadlines_remind_page): the same notifications and
events as one deadline at a time (deadline_remind), for every kind of
deadline and recipient; each deadline reminded once, two sweeps at once
too; a few queries a page whatever its size, and a page claimed at once
however many are in the window; and a page that fails sent again one
deadline at a time. With real Celery workers (one killed in the middle of a
sweep, two sweeps on two workers): test_remind_batches_workers.py.

Every deadline is brought to its state through the services; the reminder
window (DEADLINE_REMINDER_BEFORE) is widened so that all of them, due in
2 days to 2 weeks, can be reminded at one `now`.
"""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.roles import CHAIR, PARTY_REPRESENTATIVE, VERIFIER
from audit.models import AuditEvent
from commission import services
from commission.models import Deadline, RoundVoter
from notifications import services as notifications_services
from notifications.models import Notification, NotificationPreference
from tests.commission.test_sweep_batches import _many_due

WINDOW = timedelta(days=60)  # every deadline below is due within it


@pytest.fixture(autouse=True)
def _wide_window(settings):
    settings.DEADLINE_REMINDER_BEFORE = WINDOW


def _user(username, group, **fields):
    user = User.objects.create_user(username=username, email=f"{username}@example.org", **fields)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def _open(case, kind):
    return Deadline.objects.get(case=case, kind=kind, status__in=["pending", "extended"]).pk


def _voting(people, case_in):
    """A round with a ballot cast (member1) and a voter who declared a
    conflict before voting (member3): member2 and member4 still to vote."""
    case = case_in("attribution", title="Shelling of Kurakhove")
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Radar tracks.")
    services.conflict_declare(actor=people["member3"], case=case, reason="I served in that sector.")
    assert RoundVoter.objects.filter(round=rnd, recused_at__isnull=False).count() == 1
    return case


def _deciding(people, case_in, *, compliance_due):
    """A case in measures with an adopted measure: its measures deadline and
    the measure's compliance date, both the chairs' to be reminded of."""
    case = case_in("measures", title="Strike on Zaporizhzhia")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="remedial_demand",
                                       addressee="RU", description="Withdraw the battery.",
                                       compliance_due_at=compliance_due)
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    return case


def _waiting(representatives, case_naming):
    """A reply window open with RU still to reply (UA has)."""
    case = case_naming("RU", "UA", title="Strikes on Huliaipole")
    services.reply_submit(actor=representatives["UA"], case=case, text="We were not there.")
    return case


def _effects(deadline_ids, *, now, since) -> list[dict]:
    """What reminding each deadline left (the events and notifications after
    `since`, an event id and a notification id), with what differs between
    two copies of the same scenario (ids, references, due times) named."""
    found = []
    for pk in deadline_ids:
        d = Deadline.objects.select_related("case").get(pk=pk)
        names = {d.case.reference: "<reference>", d.due_at.isoformat(): "<due_at>", f":{d.pk}:": ":<deadline>:"}
        events = AuditEvent.objects.filter(pk__gt=since[0], object_type="deadline", object_id=str(d.pk)).order_by("id")
        notes = (Notification.objects.filter(pk__gt=since[1], key__startswith=f"reminder:{d.pk}:")
                 .select_related("recipient").order_by("recipient_id"))
        text = json.dumps({
            "deadline": [d.kind, d.status, d.reminded_at == now, d.settled_at],
            "events": [[e.action, e.object_type, e.actor_id, e.actor_username, e.before, e.after, e.reason]
                       for e in events],
            "notifications": [[n.recipient.username, n.case_id == d.case_id, n.case_reference, n.kind, n.key,
                               n.params, n.subject, n.body, n.email, n.emailed_at is None, n.read_at]
                              for n in notes],
        }, sort_keys=True, default=str)
        for real, name in names.items():
            text = text.replace(real, name)
        found.append(json.loads(text))
    return found


def _marks() -> tuple[int, int]:
    last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    last_note = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return last_event, last_note


# --- The same effects as one at a time ------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_reminds_exactly_as_one_deadline_at_a_time_for_every_kind(request, people, case_in, case_naming):
    # More than one of each kind of recipient, one of them inactive, and a
    # chair who takes reminders in the daily digest: rows carry each
    # recipient's own email mode.
    _user("verifier2", VERIFIER)
    _user("verifier3", VERIFIER, is_active=False)
    chair2 = _user("chair2", CHAIR)
    NotificationPreference.objects.create(user=chair2, kind="deadline_reminder", email="digest")
    compliance_due = timezone.now() + timedelta(days=2)
    # Rounds and measures first: once RU has a representative, a round
    # waits for the reply window of a case that names RU.
    copies = [{"vote": _voting(people, case_in), "deciding": _deciding(people, case_in, compliance_due=compliance_due)}
              for _ in range(2)]
    representatives = request.getfixturevalue("representatives")
    _user("rep_ru2", PARTY_REPRESENTATIVE, represents=representatives["RU"].represents)
    _user("rep_ru3", PARTY_REPRESENTATIVE, represents=representatives["RU"].represents, is_active=False)
    scenarios = []
    for copy in copies:
        assigned = case_in("verification", title="Shelling of Orikhiv")
        unassigned = services.case_open(actor=people["chair"], title="Shelling of Orikhiv",
                                        reports=[request.getfixturevalue("submitted")(people["monitor"])])
        assert unassigned.verifier_id is None
        scenarios.append([_open(assigned, "verification"), _open(unassigned, "verification"),
                          _open(copy["vote"], "vote"), _open(_waiting(representatives, case_naming), "reply"),
                          _open(copy["deciding"], "measures"), _open(copy["deciding"], "compliance")])
    paged, one_by_one = scenarios
    now = timezone.now()
    since = _marks()

    assert services.deadlines_remind_page(deadline_ids=paged, now=now) == 6
    assert [services.deadline_remind(deadline_id=pk, now=now) for pk in one_by_one] == [True] * 6

    effects = _effects(paged, now=now, since=since)
    assert effects == _effects(one_by_one, now=now, since=since)
    # And they are the reminders meant, not nothing twice.
    told = [[n[0] for n in e["notifications"]] for e in effects]
    assert told == [["verifier1"], ["verifier1", "verifier2"], ["member2", "member4"], ["rep_ru", "rep_ru2"],
                    ["chair", "chair2"], ["chair", "chair2"]]
    assert [e["events"][0][5]["recipients"] for e in effects] == told
    assert all(e["deadline"][1:] == ["pending", True, None] for e in effects)  # a reminder settles nothing
    assert {n[8] for e in effects[4:] for n in e["notifications"]} == {"immediate", "digest"}
    assert all(len(e["events"]) == 1 and e["events"][0][0] == "deadline.reminded" for e in effects)


@pytest.mark.django_db
def test_a_page_reminded_again_reminds_nobody(people, case_in):
    ids = [_open(case_in("verification", title=f"Shelling #{i}"), "verification") for i in range(3)]
    now = timezone.now()
    assert services.deadlines_remind_page(deadline_ids=ids, now=now) == 3

    assert services.deadlines_remind_page(deadline_ids=ids, now=now + timedelta(hours=1)) == 0
    assert services.deadlines_sweep(now=now).reminded == 0
    assert [services.deadline_remind(deadline_id=pk, now=now) for pk in ids] == [False] * 3
    assert AuditEvent.objects.filter(action="deadline.reminded").count() == 3
    assert Notification.objects.filter(kind="deadline_reminder").count() == 3


@pytest.mark.django_db
def test_only_deadlines_open_and_in_the_window_are_claimed(people, case_in):
    ids = [_open(case_in("verification", title=f"Shelling #{i}"), "verification") for i in range(3)]
    paused, far = ids[1:]
    services.deadline_pause(actor=people["chair"], deadline=Deadline.objects.get(pk=paused),
                            reason="The site cannot be reached.")
    services.deadline_extend(actor=people["chair"], deadline=Deadline.objects.get(pk=far),
                             due_at=timezone.now() + WINDOW + timedelta(days=1), reason="Access denied.")
    met = Deadline.objects.get(case=case_in("attribution"), kind="verification")  # its stage ended
    assert met.status == "met"
    ids.append(met.pk)
    now = timezone.now()

    assert services.deadlines_remind_page(deadline_ids=ids, now=now) == 1

    assert list(Deadline.objects.filter(reminded_at__isnull=False).values_list("pk", flat=True)) == [ids[0]]
    assert list(AuditEvent.objects.filter(action="deadline.reminded").values_list("object_id", flat=True)) == [
        str(ids[0])]


# --- Queries --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_costs_the_same_few_queries_however_many_deadlines_it_reminds(request, people, case_in,
                                                                            case_naming, monkeypatch):
    # The notifications stored with bulk_create whatever the page's size:
    # its INSERT goes through Django's cursor and is counted (the arrays'
    # statement, used from 50 rows, goes around it and would not be).
    monkeypatch.setattr(notifications_services, "NOTIFY_UNNEST_ROWS", 10**9)
    compliance_due = timezone.now() + timedelta(days=2)
    sizes = (1, 6)
    units = {n: [[_voting(people, case_in), _deciding(people, case_in, compliance_due=compliance_due)]
                 for _ in range(n)] for n in sizes}
    representatives = request.getfixturevalue("representatives")
    pages = {}
    for n in sizes:
        pages[n] = []
        for voting, deciding in units[n]:
            unassigned = services.case_open(actor=people["chair"], title="Shelling of Orikhiv",
                                            reports=[request.getfixturevalue("submitted")(people["monitor"])])
            pages[n] += [_open(case_in("verification"), "verification"), _open(unassigned, "verification"),
                         _open(voting, "vote"), _open(_waiting(representatives, case_naming), "reply"),
                         _open(deciding, "measures"), _open(deciding, "compliance")]
    now = timezone.now()

    counted = {}
    for n in sizes:
        with CaptureQueriesContext(connection) as queries:
            assert services.deadlines_remind_page(deadline_ids=pages[n], now=now) == len(pages[n])
        counted[len(pages[n])] = len(queries)

    assert list(counted) == [6, 36]
    # One at a time this was about eight statements a deadline (288 for 36).
    assert counted[6] == counted[36] <= 16, counted
    assert Notification.objects.filter(kind="deadline_reminder").count() == 7 * 7


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_page_locks_its_rows_once_among_thousands_to_remind_before_the_table_is_analyzed(people):
    # Thousands of deadlines written since the last ANALYZE (an import, a
    # busy day): the planner takes the window for one row. The claim's
    # locking subquery was then run again for each row of the window (a
    # page of 50 took seconds, a sweep of 2,000 reminders 40 s). Run once,
    # as a materialized CTE, it locks the page's rows in one pass. What is
    # asserted is that plan (its row-locking node runs once), not a time.
    ids = _many_due(people, 4000, due_at=timezone.now() + timedelta(minutes=30))
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        assert services.deadlines_remind_page(deadline_ids=ids[:50], now=timezone.now()) == 50
        transaction.set_rollback(True)
    (claim,) = [q["sql"] for q in ctx.captured_queries if "SET reminded_at" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + claim)
        (plan,) = cursor.fetchone()[0]
    locks = [n for n in _plan_nodes(plan["Plan"]) if n["Node Type"] == "LockRows"]
    assert locks and all(n["Actual Loops"] == 1 for n in locks), locks
    assert Deadline.objects.filter(pk__in=ids, reminded_at__isnull=False).count() == 50  # EXPLAIN ANALYZE ran it


# --- A page that fails ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_deadline_the_database_refuses_fails_alone_and_the_rest_of_its_page_is_reminded(people, case_in,
                                                                                         caplog):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL trigger stands for the database refusing one row")
    ids = [_open(case_in("verification", title=f"Shelling #{i}"), "verification") for i in range(5)]
    refused = ids[2]
    # The database refuses to change one deadline (a constraint, a trigger, a
    # row of bad data): the page's transaction is aborted, not only a row.
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION test_refuse_deadline() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       "RAISE EXCEPTION 'refused'; END $$")
        cursor.execute("CREATE TRIGGER test_refuse_deadline BEFORE UPDATE ON commission_deadline FOR EACH ROW "
                       f"WHEN (OLD.id = {int(refused)}) EXECUTE FUNCTION test_refuse_deadline()")
    now = timezone.now()

    assert services.deadlines_sweep(now=now).reminded == 4

    assert "a page of 5 reminders could not be sent at once; sending them one by one" in caplog.text
    assert f"reminders for deadline {refused} could not be sent" in caplog.text
    reminded = sorted(int(pk) for pk in AuditEvent.objects.filter(action="deadline.reminded")
                      .values_list("object_id", flat=True))
    assert reminded == sorted(pk for pk in ids if pk != refused)
    assert Notification.objects.filter(kind="deadline_reminder").count() == 4
    assert Deadline.objects.get(pk=refused).reminded_at is None  # still to remind: tried again next sweep
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse_deadline ON commission_deadline")
    assert services.deadlines_sweep(now=now).reminded == 1
    assert AuditEvent.objects.filter(action="deadline.reminded").count() == 5


# --- Two sweeps at once ---------------------------------------------------------------------------


def _in_thread(target, *args, name=None):
    """Run target in a thread with its own connection, closed at the end."""
    outcome = {}

    def run():
        try:
            outcome["value"] = target(*args)
        except BaseException as exc:  # reported to the test, not swallowed
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name)
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


def _reminded_once(ids) -> None:
    assert Deadline.objects.filter(pk__in=ids, reminded_at__isnull=False).count() == len(ids)
    reminded = sorted(int(pk) for pk in AuditEvent.objects.filter(action="deadline.reminded")
                      .values_list("object_id", flat=True))
    assert reminded == sorted(ids)
    keys = list(Notification.objects.filter(kind="deadline_reminder").values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == len(ids)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_another_sweep_holds_is_skipped_without_waiting_and_reminded_once(people, case_in, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    ids = [_open(case_in("verification", title=f"Shelling #{i}"), "verification") for i in range(30)]
    now = timezone.now()
    # The first sweep stops inside its page's transaction, its 20 deadlines
    # claimed and not yet committed, until the second has run.
    claimed, release = threading.Event(), threading.Event()
    real_notify_many = notifications_services.notify_many

    def notify_many(**kwargs):
        if threading.current_thread().name == "first":
            claimed.set()
            assert release.wait(30)
        return real_notify_many(**kwargs)

    monkeypatch.setattr("commission.services.reminders.notify_many", notify_many)
    first = _in_thread(lambda: services.deadlines_remind_page(deadline_ids=ids[:20], now=now), name="first")
    try:
        assert claimed.wait(30), "the first sweep did not claim its page"
        started = time.monotonic()
        # The second sweep's page overlaps the first's by ten deadlines.
        second = services.deadlines_remind_page(deadline_ids=ids[10:], now=now)
        assert time.monotonic() - started < 5  # skipped, not waited for
    finally:
        release.set()
    assert _join([first]) == [20]
    assert second == 10
    _reminded_once(ids)
    # Once the first has committed, there is nothing left for anyone.
    assert services.deadlines_remind_page(deadline_ids=ids, now=now) == 0
    assert services.deadlines_sweep(now=now).reminded == 0
    _reminded_once(ids)


def _sweep(now, barrier):
    barrier.wait()
    return services.deadlines_sweep(now=now, batch=7)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_each_deadline_once(people, case_in, case_naming, request):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    ids = [_open(_voting(people, case_in), "vote") for _ in range(5)]
    representatives = request.getfixturevalue("representatives")
    ids += [_open(_waiting(representatives, case_naming), "reply") for _ in range(5)]
    ids += [_open(case_in("verification", title=f"Shelling #{i}"), "verification") for i in range(30)]
    now = timezone.now()

    for _ in range(3):  # pages of 7: the two sweeps' pages interleave
        Deadline.objects.filter(pk__in=ids).update(reminded_at=None)
        Notification.objects.filter(kind="deadline_reminder").delete()
        before = AuditEvent.objects.filter(action="deadline.reminded").count()
        barrier = threading.Barrier(2)
        results = _join([_in_thread(_sweep, now, barrier) for _ in range(2)])
        assert sum(r.reminded for r in results) == len(ids)
        assert AuditEvent.objects.filter(action="deadline.reminded").count() == before + len(ids)
        keys = list(Notification.objects.filter(kind="deadline_reminder").values_list("key", flat=True))
        assert len(set(keys)) == len(ids) and len(keys) == 5 * 2 + 5 + 30  # two voters still to vote a round
        assert Deadline.objects.filter(pk__in=ids, reminded_at=now).count() == len(ids)
