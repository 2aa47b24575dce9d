"""How fast a long decision trail verifies.

    .venv/bin/python bench/audit.py                  # 1,000,000 events (the BENCHMARKS.md figures)
    .venv/bin/python bench/audit.py --events 100000 --keep

What it does:
1. (Re)creates its own PostgreSQL database (default `bench_audit`) and migrates it
   (so the append-only triggers are on, as in production).
2. Builds a trail of N events: realistic payloads (reports, cases, ballots with
   commitments, evidence hashes), the chain computed in Python with the project's
   own recipe (audit.chain) and loaded with COPY, sealed on insert. (The sealer's
   one-row-at-a-time path is what requests use; it is not what we measure here.)
3. Measures events verified per second by
   (a) verify_audit's code path (audit.services.trail_verify: stream from the
       database, recompute every hash, check every link), and
   (b) the auditor's standalone script, docs/verify_trail.py, as a separate
       process over an export written by export_audit's code path.
4. Drops the database (unless --keep).

Intake throughput with the chain on vs off: bench/intake.py --no-seal-on-commit.
Needs a local PostgreSQL the `postgres` role can create databases in.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import drop, recreate  # noqa: E402 (after the path set-up)


def payload(i: int):
    """A mix like the real trail's: mostly report/case changes, some ballots."""
    kind = i % 10
    if kind < 5:
        return ("report.submitted", "report", str(i // 10 + 1), None, {
            "status": "submitted", "category": "shelling", "severity": 1 + i % 5, "lat": 48.0 + (i % 997) / 1000,
            "lon": 37.5 + (i % 991) / 1000, "place_name": "Кураховe", "alleged_party": "RU" if i % 3 else None,
            "casualties": {"civilian_killed": i % 3, "civilian_injured": i % 7}, "reference": f"RPT-2026-{i:07d}"})
    if kind < 7:
        return ("case.stage_changed", "case", str(i // 50 + 1), {"stage": "verification"},
                {"stage": "attribution", "deadline": "2026-12-01T10:00:00Z"})
    if kind < 9:
        return ("ballot.cast", "ballot", str(i), None,
                {"round": i // 40 + 1, "voter": f"member{i % 5 + 1}", "commitment": f"{i:064x}"})
    return ("evidence.uploaded", "evidence", str(i), None,
            {"report": i // 10 + 1, "sha256": f"{i * 7919:064x}", "size": 1000 + i, "content_type": "image/jpeg"})


def build(n: int) -> float:
    from django.db import connection

    from audit import chain

    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = chain.ZERO_HASH
    t0 = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    columns = ("at", "actor_username", "action", "object_type", "object_id", "before", "after", "reason",
               "seq", "prev_hash", "hash")
    with raw.cursor() as cursor:
        copy_sql = f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN"  # noqa: S608 (constants)
        with cursor.copy(copy_sql) as copy:
            for i in range(n):
                seq = i + 1
                action, object_type, object_id, before, after = payload(i)
                at = start + timedelta(seconds=i, microseconds=(i * 7919) % 1_000_000)
                actor = "" if action == "case.stage_changed" and i % 4 == 0 else f"user{i % 37}"
                obj = {"seq": seq, "at": chain.format_at(at), "actor": actor or None, "action": action,
                       "object_type": object_type, "object_id": object_id, "before": before, "after": after,
                       "reason": "" if i % 20 else "deadline extended: new evidence expected",
                       "prev_hash": prev}
                digest = chain.event_hash(prev, obj)
                copy.write_row((at, actor, action, object_type, object_id,
                                None if before is None else chain.canonical(before).decode(),
                                chain.canonical(after).decode(), obj["reason"], seq, prev, digest))
                prev = digest
    raw.commit()
    with raw.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    raw.commit()
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database", default="bench_audit")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the database and the export afterwards")
    args = parser.parse_args()

    base = args.admin_url.rsplit("/", 1)[0]
    url = f"{base}/{args.database}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    recreate(args.admin_url, args.database)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], check=True,
                   cwd=ROOT, env=dict(os.environ))

    import django

    django.setup()
    from audit.selectors import export_lines
    from audit.services import trail_verify

    n = args.events
    print(f"trail of {n:,} events in database {args.database}")
    built = build(n)
    print(f"built (chain computed in Python, COPY): {built:.1f} s ({n / built:,.0f} events/s)")

    t0 = time.perf_counter()
    report = trail_verify()
    took = time.perf_counter() - t0
    assert report.ok and report.checked == n, report.as_dict()
    print(f"(a) verify_audit code path: {report.checked:,} events in {took:.2f} s = {n / took:,.0f} events/s")

    export = ROOT / "var" / "bench_audit_export.jsonl"
    export.parent.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    with export.open("w", encoding="utf-8") as handle:
        handle.writelines(export_lines())
    took_export = time.perf_counter() - t0
    size = export.stat().st_size
    print(f"export_audit code path: {took_export:.2f} s ({n / took_export:,.0f} events/s, {size / 1e6:,.0f} MB)")

    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-I", str(ROOT / "docs" / "verify_trail.py"), str(export)],
                            capture_output=True, text=True)
    took_script = time.perf_counter() - t0
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"(b) docs/verify_trail.py (separate process, whole file): {took_script:.2f} s = "
          f"{n / took_script:,.0f} events/s")

    from django.db import connection

    connection.close()
    if not args.keep:
        export.unlink()
        drop(args.admin_url, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
