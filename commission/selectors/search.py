"""Finding cases: the full-text search and the case list's filters, one
rule each, used by the API (commission.filters.CaseFilter) and the cases page
(the same FilterSet, as a form).

Each filter is a single WHERE (EXISTS subqueries over links and deadlines,
never a join that repeats a case), so a filtered page costs what an
unfiltered one does (tests/commission/test_case_search.py counts).
"""

import re
from datetime import datetime

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from commission.models import (
    CASE_SEARCH_FIELDS,
    CASE_SEARCH_VECTOR,
    OPEN_DEADLINE,
    Case,
    CaseReport,
    Deadline,
    DeadlineStatus,
    Stage,
)
from commission.selectors.reads import case_list_for
from config.search import text_search
from reports.selectors import report_search

REFERENCE = re.compile(rf"{Case.REFERENCE_PREFIX}-\d{{4}}-\d{{1,12}}", re.IGNORECASE)


def case_search(cases: QuerySet[Case], query: str | None, *, full_text: bool | None = None) -> QuerySet[Case]:
    """`cases` matching `query`, in their own order: full text over the title,
    the verification findings and the closing summary (config.search), or
    the case's reference (CASE-2026-000012) anywhere in the query."""
    refs = [m.group(0).upper() for m in REFERENCE.finditer(query or "")]
    return text_search(cases, query, fields=CASE_SEARCH_FIELDS, extra=Q(reference__in=refs) if refs else None,
                       full_text=full_text, stored=CASE_SEARCH_VECTOR)


def _live_links(**report_filter) -> QuerySet[CaseReport]:
    return CaseReport.objects.filter(case=OuterRef("pk"), detached_at__isnull=True, **report_filter)


def _has_live_link(name: str, **report_filter) -> tuple[dict, Q]:
    """(alias, condition): the case has a live link to a report matching
    `report_filter`, as `(SELECT ... LIMIT 1) IS NOT NULL` rather than
    EXISTS. Why: PostgreSQL turns such an EXISTS (under an OR, or as a
    semi-join) into a hash of every matching link, reading every report of
    the party or region (a sequential scan of the reports, 0.1 s at 100,000
    and growing with the mission) to fill a page of 50. The scalar form is
    evaluated case by case as the newest-first scan goes, and stops with the
    page. Same cases either way: tests/commission/test_case_search.py holds
    the rules (attributed or alleged party, a detached report no longer
    counts, any letter case for the region)."""
    first = Subquery(_live_links(**report_filter).values("pk")[:1])
    return {name: first}, Q(**{f"{name}__isnull": False})


def case_filter_party(cases: QuerySet[Case], code: str) -> QuerySet[Case]:
    """Cases that concern a party (its code, e.g. RU): the party the
    commission attributed the case to, or the party alleged in one of the
    reports linked to it now. Both, because a case is "about" a party from
    its first report on, long before any vote."""
    code = code.strip().upper()
    alias, linked = _has_live_link("party_link", report__alleged_party__code=code)
    return cases.alias(**alias).filter(Q(attributed_party__code=code) | linked)


def case_filter_admin1(cases: QuerySet[Case], admin1: str) -> QuerySet[Case]:
    """Cases with a linked report in this region (first-level division, as
    the reports spell it; case does not matter)."""
    alias, linked = _has_live_link("admin1_link", report__admin1__iexact=admin1.strip())
    return cases.alias(**alias).filter(linked)


def case_filter_opened(cases: QuerySet[Case], *, after: datetime | None = None,
                       before: datetime | None = None) -> QuerySet[Case]:
    """Cases opened at or after `after`, at or before `before`.

    `before` also bounds the id. The list runs newest first by id, and the
    cases opened before a date long past are the oldest ids, which
    PostgreSQL does not know (it takes the matches to be spread evenly): it
    walked the id index down from the newest case through every case opened
    since, 66,627 rows and 20 ms at 100,000 cases for two years back, to
    fill one page. The highest id among the cases opened by then, read from
    case_created_id_idx alone, makes that walk start where the matches do.
    It is a bound, not a rewrite: a case opened by then has an id no higher,
    whatever order ids and times are in, so the rows are the same
    (tests/commission/test_case_search.py). The FILTER keeps PostgreSQL
    from answering max() by that same walk down the id index."""
    if after is not None:
        cases = cases.filter(created_at__gte=after)
    if before is not None:
        newest = Case.objects.filter(created_at__lte=before).aggregate(
            id=Max("id", filter=Q(created_at__lte=before)))["id"]
        if newest is None:
            return cases.none()
        cases = cases.filter(created_at__lte=before, id__lte=newest)
    return cases


def overdue_q(now: datetime | None = None) -> Q:
    """A case is overdue when it is not closed and one of its deadlines has
    run out unanswered: a running one (pending or extended) whose due time
    has passed (the sweep may not have recorded it yet), or a missed one
    while the case is still flagged (the chair has not answered it, by
    extending or deciding). A paused deadline is not overdue: its clock is
    stopped. `flagged` alone also covers a round that ended without a
    decision; `overdue` is only about time."""
    now = now or timezone.now()
    late = Deadline.objects.filter(case=OuterRef("pk")).filter(
        Q(status__in=OPEN_DEADLINE, due_at__lt=now) | Q(status=DeadlineStatus.MISSED, case__flagged=True))
    # The open stages named (not "not closed"): the planner then reads the
    # few open cases on the (stage, -id) index instead of every case.
    return Q(stage__in=[stage for stage in Stage.values if stage != Stage.CLOSED]) & Q(Exists(late))


def case_filter_overdue(cases: QuerySet[Case], overdue: bool, *, now: datetime | None = None) -> QuerySet[Case]:
    q = overdue_q(now)
    return cases.filter(q) if overdue else cases.exclude(q)


# --- The triage inbox ------------------------------------------------------------

# How the inbox can be ordered; the first is the default (the report that has
# waited longest is the one to triage next).
INBOX_SORTS = {
    "oldest": ("submitted_at", "id"),
    "newest": ("-submitted_at", "-id"),
    "occurred": ("-occurred_at", "-id"),
    "category": ("category", "submitted_at", "id"),
}


def inbox_narrowed(reports: QuerySet, *, sort: str = "oldest", category: str = "", party: str = "",
                   admin1: str = "", search: str = "") -> QuerySet:
    """The inbox's reports (commission.selectors.inbox_reports) narrowed
    and ordered as the verifier asked. The search is the reports' own
    (reports.selectors.report_search), which keeps the sort."""
    reports = reports.order_by(*INBOX_SORTS.get(sort, INBOX_SORTS["oldest"]))
    if category:
        reports = reports.filter(category=category)
    if party:
        reports = reports.filter(alleged_party__code=party.strip().upper())
    if admin1:
        reports = reports.filter(admin1__iexact=admin1.strip())
    return report_search(reports, search) if search else reports


def inbox_ordering(sort: str) -> tuple[str, ...]:
    """The ordering of an inbox sort, for its keyset pager."""
    return INBOX_SORTS.get(sort, INBOX_SORTS["oldest"])


def live_cases_of(report_ids) -> dict[int, Case]:
    """report id -> the case it is in now (one query), for the inbox's
    "add to the case its duplicate is in"."""
    links = CaseReport.objects.filter(report_id__in=list(report_ids), detached_at__isnull=True).select_related("case")
    return {link.report_id: link.case for link in links}


def case_by_reference(user, reference: str) -> Case | None:
    """A case the user may read, by its reference (any case of letters)."""
    return case_list_for(user).filter(reference__iexact=(reference or "").strip()).first()
