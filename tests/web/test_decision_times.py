"""The overview's "time to decision" table: how long cases took through
verification, attribution and measures (count, median, longest). On
PostgreSQL it is one aggregate query; it must say what the plain Python
reading of every case's timestamps says (web.commission_reads)."""

import statistics
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from commission.models import Case, Round
from web import commission_reads

pytestmark = pytest.mark.django_db

HOUR = 3600


def _python_summary():
    return {stage: (len(seconds), statistics.median(seconds), max(seconds))
            for stage, seconds in commission_reads.stage_durations().items() if seconds}


@pytest.fixture
def timed_cases(case_in):
    """Three decided cases (two of them closed), one waiting for a vote, one
    not verified yet, each with its stage times set by hand."""
    start = timezone.now() - timedelta(days=30)
    for i, (verify_h, decide_h, close_h) in enumerate([(2, 10, 100), (4, 20, None), (9, 30, 300)]):
        case = case_in("measures")
        Case.objects.filter(pk=case.pk).update(created_at=start, verified_at=start + timedelta(hours=verify_h),
                                               closed_at=start + timedelta(hours=verify_h + decide_h + close_h)
                                               if close_h else None)
        Round.objects.filter(case=case).update(closed_at=start + timedelta(hours=verify_h + decide_h))
        start += timedelta(days=1 + i)
    waiting = case_in("attribution")
    Case.objects.filter(pk=waiting.pk).update(created_at=start, verified_at=start + timedelta(hours=6))
    case_in("verification")


def test_the_table_counts_each_stage_a_case_got_through_with_its_median_and_longest(timed_cases):
    summary = commission_reads.stage_duration_summary()
    assert summary == {
        "verification": (4, 5 * HOUR, 9 * HOUR),  # 2, 4, 9 and 6 hours: the median of an even count interpolates
        "attribution": (3, 20 * HOUR, 30 * HOUR),
        "measures": (2, 200 * HOUR, 300 * HOUR),
    }


def test_the_database_aggregate_says_what_reading_every_case_says(timed_cases):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite reads every case in Python: the two ways are one")
    assert commission_reads.stage_duration_summary() == _python_summary()


def test_a_round_without_quorum_does_not_count_as_the_decision(timed_cases):
    before = commission_reads.stage_duration_summary()["attribution"]
    decided = Round.objects.order_by("pk").first()
    # An earlier round of that case that ended without quorum: not the decision.
    Round.objects.create(case=decided.case, number=decided.number + 1, status="closed", opened_by=decided.opened_by,
                         closes_at=decided.closes_at, quorum=decided.quorum, threshold=decided.threshold,
                         eligible_count=decided.eligible_count, closed_at=decided.case.verified_at + timedelta(hours=1),
                         outcome="no_quorum")
    assert commission_reads.stage_duration_summary()["attribution"] == before
    if connection.vendor == "postgresql":
        assert commission_reads.stage_duration_summary() == _python_summary()


def _aggregates(client) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/overview/").status_code == 200
    return sum("percentile_cont" in q["sql"] or "commission_round" in q["sql"] for q in queries)


def test_the_overview_computes_the_table_once_per_cache_period(timed_cases, people, web, settings):
    client = web(people["chair"])
    settings.OVERVIEW_CACHE_SECONDS = 60
    assert _aggregates(client) == 1
    assert _aggregates(client) == 0  # the next view, within the minute: from the cache
    settings.OVERVIEW_CACHE_SECONDS = 0
    assert _aggregates(client) == _aggregates(client) == 1
