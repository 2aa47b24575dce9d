"""Searching reports (GET /api/v1/reports/?search=): full text in any of the
commission's languages, the reader's scope kept, no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import selectors
from reports.models import Report
from tests.conftest import streamed_json

pytestmark = pytest.mark.django_db


def _refs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["reference"] for r in response.json()["results"]]


@pytest.fixture
def filed(people, submitted, file_report):
    m1, m2 = people["monitor"], people["monitor2"]
    return {
        "fr": submitted(m1, description="Tirs d'artillerie sur le village, trois maisons détruites.",
                        place_name="Huliaipole", admin1="Zaporizhzhia Oblast"),
        "uk": submitted(m1, description="Обстріл околиць міста, пошкоджено школу.", place_name="Оріхів",
                        weapons="міномет"),
        "en": submitted(m2, description="Drone strike on a fuel depot.", weapons="Shahed loitering munition",
                        admin1="Kharkiv Oblast"),
        "draft": file_report(m2, status="draft", description="Drone seen over the school, not yet checked."),
    }


@pytest.mark.postgres
def test_search_finds_french_and_ukrainian_words(api, people, filed):
    client = api(people["verifier"])
    assert _refs(client.get("/api/v1/reports/?search=artillerie")) == [filed["fr"].reference]
    assert _refs(client.get("/api/v1/reports/?search=школу")) == [filed["uk"].reference]
    # The place name and weapons are searched too, and capitals do not matter.
    assert _refs(client.get("/api/v1/reports/?search=ОРІХІВ")) == [filed["uk"].reference]
    assert _refs(client.get("/api/v1/reports/?search=shahed")) == [filed["en"].reference]
    assert _refs(client.get("/api/v1/reports/?search=kharkiv")) == [filed["en"].reference]


@pytest.mark.postgres
def test_search_reads_quotes_or_and_minus(api, people, filed):
    client = api(people["verifier"])
    assert _refs(client.get("/api/v1/reports/?search=%22fuel%20depot%22")) == [filed["en"].reference]
    assert _refs(client.get("/api/v1/reports/?search=%22depot%20fuel%22")) == []
    assert set(_refs(client.get("/api/v1/reports/?search=artillerie%20or%20школу"))) == {
        filed["fr"].reference, filed["uk"].reference}
    assert _refs(client.get("/api/v1/reports/?search=drone%20-depot")) == []


def test_a_reference_finds_its_report(api, people, filed):
    ref = filed["fr"].reference
    assert _refs(api(people["auditor"]).get(f"/api/v1/reports/?search={ref.lower()}")) == [ref]


def test_a_monitor_searches_only_their_own_reports(api, people, filed):
    # monitor2's drafts and reports never answer monitor1's search, by word or by reference.
    mine = api(people["monitor"])
    assert _refs(mine.get("/api/v1/reports/?search=drone")) == []
    assert _refs(mine.get(f"/api/v1/reports/?search={filed['en'].reference}")) == []
    assert _refs(mine.get("/api/v1/reports/?search=artillerie")) == [filed["fr"].reference]
    # Nobody else sees a draft through search either.
    assert _refs(api(people["verifier"]).get("/api/v1/reports/?search=school")) == []
    assert _refs(api(people["monitor2"]).get("/api/v1/reports/?search=school")) == [filed["draft"].reference]


def test_a_search_keeps_the_lists_order_newest_first(api, people, submitted):
    # The report that says "bridge" twice does not jump ahead of a newer one.
    twice = submitted(people["monitor"], description="The bridge was hit; the bridge deck collapsed.")
    once = submitted(people["monitor"], description="A crater near the bridge.")
    assert _refs(api(people["chair"]).get("/api/v1/reports/?search=bridge")) == [once.reference, twice.reference]


@pytest.mark.postgres
def test_the_stored_vector_finds_exactly_what_the_expression_finds(people, filed, submitted):
    """Reports keep their search vector in a generated column (migration
    0012): the same reports, in the same order, as computing the vector
    from the fields, also after an edit (the database keeps the column)."""
    from config.search import text_search
    from reports.models import SEARCH_FIELDS, SEARCH_VECTOR

    Report.objects.filter(pk=filed["en"].pk).update(place_name="Міст", weapons="артилерія")
    every = Report.objects.order_by("-pk")
    for query in ("artillerie", "ШКОЛУ", "Shahed", "міст", "артилерія", '"fuel depot"', "drone -school",
                  "drone or школу", "nothing like this", "Kharkiv"):
        stored = text_search(every, query, fields=SEARCH_FIELDS, stored=SEARCH_VECTOR, full_text=True)
        computed = text_search(every, query, fields=SEARCH_FIELDS, full_text=True)
        assert list(stored.values_list("pk", flat=True)) == list(computed.values_list("pk", flat=True)), query
    assert selectors.report_search(every, "артилерія").get() == filed["en"]
    with CaptureQueriesContext(connection) as ctx:
        assert list(selectors.report_search(every, "drone"))
    assert ctx.captured_queries and not any("to_tsvector" in q["sql"] for q in ctx.captured_queries)


def test_search_combines_with_the_other_filters_and_the_map(api, people, filed):
    client = api(people["verifier"])
    assert _refs(client.get("/api/v1/reports/?search=drone&category=shelling")) == [filed["en"].reference]
    assert _refs(client.get("/api/v1/reports/?search=drone&category=drone_strike")) == []
    geo = client.get("/api/v1/reports.geojson?search=artillerie")
    assert geo.status_code == 200
    assert [f["properties"]["reference"] for f in streamed_json(geo)["features"]] == [filed["fr"].reference]


@pytest.mark.postgres
def test_the_sqlite_fallback_finds_the_same_reports(people, filed):
    every = Report.objects.all()
    for query in ("artillerie", "ШКОЛУ", "Shahed", filed["uk"].reference, "fuel depot"):
        full = set(selectors.report_search(every, query, full_text=True))
        fallback = set(selectors.report_search(every, query, full_text=False))
        assert full and full == fallback, query


def test_a_nul_or_overlong_query_is_a_clean_answer(api, people, filed):
    client = api(people["verifier"])
    assert client.get("/api/v1/reports/?search=" + "x" * 201).status_code == 400
    response = client.get("/api/v1/reports/?search=arti%00llerie")
    assert response.status_code == 400 and set(response.json()) == {"search"}


@pytest.mark.postgres
def test_the_search_uses_the_gin_index_on_postgresql(people, filed):
    # The query that reads the matches (config.search.text_search's probe of their ids).
    with CaptureQueriesContext(connection) as ctx:
        selectors.report_search(Report.objects.all(), "artillerie")
    (probe,) = [q["sql"] for q in ctx.captured_queries if "@@" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {probe}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "report_search_vector_idx" in plan, plan


def test_the_search_costs_the_same_queries_for_one_report_or_many(api, people, submitted,
                                                                  django_assert_max_num_queries):
    client = api(people["verifier"])
    submitted(people["monitor"], description="Artillerie lourde.")
    with CaptureQueriesContext(connection) as ctx:
        assert len(_refs(client.get("/api/v1/reports/?search=artillerie"))) == 1
    for i in range(6):
        submitted(people["monitor2"], description=f"Artillerie, salve {i}.")
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert len(_refs(client.get("/api/v1/reports/?search=artillerie"))) == 7
