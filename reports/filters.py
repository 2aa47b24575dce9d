"""Query filters of the report list and the GeoJSON export (django-filter)."""

import math
from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from reports import geo, selectors
from reports.models import Category, Report, ReportStatus


class BBoxField(forms.CharField):
    """min_lon,min_lat,max_lon,max_lat (GeoJSON order). min_lon > max_lon
    means the box crosses the antimeridian."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        parts = value.split(",")
        if len(parts) != 4:
            raise forms.ValidationError("bbox must be min_lon,min_lat,max_lon,max_lat (four numbers).")
        try:
            min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
        except ValueError:
            raise forms.ValidationError("bbox must be min_lon,min_lat,max_lon,max_lat (four numbers).")
        if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
            raise forms.ValidationError("bbox values must be finite numbers.")
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise forms.ValidationError("bbox longitudes must be within -180..180.")
        if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            raise forms.ValidationError("bbox latitudes must be within -90..90.")
        if min_lat > max_lat:
            raise forms.ValidationError("bbox min_lat must not be above max_lat.")
        return (min_lon, min_lat, max_lon, max_lat)


_NUMBER = r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*"


# Four numbers, as the schema can say it; ranges and order are checked above (400).
@extend_schema_field({"type": "string", "pattern": f"^{_NUMBER}(,{_NUMBER}){{3}}$"})
class BBoxFilter(django_filters.Filter):
    field_class = BBoxField

    def filter(self, qs, value):
        if value is None:
            return qs
        min_lon, min_lat, max_lon, max_lat = value
        lon_q = Q()
        for west, east in geo.lon_ranges(min_lon, max_lon):
            lon_q |= Q(lon__gte=west, lon__lte=east)
        return qs.filter(lon_q, lat__gte=min_lat, lat__lte=max_lat)


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 with any offset Python accepts (up to +-23:59), compared in
    UTC: PostgreSQL refuses offsets beyond +-15:59, which made the query
    itself fail (500) instead of simply meaning that instant."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    category = django_filters.ChoiceFilter(choices=Category.choices)
    alleged_party = django_filters.CharFilter(field_name="alleged_party__code", help_text="party code, e.g. RU")
    occurred_after = UTCDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="incidents at or after this time (ISO 8601)")
    occurred_before = UTCDateTimeFilter(
        field_name="occurred_at", lookup_expr="lte", help_text="incidents at or before this time (ISO 8601)")
    bbox = BBoxFilter(help_text="min_lon,min_lat,max_lon,max_lat (WGS 84, GeoJSON order)")
    search = django_filters.CharFilter(
        method="filter_search", max_length=200,
        help_text="Full text over the description, place name, region (admin1) and weapons, or a reference "
                  "(RPT-2026-000123). Words as typed, in any language (no stemming); quotes for a phrase, "
                  "`or`, `-word` to exclude. A search narrows the list and keeps its order: newest first.")

    class Meta:
        model = Report
        fields = ["status", "category", "alleged_party", "occurred_after", "occurred_before", "bbox", "search"]

    def filter_search(self, qs, name, value):
        return selectors.report_search(qs, value)
