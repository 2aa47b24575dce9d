"""The counts kept on write (ReportDailyCount, ReportMonthlyCount,
ReportMapCell) stay equal to a group-by of the reports through every change
that moves them."""

import io
from datetime import UTC, datetime

from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.test.utils import CaptureQueriesContext

from commission.services.triage import report_return
from reports import mapgrid
from reports.models import Report, ReportDailyCount, ReportMapCell, ReportMonthlyCount
from reports.services import ImportEntry, report_create, report_import, report_update


def daily_truth() -> dict:
    rows = (Report.objects.filter(status__in=("submitted", "returned"))
            .values("category", "status", "alleged_party__code")
            .annotate(day=TruncDate("occurred_at", tzinfo=UTC)).values("day", "category", "status", "alleged_party__code")
            .annotate(n=Count("id")))
    return {(r["day"], r["category"], r["alleged_party__code"] or "", r["status"]): r["n"] for r in rows}


def monthly_truth() -> dict:
    rows = (Report.objects.filter(status__in=("submitted", "returned"))
            .annotate(month=TruncMonth("occurred_at", tzinfo=UTC))
            .values("month", "category", "status", "alleged_party__code").annotate(n=Count("id")))
    return {(r["month"].date(), r["category"], r["alleged_party__code"] or "", r["status"]): r["n"]
            for r in rows}


def cell_truth() -> dict:
    out: dict = {}
    for report in Report.objects.filter(status__in=("submitted", "returned")):
        for level in mapgrid.CELL_LEVELS:
            key = (level, mapgrid.lon_to_x(report.lon, level), mapgrid.lat_to_y(report.lat, level),
                   report.category, report.status)
            n, ids = out.get(key, (0, 0))
            out[key] = (n + 1, ids + report.pk)
    return out


def assert_counts_match():
    kept = {(r.day, r.category, r.party, r.status): r.n for r in ReportDailyCount.objects.exclude(n=0)}
    assert kept == daily_truth()
    monthly = {(r.month, r.category, r.party, r.status): r.n for r in ReportMonthlyCount.objects.exclude(n=0)}
    assert monthly == monthly_truth()
    cells = {(c.zoom, c.x, c.y, c.category, c.status): (c.n, c.sum_id) for c in ReportMapCell.objects.exclude(n=0)}
    assert cells == cell_truth()


