"""config.search: a search narrows a list and keeps its order. On PostgreSQL
text_search reads the ids of a few matches first and pages over them; it must
give exactly the rows, in exactly the order, that the match itself gives."""

import pytest

from config.search import _full_text_match, text_search
from reports.models import SEARCH_FIELDS, SEARCH_VECTOR, Report

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

QUERIES = ("bridge", "bridge -crater", "crater or school", '"fuel depot"', "depot", "nothingmatches",
           "kinburn -spit")


@pytest.fixture
def reports(people, file_report):
    texts = ["A crater near the bridge.", "The bridge was hit; the bridge deck collapsed.", "Fuel depot on fire.",
             "Shelling of the school, a crater in the yard.", "Kinburn Spit: boats seen.", "The depot and the bridge.",
             "Nothing of the kind."]
    return [file_report(people["monitor"], description=text) for text in texts]


def _search(qs, query, **kwargs):
    return text_search(qs, query, fields=SEARCH_FIELDS, stored=SEARCH_VECTOR, full_text=True, **kwargs)


def _stock(qs, query):
    return _full_text_match(qs, query, fields=SEARCH_FIELDS, extra=None, stored=SEARCH_VECTOR)


@pytest.mark.parametrize("few", [0, 1, 2, 3, 1000])
@pytest.mark.parametrize("order", [("-id",), ("id",), ("-submitted_at", "-id")])
def test_it_gives_the_rows_and_the_order_of_the_match_itself(reports, few, order):
    """Whether a query has more matches than `few` (the match itself pages)
    or not (its ids do), the answer is the stock query's."""
    every = Report.objects.order_by(*order)
    for query in QUERIES:
        assert list(_search(every, query, few=few)) == list(_stock(every, query)), (query, few)


def test_it_keeps_the_narrowing_before_and_after_it(reports, people):
    # A narrowing before the search (the reader's scope) and after it (a filter) both still apply.
    mine = Report.objects.filter(author=people["monitor"]).order_by("-id")
    assert list(_search(mine, "bridge").filter(description__icontains="deck")) == [reports[1]]
    assert list(_search(Report.objects.exclude(pk=reports[1].pk).order_by("-id"), "bridge")) == [reports[5], reports[0]]


def test_a_few_matches_are_paged_over_by_their_ids_and_many_by_the_match(reports):
    every = Report.objects.order_by("-id")
    few = str(_search(every, "bridge", few=3).query)
    assert "@@" not in few and '"reports_report"."id" IN (' in few
    many = str(_search(every, "bridge", few=2).query)
    assert "@@" in many


def test_a_word_nothing_has_costs_one_query_and_reads_no_list(reports, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert list(_search(Report.objects.order_by("-id"), "nothingmatches")) == []
