"""How long every list and page takes at 1,000,000 reports and 100,000 cases.

    nice -n 10 .venv/bin/python bench/lists.py --before /tmp/lists-before     # before and after, back to back
    nice -n 10 .venv/bin/python bench/lists.py                                 # this tree only

`--before DIR` is another tree of the project (e.g. `git archive 524cee1 |
tar -x -C DIR`, the commit before the lists work), timed first on the same
data; then this tree's migrations run on the same database (its new indexes)
and this tree is timed.

What it does:
1. (Re)creates its own database `bench_lists`, migrates it with the first
   tree, runs seed_demo, and fills it by COPY (psycopg's COPY FROM STDIN):
   1,000,000 submitted reports (10,000 of them by monitor1, the rest by 100
   other monitors), 100,000 cases (each with three of the reports linked,
   spread over the table; 20 % in verification, 10 % attribution, 10 %
   measures, the rest closed; 2 % flagged), one verification deadline per case
   (pending for those in verification, missed for the flagged, met for the
   rest), a measures deadline for cases in measures, and 20,000
   notifications for the chair. VACUUM ANALYZE.
2. For each tree: in a child process of that tree, the Django test client
   (DEBUG off, real middleware) asks every list and page as its role, each
   several times; prints the median and the slowest time, the number of
   queries per request, the EXPLAIN (ANALYZE, BUFFERS) of the slowest query
   of the slowest request, and the PostgreSQL-alone ceiling: that query
   timed by itself through psycopg.
3. Drops the database (unless --keep).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import drop, recreate  # noqa: E402 (after the path set-up)

# BENCH_LISTS_SCALE=0.01 for a quick try of the script itself.
SCALE = float(os.environ.get("BENCH_LISTS_SCALE", "1"))
REPORTS = int(1_000_000 * SCALE)
CASES = int(100_000 * SCALE)
NOTIFICATIONS = int(20_000 * SCALE)
REPORT_COLUMNS = (
    "author_id", "status", "occurred_at", "occurred_until", "lat", "lon", "precision_m", "place_name", "admin1",
    "category", "description", "alleged_party_id", "source_type", "civilian_killed", "civilian_injured",
    "military_killed", "military_injured", "weapons", "severity", "links", "request_fingerprint", "created_at",
    "updated_at", "submitted_at", "returned_reason")
CATEGORIES = ["shelling", "missile_strike", "drone_strike", "air_strike", "small_arms_fire", "ground_assault",
              "mine_ied", "infrastructure_attack", "heavy_weapons_movement", "other"]
REGIONS = ["Zaporizhzhia Oblast", "Donetsk Oblast", "Kharkiv Oblast", "Kherson Oblast", "Luhansk Oblast",
           "Dnipropetrovsk Oblast", "Sumy Oblast", "Mykolaiv Oblast"]
WORDS = ["impacts", "outskirts", "artillery", "northern", "village", "convoy", "bridge", "school", "warehouse",
         "substation", "trench", "checkpoint", "observed", "heard", "crater", "drone", "smoke", "market"]


# --- Child: build (runs in the first tree) ------------------------------------------------------


def child_build() -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import Party, User
    from accounts.roles import MONITOR

    rng = random.Random(14)
    monitors = [User.objects.get(username="monitor1").pk]
    group = Group.objects.get(name=MONITOR)
    for i in range(100):
        user = User.objects.create_user(username=f"bench_monitor{i}", email=f"bm{i}@example.org")
        user.groups.add(group)
        monitors.append(user.pk)
    parties = list(Party.objects.values_list("pk", flat=True))
    chair = User.objects.get(username="chair").pk
    verifier = User.objects.get(username="verifier1").pk
    now = datetime.now(UTC)
    start = now - timedelta(days=720)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM reports_report")
        first_report = cursor.fetchone()[0]  # seed_demo's own come before
        # A pool of descriptions and COPY's text format written by hand: the
        # Python side is most of the build's time.
        texts = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(997)]
        with raw.copy(f"COPY reports_report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
            chunk = []
            base = start.timestamp()
            for i in range(REPORTS):
                # Filed in order over two years; monitor1 files one in a hundred.
                at = datetime.fromtimestamp(base + i * 62, UTC).isoformat()
                occurred = datetime.fromtimestamp(base + i * 62 - 60 * (30 + i * 7919 % 2970), UTC).isoformat()
                author = monitors[0] if i % 100 == 0 else monitors[1 + i % 100]
                chunk.append(
                    f"{author}\tsubmitted\t{occurred}\t\\N\t{46.0 + rng.random() * 4}\t{32.0 + rng.random() * 8}"
                    f"\t500\tPlace {i % 5000}\t{REGIONS[i % len(REGIONS)]}\t{CATEGORIES[i % len(CATEGORIES)]}"
                    f"\t{texts[i % 997]}\t{parties[i % len(parties)]}\tdirect_observation\t0\t{i % 3}\t0\t0"
                    f"\t152 mm artillery\t{1 + i % 5}\t[]\t\t{at}\t{at}\t{at}\t\n")
                if len(chunk) == 10_000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))
        print(f"  reports: {REPORTS:,} by COPY in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        stages = ["verification"] * 20 + ["attribution"] * 10 + ["measures"] * 10 + ["closed"] * 60
        with raw.copy("COPY commission_case (reference, title, stage, opened_by_id, verifier_id, created_at, "
                      "stage_changed_at, verification_outcome, findings, outcome, summary, flagged, "
                      "attributed_party_id) FROM STDIN") as copy:
            for k in range(CASES):
                at = start + timedelta(seconds=k * 620 + 3600)
                stage = stages[k % 100]
                copy.write_row((
                    f"CASE-2025-{k + 1:06d}", f"Case {k + 1}: {' '.join(rng.choice(WORDS) for _ in range(4))}", stage,
                    verifier, verifier, at, at, "" if stage == "verification" else "confirmed",
                    "" if stage == "verification" else " ".join(rng.choice(WORDS) for _ in range(20)),
                    "decided" if stage == "closed" else "", "", k % 50 == 7,
                    parties[k % len(parties)] if stage in ("measures", "closed") else None))
        cursor.execute("SELECT id, stage, created_at, flagged FROM commission_case WHERE reference LIKE %s ORDER BY id",
                       ["CASE-2025-%"])
        cases = cursor.fetchall()
        with raw.copy("COPY commission_casereport (case_id, report_id, linked_by_id, linked_at, detach_reason) "
                      "FROM STDIN") as copy:
            for k, (case_id, _stage, at, _flagged) in enumerate(cases):
                for j in range(3):
                    copy.write_row((case_id, first_report + 10 * k + j, verifier, at, ""))
        with raw.copy("COPY commission_deadline (case_id, kind, due_at, status, created_at, pause_reason, "
                      "paused_from) FROM STDIN") as copy:
            for k, (case_id, stage, at, flagged) in enumerate(cases):
                status = "missed" if flagged else ("pending" if stage == "verification" else "met")
                due = (now + timedelta(hours=1 + k % 700)) if status == "pending" else at + timedelta(hours=72)
                copy.write_row((case_id, "verification", due, status, at, "", ""))
                if stage == "measures":
                    copy.write_row((case_id, "measures", now + timedelta(hours=2 + k % 300), "pending", at, "", ""))
        print(f"  cases: {CASES:,}, links, deadlines by COPY in {time.perf_counter() - t0:.1f} s", flush=True)
        with raw.copy("COPY notifications_notification (recipient_id, case_id, case_reference, kind, params, "
                      "subject, body, key, created_at, email) FROM STDIN") as copy:
            for n in range(NOTIFICATIONS):
                case_id, _stage, at, _flagged = cases[n]
                copy.write_row((chair, case_id, f"CASE-2025-{n + 1:06d}", "deadline_missed",
                                json.dumps({"case_title": "Case", "kind": "verification"}), "", "",
                                f"bench:{n}", at, "off"))


# --- Child: time the pages (runs in each tree) ----------------------------------------------------


def _urls(ids: dict) -> list[tuple[str, str, str]]:
    """(label, role's username, url)."""
    bbox = "34.0,47.0,35.0,48.0"
    return [
        ("home (chair)", "chair", "/"),
        ("home (verifier)", "verifier1", "/"),
        ("home (member)", "member1", "/"),
        ("home (monitor)", "monitor1", "/"),
        ("inbox (verifier)", "verifier1", "/inbox/"),
        ("inbox, newest first", "verifier1", "/inbox/?sort=newest"),
        ("cases (chair)", "chair", "/cases/"),
        ("cases ?stage=verification", "chair", "/cases/?stage=verification"),
        ("cases ?flagged=true", "chair", "/cases/?flagged=true"),
        ("cases ?overdue=true", "chair", "/cases/?overdue=true"),
        ("cases ?party=RU", "chair", "/cases/?party=RU"),
        ("cases ?admin1=Sumy Oblast", "chair", "/cases/?admin1=Sumy+Oblast"),
        ("cases ?opened_after", "chair", "/cases/?opened_after=2026-01-01T00:00:00Z"),
        ("cases ?search=bridge", "chair", "/cases/?search=bridge"),
        ("case page", "chair", f"/cases/{ids['case']}/"),
        ("board (chair)", "chair", "/board/"),
        ("my reports (monitor)", "monitor1", "/my/reports/"),
        ("API reports", "verifier1", "/api/v1/reports/"),
        ("API reports ?bbox", "verifier1", f"/api/v1/reports/?bbox={bbox}"),
        ("API reports ?occurred_after", "verifier1", "/api/v1/reports/?occurred_after=2026-06-01T00:00:00Z"),
        ("API reports ?search=bridge", "verifier1", "/api/v1/reports/?search=bridge"),
        ("API reports (monitor)", "monitor1", "/api/v1/reports/"),
        ("API cases", "chair", "/api/v1/cases/"),
        ("API cases ?stage=closed", "chair", "/api/v1/cases/?stage=closed"),
        ("API deadlines", "chair", "/api/v1/deadlines/"),
        ("API notifications", "chair", "/api/v1/notifications/"),
    ]


def child_time(repeat: int, budget_s: float) -> None:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    clients = {}
    ids = {"case": _scalar("SELECT max(id) FROM commission_case WHERE stage = 'attribution'")}
    results = []
    slowest = (0.0, None, None)
    for label, username, url in _urls(ids):
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        client = clients[username]
        # One request first, not counted: the process's first page loads the
        # URLconf, templates and translations, and each page warms its plans.
        client.get(url)
        times = []
        queries = None
        began = time.perf_counter()
        while len(times) < repeat and (not times or time.perf_counter() - began < budget_s):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                response = client.get(url, HTTP_ACCEPT="application/json" if "/api/" in url else "text/html")
                took = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
            times.append(took)
            queries = captured.captured_queries
        size = len(response.content)
        worst = max(queries, key=lambda q: float(q["time"]))
        if statistics.median(times) > slowest[0]:
            slowest = (statistics.median(times), label, worst["sql"])
        results.append((label, statistics.median(times), max(times), len(times), len(queries), size,
                        float(worst["time"]) * 1000))
        print(f"  {label:32s} median {statistics.median(times):8.1f} ms  max {max(times):8.1f} ms  "
              f"(n={len(times):2d})  {len(queries):3d} queries  {size / 1024:8.1f} KiB  "
              f"slowest query {float(worst['time']) * 1000:7.1f} ms", flush=True)
    _, label, sql = slowest
    print(f"\n  slowest page: {label}; its slowest query, EXPLAIN (ANALYZE, BUFFERS):")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        for (line,) in cursor.fetchall():
            # A prefetch's IN list of 40,000 ids says nothing more past its start.
            print("    " + (line if len(line) <= 400 else line[:400] + " ..."))
        # The ceiling: that query alone, through the driver, no Django around it.
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    print(f"  ceiling (PostgreSQL alone, that query through psycopg): median {statistics.median(times):.1f} ms")


def _scalar(sql: str):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def child(args) -> None:
    import django

    django.setup()
    if args.child == "build":
        child_build()
    else:
        child_time(args.repeat, args.budget)


# --- Parent --------------------------------------------------------------------------------------


def run_in(tree: Path, *argv: str, env: dict) -> None:
    subprocess.run([sys.executable, *argv], cwd=tree, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="a tree of the project to time first (the old code)")
    parser.add_argument("--database", default="bench_lists")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--repeat", type=int, default=15, help="requests per page (fewer if it is slow)")
    parser.add_argument("--budget", type=float, default=8.0, help="seconds per page at most (at least one request)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time an existing database (built with --keep)")
    parser.add_argument("--only", choices=["before", "after"], help="time one tree only")
    parser.add_argument("--child", choices=["build", "time"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    base = args.admin_url.rsplit("/", 1)[0]
    env = {**os.environ, "DATABASE_URL": f"{base}/{args.database}", "DJANGO_SETTINGS_MODULE": "config.settings",
           "DEBUG": "false", "LOG_LEVEL": "WARNING", "REDIS_URL": args.redis_url, "DB_CONN_MAX_AGE": "600",
           "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    if args.child:
        # The parent's environment (its database) as it was passed.
        sys.path.insert(0, os.getcwd())
        child(args)
        return 0

    me = str(Path(__file__).resolve())
    trees = ([("before", args.before.resolve())] if args.before else []) + [("after", ROOT)]
    if args.only:
        trees = [t for t in trees if t[0] == args.only]
    first = trees[0][1]
    if not args.reuse:
        print(f"building {args.database} with {first} ...", flush=True)
        t0 = time.perf_counter()
        recreate(args.admin_url, args.database)
        run_in(first, "manage.py", "migrate", "--noinput", "-v0", env=env)
        run_in(first, "manage.py", "seed_demo", "--password", "bench-lists-password", env={**env, "LOG_LEVEL": "ERROR"})
        run_in(first, me, "--child", "build", env=env)
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    try:
        for name, tree in trees:
            t0 = time.perf_counter()
            if name == "before":
                # A database kept from an earlier run has this tree's indexes: take them away first.
                for app, number in (("reports", "0006"), ("commission", "0012"), ("notifications", "0003")):
                    run_in(ROOT, "manage.py", "migrate", "--noinput", "-v0", app, number, env=env)
            run_in(tree, "manage.py", "migrate", "--noinput", "-v0", env=env)
            import psycopg

            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
                conn.execute("ANALYZE")
            with open("/proc/loadavg") as f:
                load = f.read().split()[:3]
            print(f"\n== {name}: {tree} (migrated in {time.perf_counter() - t0:.0f} s; load average "
                  f"{' '.join(load)})", flush=True)
            run_in(tree, me, "--child", "time", "--repeat", str(args.repeat), "--budget", str(args.budget), env=env)
    finally:
        if not args.keep:
            drop(args.admin_url, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
