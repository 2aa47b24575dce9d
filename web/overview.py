"""The commission's overview: violations over time by party and category,
a map of the reports, and time to decision per stage."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.roles import AUDITOR, CHAIR, MEMBER, VERIFIER
from reports import selectors as report_selectors
from reports.models import Category
from web import charts
from web.access import role_required
from web.labels import label

MAX_PERIODS = 24


def _counts_by_month(rows: list[dict], field: str):
    """(periods, series) of submitted reports per month by `field` ("party"
    or "category"), from report_counts_by_month's rows: no group-by over
    every report per request."""
    periods: list = []
    by_series: dict[str, dict] = {}
    for row in rows:
        if row["period"] not in periods:
            periods.append(row["period"])
        counts = by_series.setdefault(row[field] or "unknown", {})
        counts[row["period"]] = counts.get(row["period"], 0) + row["total"]
    periods = periods[-MAX_PERIODS:]
    series = {name: [counts.get(p, 0) for p in periods] for name, counts in sorted(by_series.items())}
    series = {name: values for name, values in series.items() if any(values)}
    return [f"{p:%Y-%m}" for p in periods], series


def _chart(rows: list[dict], field: str, title: str, labels: dict[str, str]) -> dict:
    periods, series = _counts_by_month(rows, field)
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

    # Readers see every submitted report (report_list_for): the counts kept on write are theirs.
    party_labels = {"unknown": _("Not alleged")}
    category_labels = {code: label(code) for code in Category.values}
    rows = report_selectors.report_counts_by_month()
    ctx = {
        "charts": [_chart(rows, "party", _("Reports by alleged party, per month"), party_labels),
                   _chart(rows, "category", _("Reports by category, per month"), category_labels)],
        "total": sum(row["total"] for row in rows),
        "tile_url": settings.MAP_TILE_URL,
        "decision_times": commission_pages.decision_times(),
    }
    return render(request, "web/overview.html", ctx)
