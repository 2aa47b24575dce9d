"""Reads under load on the mission built by bench/scale.py (database bench_scale).

    .venv/bin/python bench/load.py                       # every path, 10 s each (the BENCHMARKS.md "Scale" figures)
    .venv/bin/python bench/load.py --paths 'cases|board' --duration 5 --out var/load.md

What it does:
1. Starts gunicorn (3 sync workers) on config.wsgi with the production
   settings (config.settings_production: DEBUG off, secure cookies, SSL
   redirect honoured through X-Forwarded-Proto: https, as behind the proxy),
   DATABASE_URL pointing at the mission. REQUIRE_2FA is off: the second
   factor is a sign-in step, not a per-request cost, and the bench signs in
   without one. BALLOT_SEALING_KEY is the key the builder sealed with.
2. Signs one user per role in (a session, made by Django's test client
   force_login, so nothing is written to the trail), and for each path and
   role: one request through gunicorn (time, bytes, status); the same
   request once through Django's test client in this process with
   CaptureQueriesContext (queries per request, their total time, the
   slowest); then wrk (bench/load.lua carries the session cookie) with 8
   connections, --warmup seconds untimed (every worker has then answered
   the path once), then --duration seconds: p50, p99, requests/s.
3. Prints a markdown table, and EXPLAIN (ANALYZE, BUFFERS) of the slowest
   query of the --explain slowest paths (by p50): the ceiling, what
   PostgreSQL alone takes for that query.

A path that answers 404 (e.g. /api/v1/map/clusters/ before it exists) is
skipped with a note. Nothing is written to the database but sessions.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
import timeit
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

# Role -> the user who plays it (bench/scale.py's people).
USERS = {"monitor": "monitor1", "verifier": "verifier1", "member": "member1", "chair": "chair",
         "auditor": "auditor1", "party_representative": "rep_ru1"}
BBOX = "36.5,47.5,38.5,49.0"  # Donetsk front, min_lon,min_lat,max_lon,max_lat


def path_plan(ids: dict) -> list[tuple[str, list[str]]]:
    """(path, roles): who reads what, day to day."""
    now = datetime.now(UTC)
    d90 = (now - timedelta(days=90)).strftime("%Y-%m-%d")
    y2 = (now - timedelta(days=730)).strftime("%Y-%m-%d")
    t30 = (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    case, report, ref = ids["case"], ids["report"], ids["case_reference"]
    return [
        ("/", ["monitor", "verifier", "member", "chair", "auditor", "party_representative"]),
        ("/my/reports/", ["monitor"]),
        ("/inbox/", ["verifier", "chair"]),
        ("/inbox/?search=shelling", ["verifier"]),
        ("/cases/", ["verifier", "member", "chair", "auditor"]),
        ("/cases/?stage=attribution", ["member"]),
        ("/cases/?party=RU", ["member"]),
        ("/cases/?admin1=Donetsk+Oblast", ["member"]),
        (f"/cases/?opened_after={d90}", ["member"]),
        (f"/cases/?opened_before={y2}", ["member"]),
        ("/cases/?flagged=true", ["chair"]),
        ("/cases/?overdue=true", ["chair"]),
        # A common word (a third of the cases) and a word no case has: the
        # search pages in the list's order (config.search), so the first
        # fills its page from the newest rows; the second would walk every
        # row but for text_search's probe of the matching ids (this row
        # shows that it stays so).
        ("/cases/?search=shelling", ["member"]),
        ("/cases/?search=shellign", ["member"]),
        (f"/cases/{case}/", ["verifier", "member", "chair", "auditor"]),
        # A representative reads a case they are heard on through its hearing
        # page (the case page answers them 403, which is what this row timed before).
        (f"/cases/{case}/reply/", ["party_representative"]),
        ("/board/", ["chair"]),
        ("/overview/", ["member", "chair"]),
        # Not /api/v1/reports.geojson: since issue 14 it is the full export
        # (352 MB at the mission's size; 177 MB for the Donetsk front's bbox),
        # timed by bench/export.py. Under wrk no request finished within a
        # row, which made it the "slowest" row and its plan the session's.
        # The map reads the clusters.
        (f"/api/v1/map/clusters/?zoom=7&bbox={BBOX}", ["member"]),
        ("/trail/", ["auditor"]),
        ("/trail/?action=ballot.cast", ["auditor"]),
        (f"/trail/?case={ref}", ["auditor"]),
        (f"/trail/?actor=verifier1&date_from={d90}", ["auditor"]),
        ("/api/v1/audit/events/", ["auditor"]),
        ("/api/v1/audit/verify/", ["auditor"]),
        ("/api/v1/audit/events/?action=ballot.cast", ["auditor"]),
        (f"/api/v1/cases/{case}/trail/", ["auditor"]),
        (f"/api/v1/reports/?bbox={BBOX}&occurred_after={t30}", ["verifier", "monitor"]),
        ("/api/v1/reports/?category=shelling&alleged_party=RU", ["verifier"]),
        ("/api/v1/reports/?search=shelling", ["verifier"]),
        ("/api/v1/reports/?search=shellign", ["verifier"]),
        ("/api/v1/cases/", ["member"]),
        ("/api/v1/cases/?stage=measures&party=RU", ["member"]),
        ("/api/v1/deadlines/", ["chair", "verifier"]),
        ("/api/v1/notifications/", ["member", "chair"]),
        (f"/api/v1/reports/{report}/", ["verifier"]),
    ]


def sealing_key() -> str:
    """The key bench/scale.py sealed ballots with: derived from the
    development SECRET_KEY (commission.sealing), as the build ran."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from config.settings import DEV_SECRET_KEY
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ceasefire ballot sealing").derive(
        DEV_SECRET_KEY.encode())
    return base64.urlsafe_b64encode(derived).decode()


