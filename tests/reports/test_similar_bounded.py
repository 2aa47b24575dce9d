"""Duplicate candidates stay bounded (issue 14): a report shows its nearest
SIMILAR_LIMIT candidates and says when there are more, whatever the size of
the cluster it is in (1,250 identical rows from one import made the inbox
quadratic: minutes to page through them). On PostgreSQL the database picks
each report's nearest (reports.similar._nearest_in_sql); the rule itself
(_passes, _nearness) is the one Python applies everywhere, and these tests
hold the two to the same answers."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import selectors, similar
from reports.models import Report, ReportStatus
from tests.reports.conftest import M_PER_DEG_LAT, ORIKHIV

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(connection.vendor != "postgresql", reason="the database's ranking is PostgreSQL's")


def _bulk(author, party, rows: list[dict]) -> list[Report]:
    """Reports written directly (hundreds; the intake's own path is not what is tested here)."""
    now = timezone.now()
    made = Report.objects.bulk_create([
        Report(author=author, status=row.pop("status", ReportStatus.SUBMITTED), category=row.pop("category", "shelling"),
               description="Impacts observed.", source_type="direct_observation", alleged_party=party,
               submitted_at=now, **row)
        for row in rows])
    return list(Report.objects.filter(pk__in=[r.pk for r in made]).order_by("pk"))


def _clones(people, parties, n, at):
    return _bulk(people["monitor"], parties["RU"],
                 [{"occurred_at": at, "lat": ORIKHIV[0], "lon": ORIKHIV[1]} for _ in range(n)])


def _shown(lists):
    return [([(o.pk, o.distance_m) for o in found], found.more) for found in lists]


def _in_python(monkeypatch, call):
    """`call()` the way every database but PostgreSQL answers it: the coarse
    cuts OR-ed, the rule in Python over all that comes back."""
    with monkeypatch.context() as m:
        m.setattr(similar, "_narrowed", lambda cuts, qs, limit: similar._coarsely_narrowed(cuts, qs))
        return call()


def test_a_card_shows_at_most_the_limit_and_says_there_are_more(people, parties, settings):
    settings.SIMILAR_LIMIT = 4
    at = timezone.now() - timedelta(hours=3)
    clones = _clones(people, parties, 30, at)
    found = similar.report_similar(clones[0])
    assert len(found) == 4 and found.more
    # All at the same place and time: the order is the id's.
    assert [o.pk for o in found] == [c.pk for c in clones[1:5]]
    assert {o.distance_m for o in found} == {0.0}
    lonely = _bulk(people["monitor"], parties["RU"], [{"occurred_at": at, "lat": 50.5, "lon": 30.5}])[0]
    assert similar.report_similar(lonely) == [] and not similar.report_similar(lonely).more


def test_the_candidates_of_a_page_of_clones_cost_one_query_and_the_limit_each(people, parties, settings):
    settings.SIMILAR_LIMIT = 5
    at = timezone.now() - timedelta(hours=3)
    clones = _clones(people, parties, 120, at)
    among = selectors.report_list_for(people["verifier"])
    page = clones[-50:]
    with CaptureQueriesContext(connection) as ctx:
        lists = similar.report_similar_many(page, among=among)
    assert len(ctx.captured_queries) == 1
    assert [len(found) for found in lists] == [5] * 50 and all(found.more for found in lists)
    for report, found in zip(page, lists, strict=True):
        assert report.pk not in {o.pk for o in found}
        assert [o.pk for o in found] == [c.pk for c in clones if c.pk != report.pk][:5]
    if connection.vendor == "postgresql":
        # What came back from the database: the few each card needs, not every clone.
        sql = ctx.captured_queries[0]["sql"]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS rows")  # noqa: S608 (the query just run)
            assert cursor.fetchone()[0] <= 5 + 2


def test_the_limit_holds_for_the_api_too(api, people, parties, settings):
    settings.SIMILAR_LIMIT = 3
    clones = _clones(people, parties, 12, timezone.now() - timedelta(hours=1))
    response = api(people["verifier"]).get(f"/api/v1/reports/{clones[0].pk}/similar/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [c.pk for c in clones[1:4]]


def test_a_monitor_sees_candidates_among_their_own_reports_only_up_to_the_limit(people, parties, settings):
    # What the caller may not see never takes a place in the limit.
    settings.SIMILAR_LIMIT = 2
    at = timezone.now() - timedelta(hours=2)
    theirs = _clones(people, parties, 5, at)  # monitor1's
    _bulk(people["monitor2"], parties["RU"],
          [{"occurred_at": at, "lat": ORIKHIV[0], "lon": ORIKHIV[1]} for _ in range(6)])
    among = selectors.report_list_for(people["monitor"])
    found = similar.report_similar(theirs[-1], among=among)
    assert [o.pk for o in found] == [theirs[0].pk, theirs[1].pk] and found.more
    assert {o.author_id for o in found} == {people["monitor"].pk}


@ON_POSTGRESQL
def test_the_database_ranks_the_candidates_as_the_rule_does(people, parties, monkeypatch):
    # Clusters of reports around three points, some identical, some lasting,
    # some of another category, a few drafts and returned ones; each page is
    # answered by PostgreSQL's ranking and by the rule in Python: the same
    # candidates, the same distances, the same order, the same `more`.
    rng = random.Random(14)
    base = timezone.now() - timedelta(days=1)
    centres = [ORIKHIV, (48.28, 37.18), (65.0, 179.995)]
    rows = []
    for i in range(240):
        lat, lon = centres[i % 3]
        if i % 7 == 0:
            lat, lon = centres[i % 3]  # exactly at the centre: ties on distance
        else:
            lat += rng.gauss(0, 2500) / M_PER_DEG_LAT
            lon = ((lon + rng.gauss(0, 0.04) + 180) % 360) - 180
        occurred = base + timedelta(minutes=rng.choice([0, 0, rng.randint(-600, 600)]))
        rows.append({"occurred_at": occurred, "lat": lat, "lon": lon,
                     "occurred_until": occurred + timedelta(hours=rng.randint(1, 9)) if i % 5 == 0 else None,
                     "category": "shelling" if i % 6 else "drone_strike",
                     "status": ReportStatus.SUBMITTED if i % 11 else ReportStatus.RETURNED})
    reports = _bulk(people["monitor"], parties["RU"], rows)
    among = selectors.report_list_for(people["verifier"])
    compared = 0
    for limit in (1, 3, 10, 1000):
        for start in range(0, len(reports), 50):
            page = reports[start:start + 50]
            in_sql = _shown(similar.report_similar_many(page, among=among, limit=limit))
            in_python = _shown(_in_python(monkeypatch, lambda page=page, limit=limit: similar.report_similar_many(
                page, among=among, limit=limit)))
            assert in_sql == in_python
            compared += sum(len(found) for found, _more in in_sql)
    assert compared > 1000  # the test compares something
    # and with the unbounded answer: the first `limit` of it
    page = reports[:50]
    everything = _shown(_in_python(monkeypatch, lambda: similar.report_similar_many(page, among=among, limit=10**6)))
    bounded = _shown(similar.report_similar_many(page, among=among, limit=3))
    assert [(found[:3], len(found) > 3) for found, _more in everything] == bounded


@ON_POSTGRESQL
def test_the_candidates_have_their_index():
    # reports/0010: what makes one card's candidates one index scan at any size.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'report_similar_idx'")
        (definition,) = cursor.fetchone()
    assert "USING gist" in definition and "WHERE ((status)::text = 'submitted'::text)" in definition
