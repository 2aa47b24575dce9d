"""Reads of reports and evidence, always scoped to who is asking."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from accounts.models import Party
from accounts.roles import AUDITOR, CHAIR, MEMBER, MONITOR, VERIFIER, roles_of
from reports import geo
from reports.models import Evidence, Report, ReportStatus

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


def report_get_for(user, pk) -> Report | None:
    return report_list_for(user).filter(pk=pk).first()


def reports_returned_to(user) -> QuerySet[Report]:
    """The user's own reports waiting for their answer, oldest question first."""
    return (Report.objects.filter(author=user, status=ReportStatus.RETURNED)
            .select_related("alleged_party", "returned_by").order_by("returned_at", "id"))


def report_similar(report: Report, distance_m: float | None = None, window: timedelta | None = None,
                   *, among: QuerySet[Report] | None = None) -> list[Report]:
    """Duplicate candidates for triage: submitted reports of the same category
    whose time span comes within `window` of this one's and whose position is
    within `distance_m`, nearest first (then closest in time, then id).

    Each result carries `distance_m`. `among` narrows the candidates (the API
    passes what the caller may see). The database does the coarse cut
    (category, time, a lat/lon box: indexed columns); the exact great-circle
    distance is computed in Python on what is left.
    """
    distance_m = settings.SIMILAR_DISTANCE_M if distance_m is None else distance_m
    window = settings.SIMILAR_WINDOW if window is None else window
    start = report.occurred_at
    end = report.occurred_until or report.occurred_at
    min_lat, max_lat, lon_ranges = geo.box_around(report.lat, report.lon, distance_m)
    lon_q = Q()
    for west, east in lon_ranges:
        lon_q |= Q(lon__gte=west, lon__lte=east)
    qs = Report.objects.all() if among is None else among
    candidates = (
        qs.filter(category=report.category, status=ReportStatus.SUBMITTED)
        .exclude(pk=report.pk)
        .filter(occurred_at__lte=end + window)
        .annotate(_end=Coalesce("occurred_until", "occurred_at"))
        .filter(_end__gte=start - window)
        .filter(lat__gte=min_lat, lat__lte=max_lat)
        .filter(lon_q)
        .select_related("author", "alleged_party")
    )
    out = []
    for other in candidates:
        d = geo.haversine_m(report.lat, report.lon, other.lat, other.lon)
        if d <= distance_m:
            other.distance_m = d
            out.append(other)
    out.sort(key=lambda r: (r.distance_m, abs((r.occurred_at - start).total_seconds()), r.pk))
    return out


def evidence_list_for(user, report: Report) -> QuerySet[Evidence]:
    """Evidence of a report the caller was already allowed to see."""
    return Evidence.objects.filter(report=report).select_related("uploaded_by", "report")


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
