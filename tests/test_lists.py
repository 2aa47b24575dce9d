"""Every list pages by keyset (issue 14): the API's by DRF's cursor
(config.api.CursorPage), the pages by the same cursor (web.paging) with
"newer"/"older" links. What these rules hold: a page costs a fixed number of
queries however many rows there are; following the links shows every row
exactly once, even while rows are filed meanwhile; a client written for
numbered pages is told what to do instead."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.api import CursorPage
from notifications.models import Notification
from reports import selectors as report_selectors
from reports import similar

pytestmark = pytest.mark.django_db


def _count(client, url) -> int:
    client.get(url)  # the first request of a client also reads the user's roles
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def _walk(client, url) -> list[int]:
    """Every id of a cursor list, following `next` to the end."""
    ids = []
    while url:
        body = client.get(url).json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return ids


def _file(file_report, author, n, **fields):
    return [file_report(author, **fields).pk for _ in range(n)]


# --- The API's lists ----------------------------------------------------------------------------

REPORT_LISTS = [
    "/api/v1/reports/",
    "/api/v1/reports/?bbox=35,47,36,48",
    "/api/v1/reports/?occurred_after=2020-01-01T00:00:00Z",
    "/api/v1/reports/?search=impacts",
]


@pytest.mark.parametrize("url", REPORT_LISTS)
def test_a_report_list_costs_the_same_at_3_and_at_30_reports(api, people, file_report, url):
    client = api(people["verifier"])
    _file(file_report, people["monitor"], 3)
    few = _count(client, url)
    _file(file_report, people["monitor"], 27)
    assert len(client.get(url).json()["results"]) == 30
    assert _count(client, url) == few


@pytest.mark.parametrize("url", ["/api/v1/reports/?page_size=7", "/api/v1/reports/?page_size=7&search=impacts"])
def test_every_report_appears_exactly_once_across_the_pages(api, people, file_report, url):
    filed = _file(file_report, people["monitor"], 23)
    seen = _walk(api(people["verifier"]), url)
    assert sorted(seen) == sorted(filed) and len(seen) == len(set(seen))


def test_reports_filed_while_paging_neither_repeat_nor_hide_a_row(api, people, file_report):
    filed = _file(file_report, people["monitor"], 20)
    client = api(people["verifier"])
    first = client.get("/api/v1/reports/?page_size=6").json()
    _file(file_report, people["monitor"], 5)  # newer than the first page: they belong before it
    rest = _walk(client, first["next"])
    seen = [r["id"] for r in first["results"]] + rest
    assert seen == sorted(filed, reverse=True)


def test_a_searched_list_pages_newest_first_every_match_once(api, people, file_report):
    strong = _file(file_report, people["monitor"], 5, description="bridge bridge bridge shelled near the bridge")
    weak = _file(file_report, people["monitor"], 6, description="the bridge, and impacts elsewhere in town")
    _file(file_report, people["monitor"], 3, description="nothing of the kind")
    seen = _walk(api(people["verifier"]), "/api/v1/reports/?search=bridge&page_size=3")
    assert seen == sorted(strong + weak, reverse=True)


def test_a_page_number_on_a_cursor_list_is_refused_with_what_to_do(api, people):
    response = api(people["verifier"]).get("/api/v1/reports/?page=2")
    assert response.status_code == 400
    assert "cursor" in response.json()["page"][0] and "next" in response.json()["page"][0]


def test_a_cursor_the_list_did_not_give_is_404(api, people):
    response = api(people["verifier"]).get("/api/v1/cases/?cursor=bm9wZQ")
    assert response.status_code == 404


def test_a_cursor_whose_position_is_not_an_id_is_404_not_500(api, people):
    # base64 of "p=abc": well formed, but the reports list orders by id.
    response = api(people["verifier"]).get("/api/v1/reports/?cursor=cD1hYmM%3D")
    assert response.status_code == 404, response.content


def test_cases_deadlines_and_notifications_page_by_cursor_every_row_once(api, people, case_in):
    cases = [case_in("verification", title=f"Case {n}").pk for n in range(9)]
    for n in range(11):
        Notification.objects.create(recipient=people["chair"], kind="k", subject="s", key=f"k{n}")
    client = api(people["chair"])
    assert _walk(client, "/api/v1/cases/?page_size=4") == sorted(cases, reverse=True)
    deadlines = _walk(client, "/api/v1/deadlines/?page_size=4")
    assert len(deadlines) == len(set(deadlines)) == 9
    notes = _walk(client, "/api/v1/notifications/?page_size=4")
    assert notes == sorted(notes, reverse=True) and len(notes) == 11


@pytest.mark.parametrize("url", ["/api/v1/cases/?search=Orikhiv", "/api/v1/cases/?stage=verification",
                                 "/api/v1/cases/?flagged=false", "/api/v1/notifications/?unread=true"])
def test_a_filtered_list_costs_the_same_at_3_and_at_30_rows(api, people, case_in, url):
    client = api(people["chair"])

    def add(n):
        for _ in range(n):
            case = case_in("verification", title="Shelling of Orikhiv")
            Notification.objects.create(recipient=people["chair"], kind="k", subject="s", key=f"c{case.pk}")

    add(3)
    few = _count(client, url)
    add(27)
    assert _count(client, url) == few


def test_the_cursor_orders_have_their_index():
    # Each list's ordering is served by an index of the apps' migrations (0007, 0013, 0004).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        else:  # SQLite (`make test` on a fresh machine): the same indexes, in its own catalogue
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"report_author_id_idx", "report_inbox_idx", "report_inbox_occurred_idx", "report_inbox_category_idx",
            "report_cat_end_idx", "case_stage_id_idx", "case_flagged_id_idx", "deadline_due_id_idx", "deadline_case_running_idx",
            "notif_unread_idx"} <= names
    assert CursorPage.ordering == ("-id",)


# --- The inbox's duplicate candidates, one query for the page ------------------------------------


def test_the_candidates_of_a_page_are_those_of_each_report_alone(people, file_report):
    now = timezone.now()
    here = {"lat": 47.5689, "lon": 35.8612}
    reports = [
        file_report(people["monitor"], occurred_at=now - timedelta(hours=2), **here),
        file_report(people["monitor"], occurred_at=now - timedelta(hours=3), lat=47.57, lon=35.862),
        file_report(people["monitor"], occurred_at=now - timedelta(hours=2), lat=50.0, lon=36.2),  # Kharkiv
        file_report(people["monitor"], occurred_at=now - timedelta(days=9), **here),  # long before
        file_report(people["monitor"], occurred_at=now - timedelta(hours=2), category="mine_ied", **here),
        file_report(people["monitor"], occurred_at=now - timedelta(hours=1), lat=65.0, lon=179.99),
        file_report(people["monitor"], occurred_at=now - timedelta(hours=1), lat=65.0, lon=-179.99),
    ]
    among = report_selectors.report_list_for(people["verifier"])
    one_by_one = [[(o.pk, round(o.distance_m, 6)) for o in similar.report_similar(r, among=among)]
                  for r in reports]
    with CaptureQueriesContext(connection) as ctx:
        together = similar.report_similar_many(reports, among=among)
    assert len(ctx.captured_queries) == 1
    assert [[(o.pk, round(o.distance_m, 6)) for o in found] for found in together] == one_by_one
    assert one_by_one[0] and one_by_one[5]  # the test compares something


def test_a_hand_made_cursor_cannot_make_a_list_ordered_by_id_skip_rows_by_offset(api, people, file_report):
    # Ordered newest first by id (unique), the list never gives an offset: a
    # forged o=999999 is read as one row, not a million index entries stepped over.
    import base64

    url = "/api/v1/reports/"
    client = api(people["verifier"])
    _file(file_report, people["monitor"], 6)
    whole = _walk(client, url)
    cursor = base64.b64encode(f"o=999999&p={whole[0]}".encode()).decode()
    body = client.get(url, {"cursor": cursor, "page_size": 2}).json()
    assert [row["id"] for row in body["results"]] == whole[2:4]  # after the position, one row skipped
