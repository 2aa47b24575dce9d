"""Finding cases: full-text search and the case list's filters, the same in
the API (GET /api/v1/cases/) and on the cases page, without N+1 queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commission import selectors, services
from commission.models import CASE_SEARCH_FIELDS, CASE_SEARCH_VECTOR, Case, Deadline

pytestmark = pytest.mark.django_db

EVERY_FILTER = ("search=Orikhiv&stage=verification&party=RU&admin1=zaporizhzhia%20oblast"
                "&opened_after=2020-01-01T00:00:00Z&opened_before=2100-01-01T00:00:00Z&flagged=true&overdue=true")


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["results"]]


@pytest.fixture
def cases(people, parties, submitted):
    """Three cases: one in Zaporizhzhia about RU shelling (flagged, overdue),
    one in Kharkiv about UA (French title), one whose findings are in Ukrainian."""
    v = people["verifier"]
    orikhiv = services.case_open(actor=v, title="Shelling of Orikhiv", reports=[
        submitted(people["monitor"], admin1="Zaporizhzhia Oblast", place_name="Orikhiv")])
    kharkiv = services.case_open(actor=v, title="Tirs d'artillerie près de Kharkiv", reports=[
        submitted(people["monitor"], admin1="Kharkiv Oblast", alleged_party=parties["UA"],
                  lat=49.99, lon=36.23)])
    kherson = services.case_open(actor=v, title="Drone over Kherson", reports=[
        submitted(people["monitor"], admin1="Kherson Oblast", lat=46.63, lon=32.61, category="drone_strike")])
    services.verification_record(actor=v, case=kherson, outcome="confirmed",
                                 findings="Уламки дрона знайдено біля школи.")
    Case.objects.filter(pk=orikhiv.pk).update(flagged=True)
    Deadline.objects.filter(case=orikhiv).update(due_at=timezone.now() - timedelta(hours=1))
    return {"orikhiv": orikhiv, "kharkiv": kharkiv, "kherson": kherson}


def test_each_filter_narrows_the_api_case_list(api, people, cases):
    client = api(people["member1"])
    o, k, h = cases["orikhiv"].pk, cases["kharkiv"].pk, cases["kherson"].pk
    assert _ids(client.get("/api/v1/cases/")) == [h, k, o]
    assert _ids(client.get("/api/v1/cases/?stage=attribution")) == [h]
    assert _ids(client.get("/api/v1/cases/?party=UA")) == [k]
    assert _ids(client.get("/api/v1/cases/?party=ru")) == [h, o]
    assert _ids(client.get("/api/v1/cases/?admin1=kharkiv%20oblast")) == [k]
    assert _ids(client.get("/api/v1/cases/?flagged=true")) == [o]
    assert _ids(client.get("/api/v1/cases/?overdue=true")) == [o]
    assert _ids(client.get("/api/v1/cases/?overdue=false")) == [h, k]
    assert _ids(client.get("/api/v1/cases/?opened_after=2100-01-01T00:00:00Z")) == []
    assert _ids(client.get("/api/v1/cases/?opened_before=2100-01-01T00:00:00Z")) == [h, k, o]
    assert _ids(client.get(f"/api/v1/cases/?{EVERY_FILTER}")) == [o]


def test_opened_before_finds_the_same_cases_as_the_plain_filter_when_times_and_ids_disagree(api, people, cases):
    # case_filter_opened bounds the id by the newest case opened by then; the
    # bound must not drop a case opened earlier under a higher id (a clock
    # that differs between web nodes, a long transaction).
    o, k, h = cases["orikhiv"], cases["kharkiv"], cases["kherson"]
    t0 = timezone.now() - timedelta(days=30)
    for case, days in ((o, 20), (k, 0), (h, 10)):  # opened: kharkiv, kherson, orikhiv, ids the other way
        Case.objects.filter(pk=case.pk).update(created_at=t0 + timedelta(days=days))
    everyone = Case.objects.all()
    for days in (-1, 0, 5, 10, 15, 20, 25):
        before = t0 + timedelta(days=days)
        plain = list(everyone.filter(created_at__lte=before).order_by("-id").values_list("id", flat=True))
        bounded = selectors.case_filter_opened(everyone, before=before).order_by("-id")
        assert list(bounded.values_list("id", flat=True)) == plain
        stamp = before.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert _ids(api(people["member1"]).get(f"/api/v1/cases/?opened_before={stamp}")) == plain
    # At 10 days: kharkiv and kherson, not orikhiv (opened later under the lowest id).
    assert list(selectors.case_filter_opened(everyone, before=t0 + timedelta(days=10)).order_by("-id")) == [h, k]


def test_party_means_the_attributed_party_too(api, people, parties, cases):
    Case.objects.filter(pk=cases["kherson"].pk).update(attributed_party=parties["UA"])
    assert _ids(api(people["auditor"]).get("/api/v1/cases/?party=UA")) == [cases["kherson"].pk,
                                                                            cases["kharkiv"].pk]


def test_a_detached_report_no_longer_places_its_case(people, parties, submitted, cases):
    case = cases["kharkiv"]
    services.case_link_reports(actor=people["verifier"], case=case, reports=[
        submitted(people["monitor"], admin1="Luhansk Oblast", lat=48.5, lon=39.3)])
    assert list(selectors.case_filter_admin1(Case.objects.all(), "Luhansk Oblast")) == [case]
    luhansk = case.links.get(report__admin1="Luhansk Oblast").report
    services.case_detach_report(actor=people["verifier"], case=case, report=luhansk, reason="Another incident.")
    assert list(selectors.case_filter_admin1(Case.objects.all(), "Luhansk Oblast")) == []


def test_a_paused_or_closed_case_is_not_overdue(people, cases):
    o = cases["orikhiv"]
    Deadline.objects.filter(case=o).update(status="paused", paused_at=timezone.now())
    assert not selectors.case_filter_overdue(Case.objects.all(), True).exists()
    Deadline.objects.filter(case=o).update(status="pending", paused_at=None)
    assert list(selectors.case_filter_overdue(Case.objects.all(), True)) == [o]
    Case.objects.filter(pk=o.pk).update(stage="closed")
    assert not selectors.case_filter_overdue(Case.objects.all(), True).exists()


def test_a_missed_deadline_is_overdue_while_the_case_stays_flagged(people, cases):
    o = cases["orikhiv"]
    Deadline.objects.filter(case=o).update(status="missed")
    assert list(selectors.case_filter_overdue(Case.objects.all(), True)) == [o]
    Case.objects.filter(pk=o.pk).update(flagged=False)  # the chair answered it
    assert not selectors.case_filter_overdue(Case.objects.all(), True).exists()


@pytest.mark.postgres
def test_search_finds_french_and_ukrainian_words_and_references(api, people, cases):
    client = api(people["verifier"])
    assert _ids(client.get("/api/v1/cases/?search=artillerie")) == [cases["kharkiv"].pk]
    # Ukrainian Cyrillic, in the findings, whatever the case of the letters.
    assert _ids(client.get("/api/v1/cases/?search=ДРОНА")) == [cases["kherson"].pk]
    assert _ids(client.get("/api/v1/cases/?search=школи")) == [cases["kherson"].pk]
    assert _ids(client.get(f"/api/v1/cases/?search={cases['orikhiv'].reference.lower()}")) == [cases["orikhiv"].pk]
    assert _ids(client.get("/api/v1/cases/?search=nothing%20like%20this")) == []


def test_a_search_keeps_the_lists_order_newest_first(api, people, submitted):
    """A search narrows the list, it does not reorder it: the case that says
    "bridge" twice does not jump ahead of a newer one that says it once."""
    v = people["verifier"]
    twice = services.case_open(actor=v, title="Bridge shelling, bridge destroyed", reports=[
        submitted(people["monitor"], lat=48.0, lon=37.0)])
    once = services.case_open(actor=v, title="Shelling near a bridge", reports=[submitted(people["monitor"])])
    assert _ids(api(v).get("/api/v1/cases/?search=bridge")) == [once.pk, twice.pk]


@pytest.mark.postgres
def test_the_stored_vector_finds_exactly_what_the_expression_finds(people, submitted, cases):
    """Cases keep their search vector in a generated column (migration 0014),
    read instead of computing to_tsvector again per row: the same cases, in
    the same order, as the expression itself. Also after an edit, which the
    database applies to the column."""
    from config.search import text_search

    v = people["verifier"]
    services.case_open(actor=v, title="Bridge shelling, bridge destroyed", reports=[
        submitted(people["monitor"], lat=48.0, lon=37.0)])
    Case.objects.filter(pk=cases["kharkiv"].pk).update(summary="Shelling of the bridge confirmed; «міст» зруйновано")
    every = Case.objects.order_by("-pk")
    for query in ("bridge", "shelling", "artillerie", "ДРОНА", "міст", '"bridge destroyed"', "shelling -bridge",
                  "bridge or school", "nothing like this"):
        with CaptureQueriesContext(connection) as ctx:
            stored = list(text_search(every, query, fields=CASE_SEARCH_FIELDS, stored=CASE_SEARCH_VECTOR,
                                      full_text=True).values_list("pk", flat=True))
        assert ctx.captured_queries and not any("to_tsvector" in q["sql"] for q in ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            computed = list(text_search(every, query, fields=CASE_SEARCH_FIELDS, full_text=True)
                            .values_list("pk", flat=True))
        assert "to_tsvector" in ctx.captured_queries[0]["sql"]
        assert stored == computed, query
    assert selectors.case_search(every, "зруйновано").get() == cases["kharkiv"]


@pytest.mark.postgres
def test_the_sqlite_fallback_finds_the_same_cases(cases):
    """The substring branch that SQLite uses, run on this database."""
    every = Case.objects.all()
    for query in ("artillerie", "ДРОНА", "Orikhiv shelling", cases["kherson"].reference):
        full = set(selectors.case_search(every, query, full_text=True))
        fallback = set(selectors.case_search(every, query, full_text=False))
        assert full and full == fallback, query


@pytest.mark.parametrize("query", ["stage=limbo", "flagged=perhaps", "overdue=1x", "opened_after=yesterday",
                                   "search=" + "x" * 201])
def test_bad_filter_values_are_refused(api, people, query):
    response = api(people["chair"]).get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400 and set(response.json()) == {query.split("=")[0]}


def test_the_filters_are_documented_in_the_schema(api, people):
    schema = api(people["chair"]).get("/api/schema/?format=json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert {"search", "stage", "party", "admin1", "opened_after", "opened_before", "flagged",
            "overdue"} <= set(params)
    assert params["overdue"]["schema"]["type"] == "boolean"
    assert params["opened_after"]["schema"]["format"] == "date-time"
    assert any(p["name"] == "search" for p in schema["paths"]["/api/v1/reports/"]["get"]["parameters"])


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_api_case_list_costs_the_same_queries_for_one_case_or_many(api, people, submitted, cases,
                                                                       django_assert_max_num_queries):
    client = api(people["member1"])
    url = f"/api/v1/cases/?{EVERY_FILTER}"
    few = _count(lambda: _ids(client.get(url)))
    for i in range(5):
        case = services.case_open(actor=people["verifier"], title=f"Orikhiv again {i}", reports=[
            submitted(people["monitor"], admin1="Zaporizhzhia Oblast", lat=47.0 + i / 10)])
        Case.objects.filter(pk=case.pk).update(flagged=True)
        Deadline.objects.filter(case=case).update(due_at=timezone.now() - timedelta(hours=1))
    with django_assert_max_num_queries(few):
        assert len(_ids(client.get(url))) == 6


def test_the_cases_page_filters_with_the_same_rules_and_no_n_plus_1(client, people, submitted, cases,
                                                                    django_assert_max_num_queries):
    client.force_login(people["member1"])
    url = f"/cases/?{EVERY_FILTER}"
    response = client.get(url)
    assert response.status_code == 200
    assert cases["orikhiv"].reference in response.text and cases["kharkiv"].reference not in response.text
    few = _count(lambda: client.get(url))
    for i in range(5):
        case = services.case_open(actor=people["verifier"], title=f"Orikhiv again {i}", reports=[
            submitted(people["monitor"], admin1="Zaporizhzhia Oblast", lat=47.0 + i / 10)])
        Case.objects.filter(pk=case.pk).update(flagged=True)
        Deadline.objects.filter(case=case).update(due_at=timezone.now() - timedelta(hours=1))
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.text.count("Orikhiv again") == 5


def test_the_cases_page_says_a_bad_filter_by_its_field(client, people, cases):
    client.force_login(people["chair"])
    response = client.get("/cases/?overdue=perhaps&search=Orikhiv")
    assert response.status_code == 400
    assert 'id="id_overdue_errors"' in response.text
    assert cases["orikhiv"].reference not in response.text


def test_the_cases_page_reads_the_columns_it_shows_and_joins_nothing(client, people, cases):
    """The opener, the party and the long texts are not on the page: a
    search that reads many rows to fill a page would carry them all."""
    client.force_login(people["member1"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/cases/?search=Orikhiv")
    assert response.status_code == 200 and cases["orikhiv"].reference in response.text
    # The listing (not the search's probe of matching ids: config.search.text_search).
    listed = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "commission_case"."id", ')]
    assert len(listed) == 1
    # The main FROM, not the report count's subquery (which comes first in the text).
    columns, main = listed[0].split(' FROM "commission_case" ', 1)
    assert " JOIN " not in main.split(" WHERE ", 1)[0]
    assert '"findings"' not in columns and '"summary"' not in columns
    # Nor the vector itself, nor a rank: the vector serves the match (WHERE), not the page.
    assert "search_vector" not in columns and "rank" not in columns
    assert "search_match" not in columns
