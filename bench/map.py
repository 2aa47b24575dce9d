"""The map of the whole mission: GET /api/v1/map/clusters/ at 1,000,000
reports, at a zoom showing the whole front and at a close zoom, and
PostgreSQL's ceiling for the same aggregates (the bare SQL through psycopg,
the same number of clients) in the same run. Also the old map's answer
(reports.geojson: the newest 10,000) and the overview's charts before (two
group-bys by month over every report) and after (ReportDailyCount).

    nice -n 10 .venv/bin/python bench/map.py              # the figures in BENCHMARKS.md
    nice -n 10 .venv/bin/python bench/map.py --reuse      # keep the database of an earlier run

What it does:
1. (Re)creates its own database (default `bench_map`), migrates, seeds the
   demo, issues a token for verifier1 (a reader: sees every filed report).
2. COPYs --rows reports (along a front line from Kherson to Kharkiv, 5 %
   scattered over Ukraine; 96 % submitted, 2 % returned, 2 % drafts) by two
   monitors, runs `rebuild_report_counts` (what migration 0008 does on a
   live database), VACUUM ANALYZE.
3. For each view: wrk with --clients connections against gunicorn, then the
   view's bare aggregate SQL from as many psycopg threads: p50, p99, req/s.
Not part of the test suite.
"""

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from benchdb import recreate
from intake import ROOT, Gunicorn, Server, app_env, flush_redis, manage

LUA = Path(__file__).resolve().parent / "map.lua"
FRONT = [(46.5, 32.6), (46.8, 33.6), (47.4, 35.3), (47.8, 36.8), (48.3, 37.8), (48.9, 38.1), (49.6, 37.9),
         (50.2, 37.6), (50.4, 36.5)]
CATEGORIES = ["shelling", "drone_strike", "missile_strike", "air_strike", "small_arms_fire", "ground_assault",
              "mine_ied", "infrastructure_attack"]
# (label, zoom, bbox): what a 1280x800 map shows.
VIEWS = [
    ("whole front, zoom 6", 6, (24.0, 43.5, 44.0, 52.5)),
    ("region, zoom 9", 9, (35.0, 47.0, 37.5, 48.4)),
    ("close, zoom 13", 13, (35.40, 47.45, 35.62, 47.54)),
]


def front_point(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.05:
        return rng.uniform(44.5, 52.0), rng.uniform(22.5, 40.0)
    i = rng.randrange(len(FRONT) - 1)
    t = rng.random()
    (a_lat, a_lon), (b_lat, b_lon) = FRONT[i], FRONT[i + 1]
    lat = a_lat + (b_lat - a_lat) * t + rng.gauss(0, 0.12)
    lon = a_lon + (b_lon - a_lon) * t + rng.gauss(0, 0.18)
    return max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon))


def load(dsn: str, rows: int) -> float:
    rng = random.Random(7)
    now = datetime.now(UTC)
    start = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        users = dict(conn.execute("SELECT username, id FROM accounts_user WHERE username IN ('monitor1','monitor2')"))
        parties = [pk for (pk,) in conn.execute("SELECT id FROM accounts_party ORDER BY code")] + [None]
        columns = ("status, occurred_at, lat, lon, place_name, admin1, category, description, source_type, "
                   "civilian_killed, civilian_injured, military_killed, military_injured, weapons, links, "
                   "request_fingerprint, created_at, updated_at, submitted_at, author_id, alleged_party_id, "
                   "returned_reason")
        with conn.cursor().copy(f"COPY reports_report ({columns}) FROM STDIN") as copy:  # noqa: S608 (constant)
            for i in range(rows):
                lat, lon = front_point(rng)
                roll = rng.random()
                status = "draft" if roll < 0.02 else ("returned" if roll < 0.04 else "submitted")
                at = now - timedelta(minutes=rng.randrange(700 * 24 * 60))
                copy.write_row((status, at, lat, lon, "", "", rng.choice(CATEGORIES), f"bench report {i}",
                                "direct_observation", 0, 0, 0, 0, "", "[]", "", now, now, now,
                                users["monitor1" if i % 2 else "monitor2"], rng.choice(parties), ""))
    return time.perf_counter() - start


def wrk(url: str, clients: int, seconds: int, token: str) -> dict:
    env = dict(os.environ, BENCH_TOKEN=token)
    cmd = ["wrk", "--threads", str(min(clients, 2)), "--connections", str(clients), "--duration", f"{seconds}s",
           "--timeout", "10s", "--latency", "--script", str(LUA), url]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            out = json.loads(line.removeprefix("BENCH_RESULT "))
            return {"rps": out["requests"] / (out["duration_us"] / 1e6), "p50": out["p50_us"] / 1000,
                    "p99": out["p99_us"] / 1000, "bad": out["non_2xx_3xx"] + out["errors"]}
    raise SystemExit(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")


def captured_sql(env: dict, zoom: int, bbox) -> list[str]:
    """The SQL the endpoint runs for this view (Django's own, with values
    inlined), minus the session/role reads: the aggregate and the lone
    reports' references."""
    code = ("import json; from django.db import connection; from django.test.utils import CaptureQueriesContext; "
            "from accounts.models import User; from reports.selectors import report_clusters; "
            "u = User.objects.get(username='verifier1'); "
            "from accounts.roles import roles_of; roles_of(u); "
            "ctx = CaptureQueriesContext(connection); ctx.__enter__(); "
            f"report_clusters(u, zoom={zoom}, bbox={tuple(bbox)!r}, status='submitted'); ctx.__exit__(None, None, None); "
            "print('SQL', json.dumps([q['sql'] for q in ctx.captured_queries]))")
    out = manage(env, "shell", "-c", code)
    line = next(x for x in out.splitlines() if x.startswith("SQL "))
    return json.loads(line.removeprefix("SQL "))


def ceiling(dsn: str, statements: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run():
        with psycopg.connect(dsn, autocommit=True) as conn:
            mine = []
            while time.monotonic() < stop:
                t = time.perf_counter()
                for s in statements:
                    conn.execute(s).fetchall()
                mine.append(time.perf_counter() - t)
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)] * 1000, "bad": 0}


