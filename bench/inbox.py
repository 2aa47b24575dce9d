"""How long the verifier's inbox takes on a mission-sized set, with a cluster of identical clones.

    nice -n 10 .venv/bin/python bench/inbox.py --before /work/wt/h-inbox-before   # before and after, back to back
    nice -n 10 .venv/bin/python bench/inbox.py                                     # this tree only
    nice -n 10 .venv/bin/python bench/inbox.py --reuse --keep --profile newest     # cProfile of one page

`--before DIR` is another tree of the project (e.g. `git archive main | tar
-x -C DIR`), timed first on the same data; then this tree's migrations run on
the same database (its indexes, if any) and this tree is timed.

What it does:
1. (Re)creates its own database `bench_inbox`, migrates it with the first
   tree, runs seed_demo, and fills it by COPY: --reports (100,000) reports
   over three years at the hot spots of bench/scale.py (gaussian, a few km;
   its category and party shares; 2 % drafts, 1 % returned), --cases
   (10,000) cases of two reports each (20 % in verification), and a cluster
   of --clones (1,250) identical reports, one place, one time, one category,
   filed in the last hour (an import that sent the same row 1,250 times):
   the newest first page of the inbox is 50 of them, each the duplicate of
   the 1,249 others. VACUUM ANALYZE.
2. For each tree, in a child process of that tree: the Django test client
   (DEBUG off, real middleware, a warm process: one request first, not
   counted) asks each inbox page and the similar API as verifier1,
   --repeat times (fewer past --budget seconds); prints p50, p99 (nearest
   rank) and max, the queries per request and the bytes, then
   EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the two main pages.
   With --walk, also the time to page through the whole clone cluster
   (every "older" link of ?sort=newest until past the clones).
3. Drops the database (unless --keep).
"""

import argparse
import cProfile
import io
import math
import os
import pstats
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import drop, recreate  # noqa: E402 (after the path set-up)
from scale import CATEGORIES, HOTSPOTS, PARTIES_MIX, SOURCES, WEAPONS, weighted  # noqa: E402

YEARS = 3
REPORT_COLUMNS = (
    "author_id", "status", "occurred_at", "occurred_until", "lat", "lon", "precision_m", "place_name", "admin1",
    "category", "description", "alleged_party_id", "source_type", "civilian_killed", "civilian_injured",
    "military_killed", "military_injured", "weapons", "severity", "links", "request_fingerprint", "created_at",
    "updated_at", "submitted_at", "returned_reason", "returned_by_id", "returned_at")
STAGES = ["verification"] * 20 + ["attribution"] * 10 + ["measures"] * 10 + ["closed"] * 60


# --- Child: build (runs in the first tree) ------------------------------------------------------