def audit_signing_key() -> str:
    """The bench's trail signing key (hex), derived like the sealing key."""
    import hashlib

    from config.settings import DEV_SECRET_KEY
    return hashlib.sha256(b"bench audit signing key:" + DEV_SECRET_KEY.encode()).hexdigest()


def interpreter() -> str:
    """Which Python serves, and how fast it is: gunicorn runs from this
    interpreter's environment (VENV_BIN). The same code answered 14-18 % less
    CPU a page on a distribution's CPython (built with PGO and LTO) than on
    one compiled without them (BENCHMARKS.md, "The interpreter"), so a table
    says which one it timed."""
    per_loop = min(timeit.repeat("sum(range(100))", number=100_000, repeat=5)) / 100_000
    return (f"Python {platform.python_version()} ({sys.base_prefix}), "
            f"`sum(range(100))` {per_loop * 1e9:.0f} ns")


def app_env(args) -> dict:
    import secrets

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_production",
        DATABASE_URL=f"{args.pg}/{args.database}",
        REDIS_URL=args.redis_url,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL="ERROR",
        DB_CONN_MAX_AGE="600",
        SECRET_KEY=secrets.token_urlsafe(64),
        # One key for every run on this mission: the trail's verified points
        # are signed with it, and a point signed with another key is refused,
        # which would put every /trail/ view back on a full pass.
        AUDIT_SIGNING_KEY=os.environ.get("BENCH_AUDIT_SIGNING_KEY") or audit_signing_key(),
        BALLOT_SEALING_KEY=sealing_key(),
        REQUIRE_2FA="false",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    env.pop("DEBUG", None)
    return env


class Gunicorn:
    def __init__(self, env: dict, port: int, workers: int):
        self.env, self.port, self.workers = env, port, workers
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--worker-class", "sync", "--backlog", "2048", "--timeout", "120",
             "--log-level", "warning"], env=self.env, cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("gunicorn exited at start (is the port taken?)")
            try:
                # As behind the proxy: without it, production settings redirect to https.
                with urllib.request.urlopen(urllib.request.Request(
                        f"http://127.0.0.1:{self.port}/signin/", headers={"X-Forwarded-Proto": "https"}), timeout=5):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:  # not listening yet, or a timeout while it starts
                time.sleep(0.3)
        self.__exit__()
        raise SystemExit("gunicorn did not answer within 60 s")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def one_request(port: int, path: str, cookie: str) -> tuple[int, float, int]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={
        "Cookie": cookie, "X-Forwarded-Proto": "https", "Accept-Language": "en"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return status, (time.perf_counter() - t0) * 1000, len(body)


def wrk(port: int, path: str, cookie: str, *, connections: int, duration: float) -> dict:
    done = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:.0f}s", "--timeout", "30s",
         "-s", str(ROOT / "bench" / "load.lua"), f"http://127.0.0.1:{port}{path}"],
        env=dict(os.environ, BENCH_COOKIE=cookie), capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    raise SystemExit(f"wrk said nothing usable for {path}:\n{done.stdout}\n{done.stderr}")


