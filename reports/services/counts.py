"""The counts kept on write (reports.models.ReportDailyCount, ReportMonthlyCount,
ReportMapCell):
moved in the same transaction as the reports they count, one statement per
table for any number of reports.

Each move is an INSERT ... SELECT ... GROUP BY over the reports themselves,
ON CONFLICT adding to the existing row: the counts are read from the rows
as written (no second copy of the rule that maps a report to its day or its
cell), and a batch of 10,000 costs what one report does in statements.
A change of a filed report (returned, submitted again, edited while
returned) takes its old values out before the change and puts the new ones
in after it (report_counts_follow).
"""

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC

from django.db import connection, transaction
from django.db.models import Count, IntegerField, QuerySet, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from reports import mapgrid
from reports.models import Report, ReportDailyCount, ReportMapCell, ReportMonthlyCount, ReportStatus

# What the counts cover: filed reports (a draft may lack time, place or category).
COUNTED_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.RETURNED)


def _period_select(reports: QuerySet, sign: int, period):
    """The reports by `period` of occurrence (a day or a month, UTC), category, party and status."""
    return (reports.annotate(c_period=period, c_party=Coalesce("alleged_party__code", Value("")))
            .values("c_period", "category", "c_party", "status")
            .annotate(c_n=Count("id") * Value(sign, output_field=IntegerField()))
            .order_by())


def _cell_select(reports: QuerySet, sign: int):
    """The cells of every level of mapgrid.CELL_LEVELS, in one SELECT (UNION ALL)."""
    s = Value(sign, output_field=IntegerField())
    parts = [(reports.annotate(c_zoom=Value(level, output_field=IntegerField()),
                               c_x=mapgrid.x_expression(level), c_y=mapgrid.y_expression(level))
              .values("c_zoom", "c_x", "c_y", "category", "status")
              .annotate(c_n=Count("id") * s, c_lat=Sum("lat") * s, c_lon=Sum("lon") * s, c_id=Sum("id") * s)
              .order_by()) for level in mapgrid.CELL_LEVELS]
    return parts[0].union(*parts[1:], all=True)


def _upsert(model, key: tuple[str, ...], columns: tuple[str, ...], select: QuerySet,
            added: tuple[str, ...]) -> tuple[str, list]:
    """(sql, params): INSERT INTO model (key + added) <select> ON CONFLICT (key) DO UPDATE
    adding `added`. `select` names its columns in `columns` (same order as
    key + added); they are picked by name, so the order the ORM puts them in
    does not matter."""
    inner, params = select.query.sql_with_params()
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    targets = key + added
    picked = ", ".join(f"s.{qn(c)}" for c in columns)
    # Rows in key order: two imports upserting overlapping keys then lock
    # them in the same order and wait for each other instead of deadlocking.
    in_key_order = ", ".join(f"s.{qn(c)}" for c in columns[:len(key)])
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in added)
    # "WHERE true": SQLite needs it to read ON CONFLICT as the upsert's and
    # not as a join's; PostgreSQL does not mind.
    sql = (f"INSERT INTO {table} ({', '.join(qn(c) for c in targets)}) "  # noqa: S608 (names from the models)
           f"SELECT {picked} FROM ({inner}) s WHERE true ORDER BY {in_key_order} "
           f"ON CONFLICT ({', '.join(qn(c) for c in key)}) DO UPDATE SET {updates}")
    return sql, list(params)


def _statements(reports: QuerySet, sign: int) -> list[tuple[str, list]]:
    """The three upserts that move `reports` into (+1) or out of (-1) the counts."""
    reports = reports.filter(status__in=COUNTED_STATUSES).order_by()
    day = TruncDate("occurred_at", tzinfo=UTC)
    # Always in this order (day, month, cells), so that two moves lock rows table by table alike.
    return [
        _upsert(ReportDailyCount, ("day", "category", "party", "status"),
                ("c_period", "category", "c_party", "status", "c_n"), _period_select(reports, sign, day), ("n",)),
        # The month of the UTC day (a date, on SQLite too), as the day rows would add up to.
        _upsert(ReportMonthlyCount, ("month", "category", "party", "status"),
                ("c_period", "category", "c_party", "status", "c_n"),
                _period_select(reports, sign, TruncMonth(day)), ("n",)),
        _upsert(ReportMapCell, ("zoom", "x", "y", "category", "status"),
                ("c_zoom", "c_x", "c_y", "category", "status", "c_n", "c_lat", "c_lon", "c_id"),
                _cell_select(reports, sign), ("n", "sum_lat", "sum_lon", "sum_id")),
    ]


def _move(reports: QuerySet, sign: int) -> None:
    with connection.cursor() as cursor:
        for sql, params in _statements(reports, sign):
            cursor.execute(sql, params)


class _Ids:
    """Where the ids go among a compiled move's parameters."""


_IDS = _Ids()
# (database alias, sign) -> the three statements for "the reports whose id is
# in one array parameter". Compiling them (three grouped SELECTs, the cells'
# a UNION ALL over every zoom) was 43 ms of the 79 ms a filing took in
# process (cProfile; the SQL itself about 2 ms), and their text never changes:
# the ids are one parameter. BENCHMARKS.md, "Pauses";
# tests/reports/test_report_counts.py holds them to the ORM's statements.
_COMPILED: dict[tuple[str, int], list[tuple[str, list]]] = {}


def _move_ids(ids: list[int], sign: int) -> None:
    if connection.vendor != "postgresql":
        # SQLite has no array parameter: the ORM's statements, compiled each time.
        _move(Report.objects.filter(pk__in=ids), sign)
        return
    key = (connection.alias, sign)
    if key not in _COMPILED:
        in_array = RawSQL("SELECT unnest(%s::bigint[])", [_IDS])  # noqa: S611 (no input in the text)
        _COMPILED[key] = _statements(Report.objects.filter(pk__in=in_array), sign)
    with connection.cursor() as cursor:
        for sql, params in _COMPILED[key]:
            cursor.execute(sql, [ids if p is _IDS else p for p in params])


def report_counts_add(*, report_ids: Iterable[int]) -> None:
    """Count these reports as they are now (call after they are written)."""
    ids = list(report_ids)
    if ids:
        _move_ids(ids, +1)


def report_counts_remove(*, report_ids: Iterable[int]) -> None:
    """Take these reports out of the counts as they are now (call before they change)."""
    ids = list(report_ids)
    if ids:
        _move_ids(ids, -1)


@contextmanager
def report_counts_follow(*, report_ids: Iterable[int]):
    """Around a change of these reports (inside the caller's transaction,
    the rows already locked): their old values out before, their new ones in after."""
    ids = list(report_ids)
    report_counts_remove(report_ids=ids)
    yield
    report_counts_add(report_ids=ids)


def report_counts_rebuild() -> None:
    """Recompute the three tables from the reports, in one transaction. On
    PostgreSQL the tables are locked first (EXCLUSIVE: reads go on, moves
    wait), so a report written meanwhile is either in the rebuild's snapshot
    or added on top of it after the commit, never both or neither."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ReportDailyCount._meta.db_table}, {ReportMonthlyCount._meta.db_table}, "
                               f"{ReportMapCell._meta.db_table} "
                               "IN EXCLUSIVE MODE")
        ReportDailyCount.objects.all().delete()
        ReportMonthlyCount.objects.all().delete()
        ReportMapCell.objects.all().delete()
        _move(Report.objects.all(), +1)
