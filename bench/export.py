"""How fast the three exports stream, before and after keyset batches.

    nice -n 10 .venv/bin/python bench/export.py            # 1,000,000 events and 1,000,000 reports
    nice -n 10 .venv/bin/python bench/export.py --events 100000 --reports 100000 --keep
    .venv/bin/python bench/export.py --database bench_scale_1m --reuse --keep --no-before   # the mission's (bench/scale.py)

What it does:
1. (Re)creates its own PostgreSQL database (default `bench_export`), migrates it,
   and builds N trail events (bench/audit.py's builder: realistic payloads, the
   chain computed with audit.chain, COPY) and N reports (COPY, one auditor as
   the reader, a monitor as the author); VACUUM ANALYZE.
2. Unpacks the code before the change (`git archive 524cee1`, into var/) beside
   this worktree's. For each code and each export (the trail's
   `GET /api/v1/audit/export/`, the reports' CSV `/trail/reports.csv`, and
   `GET /api/v1/reports.geojson`) it times:
   - in-process: the view called with a request factory, the streamed body
     consumed, in a fresh process (its peak RSS, ru_maxrss);
   - over HTTP: one gunicorn sync worker started for that export alone,
     curl downloading the body to /dev/null (the worker's peak RSS, VmHWM).
   "Before", the GeoJSON is the newest 10,000 features only (its old cap): its
   rows/s is per feature served.
3. Times the stock way of each hand-written encoder, in-process, on the same
   keyset batches (model instances + json.dumps / the csv writer / DRF's
   serializer), so the template's gain is measured back to back.
4. Prints PostgreSQL's ceiling: COPY (SELECT the same rows ORDER BY key) TO
   STDOUT, consumed by this process.
5. Drops the database (unless --keep).
"""

import argparse
import importlib.util
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import drop, recreate  # noqa: E402 (after the path set-up)

EXPORTS = {
    "trail": "/api/v1/audit/export/",
    "csv": "/trail/reports.csv",
    "geojson": "/api/v1/reports.geojson",
}


# --- building the data ------------------------------------------------------------