def child_build(n_reports: int, n_cases: int, n_clones: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import Party, User
    from accounts.roles import MONITOR

    rng = random.Random(14)
    group = Group.objects.get(name=MONITOR)
    monitors = [User.objects.get(username="monitor1").pk]
    for i in range(50):
        user = User.objects.create_user(username=f"bench_monitor{i}", email=f"bm{i}@example.org")
        user.groups.add(group)
        monitors.append(user.pk)
    parties = {p.code: p.pk for p in Party.objects.all()}
    verifier = User.objects.get(username="verifier1").pk
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365 * YEARS)
    span = (now - timedelta(hours=6) - start).total_seconds()
    hot_weights = [h[4] for h in HOTSPOTS]
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM reports_report")
        first_report = cursor.fetchone()[0]  # seed_demo's own come before
        submitted = []  # ids of bulk submitted reports, for the cases
        with raw.copy(f"COPY reports_report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
            # Filing times rising over the years (bench/scale.py's density), in order.
            times = sorted(span * ((-0.7 + (0.49 + 1.2 * rng.random()) ** 0.5) / 0.6) for _ in range(n_reports))
            for i, seconds in enumerate(times):
                created = start + timedelta(seconds=seconds)
                lat, lon, admin1, place, _w = rng.choices(HOTSPOTS, hot_weights)[0]
                category = weighted(rng, CATEGORIES)
                party = weighted(rng, PARTIES_MIX)
                occurred = created - timedelta(minutes=rng.randint(20, 60 * 48))
                until = occurred + timedelta(minutes=rng.randint(1, 90)) if i % 4 == 0 else None
                roll = rng.random()
                status = "draft" if roll < 0.02 else "returned" if roll < 0.03 else "submitted"
                if status == "submitted":
                    submitted.append(first_report + i)
                copy.write_row((
                    rng.choice(monitors), status, occurred, until, round(lat + rng.gauss(0, 0.06), 5),
                    round(lon + rng.gauss(0, 0.09), 5), rng.choice([10, 50, 100, 500, 1000, 5000]),
                    f"near {place}", admin1, category,
                    f"{category.replace('_', ' ').capitalize()} reported near {place} at {occurred:%H:%M}.",
                    parties.get(party), weighted(rng, SOURCES), 0, rng.choice([0, 0, 0, 1, 2]), 0, 0,
                    rng.choice(WEAPONS.get(category, [""])), rng.randint(1, 5), "[]", "", created, created,
                    None if status == "draft" else created,
                    "Where exactly?" if status == "returned" else "",
                    verifier if status == "returned" else None,
                    created + timedelta(hours=3) if status == "returned" else None))
            # The clones: one row sent n_clones times by an import, filed a second apart in the last hour.
            occurred = now - timedelta(hours=5)
            for k in range(n_clones):
                at = now - timedelta(minutes=59) + timedelta(seconds=k)
                submitted.append(first_report + n_reports + k)
                copy.write_row((
                    monitors[1], "submitted", occurred, None, 48.28, 37.18, 100, "near Pokrovsk", "Donetsk Oblast",
                    "shelling", "Shelling reported near Pokrovsk; impacts observed.", parties["RU"],
                    "direct_observation", 0, 1, 0, 0, "152mm artillery", 3, "[]", "", at, at, at, "", None, None))
        print(f"  reports: {n_reports:,} and {n_clones:,} clones by COPY in {time.perf_counter() - t0:.1f} s",
              flush=True)
        t0 = time.perf_counter()
        bulk = submitted[:len(submitted) - n_clones]
        linked = rng.sample(bulk, min(2 * n_cases, len(bulk)))
        with raw.copy("COPY commission_case (reference, title, stage, opened_by_id, verifier_id, created_at, "
                      "stage_changed_at, verification_outcome, findings, outcome, summary, flagged, "
                      "attributed_party_id) FROM STDIN") as copy:
            for k in range(len(linked) // 2):
                at = start + timedelta(seconds=span * (k + 0.5) / n_cases)
                stage = STAGES[k % 100]
                copy.write_row((
                    f"CASE-BENCH-{k + 1:06d}", f"Case {k + 1}", stage, verifier, verifier, at, at,
                    "" if stage == "verification" else "confirmed", "", "decided" if stage == "closed" else "", "",
                    False, parties["RU"] if stage in ("measures", "closed") else None))
        cursor.execute("SELECT id, created_at FROM commission_case WHERE reference LIKE 'CASE-BENCH-%%' ORDER BY id")
        cases = cursor.fetchall()
        with raw.copy("COPY commission_casereport (case_id, report_id, linked_by_id, linked_at, detach_reason) "
                      "FROM STDIN") as copy:
            for k, (case_id, at) in enumerate(cases):
                for j in (0, 1):
                    copy.write_row((case_id, linked[2 * k + j], verifier, at, ""))
        print(f"  cases: {len(cases):,} with {2 * len(cases):,} reports by COPY in {time.perf_counter() - t0:.1f} s",
              flush=True)


# --- Child: time the pages (runs in each tree) ----------------------------------------------------


def _ids() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        # A normal inbox report with candidates (the hot spots' density), and a clone.
        cursor.execute("SELECT min(id), max(id) FROM reports_report "
                       "WHERE description LIKE 'Shelling reported near Pokrovsk;%%'")
        first_clone, clone = cursor.fetchone()
        # The newest report before the clones with two or more neighbours of its category (a normal card).
        cursor.execute("SELECT r.id FROM reports_report r WHERE r.status = 'submitted' AND r.id < %s AND ("
                       "SELECT count(*) FROM reports_report o WHERE o.status = 'submitted' AND o.id <> r.id "
                       "AND o.category = r.category AND o.occurred_at BETWEEN r.occurred_at - interval '3 hours' "
                       "AND r.occurred_at + interval '3 hours' AND abs(o.lat - r.lat) < 0.02 "
                       "AND abs(o.lon - r.lon) < 0.03) >= 2 ORDER BY r.id DESC LIMIT 1", [first_clone])
        normal = cursor.fetchone()[0]
    return {"clone": clone, "normal": normal}


def _urls(ids: dict) -> list[tuple[str, str]]:
    return [
        ("inbox, oldest first", "/inbox/"),
        ("inbox, newest first (clones)", "/inbox/?sort=newest"),
        ("inbox, by time of the incident", "/inbox/?sort=occurred"),
        ("inbox ?category=drone_strike", "/inbox/?category=drone_strike"),
        ("inbox, newest drone strikes", "/inbox/?sort=newest&category=drone_strike"),
        ("inbox ?duplicates=on", "/inbox/?duplicates=on"),
        ("API similar (a report)", f"/api/v1/reports/{ids['normal']}/similar/"),
        ("API similar (a clone)", f"/api/v1/reports/{ids['clone']}/similar/"),
    ]


def _p(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _older(html: str) -> str | None:
    """The pager's "older" link of an inbox page (the keyset pager's markup)."""
    for href, text in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]*)</a>', html):
        if "cursor=" in href and "lder" in text:
            return href.replace("&amp;", "&")
    return None


def child_time(repeat: int, budget_s: float, walk: bool, profile: str | None) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(User.objects.get(username="verifier1"))
    ids = _ids()
    urls = _urls(ids)
    if profile:
        label, url = next((label, url) for label, url in urls if profile in label)
        client.get(url)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            client.get(url)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(int(os.environ.get("BENCH_PROFILE_LINES", "35")))
        print(f"  cProfile, 3 requests of {label} ({url}):\n{out.getvalue()}")
        return
    worst_sql = {}
    for label, url in urls:
        accept = "application/json" if "/api/" in url else "text/html"
        client.get(url, HTTP_ACCEPT=accept)  # warm: plans, templates, translations
        times, cpu = [], []
        began = time.perf_counter()
        while len(times) < repeat and (not times or time.perf_counter() - began < budget_s):
            with CaptureQueriesContext(connection) as captured:
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(url, HTTP_ACCEPT=accept)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
        queries = captured.captured_queries
        worst = max(queries, key=lambda q: float(q["time"]))
        worst_sql[label] = worst["sql"]
        # Wall time, and this process's CPU time (Python's share: what other sessions' load does not stretch).
        print(f"  {label:34s} p50 {_p(times, 0.5):8.1f} ms  p99 {_p(times, 0.99):8.1f} ms  max {max(times):8.1f} ms"
              f"  python p50 {_p(cpu, 0.5):7.1f} ms  (n={len(times):2d})  {len(queries):3d} queries"
              f" (DB {sum(float(q['time']) for q in queries) * 1000:6.1f} ms)  {len(response.content) / 1024:7.1f} KiB"
              f"  slowest query {float(worst['time']) * 1000:6.1f} ms", flush=True)
    if walk:
        # Page through the clone cluster as a verifier would: every "older" link from the newest.
        url, pages, t0 = "/inbox/?sort=newest", 0, time.perf_counter()
        clone_ids = set()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM reports_report WHERE description LIKE 'Shelling reported near Pokrovsk;%%'")
            clone_ids = {row[0] for row in cursor.fetchall()}
        while url:
            html = client.get(url).content.decode()
            pages += 1
            shown = {int(i) for i in re.findall(r'name="reports" value="(\d+)"', html)}
            if not shown & clone_ids:
                break
            url = _older(html)
        print(f"  walking the {len(clone_ids):,} clones, newest first: {pages} pages in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
    for label in ("inbox, oldest first", "inbox, newest first (clones)"):
        print(f"\n  {label}: its slowest query, EXPLAIN (ANALYZE, BUFFERS):")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + worst_sql[label])
            lines = [line for (line,) in cursor.fetchall()]
        # The OR of fifty cuts repeats the same few nodes fifty times: the head and the totals say it.
        shown = lines if len(lines) <= 60 else [*lines[:45], f"... ({len(lines) - 48} lines more)", *lines[-3:]]
        for line in shown:
            print("    " + (line if len(line) <= 300 else line[:300] + " ..."))


def child(args) -> None:
    import django

    django.setup()
    if args.child == "build":
        child_build(args.reports, args.cases, args.clones)
    else:
        child_time(args.repeat, args.budget, args.walk, args.profile)


# --- Parent --------------------------------------------------------------------------------------


def run_in(tree: Path, *argv: str, env: dict) -> None:
    subprocess.run([sys.executable, *argv], cwd=tree, env=env, check=True)


def latest_migrations(tree: Path) -> dict[str, str]:
    """app -> the name of its newest migration in `tree` (to migrate a kept database back to it)."""
    out = {}
    for app in ("reports", "commission"):
        names = sorted(p.stem for p in (tree / app / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py"))
        out[app] = names[-1]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="a tree of the project to time first (the old code)")
    parser.add_argument("--database", default="bench_inbox")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--clones", type=int, default=1_250)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--repeat", type=int, default=30, help="requests per page (fewer if it is slow)")
    parser.add_argument("--budget", type=float, default=15.0, help="seconds per page at most (at least one request)")
    parser.add_argument("--walk", action="store_true", help="also page through the whole clone cluster")
    parser.add_argument("--profile", help="cProfile 3 requests of the page whose label contains this, nothing else")
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
        sys.path.insert(0, os.getcwd())
        child(args)
        return 0

    me = str(Path(__file__).resolve())
    trees = ([("before", args.before.resolve())] if args.before else []) + [("after", ROOT)]
    if args.only:
        trees = [t for t in trees if t[0] == args.only]
    import psycopg

    if not args.reuse:
        first = trees[0][1]
        print(f"building {args.database} with {first} ...", flush=True)
        t0 = time.perf_counter()
        recreate(args.admin_url, args.database)
        run_in(first, "manage.py", "migrate", "--noinput", "-v0", env=env)
        run_in(first, "manage.py", "seed_demo", "--password", "bench-inbox-password",
               env={**env, "LOG_LEVEL": "ERROR"})
        run_in(first, me, "--child", "build", "--reports", str(args.reports), "--cases", str(args.cases),
               "--clones", str(args.clones), env=env)
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            inbox = conn.execute(
                "SELECT count(*) FROM reports_report r WHERE status = 'submitted' AND NOT EXISTS (SELECT 1 FROM "
                "commission_casereport l WHERE l.report_id = r.id AND l.detached_at IS NULL)").fetchone()[0]
        print(f"built in {time.perf_counter() - t0:.0f} s; {inbox:,} reports in the inbox", flush=True)
    try:
        for name, tree in trees:
            t0 = time.perf_counter()
            if name == "before":
                # A database kept from an earlier run may have this tree's indexes: take them away first.
                for app, migration in latest_migrations(tree).items():
                    run_in(ROOT, "manage.py", "migrate", "--noinput", "-v0", app, migration, env=env)
            run_in(tree, "manage.py", "migrate", "--noinput", "-v0", env=env)
            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
                conn.execute("ANALYZE")
            with open("/proc/loadavg") as f:
                load = f.read().split()[:3]
            print(f"\n== {name}: {tree} (migrated in {time.perf_counter() - t0:.0f} s; load average "
                  f"{' '.join(load)})", flush=True)
            argv = ["--child", "time", "--repeat", str(args.repeat), "--budget", str(args.budget)]
            argv += ["--walk"] if args.walk else []
            argv += ["--profile", args.profile] if args.profile else []
            run_in(tree, me, *argv, env=env)
    finally:
        if not args.keep:
            drop(args.admin_url, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
