"""The commission's overview: violations over time by party and category,
a map of the reports, and time to decision per stage."""

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.roles import AUDITOR, CHAIR, MEMBER, VERIFIER
from reports import selectors as report_selectors
from reports.models import ReportStatus
from web import charts
from web.access import role_required
from web.labels import label

MAX_PERIODS = 24


def _counts_by_month(reports, field: str):
    rows = (reports.annotate(period=TruncMonth("occurred_at")).values("period", field)
            .annotate(n=Count("id")).order_by("period"))
    periods: list = []
    by_series: dict[str, dict] = {}
    for row in rows:
        if row["period"] not in periods:
            periods.append(row["period"])
        name = row[field] or "unknown"
        by_series.setdefault(name, {})[row["period"]] = row["n"]
    periods = periods[-MAX_PERIODS:]
    series = {name: [counts.get(p, 0) for p in periods] for name, counts in sorted(by_series.items())}
    return [f"{p:%Y-%m}" for p in periods], series


def _chart(reports, field: str, title: str, labels: dict[str, str]) -> dict:
    periods, series = _counts_by_month(reports, field)
    colours = charts.series_colours(list(series))
    return {
        "title": title,
        "svg": charts.stacked_bars(periods, series, colours, title=title) if periods else "",
        "legend": charts.legend(colours, labels),
        "periods": periods,
        "rows": [(labels.get(name, name), values, sum(values)) for name, values in series.items()],
    }


@role_required(VERIFIER, CHAIR, MEMBER, AUDITOR)
def overview(request):
    from web import commission_pages

    reports = report_selectors.report_list_for(request.user).filter(status=ReportStatus.SUBMITTED).order_by()
    party_labels = {"unknown": _("Not alleged")}
    category_codes = set(reports.values_list("category", flat=True).distinct())
    ctx = {
        "charts": [
            _chart(reports, "alleged_party__code", _("Reports by alleged party, per month"), party_labels),
            _chart(reports, "category", _("Reports by category, per month"),
                   {code: label(code) for code in category_codes}),
        ],
        "total": reports.count(),
        "tile_url": settings.MAP_TILE_URL,
        "decision_times": commission_pages.decision_times(),
    }
    return render(request, "web/overview.html", ctx)
