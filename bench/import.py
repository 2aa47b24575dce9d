"""Bulk import of reports, through the service and through HTTP, and the
database's own ceiling for the same rows, in one run.

    .venv/bin/python bench/import.py                  # the figures in BENCHMARKS.md
    .venv/bin/python bench/import.py --rows 50000

What it does:
1. (Re)creates its own PostgreSQL database (default `bench_import`), migrates it,
   seeds the demo and issues a token for monitor1 (as bench/intake.py does).
2. Writes a CSV in the CIR/Bellingcat layout (docs/import.md) of --rows rows,
   each with its own `entry`, and files it as monitor1 through the service
   (reports.imports.import_records, in batches of REPORT_IMPORT_MAX_ROWS, as
   `import_reports` does): reading, mapping, the single report's validation
   per row, the INSERTs, one audit event per report, and the trail's
   on-commit seal (hash chain) are all inside the time.
   Then, back to back, another such CSV with REPORT_IMPORT_PART_ROWS=0: each
   batch checked whole before it is written, the stock way that the default
   (check the next part on a second thread while one is written) must beat.
3. Files another such CSV through `POST /api/v1/reports/import/` on gunicorn
   (one sync worker, one client, batches of REPORT_IMPORT_MAX_ROWS rows).
4. Re-runs the first file: everything is a duplicate, nothing is filed.
5. The ceiling: the same number of report rows and audit event rows written
   straight with psycopg COPY in one transaction (copies of a row the app
   wrote; no validation, no hashing).
Prints rows/s for each and the ratio to the ceiling. Not part of the test suite.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from benchdb import recreate
from intake import ROOT, Gunicorn, Server, app_env, flush_redis, manage, prepare, server_version
from psycopg import sql
from psycopg.types.json import Jsonb

HEADER = ("entry,date,event_group,title,brief description,lat,lon,country,province,district,town/city,"
          "arms/munition,violence level,link,geolocation")
WARM_ROWS = 200  # filed before each measured run, not counted
MUNITIONS = ("152 mm artillery", "Shahed-136 drone", "Kh-101 cruise missile", "BM-21 Grad MLRS", "KAB glide bomb")


def cir_csv(rows: int, prefix: str) -> str:
    """A CIR-layout CSV of `rows` valid rows, ids `prefix-<n>`, dates over the last 300 days."""
    today = datetime.now(UTC).date()
    lines = [HEADER]
    for i in range(rows):
        day = (today - timedelta(days=1 + i % 300)).strftime("%d/%m/%Y")
        lat, lon = 46.5 + (i % 997) * 0.004, 33.0 + (i % 991) * 0.006
        lines.append(
            f"{prefix}-{i},{day},Residential,Strike number {i},\"Impacts reported in a residential area, "
            f"row {i}; two buildings damaged.\",\"{lat:.4f}\",{lon:.4f},Ukraine,Kharkiv,Kharkiv,Kharkiv,"
            f"{MUNITIONS[i % len(MUNITIONS)]},{1 + i % 5},https://example.org/cir/{i},"
        )
    return "\n".join(lines) + "\n"


SERVICE = """
import json, time
from accounts.models import User
from reports.imports import import_records, records_from
from django.conf import settings
text = open({path!r}, encoding="utf-8").read()
actor = User.objects.get(username="monitor1")
warm = open({warm!r}, encoding="utf-8").read()
import_records(actor=actor, header=records_from(warm, "text/csv")[0], records=records_from(warm, "text/csv")[1])
from django.db import connection
def backend_cpu(pid):
    # utime + stime of the PostgreSQL backend serving this process, seconds
    fields = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
import os
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    backend = cursor.fetchone()[0]
db0, app0 = backend_cpu(backend), time.process_time()
start = time.perf_counter()
header, records = records_from(text, "text/csv")
counts = {{"filed": 0, "duplicates": 0, "refused": 0}}
size = settings.REPORT_IMPORT_MAX_ROWS
for i in range(0, len(records), size):
    result = import_records(actor=actor, header=header, records=records[i:i + size]).as_dict()
    for key in counts:
        counts[key] += result[key]
seconds = time.perf_counter() - start
app_cpu, db_cpu = time.process_time() - app0, backend_cpu(backend) - db0
# Filed and committed above; sealed (seq and hash) by the worker, or already
# by this process when the seal stays in the request.
from audit.models import AuditEvent
while AuditEvent.objects.filter(seq__isnull=True).exists():
    time.sleep(0.01)
sealed = time.perf_counter() - start
print("RESULT", json.dumps({{"seconds": seconds, "sealed": sealed, "app_cpu": app_cpu,
                             "db_cpu": db_cpu, **counts}}))
