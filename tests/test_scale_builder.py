"""bench/scale.py, the mission builder of the load benchmark, at a small size:
the mission it builds has the proportions it claims, a case in every stage,
and a trail that the app's own verification (manage.py verify_audit) accepts.

It builds its own databases (like the benchmark), next to the test database,
and drops them afterwards."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mission():
    if connection.vendor != "postgresql":
        pytest.skip("the builder COPYs into PostgreSQL")
    settings = connection.settings_dict
    base = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    name = f"{settings['NAME']}_scale_builder"[:60]
    built = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--reports", "2000", "--cases", "120",
         "--per-role", "6", "--variants", "1", "--database", name, "--admin-url", f"{base}/postgres"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "DATABASE_URL": f"{base}/{name}"})
    url = f"{base}/{name}"
    try:
        assert built.returncode == 0, built.stdout + built.stderr
        with psycopg.connect(url) as conn:
            yield {"conn": conn, "url": url, "output": built.stdout}
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP DATABASE IF EXISTS "{name}_tpl" WITH (FORCE)')


def _share(conn, sql_where: str) -> float:
    total = conn.execute("SELECT count(*) FROM reports_report").fetchone()[0]
    part = conn.execute(f"SELECT count(*) FROM reports_report WHERE {sql_where}").fetchone()[0]  # noqa: S608
    return part / total


def test_it_files_the_reports_asked_for_in_plausible_proportions(mission):
    conn = mission["conn"]
    assert conn.execute("SELECT count(*) FROM reports_report").fetchone()[0] == 2000
    # Mostly Russian strikes, some Ukrainian, some unattributed; shelling and drones first.
    ru = _share(conn, "alleged_party_id = (SELECT id FROM accounts_party WHERE code = 'RU')")
    ua = _share(conn, "alleged_party_id = (SELECT id FROM accounts_party WHERE code = 'UA')")
    assert 0.65 < ru < 0.80 and 0.10 < ua < 0.22
    assert 0.28 < _share(conn, "category = 'shelling'") < 0.40
    assert 0.16 < _share(conn, "category = 'drone_strike'") < 0.28
    # Drafts and returned reports among them, a few percent.
    assert 0.005 < _share(conn, "status = 'draft'") < 0.04
    assert 0.002 < _share(conn, "status = 'returned'") < 0.03
    # On the front line (eastern and southern Ukraine), over three years.
    lat_min, lat_max, lon_min, lon_max, days = conn.execute(
        "SELECT min(lat), max(lat), min(lon), max(lon), "
        "extract(epoch FROM max(created_at) - min(created_at)) / 86400 FROM reports_report").fetchone()
    assert lat_min > 45.5 and lat_max < 52.0 and lon_min > 31.0 and lon_max < 39.5
    assert 900 < days < 1100


def test_its_overview_counts_and_map_cells_count_every_submitted_report(mission):
    # Filled the way a restore fills them (rebuild_report_counts): the
    # reports go in by COPY, past the services that keep them on write.
    conn = mission["conn"]
    submitted = conn.execute("SELECT count(*) FROM reports_report WHERE status = 'submitted'").fetchone()[0]
    assert submitted > 0
    assert conn.execute("SELECT sum(n) FROM reports_reportdailycount WHERE status = 'submitted'").fetchone()[0] == (
        submitted)
    per_zoom = conn.execute("SELECT zoom, sum(n) FROM reports_reportmapcell WHERE status = 'submitted' "
                            "GROUP BY zoom ORDER BY zoom").fetchall()
    assert per_zoom and {n for _zoom, n in per_zoom} == {submitted}


def test_it_has_cases_in_every_stage_with_their_decisions(mission):
    conn = mission["conn"]
    stages = dict(conn.execute("SELECT stage, count(*) FROM commission_case GROUP BY stage").fetchall())
    assert set(stages) == {"verification", "attribution", "measures", "closed"}
    assert stages["closed"] > sum(stages.values()) / 2
    for table in ("commission_round", "commission_ballot", "commission_measure", "commission_deadline",
                  "commission_reply"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table  # noqa: S608
    # Every case links reports filed before it was opened, none linked twice.
    assert conn.execute(
        "SELECT count(*) FROM commission_casereport l JOIN commission_case c ON c.id = l.case_id "
        "JOIN reports_report r ON r.id = l.report_id WHERE r.created_at > c.created_at "
        "OR r.status <> 'submitted'").fetchone()[0] == 0
    roles = dict(conn.execute("SELECT g.name, count(*) FROM auth_group g JOIN accounts_user_groups ug "
                              "ON ug.group_id = g.id GROUP BY g.name").fetchall())
    assert set(roles.values()) == {6} and len(roles) == 6


def test_its_trail_has_one_event_per_change_and_the_app_verifies_it(mission):
    conn = mission["conn"]
    events = dict(conn.execute("SELECT action, count(*) FROM audit_auditevent GROUP BY action").fetchall())
    filed = conn.execute("SELECT count(*) FROM reports_report WHERE status <> 'draft'").fetchone()[0]
    assert events["report.submitted"] == filed
    assert events["case.opened"] == conn.execute("SELECT count(*) FROM commission_case").fetchone()[0]
    assert events["ballot.cast"] + events.get("ballot.changed", 0) == conn.execute(
        "SELECT count(*) FROM commission_ballot").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM audit_auditevent WHERE seq IS NULL").fetchone()[0] == 0
    verified = subprocess.run([sys.executable, str(ROOT / "manage.py"), "verify_audit"], cwd=ROOT,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "DATABASE_URL": mission["url"]})
    assert verified.returncode == 0, verified.stdout + verified.stderr