def test_the_counts_follow_submissions_returns_edits_and_rebuild(people, parties, file_report):
    monitor, verifier = people["monitor"], people["verifier"]
    first = file_report(monitor, occurred_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    file_report(monitor, occurred_at=datetime(2026, 3, 1, 0, 10, tzinfo=UTC), alleged_party=None, lat=0.0, lon=180.0)
    second = file_report(people["monitor2"], occurred_at=datetime(2026, 3, 2, tzinfo=UTC), category="mine_ied")
    assert_counts_match()
    draft, _ = report_create(actor=monitor, data={"status": "draft", "description": "to finish", "lat": 1.0})
    assert_counts_match()  # a draft is not counted
    report_update(actor=monitor, report=draft, data={
        "status": "submitted", "occurred_at": datetime(2026, 3, 5, tzinfo=UTC), "lon": 2.0, "category": "other",
        "source_type": "uav"})
    assert_counts_match()
    report_return(actor=verifier, report=first, reason="Which village?")
    assert_counts_match()
    # Edited while returned: the old day, place and category come out.
    report_update(actor=monitor, report=first, data={"category": "air_strike", "lat": 49.0, "lon": 30.0,
                                                     "occurred_at": datetime(2026, 2, 27, tzinfo=UTC)})
    assert_counts_match()
    report_update(actor=monitor, report=first, data={"status": "submitted"})
    report_return(actor=verifier, report=second, reason="Source?")
    assert_counts_match()
    ReportDailyCount.objects.all().delete()
    ReportMonthlyCount.objects.update(n=7)
    ReportMapCell.objects.update(n=99)
    call_command("rebuild_report_counts", stdout=io.StringIO())
    assert_counts_match()


def test_a_report_counts_in_the_month_of_its_utc_day(people, parties, file_report):
    """23:30 UTC on the last of March counts in March, 00:10 UTC on the first
    of April in April: the month of the day the daily rows use."""
    file_report(people["monitor"], occurred_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    file_report(people["monitor"], occurred_at=datetime(2026, 4, 1, 0, 10, tzinfo=UTC))
    months = {r.month: r.n for r in ReportMonthlyCount.objects.all()}
    assert months == {datetime(2026, 3, 1).date(): 1, datetime(2026, 4, 1).date(): 1}
    assert_counts_match()


def test_an_import_moves_the_counts_with_one_statement_per_table(people, parties):
    monitor = people["monitor"]
    file_entries = [ImportEntry(number=i + 1, idempotency_key=f"row-{i}", data={
        "occurred_at": datetime(2026, 1, 1 + i % 28, 12, tzinfo=UTC), "lat": 46 + i * 0.05, "lon": 33 + i * 0.07,
        "category": ("shelling", "drone_strike")[i % 2], "description": f"row {i}", "source_type": "open_source",
        "alleged_party": parties["RU"] if i % 3 else None}) for i in range(120)]
    file_entries.append(ImportEntry(number=121, idempotency_key="draft", data={"status": "draft"}))
    with CaptureQueriesContext(connection) as queries:
        outcomes = report_import(actor=monitor, entries=file_entries)
    assert {o.status for o in outcomes} == {"filed"}
    moves = [q["sql"] for q in queries.captured_queries if "reports_reportdailycount" in q["sql"]
             or "reports_reportmonthlycount" in q["sql"] or "reports_reportmapcell" in q["sql"]]
    assert len(moves) == 3
    assert_counts_match()
    # A re-run files nothing and counts nothing twice.
    report_import(actor=monitor, entries=file_entries)
    assert_counts_match()
    assert ReportDailyCount.objects.aggregate(n=Sum("n"))["n"] == 120
    assert ReportMonthlyCount.objects.aggregate(n=Sum("n"))["n"] == 120


def test_the_overview_reads_the_kept_counts_of_submitted_reports(people, file_report):
    from reports.selectors import report_counts_by_month
    from web.overview import _counts_by_month

    reports = [file_report(people["monitor"], occurred_at=datetime(2026, 1 + i % 3, 10, tzinfo=UTC)) for i in range(5)]
    report_return(actor=people["verifier"], report=reports[2], reason="?")  # March's only one
    rows = report_counts_by_month()
    periods, series = _counts_by_month(rows, "category")
    assert periods == ["2026-01", "2026-02"]
    assert series == {"shelling": [2, 2]}
    periods, series = _counts_by_month(rows, "party")
    assert series == {"RU": [2, 2]}
    assert sum(row["total"] for row in rows) == 4


def test_each_chart_adds_up_the_other_field_and_the_total_counts_every_month(people, parties, file_report):
    from reports.selectors import report_counts_by_month
    from web.overview import _counts_by_month

    january = datetime(2026, 1, 10, tzinfo=UTC)
    for category, party in [("shelling", "RU"), ("shelling", "UA"), ("drone_strike", "RU"), ("drone_strike", None)]:
        file_report(people["monitor"], occurred_at=january, category=category,
                    alleged_party=parties[party] if party else None)
    file_report(people["monitor"], occurred_at=datetime(2026, 3, 2, tzinfo=UTC), category="drone_strike")
    rows = report_counts_by_month()
    assert _counts_by_month(rows, "category") == (["2026-01", "2026-03"], {"drone_strike": [2, 1], "shelling": [2, 0]})
    assert _counts_by_month(rows, "party") == (["2026-01", "2026-03"], {"RU": [2, 1], "UA": [1, 0], "unknown": [1, 0]})
    assert sum(row["total"] for row in rows) == 5


def _kept() -> tuple[dict, dict, dict]:
    daily = {(r.day, r.category, r.party, r.status): r.n for r in ReportDailyCount.objects.exclude(n=0)}
    monthly = {(r.month, r.category, r.party, r.status): r.n for r in ReportMonthlyCount.objects.exclude(n=0)}
    # The positions' sums are floats added up in whatever order the plan reads the rows.
    cells = {(c.zoom, c.x, c.y, c.category, c.status): (c.n, c.sum_id, round(c.sum_lat, 9), round(c.sum_lon, 9))
             for c in ReportMapCell.objects.exclude(n=0)}
    return daily, monthly, cells


def test_a_move_by_ids_does_exactly_what_the_orms_statements_do(people, parties, file_report):
    """report_counts_add/remove run, on PostgreSQL, statements compiled once
    per process with the ids as one array (counts._COMPILED); each of their
    moves is undone exactly by the ORM's statements for the same reports,
    and the other way round."""
    from reports.services import counts

    monitor = people["monitor"]
    reports = [
        file_report(monitor, occurred_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC)),
        file_report(monitor, occurred_at=datetime(2026, 4, 1, 0, 10, tzinfo=UTC), category="mine_ied",
                    alleged_party=None, lat=-33.9, lon=179.99),
        file_report(people["monitor2"], occurred_at=datetime(2025, 12, 1, tzinfo=UTC), alleged_party=parties["UA"],
                    lat=48.0, lon=37.8),
    ]
    report_return(actor=people["verifier"], report=reports[2], reason="Which village?")
    ids = [r.pk for r in reports]
    counted = _kept()
    assert all(counted)

    counts._move_ids(ids, -1)
    emptied = _kept()
    assert emptied != counted
    counts._move(Report.objects.filter(pk__in=ids), +1)
    assert _kept() == counted
    counts._move(Report.objects.filter(pk__in=ids), -1)
    assert _kept() == emptied
    counts._move_ids(ids, +1)
    assert _kept() == counted
    assert_counts_match()
    if connection.vendor == "postgresql":
        assert {(connection.alias, +1), (connection.alias, -1)} <= set(counts._COMPILED)