def once_ms(dsn: str, query: str, runs: int = 5) -> float:
    with psycopg.connect(dsn) as conn:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            conn.execute(query).fetchall()
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


OLD_CHART = ("SELECT date_trunc('month', r.occurred_at AT TIME ZONE 'UTC') AS period, p.code, count(r.id) "
             "FROM reports_report r LEFT JOIN accounts_party p ON p.id = r.alleged_party_id "
             "WHERE r.status = 'submitted' GROUP BY 1, 2 ORDER BY 1")
OLD_CHART_2 = ("SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AS period, category, count(id) "
               "FROM reports_report WHERE status = 'submitted' GROUP BY 1, 2 ORDER BY 1")
NEW_CHART = ("SELECT date_trunc('month', day) AS period, party, sum(n) FROM reports_reportdailycount "
             "WHERE status = 'submitted' GROUP BY 1, 2 HAVING sum(n) > 0 ORDER BY 1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="bench_map")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--server", type=Server.parse, default=Server.parse("sync:3"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    args = parser.parse_args()

    dsn = args.admin_url.rsplit("/", 1)[0] + "/" + args.db
    env = app_env(dsn, args.redis_url)
    flush_redis(args.redis_url)
    if not args.reuse:
        recreate(args.admin_url, args.db)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--password=bench-not-a-secret")
        print(f"COPY {args.rows:,} reports: {load(dsn, args.rows):.1f} s", flush=True)
        t = time.perf_counter()
        manage(env, "rebuild_report_counts")
        print(f"rebuild_report_counts: {time.perf_counter() - t:.1f} s", flush=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    out = manage(env, "shell", "-c", "from accounts.models import User; from accounts.services import token_issue; "
                 "print('token', token_issue(user=User.objects.get(username='verifier1'), label='bench')[1])")
    token = out.split("token ", 1)[1].split()[0]
    with psycopg.connect(dsn) as conn:
        counts = dict(conn.execute("SELECT status, count(*) FROM reports_report GROUP BY 1"))
        cells = conn.execute("SELECT count(*) FROM reports_reportmapcell").fetchone()[0]
        daily = conn.execute("SELECT count(*) FROM reports_reportdailycount").fetchone()[0]
    print(f"reports by status: {counts}; ReportMapCell rows: {cells:,}; ReportDailyCount rows: {daily:,}")
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}", flush=True)

    rows = []
    with Gunicorn(env, args.server, args.port, token):
        base = f"http://127.0.0.1:{args.port}/api/v1"
        for label, zoom, bbox in VIEWS:
            url = f"{base}/map/clusters/?status=submitted&zoom={zoom}&bbox={','.join(map(str, bbox))}"
            with urllib_open(url, token) as response:
                data = json.loads(response.read())
            total = sum(f["properties"]["count"] for f in data["features"])
            wrk(url, args.clients, 3, token)  # warm-up
            app = wrk(url, args.clients, args.seconds, token)
            statements = captured_sql(env, zoom, bbox)
            db = ceiling(dsn, statements, args.clients, args.seconds)
            rows.append((f"{label} ({data['source']}, {len(data['features'])} features, {total:,} reports)", app, db))
            print(rows[-1], flush=True)
        # The old map's source, once at a time (at 8 clients nothing finishes within wrk's 10 s timeout).
        url = f"{base}/reports.geojson?status=submitted"
        times = []
        for _ in range(3):
            t = time.perf_counter()
            with urllib_open(url, token) as response:
                size = len(response.read())
            times.append((time.perf_counter() - t) * 1000)
        print(f"before: reports.geojson (the newest 10,000 of them, {size / 1e6:.1f} MB), one client: "
              f"{statistics.median(times):.0f} ms median of 3", flush=True)
    print(f"\nload average: {Path('/proc/loadavg').read_text().strip()}")
    print(f"{'view':<78} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} | {'PG req/s':>8} {'PG p50':>7} {'PG p99':>7}")
    for label, app, db in rows:
        ceiling_text = f"{db['rps']:>8.1f} {db['p50']:>7.1f} {db['p99']:>7.1f}" if db else ""
        print(f"{label:<78} {app['rps']:>7.1f} {app['p50']:>8.1f} {app['p99']:>8.1f} | {ceiling_text}"
              + (f"  ({app['bad']} errors)" if app["bad"] else ""))
    before = once_ms(dsn, OLD_CHART) + once_ms(dsn, OLD_CHART_2)
    after = once_ms(dsn, NEW_CHART) * 2
    print(f"overview charts, one request: before (two group-bys over the reports) {before:.1f} ms; "
          f"after (ReportDailyCount) {after:.1f} ms")
    return 0


def urllib_open(url: str, token: str):
    import urllib.request

    return urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Token {token}"}),
                                  timeout=60)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