def counted(client, path: str) -> dict:
    """The request once in this process: its queries, their time, the slowest."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, secure=True, HTTP_ACCEPT_LANGUAGE="en")
    queries = [(float(q["time"]), q["sql"]) for q in ctx.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    return {"status": response.status_code, "queries": len(queries), "db_ms": sum(t for t, _ in queries) * 1000,
            "slowest_ms": slowest[0] * 1000, "slowest_sql": slowest[1]}


def explain(sql: str) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return "(not a SELECT)"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def sample_ids() -> dict:
    """A case in attribution naming RU (its representative may read it), with
    an open round, and one of its reports."""
    from commission.models import Case, Round

    rnd = (Round.objects.filter(status="open", case__stage="attribution",
                                case__links__report__alleged_party__code="RU")
           .select_related("case").order_by("-id").first())
    case = rnd.case if rnd else Case.objects.filter(stage="attribution").order_by("-id").first()
    report = case.links.order_by("id").first().report_id
    return {"case": case.pk, "case_reference": case.reference, "report": report}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="bench_scale")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--port", type=int, default=8714)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10, help="seconds of wrk per path and role")
    parser.add_argument("--warmup", type=float, default=2,
                        help="seconds of untimed wrk on each path and role before its timed run (0: none)")
    parser.add_argument("--paths", default="", help="regular expression: only the paths it matches")
    parser.add_argument("--roles", default="", help="comma-separated roles (default: each path's readers)")
    parser.add_argument("--explain", type=int, default=5, help="EXPLAIN the slowest query of the N slowest paths")
    parser.add_argument("--out", help="also write the report (markdown) to this file")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the full verification (and its verified point) before the run")
    args = parser.parse_args()

    env = app_env(args)
    if not args.no_verify:
        # What beat does every AUDIT_VERIFY_INTERVAL: a full pass that leaves a
        # signed verified point, from which the page and the API check only
        # what came after (not timed; its own figures are in "Audit trail").
        started = time.monotonic()
        subprocess.run([sys.executable, "manage.py", "verify_audit"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"verify_audit (full pass, signed verified point): {time.monotonic() - started:.0f} s", flush=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User

    ids = sample_ids()
    plan = path_plan(ids)
    if args.paths:
        plan = [(p, r) for p, r in plan if re.search(args.paths, p)]
    if args.roles:
        wanted = set(args.roles.split(","))
        plan = [(p, [r for r in roles if r in wanted]) for p, roles in plan]
    clients, cookies = {}, {}
    for role, username in USERS.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[role] = client
        cookies[role] = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())

    load = Path("/proc/loadavg").read_text().split()[:3]
    lines = [f"bench/load.py on {args.database}: gunicorn {args.workers} sync workers, config.settings_production, "
             f"wrk {args.connections} connections x {args.duration:.0f} s per row; load average at start "
             f"{' '.join(load)}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {interpreter()}", "",
             "| path | role | status | 1 request ms | bytes | p50 ms | p99 ms | req/s | queries | DB ms (1 req) |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    print("\n".join(lines), flush=True)
    notes, rows = [], []
    with Gunicorn(env, args.port, args.workers):
        # Warm every worker, not timed: a worker's first request loads the
        # URL conf, templates and translations (hundreds of ms). The single
        # request of each row reaches one worker only, so the first row's
        # p99 held the others' first requests (the monitor's home: 441-941 ms
        # p99 as the first row, against its 29 ms in process).
        wrk(args.port, "/", cookies["monitor"], connections=args.connections, duration=3)
        for path, roles in plan:
            for role in roles:
                status, ms, size = one_request(args.port, path, cookies[role])
                if status == 404:
                    notes.append(f"- `{path}` ({role}) answers 404: skipped (not there on this branch).")
                    print(notes[-1], flush=True)
                    break
                count = counted(clients[role], path)
                if args.warmup:
                    # Untimed: every worker answers this path once before the timed run
                    # (a worker's first page of a kind loads its templates and
                    # translations). Without it, an 8-second row's p99 held those few
                    # first requests: the member's overview 317-375 ms against the
                    # chair's 222-242 ms right after it, the same page.
                    wrk(args.port, path, cookies[role], connections=args.connections, duration=args.warmup)
                figures = wrk(args.port, path, cookies[role], connections=args.connections,
                              duration=args.duration)
                rps = figures["requests"] / (figures["duration_us"] / 1e6)
                row = {"path": path, "role": role, "status": status, "ms": ms, "bytes": size,
                       "p50": figures["p50_us"] / 1000, "p99": figures["p99_us"] / 1000, "rps": rps,
                       "non2xx": figures["non2xx"], **count}
                rows.append(row)
                bad = f" ({figures['non2xx']} non-2xx)" if figures["non2xx"] else ""
                line = (f"| `{path}` | {role} | {status}{bad} | {ms:,.0f} | {size:,} | {row['p50']:,.0f} | "
                        f"{row['p99']:,.0f} | {rps:,.1f} | {count['queries']} | {count['db_ms']:,.0f} |")
                lines.append(line)
                print(line, flush=True)
    lines += ["", *notes]
    # A row where no request completed within the run (p50 0) is the slowest of all.
    slowest = sorted(rows, key=lambda r: -(r["p50"] if r["p50"] else float("inf")))[:args.explain]
    if slowest:
        lines += ["", f"Slowest query of the {len(slowest)} slowest rows (by p50), EXPLAIN (ANALYZE, BUFFERS):"]
    for row in slowest:
        lines += ["", f"`{row['path']}` ({row['role']}): p50 {row['p50']:,.0f} ms; its slowest query "
                      f"{row['slowest_ms']:,.0f} ms of {row['db_ms']:,.0f} ms in {row['queries']} queries", "",
                  "```sql", row["slowest_sql"][:1500] + (" ..." if len(row["slowest_sql"]) > 1500 else ""), "```",
                  "```", explain(row["slowest_sql"]), "```"]
    report = "\n".join(lines)
    print("\n".join(lines[4 + len(rows):]))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # var/ is not in a fresh clone
        Path(args.out).write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
