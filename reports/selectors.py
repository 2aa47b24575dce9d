"""Reads of reports and evidence, always scoped to who is asking."""

import re
from datetime import timedelta

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
)

from accounts.models import Party
from accounts.roles import AUDITOR, CHAIR, MEMBER, MONITOR, VERIFIER, has_role, roles_of
from audit.receipts import receipt_sign
from audit.selectors import checkpoint_latest, event_latest, inclusion_proof
from config.search import text_search
from reports import geo, mapgrid
from reports.models import (
    SEARCH_FIELDS,
    SEARCH_VECTOR,
    Evidence,
    Report,
    ReportMapCell,
    ReportMonthlyCount,
    ReportStatus,
)

# Roles that read every submitted report (never anyone's drafts).
READERS_OF_SUBMITTED = frozenset({VERIFIER, CHAIR, MEMBER, AUDITOR})
# What those roles see: a report returned to its monitor with a question was
# seen submitted, and stays readable (and its question with it) while the
# monitor answers; only drafts are private to their author.
SHARED_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.RETURNED)


def party_by_code(code: str) -> Party | None:
    """The party with this code, or None."""
    return Party.objects.filter(code=code).first()


def parties_by_code() -> dict[str, Party]:
    """Every party by its code (a handful): a batch looks them up once."""
    return {party.code: party for party in Party.objects.all()}


def _visibility_q(user) -> Q | None:
    """The reports `user` may see as a Q, or None for nothing at all."""
    roles = roles_of(user)
    q = None
    if MONITOR in roles:
        q = Q(author=user)
    if roles & READERS_OF_SUBMITTED:
        shared = Q(status__in=SHARED_STATUSES)
        q = shared if q is None else q | shared
    return q


def report_list_for(user) -> QuerySet[Report]:
    """Object scoping: a monitor sees their own reports (drafts included);
    verifiers, the chair, members and auditors see every submitted (or
    returned) report and nobody's drafts; anyone else (outsider, anonymous) sees nothing."""
    q = _visibility_q(user)
    if q is None:
        return Report.objects.none()
    return Report.objects.filter(q).select_related("author", "alleged_party")


def report_visible_to(user, report: Report) -> bool:
    """The same rule as report_list_for, for a report already in hand (no query)."""
    roles = roles_of(user)
    if MONITOR in roles and report.author_id == user.pk:
        return True
    return bool(roles & READERS_OF_SUBMITTED) and report.status in SHARED_STATUSES


REFERENCE = re.compile(rf"{Report.REFERENCE_PREFIX}-\d{{4}}-0*(\d{{1,12}})", re.IGNORECASE)


def report_search(reports: QuerySet[Report], query: str | None, *, full_text: bool | None = None) -> QuerySet[Report]:
    """`reports` (already scoped to the reader: pass report_list_for or a
    narrowing of it) that match `query`, in their own order: full text over
    the description, place name, region (admin1) and weapons (config.search:
    PostgreSQL full text, a substring fallback elsewhere), or the report's
    reference (RPT-2026-000123) anywhere in the query. The one search of
    reports: the API's `search` filter and the pages call it."""
    ids = [int(m.group(1)) for m in REFERENCE.finditer(query or "")]
    return text_search(reports, query, fields=SEARCH_FIELDS, extra=Q(pk__in=ids) if ids else None,
                       full_text=full_text, stored=SEARCH_VECTOR)


def report_get_for(user, pk) -> Report | None:
    return report_list_for(user).filter(pk=pk).first()


def reports_returned_to(user) -> QuerySet[Report]:
    """The user's own reports waiting for their answer, oldest question first."""
    return (Report.objects.filter(author=user, status=ReportStatus.RETURNED)
            .select_related("alleged_party", "returned_by").order_by("returned_at", "id"))


def report_mappable(reports: QuerySet[Report]) -> QuerySet[Report]:
    """The reports that have a position (a draft may not have one yet)."""
    return reports.filter(lat__isnull=False, lon__isnull=False)


def evidence_list_for(user, report: Report) -> QuerySet[Evidence]:
    """Evidence of a report the caller was already allowed to see."""
    return Evidence.objects.filter(report=report).select_related("uploaded_by", "report")


def evidence_shown_to(user, report: Report) -> list[Evidence]:
    """Evidence of a report as pages show it: each item with `exif`, the
    comparison of evidence_exif_for (None where `user` may not see it)."""
    items = list(evidence_list_for(user, report))
    for evidence in items:
        evidence.exif = evidence_exif_for(user, evidence)
    return items


