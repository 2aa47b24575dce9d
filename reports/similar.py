"""Duplicate candidates for triage (the inbox's cards, GET
/api/v1/reports/{id}/similar/): submitted reports of the same category, near
in place and time. The rule is _passes and its order _nearness, applied in
Python; the database only narrows (on PostgreSQL each report's nearest from
one LATERAL subquery over report_similar_idx). Moved out of
reports.selectors, which keeps the other reads of reports."""

import copy
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    DurationField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import ASin, Coalesce, Cos, Greatest, Least, Power, Radians, Sin, Sqrt

from reports import geo
from reports.models import Report, ReportStatus


class Candidates(list):
    """A report's duplicate candidates, nearest first: at most the limit
    asked, and `more` when others pass the rule beyond them."""

    more = False


def report_similar(report: Report, distance_m: float | None = None, window: timedelta | None = None,
                   *, among: QuerySet[Report] | None = None, limit: int | None = None) -> Candidates:
    """Duplicate candidates for triage: submitted reports of the same category
    whose time span comes within `window` of this one's and whose position is
    within `distance_m`, nearest first (then closest in time, then id); the
    first `limit` of them (SIMILAR_LIMIT), `more` saying whether there are others.

    Each result carries `distance_m`. `among` narrows the candidates (the API
    passes what the caller may see). The rule is _passes and its order
    _nearness: the database narrows (report_similar_many), Python decides.
    """
    return report_similar_many([report], distance_m, window, among=among, limit=limit)[0]


def report_similar_many(reports: list[Report], distance_m: float | None = None, window: timedelta | None = None,
                        *, among: QuerySet[Report] | None = None, limit: int | None = None) -> list[Candidates]:
    """report_similar for each of `reports` (a page of the inbox), in ONE
    query, then each candidate sorted to the reports whose rule (_passes) it
    passes, in the rule's order (_nearness), cut at `limit`. A candidate of
    two reports is two objects, each with its own `distance_m`.

    The query: on PostgreSQL, each report's own nearest `limit` + 1 by the
    same cut and order, computed in the database (_nearest_in_sql), so that
    a card among a thousand identical reports (one row imported a thousand
    times) costs `limit` + 1 rows, not a thousand; elsewhere, the coarse
    cuts of every report OR-ed together (the rule's indexed ranges).
    `more`: the rule passes more than `limit` (which is why one more is
    asked of the database)."""
    distance_m = settings.SIMILAR_DISTANCE_M if distance_m is None else distance_m
    window = settings.SIMILAR_WINDOW if window is None else window
    limit = settings.SIMILAR_LIMIT if limit is None else limit
    cuts = {}
    for report in reports:
        if report.occurred_at is None or report.lat is None or report.lon is None or not report.category:
            # A draft that has no time, place or category yet resembles nothing.
            continue
        start, end = report.occurred_at, report.occurred_until or report.occurred_at
        min_lat, max_lat, lon_ranges = geo.box_around(report.lat, report.lon, distance_m)
        cuts[report.pk] = (report, start - window, end + window, min_lat, max_lat, lon_ranges)
    if not cuts:
        return [Candidates() for _ in reports]
    qs = (Report.objects.all() if among is None else among).filter(status=ReportStatus.SUBMITTED)
    by_category: dict[str, list[Report]] = {}
    for other in _narrowed(cuts, qs, limit).select_related("author", "alleged_party"):
        by_category.setdefault(other.category, []).append(other)
    out = []
    for report in reports:
        found = Candidates()
        if report.pk in cuts:
            passing = []
            for other in by_category.get(report.category, ()):
                d = _passes(cuts[report.pk], other, distance_m)
                if d is not None:
                    passing.append((_nearness(report, other, d), other, d))
            # Every candidate in the union that passes this report's rule: its own nearest ones,
            # and others' nearest that rank after them (the order is total: the id breaks ties).
            passing.sort(key=lambda entry: entry[0])
            for _key, other, d in passing[:limit]:
                other = copy.copy(other)
                other.distance_m = d
                found.append(other)
            found.more = len(passing) > limit
        out.append(found)
    return out


def _passes(cut, other: Report, distance_m: float) -> float | None:
    """The duplicate-candidate rule: `other`'s great-circle distance from the
    cut's report if `other` is a candidate of it, else None."""
    report, earliest, latest, min_lat, max_lat, lon_ranges = cut
    end = other.occurred_until or other.occurred_at
    if (other.pk == report.pk or other.category != report.category or other.occurred_at > latest
            or end < earliest or not min_lat <= other.lat <= max_lat
            or not any(west <= other.lon <= east for west, east in lon_ranges)):
        return None
    d = geo.haversine_m(report.lat, report.lon, other.lat, other.lon)
    return d if d <= distance_m else None


def _nearness(report: Report, other: Report, d: float) -> tuple:
    """The candidates' order: nearest first, then closest in time, then id."""
    return d, abs((other.occurred_at - report.occurred_at).total_seconds()), other.pk


def _narrowed(cuts, qs: QuerySet[Report], limit: int) -> QuerySet[Report]:
    """The rows of `qs` the rule is applied to, for the cut reports: on
    PostgreSQL, each one's nearest `limit` + 1 (_nearest_in_sql); elsewhere
    every row in the coarse cuts (_coarsely_narrowed)."""
    if connection.vendor == "postgresql":
        return qs.filter(pk__in=_nearest_in_sql(cuts, qs, limit + 1))
    return _coarsely_narrowed(cuts, qs)


