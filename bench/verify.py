"""Verification that stays cheap at five million events (issue 14, item 6).

    nice -n 10 .venv/bin/python bench/verify.py build              # once: 5,000,000 events, kept
    nice -n 10 .venv/bin/python bench/verify.py run --label after   # page, API and full pass timings

`build` (re)creates the database `bench_verify`, migrates it, and loads a
trail of N events (bench/audit.py's payloads, the chain computed with the
project's recipe) by COPY, plus one signed checkpoint every 1,000 events (a
trail of five million events a year old has about 8,760 hourly ones), then
VACUUM ANALYZE. It is CPU heavy and kept: `run` reuses it.

`run` (the code of the tree it is started from, `--root`, so "before" runs
from an exported tree of the old commit against the same database):
1. the ceiling: PostgreSQL alone reading the rows a full pass reads
   (COPY (SELECT ...) TO STDOUT into /dev/null on the server's side is not
   allowed to a client, so: the same SELECT, streamed and discarded by psql),
2. the full pass (trail_verify(full=True), what beat and `?full=1` run),
   events/s,
3. `--tail` more events appended after the verified point (the day's
   events between two full passes), then GET /api/v1/audit/verify/ and the
   trail page /trail/ timed against gunicorn (sync, 2 workers): p50/p99
   over `--requests` requests each, signed in as an auditor.
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SIGNING_KEY = "11" * 32  # the bench's own Ed25519 key (hex); never a real one


def _setup(root: Path, database: str):
    sys.path.insert(0, str(root))
    os.environ["DATABASE_URL"] = f"{ADMIN_URL.rsplit('/', 1)[0]}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ["AUDIT_SIGNING_KEY"] = SIGNING_KEY
    import django

    django.setup()


def _bench_audit():
    spec = importlib.util.spec_from_file_location("bench_audit_module", HERE / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(args) -> None:
    sys.path.insert(0, str(HERE))
    from benchdb import recreate

    recreate(ADMIN_URL, args.database)
    env = dict(os.environ, DATABASE_URL=f"{ADMIN_URL.rsplit('/', 1)[0]}/{args.database}",
               AUDIT_SIGNING_KEY=SIGNING_KEY, DEBUG="false")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], check=True, cwd=ROOT,
                   env=env)
    _setup(ROOT, args.database)
    took = _bench_audit().build(args.events)
    print(f"built {args.events:,} events in {took:.1f} s ({args.events / took:,.0f} events/s)")
    checkpoints_build(every=1000)
    vacuum()


def checkpoints_build(*, every: int) -> None:
    """Signed checkpoints in the form before tree heads (seq, hash, at): what
    a check costs is the same (one signature, one hash compared)."""
    from django.db import connection

    from audit import chain
    from audit.keys import signing_key, signing_public_key_hex

    key, public = signing_key(), signing_public_key_hex()
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash, at FROM audit_auditevent WHERE seq %% %s = 0 ORDER BY seq", [every])
        heads = cursor.fetchall()
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(
            "COPY audit_checkpoint (seq, hash, at, signature, public_key) FROM STDIN") as copy:
        for seq, digest, at in heads:
            signature = key.sign(chain.checkpoint_message(seq=seq, hash=digest, at=chain.format_at(at))).hex()
            copy.write_row((seq, digest, at, signature, public))
    raw.commit()
    print(f"{len(heads):,} signed checkpoints in {time.perf_counter() - t0:.1f} s")


def vacuum() -> None:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# --- run ------------------------------------------------------------------------

RANGE_COLUMNS = ("seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor_username, action,"
                 " object_type, object_id, before::text, after::text, reason, prev_hash, hash")


def ceiling() -> dict:
    """PostgreSQL alone: the rows a full pass reads, produced by the server
    and thrown away (COPY TO '/dev/null' on the server), and the bare scan."""
    import psycopg

    out = {}
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        n = conn.execute("SELECT max(seq) FROM audit_auditevent").fetchone()[0]
        t0 = time.perf_counter()
        conn.execute("SELECT count(hash) FROM audit_auditevent")
        out["count_hash_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        copy_sql = f"COPY (SELECT {RANGE_COLUMNS} FROM audit_auditevent WHERE seq BETWEEN 1 AND {int(n)} ORDER BY seq)"  # noqa: S608 (constants)
        conn.execute(copy_sql + " TO '/dev/null'")
        out["copy_rows_s"] = time.perf_counter() - t0
    out["events"] = n
    return out


def migrate_to(target: str) -> None:
    """`before` runs with the unsigned verified head (audit 0006 and the old
    code), `after` with the signed points (0008); the migrations up to 0006
    are the same in both trees, so this tree moves the one database."""
    env = dict(os.environ, AUDIT_SIGNING_KEY=SIGNING_KEY, DEBUG="false")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "audit", target, "--noinput", "-v0"],
                   check=True, cwd=ROOT, env=env)


def auditor_cookie() -> str:
    """A signed-in auditor's session (DB sessions: gunicorn sees it)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from accounts.models import Delegation
    from accounts.roles import AUDITOR, role_groups_sync

    role_groups_sync()
    delegation, _ = Delegation.objects.get_or_create(code="JP", defaults={"name": "Japan"})
    user, created = get_user_model().objects.get_or_create(username="bench_auditor",
                                                          defaults={"delegation": delegation})
    user.groups.add(Group.objects.get(name=AUDITOR))
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def tail_append(n: int) -> None:
    """The day's events after the verified point: written and sealed by the
    services, as requests do."""
    from django.db import transaction

    from audit.services import audit_record, trail_seal

    with transaction.atomic():
        for i in range(n):
            audit_record(actor=None, action="bench.tail", object_type="thing", object_id=i,
                         after={"i": i, "place_name": "Кураховe"})
    trail_seal(blocking=True)


