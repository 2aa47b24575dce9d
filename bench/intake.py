"""Report intake through the real stack, and the database's own ceiling.

    .venv/bin/python bench/intake.py                     # the figures in BENCHMARKS.md
    .venv/bin/python bench/intake.py --sweep sync:3,sync:4,sync:5,gthread:3x4
    .venv/bin/python bench/intake.py --profile var/intake.collapsed   # needs py-spy

What it does, in one run:
1. (Re)creates its own PostgreSQL database (default `bench_intake`), migrates it,
   seeds the demo (`seed_demo --password ...`) and issues a token for monitor1.
2. Starts gunicorn on config.wsgi with config.settings, DEBUG=false (no SSL
   redirect: this is the app, not the TLS front), persistent DB connections.
3. Drives `POST /api/v1/reports/` with wrk (token auth, a valid JSON body, one new
   report per request) at 1, 16 and 64 connections, each after a short warm-up,
   and prints requests/s, p50/p99 latency, non-2xx answers and the rows that
   really reached the table.
4. Inserts the same rows straight through psycopg, one transaction per row
   (INSERT report + INSERT audit event, as the app does), from 16 threads each
   with its own connection: the database's ceiling on this machine. Prints the
   ratio app / ceiling at 16 clients.

Needs: wrk (`apt-get install -y wrk`), a local PostgreSQL the `postgres` role can
create databases in, a local Redis (reports may enqueue follow-up tasks; a
bench-only Redis database is flushed at start). Not part of the test suite.
"""

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from benchdb import recreate
from psycopg import sql
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "intake.lua"


@dataclass
class Server:
    kind: str  # sync or gthread
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> "Server":
        """'sync:4' or 'gthread:3x4' (workers x threads)."""
        kind, _, size = text.partition(":")
        if kind not in ("sync", "gthread") or not size:
            raise argparse.ArgumentTypeError(f"{text!r}: use sync:N or gthread:NxT")
        workers, _, threads = size.partition("x")
        return cls(kind, int(workers), int(threads or 1))

    def __str__(self) -> str:
        return f"{self.kind}:{self.workers}" + (f"x{self.threads}" if self.kind == "gthread" else "")


@dataclass
class Result:
    label: str
    clients: int
    seconds: float
    requests: int
    rows: int
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    cpu: dict | None = None  # CPU ms per created report, by process kind

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def report_body() -> dict:
    occurred = datetime.now(UTC) - timedelta(hours=2)
    return {
        "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
        "location": {"lat": 47.5689, "lon": 35.8612, "precision_m": 500,
                     "place_name": "Orikhiv", "admin1": "Zaporizhzhia Oblast"},
        "category": "shelling",
        "description": "Artillery impacts on the northern outskirts, about twelve rounds over 20 minutes.",
        "alleged_party": "RU",
        "source_type": "direct_observation",
        "casualties": {"civilian_killed": 0, "civilian_injured": 2, "military_killed": 0, "military_injured": 0},
        "weapons": "152 mm artillery",
        "severity": 3,
        "links": ["https://example.org/observation/1"],
    }


# --- set-up -----------------------------------------------------------------

def app_env(database_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="ERROR",  # a 4xx per request would flood the terminal
        DB_CONN_MAX_AGE="600",
        SECRET_KEY=secrets.token_urlsafe(64),
        AUDIT_SIGNING_KEY=secrets.token_hex(32),
    )
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(env: dict) -> str:
    """Migrate, seed, and return monitor1's token."""
    manage(env, "migrate", "--noinput")
    # "--password=…": a random password may start with "-", which argparse would take for an option.
    manage(env, "seed_demo", f"--password={secrets.token_urlsafe(16)}")
    # Issued by the accounts service, as the token endpoint does (hashed at rest;
    # the key is printed once here and never readable again).
    out = manage(env, "shell", "-c", "from accounts.models import User; from accounts.services import token_issue; "
                 "print('token', token_issue(user=User.objects.get(username='monitor1'), label='bench')[1])")
    match = re.search(r"token (\w+)", out)
    if not match:
        raise SystemExit(f"no token in: {out!r}")
    return match.group(1)


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


# --- the server -------------------------------------------------------------

# A gunicorn config hook, used only by --no-seal-on-commit: after the app is
# loaded in a worker, stop audit_record from sealing after each commit (the
# beat task's job then), to see what on-commit sealing costs.
NO_SEAL_HOOK = """
def post_worker_init(worker):
    import audit.services
    audit.services.SEAL_ON_COMMIT = False
"""