"""


def service(env: dict, path: Path, warm: Path) -> dict:
    """Files `path` after a small unmeasured batch (`warm`: the first batch
    pays for imports, translations and compiled validators)."""
    out = manage(env, "shell", "-c", SERVICE.format(path=str(path), warm=str(warm)))
    return json.loads(out.split("RESULT", 1)[1])


class Worker:
    """A Celery worker (solo pool) on the bench's Redis and database: it takes
    the seal of each large batch (AUDIT_SEAL_IN_WORKER_ROWS) off the request."""

    def __init__(self, env: dict):
        self.env = env

    def __enter__(self) -> "Worker":
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "INFO", "--pool=solo",
             "--without-mingle", "--without-gossip", "--without-heartbeat"],
            env={**self.env, "LOG_LEVEL": "INFO"}, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while " ready." not in Path(self.log.name).read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start:\n{Path(self.log.name).read_text()}")
            time.sleep(0.1)
        return self

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def wait_sealed(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute("SELECT EXISTS (SELECT 1 FROM audit_auditevent WHERE seq IS NULL)").fetchone()[0]:
            time.sleep(0.01)


def http(port: int, token: str, text: str, batch: int, dsn: str) -> dict:
    lines = text.splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    counts = {"filed": 0, "duplicates": 0, "refused": 0}
    start = time.perf_counter()
    for i in range(0, len(body), batch):
        data = (header + "".join(body[i:i + batch])).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/reports/import/", data=data, method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "text/csv"})
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.load(response)
        for key in counts:
            counts[key] += answer[key]
    seconds = time.perf_counter() - start
    wait_sealed(dsn)
    return {"seconds": seconds, "sealed": time.perf_counter() - start, **counts}


class PatientGunicorn(Gunicorn):
    """bench/intake.py's server, waiting out a slow first answer (a worker
    importing the app on a loaded machine takes more than its 2 s)."""

    def __enter__(self) -> "PatientGunicorn":
        import socket

        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"port {self.port} is taken (a server left over?): use --port")
        try:
            return super().__enter__()
        except BaseException:
            self.__exit__()  # never leave a server behind
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                return super()._wait_ready()
            except (TimeoutError, SystemExit):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise


def counts(dsn: str) -> tuple[int, int, int]:
    with psycopg.connect(dsn) as conn:
        reports = conn.execute("SELECT count(*) FROM reports_report").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM audit_auditevent WHERE action = 'report.submitted'").fetchone()[0]
        unsealed = conn.execute("SELECT count(*) FROM audit_auditevent WHERE seq IS NULL").fetchone()[0]
    return reports, events, unsealed


def ceiling(dsn: str, rows: int) -> float:
    """Seconds to COPY `rows` reports and `rows` events (copies of the newest
    imported pair) in one transaction."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM reports_report ORDER BY id DESC LIMIT 1")
        report = dict(zip([c.name for c in cur.description], cur.fetchone(), strict=True))
        cur.execute("SELECT * FROM audit_auditevent WHERE object_type = 'report' AND object_id = %s",
                    [str(report["id"])])
        event = dict(zip([c.name for c in cur.description], cur.fetchone(), strict=True))
    # Not the search vector: the database computes it (a generated column), and COPY refuses a value for it.
    report = {k: v for k, v in report.items() if k not in ("id", "search_vector")}
    event = {k: v for k, v in event.items() if k not in ("id", "seq", "prev_hash", "hash")}
    prefix = secrets.token_hex(4)
    start = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for table, template, vary in (("reports_report", report, "idempotency_key"),
                                      ("audit_auditevent", event, "object_id")):
            cols = list(template)
            query = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)))
            values = [Jsonb(v) if isinstance(v, dict | list) else v for v in template.values()]
            at = cols.index(vary)
            with cur.copy(query) as copy:
                for i in range(rows):
                    values[at] = f"ceiling:{prefix}:{i}"
                    copy.write_row(values)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL without a database (env BENCH_PG)")
    parser.add_argument("--db", default="bench_import", help="benchmark database, dropped and recreated")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
                        help="a Redis database for the bench alone: it is flushed (env BENCH_REDIS_URL)")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=10000, help="rows per request (REPORT_IMPORT_MAX_ROWS)")
    parser.add_argument("--port", type=int, default=8912)
    parser.add_argument("--part-rows", type=int, default=None,
                        help="REPORT_IMPORT_PART_ROWS for the main runs (default: the setting's default)")
    parser.add_argument("--seal-in-request", action="store_true",
                        help="AUDIT_SEAL_IN_WORKER_ROWS=0: each batch sealed by the process that filed it (as before)")
    args = parser.parse_args()

    base = args.pg.rstrip("/")
    admin_dsn, dsn = f"{base}/postgres", f"{base}/{args.db}"
    print(f"Preparing database {args.db} ...", flush=True)
    recreate(admin_dsn, args.db)
    flush_redis(args.redis_url)
    env = app_env(dsn, args.redis_url)
    env["REPORT_IMPORT_MAX_ROWS"] = str(args.batch)
    if args.seal_in_request:
        env["AUDIT_SEAL_IN_WORKER_ROWS"] = "0"
    if args.part_rows is not None:
        env["REPORT_IMPORT_PART_ROWS"] = str(args.part_rows)
    token = prepare(env)
    before_reports, before_events, _ = counts(dsn)

    results = []
    worker = Worker(env).__enter__()
    worker_cpu0 = worker.cpu()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "service.csv"
        path.write_text(cir_csv(args.rows, "svc"), encoding="utf-8")
        warm = Path(tmp) / "warm.csv"
        warm.write_text(cir_csv(WARM_ROWS, f"warm-{secrets.token_hex(3)}"), encoding="utf-8")
        print(f"  service: {args.rows} rows in batches of {args.batch} ...", flush=True)
        parts = env.get("REPORT_IMPORT_PART_ROWS", "default")
        results.append((f"service (import_records), one part ahead (REPORT_IMPORT_PART_ROWS={parts})",
                        service(env, path, warm)))
        print(f"    {results[-1][1]}", flush=True)
        reports, events, unsealed = counts(dsn)
        if (reports - before_reports, events - before_events) != (args.rows + WARM_ROWS,) * 2:
            raise SystemExit(f"expected {args.rows + WARM_ROWS} new reports and events, found {reports - before_reports} "
                             f"and {events - before_events}")

        # Back to back: the same service, the whole batch checked before it is
        # written (the stock way), against one part ahead (the default).
        print(f"  service, whole batches (REPORT_IMPORT_PART_ROWS=0): {args.rows} rows ...", flush=True)
        stock = Path(tmp) / "stock.csv"
        stock.write_text(cir_csv(args.rows, "svc0"), encoding="utf-8")
        warm.write_text(cir_csv(WARM_ROWS, f"warm-{secrets.token_hex(3)}"), encoding="utf-8")
        results.append(("service, each batch checked whole, then written", service(
            {**env, "REPORT_IMPORT_PART_ROWS": "0"}, stock, warm)))
        print(f"    {results[-1][1]}", flush=True)

        print(f"  HTTP: {args.rows} rows, POST /api/v1/reports/import/ ...", flush=True)
        with PatientGunicorn(env, Server("sync", 1), args.port, token):
            http(args.port, token, cir_csv(WARM_ROWS, "warm-http"), args.batch, dsn)
            results.append(("API, gunicorn sync:1, 1 client", http(args.port, token, cir_csv(args.rows, "http"),
                                                                    args.batch, dsn)))
        print(f"    {results[-1][1]}", flush=True)
        print("  re-run of the service file (all duplicates) ...", flush=True)
        warm.write_text(cir_csv(WARM_ROWS, f"warm-{secrets.token_hex(3)}"), encoding="utf-8")
        results.append(("re-run, all duplicates", service(env, path, warm)))
    worker_cpu = worker.cpu() - worker_cpu0
    worker.__exit__()
    reports, events, unsealed = counts(dsn)
    print(f"  ceiling: COPY {args.rows} reports + {args.rows} events ...", flush=True)
    top = ceiling(dsn, args.rows)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nMachine: {os.cpu_count()} CPUs, load average {load} at the end; PostgreSQL {server_version(dsn)}; "
          f"{args.rows} rows per run (after {WARM_ROWS} unmeasured); "
          f"{reports} reports and {events} report.submitted events stored, {unsealed} left unsealed\n")
    print("| path | rows | filed | duplicates | refused | filed and committed: s | rows/s | / ceiling "
          "| all sealed: s | rows/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    top_rate = args.rows / top
    for label, r in results:
        rows = r["filed"] + r["duplicates"] + r["refused"]
        rate = rows / r["seconds"]
        print(f"| {label} | {rows} | {r['filed']} | {r['duplicates']} | {r['refused']} | {r['seconds']:.2f} | "
              f"{rate:.0f} | {rate / top_rate:.2f} | {r['sealed']:.2f} | {rows / r['sealed']:.0f} |")
    print(f"| ceiling: psycopg COPY, reports + events, one transaction | {args.rows} | | | | {top:.2f} | "
          f"{top_rate:.0f} | 1.00 | | |")
    print()
    for label, r in results:
        if "app_cpu" in r:
            rows = r["filed"] + r["duplicates"] + r["refused"]
            cpu = r["app_cpu"] + r["db_cpu"]
            print(f"{label}: CPU {1000 * r['app_cpu'] / rows:.3f} ms/row in Python + {1000 * r['db_cpu'] / rows:.3f} "
                  f"ms/row in PostgreSQL = {rows / cpu:.0f} rows per CPU-second "
                  f"(wall {rows / r['seconds']:.0f} rows/s: the rest is waiting for a CPU or the disk)")
    filed = sum(r["filed"] for _, r in results)
    print(f"Celery worker (the seals it was given): {worker_cpu:.2f} CPU-s over the {filed} filed rows = "
          f"{1000 * worker_cpu / max(filed, 1):.3f} ms/row (Python; its PostgreSQL backend not counted)")
    svc = results[0][1]
    rate, sealed_rate = args.rows / svc["seconds"], args.rows / svc["sealed"]
    capacity = args.rows / (svc["app_cpu"] + svc["db_cpu"])
    mode = "in the request" if args.seal_in_request else "by the worker"
    print(f"\ntarget (>= 3000 rows/s with the trail written, service, seal {mode}): filed and committed "
          f"{rate:.0f} rows/s ({'met' if rate >= 3000 else 'MISSED'}); all sealed {sealed_rate:.0f} rows/s "
          f"({'met' if sealed_rate >= 3000 else 'MISSED'}); CPU of the filing process and its backend: "
          f"{capacity:.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