def timed_requests(url: str, cookie: str, n: int) -> dict:
    import requests

    session = requests.Session()
    session.cookies.set("sessionid", cookie)
    first = session.get(url, timeout=600)
    assert first.status_code == 200, (url, first.status_code, first.text[:300])
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = session.get(url, timeout=600)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
            "body": first.text}


def encoders_compare(n: int) -> None:
    """The hand-written recipe bytes (fastverify.row_bytes) against the stock
    way (stock_bytes: the dict, then canonical()), on the same n rows held in
    memory, alternating, three rounds each: the CPU of checking alone."""
    import psycopg

    from audit import chain, fastverify

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor(name="compare") as cursor:
        cursor.execute(fastverify.RANGE_SQL, (1, n))
        rows = cursor.fetchall()
    times = {"stock": [], "hand": []}
    for _ in range(3):
        for name, encode in (("stock", fastverify.stock_bytes), ("hand", fastverify.row_bytes)):
            t0 = time.perf_counter()
            result = fastverify.check_rows(iter(rows), 1, chain.ZERO_HASH, encode=encode)
            times[name].append(time.perf_counter() - t0)
            assert result["bad"] is None and result["checked"] == n
    stock, hand = min(times["stock"]), min(times["hand"])
    print(f"check_rows on {n:,} rows in memory, one process, best of 3 alternating: stock {n / stock:,.0f} events/s, "
          f"hand-written {n / hand:,.0f} events/s ({(stock / hand - 1) * 100:+.0f} %); "
          f"all rounds stock {[round(t, 2) for t in times['stock']]} s, hand {[round(t, 2) for t in times['hand']]} s")


def run(args) -> None:
    root = Path(args.root).resolve()
    os.environ["DATABASE_URL"] = f"{ADMIN_URL.rsplit('/', 1)[0]}/{args.database}"
    migrate_to("0006" if args.label == "before" else "0008")
    # Something on the way (Celery's loader) puts the working directory
    # first on sys.path: work from the tree whose code is measured.
    os.chdir(root)
    _setup(root, args.database)
    from django.db import connection

    from audit.services import trail_verify

    print(f"== {args.label} ({root}), load {Path('/proc/loadavg').read_text().split()[:3]}")
    c = ceiling()
    print(f"trail: {c['events']:,} events")
    print(f"ceiling, SELECT count(hash): {c['count_hash_s']:.2f} s ({c['events'] / c['count_hash_s']:,.0f} rows/s)")
    print(f"ceiling, the full pass's rows COPY TO /dev/null (server): {c['copy_rows_s']:.2f} s "
          f"({c['events'] / c['copy_rows_s']:,.0f} rows/s)")
    for _ in range(args.full_runs):
        t0 = time.perf_counter()
        report = trail_verify(full=True)
        took = time.perf_counter() - t0
        assert report.ok, report.as_dict()
        print(f"full pass (trail_verify(full=True)): {report.checked:,} events in {took:.2f} s = "
              f"{report.checked / took:,.0f} events/s")
    if args.label == "after":
        encoders_compare(args.compare_rows)
    tail_append(args.tail)
    cookie = auditor_cookie()
    connection.close()
    env = dict(os.environ, AUDIT_SIGNING_KEY=SIGNING_KEY, DEBUG="false", PYTHONPATH=str(root))
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{args.port}",
                               "-w", "2", "--timeout", "600", "--log-level", "warning"], cwd=root, env=env)
    try:
        for _ in range(100):
            try:
                import requests

                requests.get(f"http://127.0.0.1:{args.port}/", timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.2)
        api = timed_requests(f"http://127.0.0.1:{args.port}/api/v1/audit/verify/", cookie, args.requests)
        import json

        body = json.loads(api["body"])
        print(f"GET /api/v1/audit/verify/ ({body['checked']:,} events after the verified head/point, "
              f"incremental={body['incremental']}, ok={body['ok']}): p50 {api['p50_ms']:.1f} ms, "
              f"p99 {api['p99_ms']:.1f} ms over {args.requests}")
        page = timed_requests(f"http://127.0.0.1:{args.port}/trail/", cookie, args.requests)
        print(f"GET /trail/: p50 {page['p50_ms']:.1f} ms, p99 {page['p99_ms']:.1f} ms over {args.requests}")
    finally:
        server.terminate()
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--events", type=int, default=5_000_000)
    b.add_argument("--database", default="bench_verify")
    r = sub.add_parser("run")
    r.add_argument("--label", choices=("before", "after"), default="after")
    r.add_argument("--root", default=str(ROOT), help="the tree whose code runs (an export of the old commit)")
    r.add_argument("--database", default="bench_verify")
    r.add_argument("--tail", type=int, default=1000, help="events appended after the full pass")
    r.add_argument("--requests", type=int, default=200)
    r.add_argument("--full-runs", type=int, default=1)
    r.add_argument("--port", type=int, default=8737)
    r.add_argument("--compare-rows", type=int, default=300_000)
    args = parser.parse_args()
    if args.command == "build":
        build(args)
    else:
        run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