def evidence_readable_by(user, evidence: Evidence) -> bool:
    """Who may read an evidence item (original, preview or thumbnail): whoever
    may see its report. The one rule, for an item already in hand."""
    return report_visible_to(user, evidence.report)


def evidence_get_for(user, pk) -> Evidence | None:
    """An evidence item, only if its report is visible to `user` (one query:
    the scoping rule becomes a subquery)."""
    visible = report_list_for(user).values("pk")
    return Evidence.objects.filter(pk=pk, report__in=visible).select_related("report", "report__author").first()


# Evidence that pages show inline as images (the rest is only downloaded).
PREVIEW_TYPES = ("image/jpeg", "image/png", "image/webp")


def evidence_preview_for(user, pk) -> Evidence | None:
    """An image evidence item that `user` may see (the same scoping as a
    download), for showing on a page. Not recorded in the trail: a page view
    is not a read of the original, which only a download gives (and records,
    services.evidence_open_for_download)."""
    evidence = evidence_get_for(user, pk)
    if evidence is None or evidence.content_type not in PREVIEW_TYPES:
        return None
    return evidence


def evidence_thumbnail_for(user, pk) -> Evidence | None:
    """An evidence item with a thumbnail, only if `user` may read the
    original (evidence_get_for's scoping, then evidence_readable_by on the
    row itself, as a download does)."""
    evidence = evidence_get_for(user, pk)
    if evidence is None or not evidence.thumbnail or not evidence_readable_by(user, evidence):
        return None
    return evidence


def evidence_open_thumbnail(evidence: Evidence):
    """The stored thumbnail of an item evidence_thumbnail_for returned. Not
    recorded in the trail: the thumbnail carries no metadata and is shown on
    every page view; the download of the original is what records a read."""
    return evidence.thumbnail.storage.open(evidence.thumbnail.name, "rb")


# --- EXIF beside the report ------------------------------------------------

# Beyond these, the photo's EXIF and the report disagree enough for the page
# to highlight it (a verifier's prompt to ask, not a verdict: EXIF is easily
# wrong, and easily edited).
EXIF_FAR_KM = 5.0
EXIF_FAR_TIME = timedelta(hours=24)


def evidence_exif_visible_to(user, evidence: Evidence) -> bool:
    """The EXIF capture time and position: for verifiers and the chair (who
    check reports) and the uploader. Not for members and auditors: a photo's
    GPS is where a monitor stood, which no one else needs to know."""
    return has_role(user, VERIFIER, CHAIR) or evidence.uploaded_by_id == user.pk


def evidence_exif_for(user, evidence: Evidence) -> dict | None:
    """The photo's EXIF time and position beside the report's own, with the
    distance (km) and the time between them; None when there is no EXIF or
    `user` may not see it."""
    has_time = evidence.exif_taken_at is not None
    has_place = evidence.exif_lat is not None and evidence.exif_lon is not None
    if not (has_time or has_place) or not evidence_exif_visible_to(user, evidence):
        return None
    report = evidence.report
    out = {"taken_at": evidence.exif_taken_at, "taken_at_has_offset": evidence.exif_taken_at_has_offset,
           "lat": evidence.exif_lat if has_place else None, "lon": evidence.exif_lon if has_place else None,
           "reported_at": report.occurred_at, "reported_until": report.occurred_until,
           "reported_lat": report.lat, "reported_lon": report.lon,
           "distance_km": None, "far_in_space": False, "hours_apart": None, "far_in_time": False}
    if has_place:
        out["distance_km"] = round(geo.haversine_m(report.lat, report.lon, evidence.exif_lat, evidence.exif_lon)
                                   / 1000, 1)
        out["far_in_space"] = out["distance_km"] > EXIF_FAR_KM
    if has_time:
        # Zero inside the report's time span; otherwise the gap to its nearer end.
        start, end = report.occurred_at, report.occurred_until or report.occurred_at
        taken = evidence.exif_taken_at
        gap = start - taken if taken < start else (taken - end if taken > end else timedelta(0))
        out["hours_apart"] = round(gap.total_seconds() / 3600, 1)
        out["far_in_time"] = gap > EXIF_FAR_TIME
    return out

# The events that file a report (a returned report's new version is filed again).
FILING_ACTIONS = ("report.submitted", "report.resubmitted")


