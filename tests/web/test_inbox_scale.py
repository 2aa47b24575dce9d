"""The inbox stays the same size of work however its page looks (issue 14):
the same queries for 3 cards as for 30, and a card among a thousand identical
reports (one row imported a thousand times) shows its nearest SIMILAR_LIMIT
duplicate candidates and says there are more, instead of every clone."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commission import services
from reports.models import Report, ReportStatus

pytestmark = pytest.mark.django_db

ORIKHIV = (47.5689, 35.8612)


def _queries(client, url) -> int:
    client.get(url)  # the first request of a client also reads the user's roles
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _cards(page: str) -> list[str]:
    """Each card's HTML, in order (the last one up to the end of the list)."""
    cards = page.split('<li class="card">')[1:]
    if cards:
        cards[-1] = cards[-1].split("</fieldset>")[0]
    return cards


def _candidates(card: str) -> list[str]:
    return re.findall(r'<li><a href="/reports/\d+/">(RPT-[\d-]+)</a> · ', card)


def _clones(author, party, n):
    """n identical submitted reports, as an import that sent one row n times leaves them."""
    at = timezone.now() - timedelta(hours=3)
    return Report.objects.bulk_create([
        Report(author=author, status=ReportStatus.SUBMITTED, category="shelling", occurred_at=at, lat=ORIKHIV[0],
               lon=ORIKHIV[1], description="Impacts observed.", source_type="direct_observation", alleged_party=party,
               submitted_at=timezone.now())
        for _ in range(n)])


def test_the_inbox_costs_the_same_queries_for_3_cards_or_30(people, parties, submitted, web):
    # Cards with candidates, candidates in a case still in verification (the
    # "add to that case" buttons) and others in no case: each kind on both pages.
    client = web(people["verifier"])
    linked = submitted(people["monitor2"], lat=47.57)
    services.case_open(actor=people["verifier"], title="Shelling of Orikhiv", reports=[linked])
    for i in range(3):
        submitted(people["monitor"], lat=47.5689 + i * 0.0005)
    few = _queries(client, "/inbox/")
    page = client.get("/inbox/").content.decode()
    assert len(_cards(page)) == 3 and "Add to CASE-" in page
    for i in range(27):
        submitted(people["monitor" if i % 2 else "monitor2"], lat=47.5689 + i * 0.0004,
                  category="shelling" if i % 3 else "drone_strike")
    page = client.get("/inbox/").content.decode()
    assert len(_cards(page)) == 30
    assert _queries(client, "/inbox/") == few


def test_a_card_among_many_clones_shows_the_nearest_and_says_there_are_more(people, parties, web, settings):
    settings.SIMILAR_LIMIT = 3
    client = web(people["verifier"])
    _clones(people["monitor"], parties["RU"], 2)
    few = _queries(client, "/inbox/?sort=newest")
    _clones(people["monitor"], parties["RU"], 118)
    page = client.get("/inbox/?sort=newest").content.decode()
    cards = _cards(page)
    assert len(cards) == 50
    assert all(len(_candidates(card)) == 3 for card in cards)
    assert all("And more: only the nearest 3 are shown." in card for card in cards)
    # The same queries as a page of two clones, and a page of a size that does not grow with the cluster.
    assert _queries(client, "/inbox/?sort=newest") == few
    assert len(page) < 50 * 6000


def test_a_card_with_few_candidates_shows_them_all_and_no_more(people, parties, web, settings):
    settings.SIMILAR_LIMIT = 3
    _clones(people["monitor"], parties["RU"], 3)
    page = web(people["verifier"]).get("/inbox/").content.decode()
    cards = _cards(page)
    assert [len(_candidates(card)) for card in cards] == [2, 2, 2]
    assert "And more" not in page