def _coarsely_narrowed(cuts, qs: QuerySet[Report]) -> QuerySet[Report]:
    """The rule's indexed ranges (category, time, a lat/lon box) of every cut, OR-ed."""
    any_cut = Q()
    for report, earliest, latest, min_lat, max_lat, lon_ranges in cuts.values():
        lon_q = Q()
        for west, east in lon_ranges:
            lon_q |= Q(lon__gte=west, lon__lte=east)
        any_cut |= (Q(category=report.category, occurred_at__lte=latest, _end__gte=earliest,
                      lat__gte=min_lat, lat__lte=max_lat) & lon_q & ~Q(pk=report.pk))
    return qs.annotate(_end=Coalesce("occurred_until", "occurred_at")).filter(any_cut)


# The cuts as rows `p` of the PostgreSQL query below (unnest of one array per column).
_CUT_COLUMNS = (("alone", "bigint"), ("category", "text"), ("lat", "float8"), ("lon", "float8"), ("occurred_at", "timestamptz"),
                ("earliest", "timestamptz"), ("latest", "timestamptz"), ("min_lat", "float8"), ("max_lat", "float8"),
                ("west1", "float8"), ("east1", "float8"), ("west2", "float8"), ("east2", "float8"),
                ("west", "float8"), ("east", "float8"))


def _p(column: str, field=None) -> RawSQL:
    """A column of the cut `p` in the query below."""
    return RawSQL(f"p.{column}", (), output_field=field or FloatField())  # noqa: S611 (names from _CUT_COLUMNS)


class _SpanOverlaps(Func):
    """The report's time span meets the cut's window, written as the
    expression of report_similar_idx (a GiST index on the span and the
    point), so that the index answers it: the same test as occurred_at <=
    latest and end >= earliest, which stay in the query as the rule."""

    template = "tstzrange(%(expressions)s, '[]') && tstzrange(p.earliest, p.latest, '[]')"
    output_field = BooleanField()


class _PointInBox(Func):
    """The position in the box enclosing the cut's lon ranges (the index's
    second column; the exact ranges stay in the query as the rule)."""

    template = "point(%(expressions)s) <@ box(point(p.west, p.min_lat), point(p.east, p.max_lat))"
    output_field = BooleanField()


def _haversine(lat, lon):
    """geo.haversine_m from (lat, lon) to the row, in SQL: the same
    operations in the same order, so the database ranks as Python does."""
    phi1, phi2 = Radians(lat), Radians(F("lat"))
    dphi = phi2 - phi1
    dlmb = Radians(F("lon") - lon)
    a = Power(Sin(dphi / 2), 2) + Cos(phi1) * Cos(phi2) * Power(Sin(dlmb / 2), 2)
    return Value(2 * geo.EARTH_RADIUS_M) * ASin(Least(Value(1.0), Sqrt(a)))


def _nearest_in_sql(cuts, qs: QuerySet[Report], limit: int) -> RawSQL:
    """The ids of the rows of `qs` nearest each cut report that pass its cut
    (category, time, box), in _nearness's order computed in PostgreSQL: one
    LATERAL subquery per cut, a scan of report_similar_idx and a top-N sort.
    Those within distance_m come first in that order, so the report's first
    `limit` candidates are among them (_passes keeps those within; the
    distance is computed once a row, for the order only).

    Reports with the same category, place and time have the same cut and the
    same candidates but themselves: one subquery serves them all, with one
    row more (each report is among the others' rows). A page of a row
    imported a thousand times is one subquery, not fifty. A report alone
    with its cut is left out of its own rows."""
    at = DateTimeField()
    mine = (qs.alias(_end=Coalesce("occurred_until", "occurred_at"), _d=_haversine(_p("lat"), _p("lon")),
                     _dt=Greatest(F("occurred_at") - _p("occurred_at", at), _p("occurred_at", at) - F("occurred_at"),
                                  output_field=DurationField()))
            .filter(_SpanOverlaps(F("occurred_at"), Coalesce("occurred_until", "occurred_at")),
                    _PointInBox(F("lon"), F("lat")))
            .filter(category=_p("category", CharField()), occurred_at__lte=_p("latest", at),
                    _end__gte=_p("earliest", at), lat__gte=_p("min_lat"), lat__lte=_p("max_lat"))
            .filter(Q(lon__gte=_p("west1"), lon__lte=_p("east1")) | Q(lon__gte=_p("west2"), lon__lte=_p("east2")))
            .exclude(pk=_p("alone", BigIntegerField()))
            .order_by("_d", "_dt", "pk").values("pk")[:limit + 1])
    sql, params = mine.query.sql_with_params()
    shared: dict[tuple, list[int]] = {}
    for pk, (report, earliest, latest, min_lat, max_lat, lon_ranges) in cuts.items():
        (west1, east1), (west2, east2) = lon_ranges[0], (lon_ranges[1:] or [(None, None)])[0]
        shared.setdefault((report.category, report.lat, report.lon, report.occurred_at, earliest, latest, min_lat,
                           max_lat, west1, east1, west2, east2, min(w for w, _e in lon_ranges),
                           max(e for _w, e in lon_ranges)), []).append(pk)
    # `alone`: the report a cut is for, left out of its rows, when it is the only one (0 leaves none out).
    rows = [(pks[0] if len(pks) == 1 else 0, *cut) for cut, pks in shared.items()]
    arrays = ", ".join(f"%s::{kind}[]" for _name, kind in _CUT_COLUMNS)
    names = ", ".join(name for name, _type in _CUT_COLUMNS)
    # Names and types from _CUT_COLUMNS, the subquery compiled by the ORM; every value a parameter.
    return RawSQL(f"SELECT c.id FROM unnest({arrays}) AS p({names}) CROSS JOIN LATERAL ({sql}) AS c(id)",  # noqa: S608, S611
                  (*(list(column) for column in zip(*rows, strict=True)), *params))