def _filing(user, report: Report):
    """(the filing event, its receipt) for the report's author; (None, None)
    for anyone else, a draft, no signing key, or a report filed before receipts."""
    if (not settings.AUDIT_SIGNING_KEY or user is None or report.author_id != user.pk
            or report.status == ReportStatus.DRAFT):
        return None, None
    event = event_latest(object_type="report", object_id=report.pk, actions=FILING_ACTIONS)
    sha256 = (event.after or {}).get("sha256") if event is not None else None
    if not sha256:
        return None, None  # filed before receipts existed
    return event, receipt_sign(reference=report.reference, sha256=sha256, at=event.at)


def report_receipt_for(user, report: Report) -> dict | None:
    """The signed receipt of the report's latest filing, for its author only
    (docs/audit.md, "Receipts"): built from that event's `after.sha256` and
    time, so it is the same whenever it is shown (Ed25519 is deterministic).
    None for anyone else, for a draft, or without a signing key."""
    return _filing(user, report)[1]


def report_receipt_proof_for(user, report: Report) -> dict | None:
    """What the author needs to prove offline that the report is in the
    signed trail: the receipt, the filing event (export form; None until it
    is sealed), the newest signed tree head and the event's inclusion proof
    in it (both None until a tree head covers the event)."""
    event, receipt = _filing(user, report)
    if receipt is None:
        return None
    head = checkpoint_latest()
    covered = event.seq is not None and head is not None and head.tree_size is not None and head.tree_size >= event.seq
    return {"receipt": receipt, "event": event if event.seq is not None else None,
            "tree_head": head if covered else None,
            "proof": inclusion_proof(seq=event.seq, tree_size=head.tree_size) if covered else None}


# --- The map's clusters ----------------------------------------------------------

# At most this many cells per answer: a box too large for its zoom is answered
# with coarser cells (the answer says which: cell_zoom).
MAP_MAX_CELLS = 4096
WORLD = (-180.0, -90.0, 180.0, 90.0)


def map_cell_zoom(zoom: int, bbox) -> int:
    """The grid's zoom for a map at `zoom` showing `bbox`: cells of
    mapgrid.CELL_PX pixels, coarser when that would be more than MAP_MAX_CELLS."""
    cell_zoom = zoom + mapgrid.CELL_ZOOM_OFFSET
    while cell_zoom > 0 and mapgrid.bbox_cell_count(bbox, cell_zoom) > MAP_MAX_CELLS:
        cell_zoom -= 1
    return cell_zoom


def _reads_every_filed_report(user) -> bool:
    """Whether `user` sees exactly the filed (submitted or returned) reports,
    which is what the cell counts cover; a monitor sees their own instead."""
    roles = roles_of(user)
    return MONITOR not in roles and bool(roles & READERS_OF_SUBMITTED)