def build_events(n: int) -> float:
    spec = importlib.util.spec_from_file_location("bench_audit_builder", ROOT / "bench" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(n)


def build_people():
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import Delegation, Party, User

    jp = Delegation.objects.create(code="JP", name="Japan")
    tr = Delegation.objects.create(code="TR", name="Türkiye")
    Party.objects.create(code="RU", name="Russian Federation")
    Party.objects.create(code="UA", name="Ukraine")
    auditor = User.objects.create_user(username="auditor1", password=secrets.token_urlsafe(12), delegation=jp)
    auditor.groups.add(Group.objects.get_or_create(name=roles.AUDITOR)[0])
    monitor = User.objects.create_user(username="monitor1", password=secrets.token_urlsafe(12), delegation=tr)
    monitor.groups.add(Group.objects.get_or_create(name=roles.MONITOR)[0])
    return auditor, monitor


def build_reports(n: int, author_id: int) -> float:
    from django.db import connection

    from accounts.models import Party
    from reports.models import Report

    parties = [None, *Party.objects.order_by("code").values_list("pk", flat=True)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    categories = ["shelling", "drone_strike", "missile_strike", "small_arms_fire"]
    places = ["Orikhiv", "Kurakhove", "Харків", "Zaporizhzhia — north"]
    own = {
        "author": lambda i: author_id,
        "status": lambda i: "submitted",
        "occurred_at": lambda i: start + timedelta(minutes=i, microseconds=(i * 7919) % 1_000_000 if i % 3 else 0),
        "occurred_until": lambda i: None if i % 4 else start + timedelta(minutes=i + 30),
        "lat": lambda i: 47.0 + (i % 99991) / 100000,
        "lon": lambda i: 35.0 + (i % 99989) / 50000,
        "precision_m": lambda i: None if i % 5 == 0 else 100 + i % 900,
        "place_name": lambda i: places[i % 4],
        "admin1": lambda i: "Zaporizhzhia Oblast",
        "category": lambda i: categories[i % 4],
        "description": lambda i: f"Impacts observed near the road, report {i}; about {i % 40} rounds.",
        "alleged_party": lambda i: parties[i % 3],
        "source_type": lambda i: "direct_observation",
        "civilian_killed": lambda i: i % 3,
        "civilian_injured": lambda i: i % 7,
        "weapons": lambda i: "152 mm artillery" if i % 2 else "",
        "severity": lambda i: 1 + i % 5,
        "created_at": lambda i: start + timedelta(minutes=i, seconds=5),
        "updated_at": lambda i: start + timedelta(minutes=i, seconds=5),
        "submitted_at": lambda i: start + timedelta(minutes=i, seconds=5),
    }
    fields = [f for f in Report._meta.concrete_fields if not f.primary_key]
    makers = []
    for field in fields:
        if field.name in own:
            makers.append(own[field.name])
        else:
            default = field.get_default()
            value = json.dumps(default) if field.get_internal_type() == "JSONField" else default
            makers.append(lambda i, value=value: value)
    columns = ", ".join(f.column for f in fields)
    t0 = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(f"COPY reports_report ({columns}) FROM STDIN") as copy:
        for i in range(n):
            copy.write_row([make(i) for make in makers])
    raw.commit()
    return time.perf_counter() - t0


def vacuum(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# --- PostgreSQL's ceiling -----------------------------------------------------------

CEILING_SQL = {
    "trail": "SELECT seq, at, actor_username, action, object_type, object_id, before, after, reason, prev_hash, hash"
             " FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY seq",
    "csv": "SELECT r.id, r.created_at, r.status, r.occurred_at, r.occurred_until, r.lat, r.lon, r.precision_m,"
           " r.place_name, r.admin1, r.category, p.code, r.source_type, r.civilian_killed, r.civilian_injured,"
           " r.military_killed, r.military_injured, r.weapons, r.severity, r.description, u.username,"
           " r.submitted_at FROM reports_report r JOIN accounts_user u ON u.id = r.author_id"
           " LEFT JOIN accounts_party p ON p.id = r.alleged_party_id ORDER BY r.id",
    "geojson": "SELECT r.id, r.lon, r.lat, r.created_at, r.status, r.category, r.occurred_at, r.occurred_until,"
               " p.code, r.severity, r.precision_m, r.place_name, u.username FROM reports_report r"
               " JOIN accounts_user u ON u.id = r.author_id LEFT JOIN accounts_party p ON p.id = r.alleged_party_id"
               " WHERE r.lat IS NOT NULL AND r.lon IS NOT NULL ORDER BY r.id",
}


def ceiling(url: str, name: str) -> tuple[int, float]:
    import psycopg

    rows = 0
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        t0 = time.perf_counter()
        with cursor.copy(f"COPY ({CEILING_SQL[name]}) TO STDOUT") as copy:  # noqa: S608 (constants)
            for chunk in copy:
                rows += bytes(chunk).count(b"\n")
        return rows, time.perf_counter() - t0


# --- the worker: one export in a fresh process, with one code's Django --------------

def count_rows(name: str, data: bytes) -> int:
    if name == "geojson":
        return data.count(b'{"type":"Feature",')
    if name == "trail":
        return data.count(b'{"action":')
    return data.count(b"\n") - 1  # the CSV's header


def worker(name: str, mode: str) -> dict:
    # This code's packages first (bench/ holds an audit.py of its own).
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    from django.test import RequestFactory
    from rest_framework.test import APIRequestFactory, force_authenticate

    # Imported (and the connection opened) before the clock starts: what is
    # timed is the export, not the module loading of a fresh process.
    import web.audit_pages  # noqa: F401
    from accounts.models import User

    auditor = User.objects.get(username="auditor1")
    t0, cpu0 = time.perf_counter(), time.process_time()
    if mode == "view":
        if name == "csv":
            from web.audit_pages import reports_csv

            request = RequestFactory().get(EXPORTS[name])
            request.user = auditor
            response = reports_csv(request)
        else:
            from audit.api import AuditExportApi
            from reports.api import ReportGeoJsonApi

            view = (AuditExportApi if name == "trail" else ReportGeoJsonApi).as_view()
            request = APIRequestFactory().get(EXPORTS[name])
            force_authenticate(request, user=auditor)
            response = view(request)
        assert response.status_code == 200, response.status_code
        if response.streaming:
            size = rows = 0
            pattern = {"trail": b'{"action":', "csv": b"\n", "geojson": b'{"type":"Feature",'}[name]
            for chunk in response.streaming_content:
                size += len(chunk)
                rows += chunk.count(pattern)
            rows -= 1 if name == "csv" else 0  # the header
        else:
            response.render()
            size, rows = len(response.content), count_rows(name, response.content)
    else:
        rows, size = stock(name, auditor)
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"rows": rows, "bytes": size, "seconds": took, "cpu": cpu, "maxrss_mb": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024}


def stock(name: str, auditor) -> tuple[int, int]:
    """The stock way on the same keyset batches: model instances, and the
    framework's encoder (json.dumps of each event's dict; the csv writer over
    each instance; DRF's serializer and renderer)."""
    from django.conf import settings

    batch = settings.EXPORT_BATCH_SIZE
    size = rows = 0
    if name == "trail":
        from audit.models import AuditEvent
        from audit.selectors import _dump_line, event_export_dict

        queryset = AuditEvent.objects.filter(seq__isnull=False)
        key = "seq"
    else:
        from reports.selectors import report_list_for, report_mappable

        queryset = report_list_for(auditor)
        if name == "geojson":
            queryset = report_mappable(queryset)
        key = "id"
    if name == "csv":
        import csv
        import io

        from reports.exports import CSV_COLUMNS, csv_cell
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
    if name == "geojson":
        from rest_framework.renderers import JSONRenderer

        from reports.map_serializers import FeatureSerializer
        renderer = JSONRenderer()
    last = 0
    while True:
        items = list(queryset.filter(**{f"{key}__gt": last}).order_by(key)[:batch])
        if name == "trail":
            text = "".join(_dump_line(event_export_dict(e)) for e in items)
        elif name == "csv":
            for r in items:
                writer.writerow([csv_cell(v) for v in (
                    r.reference, r.status, r.occurred_at.isoformat() if r.occurred_at else "",
                    r.occurred_until.isoformat() if r.occurred_until else "", r.lat, r.lon, r.precision_m,
                    r.place_name, r.admin1, r.category, r.alleged_party.code if r.alleged_party_id else "",
                    r.source_type, r.civilian_killed, r.civilian_injured, r.military_killed, r.military_injured,
                    r.weapons, r.severity, r.description, r.author.username,
                    r.submitted_at.isoformat() if r.submitted_at else "")])
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        else:
            text = renderer.render(FeatureSerializer(items, many=True).data).decode()[1:-1]
        size += len(text.encode())
        rows += len(items)
        if len(items) < batch:
            return rows, size
        last = getattr(items[-1], key)


def run_worker(code: Path, env: dict, name: str, mode: str) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", name, "--mode", mode],
                          cwd=code, env=dict(env, PYTHONPATH=str(code)), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"worker {name} {mode} in {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- over HTTP ------------------------------------------------------------------------

def over_http(code: Path, env: dict, name: str, port: int, headers: list[str]) -> dict:
    import psutil

    cmd = [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1",
           "--worker-class", "sync", "--timeout", "900", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=code, env=dict(env, PYTHONPATH=str(code)), start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    f"http://127.0.0.1:{port}/api/v1/"], capture_output=True, text=True)
            if probe.stdout not in ("000", ""):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)
        args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}"]
        for header in headers:
            args += ["-H", header]
        out = subprocess.run([*args, f"http://127.0.0.1:{port}{EXPORTS[name]}"], capture_output=True,
                             text=True).stdout.split()
        assert out[0] == "200", out
        workers = psutil.Process(proc.pid).children()
        peak = max(_vm_hwm(w.pid) for w in workers)
        return {"bytes": int(out[1]), "seconds": float(out[2]), "maxrss_mb": peak / 1024}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --- main -----------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--database", default="bench_export")
    parser.add_argument("--before", default="524cee1", help="the commit whose code is 'before'")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"))
    parser.add_argument("--only", help="comma-separated exports (trail,csv,geojson)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-before", action="store_true",
                        help="time this tree's code only (no `before`, no stock encoder): e.g. on bench_scale_1m")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="do not rebuild: use the kept database")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="view", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, args.mode)))
        return 0

    base = args.admin_url.rsplit("/", 1)[0]
    url = f"{base}/{args.database}"
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=args.redis_url, DJANGO_SETTINGS_MODULE="config.settings",
               DEBUG="false", ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="ERROR", DB_CONN_MAX_AGE="600",
               SECRET_KEY=secrets.token_urlsafe(64), REQUIRE_2FA="false")
    # No AUDIT_SIGNING_KEY: a full export would sign a checkpoint (a write,
    # and a Merkle root over the trail) first, in both codes alike.
    env.pop("AUDIT_SIGNING_KEY", None)
    os.environ.update(env)
    with open("/proc/loadavg") as handle:
        print(f"load average at start: {handle.read().strip()}")
    if not args.reuse:
        recreate(args.admin_url, args.database)
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], check=True,
                       cwd=ROOT, env=env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from accounts.services import token_issue

    if not args.reuse:
        took = build_events(args.events)
        print(f"built {args.events:,} events in {took:.0f} s")
        _auditor, monitor = build_people()
        took = build_reports(args.reports, monitor.pk)
        print(f"built {args.reports:,} reports in {took:.0f} s")
        connection.close()
        vacuum(url)
    auditor = User.objects.get(username="auditor1")
    token = token_issue(user=auditor, label="bench")[1]
    web = Client()
    web.force_login(auditor)
    session = web.cookies[settings.SESSION_COOKIE_NAME].value
    connection.close()
    headers = {"trail": [f"Authorization: Token {token}"], "csv": [f"Cookie: sessionid={session}"],
               "geojson": [f"Authorization: Token {token}"]}

    before = ROOT / "var" / f"bench_export_{args.before}"
    if before.exists():
        shutil.rmtree(before)
    before.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)

    names = args.only.split(",") if args.only else list(EXPORTS)
    print(f"EXPORT_BATCH_SIZE={settings.EXPORT_BATCH_SIZE}; rows/s = rows exported / wall time; peak RSS of the "
          "process that encoded")
    for name in names:
        rows, took = ceiling(url, name)
        print(f"\n[{name}] PostgreSQL ceiling, COPY (SELECT ... ORDER BY key) TO STDOUT: {rows:,} rows in "
              f"{took:.2f} s = {rows / took:,.0f} rows/s")
        results = {}
        codes = (("after", ROOT),) if args.no_before else (("before", before), ("after", ROOT))
        for label, code in codes:
            inproc = run_worker(code, env, name, "view")
            results[label] = inproc
            print(f"  {label:6} in-process (view):  {inproc['rows']:>9,} rows {inproc['bytes'] / 1e6:8.1f} MB "
                  f"{inproc['seconds']:7.2f} s = {inproc['rows'] / inproc['seconds']:>9,.0f} rows/s "
                  f"({inproc['rows'] / inproc['cpu']:,.0f} per CPU-second of the process), "
                  f"peak RSS {inproc['maxrss_mb']:.0f} MB")
            if not args.no_http:
                http = over_http(code, env, name, args.port, headers[name])
                print(f"  {label:6} HTTP (gunicorn 1 sync worker, curl): {http['bytes'] / 1e6:8.1f} MB "
                      f"{http['seconds']:7.2f} s = {inproc['rows'] / http['seconds']:>9,.0f} rows/s, "
                      f"worker peak RSS {http['maxrss_mb']:.0f} MB")
        if args.no_before:
            continue
        stocked = run_worker(ROOT, env, name, "stock")
        fast = run_worker(ROOT, env, name, "view")
        print(f"  stock encoder on the same keyset batches: {stocked['rows'] / stocked['seconds']:,.0f} rows/s "
              f"({stocked['rows'] / stocked['cpu']:,.0f} per CPU-s); template, back to back: "
              f"{fast['rows'] / fast['seconds']:,.0f} rows/s ({fast['rows'] / fast['cpu']:,.0f} per CPU-s): "
              f"{fast['cpu'] / fast['rows'] * 1e6:.1f} vs {stocked['cpu'] / stocked['rows'] * 1e6:.1f} "
              f"CPU-us per row ({stocked['cpu'] / stocked['rows'] / (fast['cpu'] / fast['rows']) - 1:+.0%} rows "
              "per CPU-s)")
    with open("/proc/loadavg") as handle:
        print(f"\nload average at the end: {handle.read().strip()}")
    shutil.rmtree(before)
    if not args.keep:
        drop(args.admin_url, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
