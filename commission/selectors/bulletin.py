"""What a public bulletin says, and the reads of published bulletins.

A bulletin is made for people outside the commission, parties to the
conflict included, so it says only what cannot point at a monitor or a
source: counts, each location as the centre of a grid cell of
BULLETIN_GRID_KM (never the point), per occurrence day, for a period that
ended BULLETIN_DELAY ago or more. No report reference, no monitor, no
description, no names; a case's closing summary only when the chair marked it
public (docs/security.md, "The public bulletin").
"""

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from accounts.models import Party
from audit import chain
from commission.models import Bulletin, Case, Measure, MeasureStatus, Round, RoundStatus
from reports.models import Report, ReportStatus

# Fixed kilometres per degree (WGS 84 means): a cell is grid_km tall
# everywhere, and grid_km wide at the latitude of its row's centre.
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320


def grid_cell(lat: float, lon: float, *, grid_km: float) -> tuple[float, float]:
    """The centre of the grid cell holding (lat, lon): what a bulletin prints
    instead of the point. Rows are grid_km of latitude; within a row, columns
    are grid_km of longitude at the row's centre, counted from 180° W."""
    dlat = grid_km / KM_PER_DEGREE_LAT
    row = math.floor(lat / dlat)
    lat_c = max(-90.0, min(90.0, (row + 0.5) * dlat))
    km_per_degree_lon = KM_PER_DEGREE_LON_AT_EQUATOR * max(math.cos(math.radians(lat_c)), 1e-3)
    dlon = min(grid_km / km_per_degree_lon, 360.0)
    col = math.floor((lon + 180.0) / dlon)
    lon_c = max(-180.0, min(180.0, -180.0 + (col + 0.5) * dlon))
    return round(lat_c, 4), round(lon_c, 4)


def _counts(qs, field: str, key: str) -> list[dict]:
    rows = qs.values(field).annotate(n=Count("id")).order_by(field)
    return [{key: row[field], "count": row["n"]} for row in rows]


def _in(field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def bulletin_reports(*, start: datetime, end: datetime) -> QuerySet[Report]:
    """Reports that occurred in the period and were filed (drafts are not)."""
    return Report.objects.filter(_in("occurred_at", start, end)).exclude(status=ReportStatus.DRAFT)


def bulletin_content(*, start: datetime, end: datetime, grid_km: float) -> dict:
    """The counts of one period, as published (JSON-ready, deterministic order)."""
    reports = bulletin_reports(start=start, end=end)
    by_day = (reports.annotate(day=TruncDate("occurred_at", tzinfo=UTC)).values("day")
              .annotate(n=Count("id")).order_by("day"))
    cells: dict[tuple[float, float], int] = {}
    for lat, lon in reports.values_list("lat", "lon").iterator():
        cell = grid_cell(lat, lon, grid_km=grid_km)
        cells[cell] = cells.get(cell, 0) + 1
    regions = [{"region": row["admin1"] or None, "count": row["n"]}
               for row in reports.values("admin1").annotate(n=Count("id")).order_by("admin1")]

    party_codes = list(Party.objects.values_list("code", flat=True))
    attributions = Round.objects.filter(_in("closed_at", start, end), status=RoundStatus.CLOSED,
                                        outcome__in=party_codes)
    closed = Case.objects.filter(_in("closed_at", start, end))
    public = (Case.objects.filter(_in("summary_public_at", start, end)).exclude(summary="")
              .order_by("closed_at", "id"))
    adopted = Measure.objects.filter(_in("decided_at", start, end), status=MeasureStatus.ADOPTED)
    adopted_to_date = Measure.objects.filter(status=MeasureStatus.ADOPTED, decided_at__lt=end)

    return {
        "period": {"start": chain.format_at(start), "end": chain.format_at(end)},
        "grid_km": grid_km,
        "reports": {
            "total": reports.count(),
            "by_category": _counts(reports, "category", "category"),
            "by_region": regions,
            "by_day": [{"day": row["day"].isoformat(), "count": row["n"]} for row in by_day],
            "cells": [{"lat": lat, "lon": lon, "count": n} for (lat, lon), n in sorted(cells.items())],
        },
        "cases": {
            "opened": Case.objects.filter(_in("created_at", start, end)).count(),
            "attributed": attributions.count(),
            "attributed_to": _counts(attributions, "outcome", "party"),
            "closed": closed.count(),
            "closed_by_outcome": _counts(closed, "outcome", "outcome"),
            "public_summaries": [
                {"case": case.reference, "outcome": case.outcome, "closed_at": chain.format_at(case.closed_at)
                 if case.closed_at else None, "summary": case.summary}
                for case in public
            ],
        },
        "measures": {
            "adopted": adopted.count(),
            "adopted_by_kind": _counts(adopted, "kind", "kind"),
            "adopted_by_addressee": _counts(adopted, "addressee__code", "party"),
            # Every measure adopted up to the period's end, by its compliance
            # when the bulletin was made (a later bulletin shows later news).
            "compliance": _counts(adopted_to_date, "compliance", "compliance"),
        },
    }


def content_sha256(content: dict) -> str:
    """What the trail's bulletin.published event records of the content."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- Periods ------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def scheduled_period(*, now: datetime, period: timedelta, delay: timedelta) -> tuple[datetime, datetime]:
    """The last whole period (aligned on the epoch: UTC midnights for 24h)
    that ended at least `delay` ago."""
    cutoff = now - delay
    periods = (cutoff - _EPOCH) // period
    end = _EPOCH + periods * period
    return end - period, end


def on_demand_period(*, now: datetime, period: timedelta, delay: timedelta) -> tuple[datetime, datetime]:
    """From the end of the latest bulletin (or one period back) up to
    now - delay, to the minute: a second click within the minute finds the
    same period, so publishes nothing twice."""
    end = (now - delay).replace(second=0, microsecond=0)
    latest = Bulletin.objects.filter(period_end__lte=end).order_by("-period_end").first()
    start = latest.period_end if latest is not None else end - period
    return start, end


# --- Published bulletins ------------------------------------------------------------


def bulletin_list() -> QuerySet[Bulletin]:
    return Bulletin.objects.order_by("-period_end", "-id")


def bulletin_latest() -> Bulletin | None:
    return bulletin_list().first()


def bulletin_get(pk) -> Bulletin | None:
    return Bulletin.objects.filter(pk=pk).first()


def bulletin_period(*, start: datetime, end: datetime) -> Bulletin | None:
    return Bulletin.objects.filter(period_start=start, period_end=end).first()


def bulletin_dict(bulletin: Bulletin) -> dict:
    """A bulletin as the public reads it (JSON, API, feed)."""
    return {
        "id": bulletin.pk,
        "period": {"start": chain.format_at(bulletin.period_start), "end": chain.format_at(bulletin.period_end)},
        "published_at": chain.format_at(bulletin.published_at),
        "on_demand": bulletin.on_demand,
        "content": bulletin.content,
        "content_sha256": content_sha256(bulletin.content),
        "tree_head": bulletin.tree_head,
    }