def report_clusters(user, *, zoom: int, bbox=None, category: str | None = None, status: str | None = None,
                    occurred_after=None, occurred_before=None) -> dict:
    """The reports `user` may see (report_list_for's rule) that have a
    position, counted per cell of the map's grid (reports.mapgrid) over every
    cell `bbox` touches, each cell in full: a GeoJSON FeatureCollection of
    points (the cell's reports' mean position) with properties `count`,
    `cell` ("z/x/y"), `bbox` (the cell's bounds: the report list's `bbox`
    filter lists its reports), and `id` and `reference` when it holds one report.

    Far zooms of readers without a time filter add up the counts kept on
    write (ReportMapCell); everything else groups the reports themselves
    (a monitor's own, a time range, a close zoom: few rows). Two queries."""
    bbox = bbox or WORLD
    cell_zoom = map_cell_zoom(zoom, bbox)
    x_ranges, y_min, y_max = mapgrid.bbox_cells(bbox, cell_zoom)
    statuses = list(SHARED_STATUSES) if status is None else [status]
    use_cells = (cell_zoom <= mapgrid.BASE_ZOOM and _reads_every_filed_report(user)
                 and occurred_after is None and occurred_before is None)
    if use_cells:
        rows = _clusters_from_cells(cell_zoom, x_ranges, y_min, y_max, statuses, category)
    else:
        rows = _clusters_from_reports(user, cell_zoom, x_ranges, y_min, y_max, status, category,
                                      occurred_after, occurred_before)
    singles = [row["one_id"] for row in rows if row["n"] == 1]
    created = dict(Report.objects.filter(pk__in=singles).values_list("pk", "created_at")) if singles else {}
    features = []
    for row in sorted(rows, key=lambda r: (r["cx"], r["cy"])):
        props = {"count": row["n"], "cell": f"{cell_zoom}/{row['cx']}/{row['cy']}",
                 "bbox": list(mapgrid.cell_bounds(row["cx"], row["cy"], cell_zoom))}
        if row["n"] == 1 and row["one_id"] in created:
            one = Report(pk=row["one_id"], created_at=created[row["one_id"]])
            props.update(id=one.pk, reference=one.reference)
        features.append({"type": "Feature", "properties": props, "geometry": {
            "type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]}})
    return {"type": "FeatureCollection", "zoom": zoom, "cell_zoom": cell_zoom,
            "source": "cells" if use_cells else "reports", "features": features}


def _clusters_from_cells(cell_zoom, x_ranges, y_min, y_max, statuses, category) -> list[dict]:
    # The nearest level at least as fine as the map's cells.
    level = min(z for z in mapgrid.CELL_LEVELS if z >= cell_zoom)
    shift = 2 ** (level - cell_zoom)
    x_q = Q()
    for a, b in x_ranges:
        x_q |= Q(x__gte=a * shift, x__lt=(b + 1) * shift)
    cells = ReportMapCell.objects.filter(x_q, zoom=level, y__gte=y_min * shift, y__lt=(y_max + 1) * shift,
                                         status__in=statuses)
    if category:
        cells = cells.filter(category=category)
    # Integer division: the base cell's parent at cell_zoom (mapgrid: exact).
    rows = (cells.annotate(cx=F("x") / shift, cy=F("y") / shift).values("cx", "cy")
            .annotate(n=Sum("n"), s_lat=Sum("sum_lat"), s_lon=Sum("sum_lon"), s_id=Sum("sum_id"))
            .filter(n__gt=0).order_by())
    return [{"cx": r["cx"], "cy": r["cy"], "n": r["n"], "lat": r["s_lat"] / r["n"], "lon": r["s_lon"] / r["n"],
             "one_id": int(r["s_id"])} for r in rows]


def _clusters_from_reports(user, cell_zoom, x_ranges, y_min, y_max, status, category,
                           occurred_after, occurred_before) -> list[dict]:
    # The touched cells' bounds, so that a cell is counted in full as from ReportMapCell.
    # Widened a hair against rounding; the exact cell is decided below.
    eps = 1e-9
    south = -90.0 if y_max == 2 ** cell_zoom - 1 else mapgrid.y_to_lat(y_max + 1, cell_zoom) - eps
    north = 90.0 if y_min == 0 else mapgrid.y_to_lat(y_min, cell_zoom) + eps
    lon_q = Q()
    for a, b in x_ranges:
        lon_q |= Q(lon__gte=mapgrid.x_to_lon(a, cell_zoom) - eps, lon__lte=mapgrid.x_to_lon(b + 1, cell_zoom) + eps)
    reports = report_mappable(report_list_for(user)).filter(lon_q, lat__gte=south, lat__lte=north)
    if status:
        reports = reports.filter(status=status)
    if category:
        reports = reports.filter(category=category)
    if occurred_after is not None:
        reports = reports.filter(occurred_at__gte=occurred_after)
    if occurred_before is not None:
        reports = reports.filter(occurred_at__lte=occurred_before)
    rows = (reports.annotate(cx=mapgrid.x_expression(cell_zoom), cy=mapgrid.y_expression(cell_zoom))
            .values("cx", "cy").annotate(n=Count("id"), lat=Avg("lat"), lon=Avg("lon"), one_id=Min("id"))
            .order_by())
    # A lon bound on a cell's edge takes the next cell's reports too: keep the touched cells only.
    inside = [r for r in rows if y_min <= r["cy"] <= y_max and any(a <= r["cx"] <= b for a, b in x_ranges)]
    return inside


def report_counts_by_month(*, status: str = ReportStatus.SUBMITTED) -> list[dict]:
    """Reports of `status` per month of occurrence, category and alleged
    party (its code, "" for none), oldest month first: {"period": date,
    "category": str, "party": str, "total": int} from the counts kept on
    write by month (ReportMonthlyCount), a thousand rows or so however many
    reports. One read serves both of the overview's charts and its total
    (grouping the day rows by month instead cost 26-43 ms at a million
    reports). Every filed report: for readers, who see them all (report_list_for)."""
    return list(ReportMonthlyCount.objects.filter(status=status, n__gt=0)
                .values("category", "party", period=F("month"), total=F("n")).order_by("period", "category", "party"))