class Gunicorn:
    def __init__(self, env: dict, server: Server, port: int, token: str, seal_on_commit: bool = True):
        self.env, self.server, self.port, self.token = env, server, port, token
        self.seal_on_commit = seal_on_commit
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        cmd = [
            str(VENV_BIN / "gunicorn"), "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.server.workers),
            "--worker-class", self.server.kind,
            "--threads", str(self.server.threads),
            "--backlog", "2048",
            "--timeout", "60",
            "--log-level", "warning",
        ]
        if not self.seal_on_commit:
            hook = ROOT / "var" / "bench_no_seal_gunicorn.py"
            hook.parent.mkdir(exist_ok=True)
            hook.write_text(NO_SEAL_HOOK)
            cmd += ["--config", str(hook)]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/me/", headers={"Authorization": f"Token {self.token}"}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("gunicorn exited at start")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # a loaded machine answers late
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer within 30 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- CPU accounting -------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


# "postgres: 15/main: <user> <database> <client> <state>": a backend's title.
_BACKEND = re.compile(rb"^postgres: \S+: \S+ (\S+) (?:\S+\(\d+\)|\[local\])")


def _proc_cpu(dbname: str | None = None) -> dict:
    """CPU seconds so far, from /proc: per live gunicorn or PostgreSQL process
    ((kind, pid) -> seconds), and of the whole machine (busy time, all CPUs).
    With `dbname`, a backend serving another database (someone's test run on
    the same server) counts as "other", not "db"; the server's own processes
    (WAL writer, checkpointer, ...) count as "db"."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        if comm == "postgres":
            backend = _BACKEND.match(cmdline)
            if dbname is None or backend is None or backend.group(1).decode() == dbname:
                out[("db", entry.name)] = seconds
        elif b"gunicorn" in cmdline and b"config.wsgi" in cmdline:
            out[("app", entry.name)] = seconds
    cpu_line = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    idle = int(cpu_line[3]) + int(cpu_line[4])
    out["machine"] = (sum(int(x) for x in cpu_line[:8]) - idle) / _TICK
    return out


class CpuMeter:
    """Where the CPU went during one level: app (gunicorn), db (PostgreSQL),
    load (wrk: our waited-for children) and other (anything else on the box,
    for example a test suite running beside the benchmark)."""

    def __init__(self, dbname: str | None = None):
        self.dbname = dbname

    def __enter__(self) -> "CpuMeter":
        self.start = _proc_cpu(self.dbname)
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc) -> None:
        end = _proc_cpu(self.dbname)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Per process, so that a process that ended during the level (an old
        # backend) does not subtract its whole life from the total.
        self.used = {"app": 0.0, "db": 0.0, "machine": end["machine"] - self.start["machine"]}
        for key, seconds in end.items():
            if key != "machine":
                self.used[key[0]] += seconds - self.start.get(key, 0.0)
        self.used["load"] = (children.ru_utime + children.ru_stime) - (self.children.ru_utime + self.children.ru_stime)
        self.used["other"] = max(0.0, self.used["machine"] - self.used["app"] - self.used["db"] - self.used["load"])

    def per_row_ms(self, rows: int) -> dict:
        if not rows:
            return {}
        return {k: 1000 * v / rows for k, v in self.used.items() if k != "machine"}


# --- load -------------------------------------------------------------------

def count_reports(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM reports_report").fetchone()[0]


def wrk(url: str, clients: int, seconds: float, token: str, body: str) -> dict:
    env = dict(os.environ, BENCH_TOKEN=token, BENCH_BODY=body)
    cmd = [
        "wrk", "--threads", str(min(clients, 2)), "--connections", str(clients),
        "--duration", f"{int(seconds)}s", "--timeout", "10s", "--latency", "--script", str(LUA), url,
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise SystemExit(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")


def http_level(*, url: str, dsn: str, clients: int, seconds: float, warmup: float, token: str, label: str) -> Result:
    body = json.dumps(report_body())
    if warmup:
        wrk(url, clients, warmup, token, body)
    before = count_reports(dsn)
    with CpuMeter(dsn.rsplit("/", 1)[-1]) as meter:
        out = wrk(url, clients, seconds, token, body)
    rows = count_reports(dsn) - before
    return Result(
        label=label,
        clients=clients,
        seconds=out["duration_us"] / 1e6,
        requests=out["requests"],
        rows=rows,
        non_2xx=out["non_2xx_3xx"],
        socket_errors=out["connect_errors"] + out["read_errors"] + out["write_errors"] + out["timeouts"],
        p50_ms=out["p50_us"] / 1000,
        p99_ms=out["p99_us"] / 1000,
        cpu=meter.per_row_ms(rows),
    )


# --- the database's ceiling -------------------------------------------------

def _plain_row(cur, query: str, params=()) -> dict | None:
    cur.execute(query, params)
    row = cur.fetchone()
    if row is None:
        return None
    return {col.name: value for col, value in zip(cur.description, row, strict=True)}


ORM_TEMPLATE = """
from django.db import transaction
from accounts.models import Party, User
from audit.services import audit_record
from reports.models import Report
body = {body}
loc = body["location"]
with transaction.atomic():
    r = Report.objects.create(
        author=User.objects.get(username="monitor1"), occurred_at=body["occurred_at"],
        lat=loc["lat"], lon=loc["lon"], precision_m=loc["precision_m"], place_name=loc["place_name"],
        admin1=loc["admin1"], category=body["category"], description=body["description"],
        alleged_party=Party.objects.get(code=body["alleged_party"]), source_type=body["source_type"],
        weapons=body["weapons"], severity=body["severity"], links=body["links"], **body["casualties"])
    audit_record(actor=r.author, action="report.submitted", object_type="report", object_id=r.pk,
                 after={{"status": r.status}})
