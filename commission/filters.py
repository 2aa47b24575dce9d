"""The case list's filters (django-filter), for the API (GET /api/v1/cases/,
documented in the schema from here) and the cases page (the same FilterSet,
its form). What each filter means is commission.selectors.search."""

from datetime import UTC

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from commission import selectors
from commission.models import Case, Stage
from reports.filters import UTCDateTimeFilter


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """true or false; anything else is a 400 (django-filter's own boolean
    quietly ignores a value it does not know, which would return every case)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("", _("Any")), ("true", _("Yes")), ("false", _("No"))])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class CaseFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=200,
        help_text="Full text over the title, findings and closing summary, or a reference (CASE-2026-000012). "
                  "Words as typed, in any language (no stemming); quotes for a phrase, `or`, `-word` to exclude. "
                  "A search narrows the list and keeps its order: newest first.")
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices, empty_label=_("Any"))
    party = django_filters.CharFilter(
        label=_("Party"), method="filter_party", max_length=8,
        help_text="party code, e.g. RU: the party the case was attributed to, or the alleged party of a report "
                  "linked to it")
    admin1 = django_filters.CharFilter(
        label=_("Region"), method="filter_admin1", max_length=200,
        help_text="a linked report's first-level region (admin1), as written, any case")
    opened_after = UTCDateTimeFilter(
        label=_("Opened after"), method="filter_opened", lookup_expr="gte",
        help_text="cases opened at or after this time (ISO 8601)")
    opened_before = UTCDateTimeFilter(
        label=_("Opened before"), method="filter_opened", lookup_expr="lte",
        help_text="cases opened at or before this time (ISO 8601)")
    flagged = StrictBooleanFilter(
        label=_("Flagged"), field_name="flagged",
        help_text="true: only cases with a missed deadline or an undecided round (the chair's flag)")
    overdue = StrictBooleanFilter(
        label=_("Overdue"), method="filter_overdue",
        help_text="true: open cases with a deadline past due and unanswered (a running deadline past its time, "
                  "or a missed one while the case is flagged; a paused one is not overdue)")

    class Meta:
        model = Case
        fields = ["search", "stage", "party", "admin1", "opened_after", "opened_before", "flagged", "overdue"]

    def filter_search(self, qs, name, value):
        return selectors.case_search(qs, value)

    def filter_party(self, qs, name, value):
        return selectors.case_filter_party(qs, value)

    def filter_admin1(self, qs, name, value):
        return selectors.case_filter_admin1(qs, value)

    def filter_opened(self, qs, name, value):
        # In UTC, as UTCDateTimeFilter compares (a method replaces its filter()).
        bound = {"after" if name == "opened_after" else "before": value.astimezone(UTC)}
        return selectors.case_filter_opened(qs, **bound)

    def filter_overdue(self, qs, name, value):
        return selectors.case_filter_overdue(qs, value)