"""


def template_rows(dsn: str, env: dict) -> tuple[dict, dict]:
    """The newest report the app filed, and the audit event it wrote with it.

    When the API filed nothing (not there yet, or every request failed), one
    row pair is written through the ORM instead, so the ceiling still runs.
    """
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        report = _plain_row(cur, "SELECT * FROM reports_report ORDER BY id DESC LIMIT 1")
    if report is None:
        print("  (no report filed through the API: the ceiling copies an ORM-written row)", flush=True)
        manage(env, "shell", "-c", ORM_TEMPLATE.format(body=repr(report_body())))
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        report = _plain_row(cur, "SELECT * FROM reports_report ORDER BY id DESC LIMIT 1")
        event = _plain_row(
            cur,
            "SELECT * FROM audit_auditevent WHERE object_id = %s AND action LIKE 'report.%%' ORDER BY id DESC LIMIT 1",
            (str(report["id"]),),
        )
        if event is None:
            raise SystemExit(f"report {report['id']} has no audit event: the app must write one per report")
    return report, event


def _insert(table: str, row: dict, returning: bool) -> sql.Composed:
    cols = list(row)
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.SQL(", ").join(sql.Placeholder() * len(cols)),
    )
    if returning:
        query += sql.SQL(" RETURNING id")
    return query


def _db_value(value):
    return Jsonb(value) if isinstance(value, dict | list) else value


def ceiling(dsn: str, env: dict, threads: int, seconds: float) -> Result:
    report, event = template_rows(dsn, env)
    # Not the search vector: the database computes it (a generated column), and refuses a value for it.
    report = {k: v for k, v in report.items() if k not in ("id", "search_vector")}
    report["idempotency_key"] = None
    # Sealing columns are written later by the sealer, never at intake.
    event = {k: v for k, v in event.items() if k not in ("id", "seq", "prev_hash", "hash")}
    report_sql = _insert("reports_report", report, returning=True)
    event_sql = _insert("audit_auditevent", event, returning=False)
    report_values = [_db_value(v) for v in report.values()]
    event_keys = list(event)
    event_values = [_db_value(v) for v in event.values()]
    object_id_at = event_keys.index("object_id")

    latencies: list[list[float]] = [[] for _ in range(threads)]
    start_line = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def run(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            mine = latencies[i]
            values = list(event_values)
            start_line.wait()
            while time.perf_counter() < stop_at[0]:
                t0 = time.perf_counter()
                with conn.transaction():
                    report_id = conn.execute(report_sql, report_values).fetchone()[0]
                    values[object_id_at] = str(report_id)
                    conn.execute(event_sql, values)
                mine.append(time.perf_counter() - t0)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    before = count_reports(dsn)
    stop_at[0] = time.perf_counter() + seconds
    t_start = time.perf_counter()
    start_line.wait()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t_start
    rows = count_reports(dsn) - before
    all_lat = sorted(x for lat in latencies for x in lat)

    def pct(p: float) -> float:
        return all_lat[min(len(all_lat) - 1, int(p / 100 * len(all_lat)))] * 1000 if all_lat else 0.0

    return Result("psycopg ceiling", threads, elapsed, len(all_lat), rows, 0, 0, pct(50), pct(99))


# --- profile ----------------------------------------------------------------

def profile(master_pid: int, seconds: float, out: Path) -> subprocess.Popen:
    py_spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("--profile needs py-spy (.venv/bin/pip install py-spy; not a project dependency)")
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([
        py_spy, "record", "--pid", str(master_pid), "--subprocesses", "--duration", str(int(seconds)),
        "--format", "raw", "--rate", "200", "--nonblocking", "--output", str(out),
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- output -----------------------------------------------------------------

def table(results: list[Result]) -> str:
    lines = [
        "| run | clients | reports/s (rows) | requests/s | p50 ms | p99 ms | rows created | non-2xx | socket errors "
        "| CPU ms/report app + db + wrk (+ other) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        cpu = (f"{r.cpu['app']:.1f} + {r.cpu['db']:.1f} + {r.cpu['load']:.1f} (+ {r.cpu['other']:.1f})"
               if r.cpu else "")
        lines.append(
            f"| {r.label} | {r.clients} | {r.rows_per_s:.0f} | {r.requests_per_s:.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.rows} | {r.non_2xx} | {r.socket_errors} | {cpu} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL without a database (env BENCH_PG)")
    parser.add_argument("--db", default="bench_intake", help="benchmark database, dropped and recreated")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
                        help="a Redis database for the bench alone: it is flushed (env BENCH_REDIS_URL)")
    parser.add_argument("--server", type=Server.parse, default=Server("sync", 3),
                        help="gunicorn workers: sync:N or gthread:NxT (default sync:3: 2 CPUs x 2 - 1)")
    parser.add_argument("--clients", default="1,16,64", help="concurrent connections, comma-separated")
    parser.add_argument("--duration", type=float, default=12, help="seconds measured per level")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of unmeasured load before each level")
    parser.add_argument("--ceiling-threads", type=int, default=16)
    parser.add_argument("--port", type=int, default=8911)
    parser.add_argument("--sweep", help="compare gunicorn set-ups at 16 clients, e.g. sync:3,sync:5,gthread:3x4")
    parser.add_argument("--no-seal-on-commit", action="store_true",
                        help="leave sealing to the periodic task (a comparison, not the shipped behaviour)")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the 16-client level to this file")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    base = args.pg.rstrip("/")
    admin_dsn, dsn = f"{base}/postgres", f"{base}/{args.db}"
    url = f"http://127.0.0.1:{args.port}/api/v1/reports/"

    print(f"Preparing database {args.db} ...", flush=True)
    recreate(admin_dsn, args.db)
    flush_redis(args.redis_url)
    env = app_env(dsn, args.redis_url)
    token = prepare(env)
    levels = [int(c) for c in args.clients.split(",")]

    if args.sweep:
        results = []
        for text in args.sweep.split(","):
            server = Server.parse(text)
            with Gunicorn(env, server, args.port, token, seal_on_commit=not args.no_seal_on_commit):
                print(f"  {server} at 16 clients ...", flush=True)
                results.append(http_level(url=url, dsn=dsn, clients=16, seconds=args.duration,
                                          warmup=args.warmup, token=token, label=f"gunicorn {server}"))
        print("\n" + table(results))
        return 0

    results = []
    with Gunicorn(env, args.server, args.port, token, seal_on_commit=not args.no_seal_on_commit) as gunicorn:
        for clients in levels:
            print(f"  POST {url} with {clients} clients ({args.server}) ...", flush=True)
            spy = None
            if args.profile and clients == 16:
                spy = profile(gunicorn.proc.pid, args.duration + args.warmup, args.profile)
            results.append(http_level(url=url, dsn=dsn, clients=clients, seconds=args.duration,
                                      warmup=args.warmup, token=token, label=f"API, gunicorn {args.server}"))
            if spy is not None:
                spy.wait(timeout=60)
    print(f"  psycopg ceiling with {args.ceiling_threads} threads ...", flush=True)
    top = ceiling(dsn, env, args.ceiling_threads, args.duration)
    results.append(top)

    print(f"\nMachine: {os.cpu_count()} CPUs; PostgreSQL {server_version(dsn)}; "
          f"gunicorn {args.server}; {args.duration:.0f} s per level after {args.warmup:.0f} s warm-up; "
          f"trail sealed {'by the periodic task only' if args.no_seal_on_commit else 'after each commit'}\n")
    print(table(results))
    at16 = next((r for r in results if r.clients == 16 and r is not top), None)
    if at16:
        ratio = at16.rows_per_s / top.rows_per_s if top.rows_per_s else 0
        met = at16.rows_per_s >= 400 and at16.p99_ms < 150 and at16.non_2xx == 0
        print(f"\napp / ceiling at 16 clients: {at16.rows_per_s:.0f} / {top.rows_per_s:.0f} = {ratio:.2f}")
        print(f"target (>= 400 reports/s, p99 < 150 ms, no errors at 16 clients): {'met' if met else 'MISSED'}")
        if at16.cpu:
            # What the machine could do if nothing else ran on it: the level is
            # CPU-bound when app + db + wrk fill every CPU.
            own = at16.cpu["app"] + at16.cpu["db"] + at16.cpu["load"]
            print(f"CPU per report at 16 clients: {own:.1f} ms (app {at16.cpu['app']:.1f}, PostgreSQL "
                  f"{at16.cpu['db']:.1f}, wrk {at16.cpu['load']:.1f}); other processes took "
                  f"{at16.cpu['other']:.1f} ms per report. CPU-bound capacity of this machine alone: "
                  f"{os.cpu_count() * 1000 / own:.0f} reports/s")
    if args.profile:
        print(f"profile: {args.profile}")
    return 0


def server_version(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
