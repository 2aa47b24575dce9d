"""The pages page by keyset (issue 14, web.paging): "newer"/"older" links
that keep the filters, every row once, a fixed number of queries per page
however many rows there are."""

import base64
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commission.models import Case
from reports.models import Report

pytestmark = pytest.mark.django_db


def _count(client, url) -> int:
    client.get(url)  # the first request of a client also reads the user's roles
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


# --- The pages ---------------------------------------------------------------------------------------

PAGES = [
    ("verifier", "/"), ("chair", "/"), ("member1", "/"), ("monitor", "/"),
    ("verifier", "/inbox/"), ("verifier", "/inbox/?sort=newest"), ("verifier", "/inbox/?sort=category"),
    ("verifier", "/inbox/?search=impacts"),
    ("chair", "/cases/"), ("chair", "/cases/?stage=verification"), ("chair", "/cases/?search=Orikhiv"),
    ("chair", "/cases/?party=RU"), ("chair", "/cases/?overdue=false"),
    ("chair", "/board/"), ("monitor", "/my/reports/"),
]


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_a_page_costs_the_same_at_3_and_at_30_rows(web, people, file_report, case_in, who, url):
    client = web(people[who])

    def add(n):
        for _ in range(n):
            case_in("verification", title="Shelling of Orikhiv")
            file_report(people["monitor"], occurred_at=timezone.now() - timedelta(hours=2))

    add(3)
    few = _count(client, url)
    add(27)
    assert _count(client, url) == few


OLDER = re.compile(r'href="([^"]+)">Older')
NEWER = re.compile(r'href="([^"]+)">← Newer')


def _page_refs(html: str, prefix: str) -> list[str]:
    return re.findall(rf">({prefix}-\d{{4}}-\d+)<", html)


def test_the_case_list_pager_shows_every_case_once_and_goes_back(web, people, case_in, monkeypatch):
    monkeypatch.setattr("web.paging.PAGE_SIZE", 4)
    cases = [case_in("verification", title=f"Case {n}") for n in range(10)]
    client = web(people["chair"])
    html = client.get("/cases/").content.decode()
    seen, pages = _page_refs(html, "CASE"), [html]
    case_in("verification", title="Opened meanwhile")  # newer than page one: it must not push a row twice
    while (older := OLDER.search(html)):
        html = client.get(older.group(1).replace("&amp;", "&")).content.decode()
        pages.append(html)
        seen += _page_refs(html, "CASE")
    assert seen == [c.reference for c in sorted(cases, key=lambda c: -c.pk)]
    assert "← Newer" not in pages[0] and "Older" not in pages[-1]
    back = client.get(NEWER.search(pages[1]).group(1).replace("&amp;", "&")).content.decode()
    # Back from page two: the rows of page one again, and a "newer" link to the case opened meanwhile.
    assert _page_refs(back, "CASE") == _page_refs(pages[0], "CASE") and "← Newer" in back


def test_the_case_list_pager_keeps_the_filters(web, people, case_in, monkeypatch):
    monkeypatch.setattr("web.paging.PAGE_SIZE", 2)
    for n in range(5):
        case_in("verification", title=f"Orikhiv {n}")
    html = web(people["chair"]).get("/cases/?stage=verification&search=Orikhiv").content.decode()
    link = OLDER.search(html).group(1)
    assert "stage=verification" in link and "search=Orikhiv" in link and "cursor=" in link


def test_the_inbox_and_my_reports_page_by_keyset(web, people, file_report, monkeypatch):
    monkeypatch.setattr("web.paging.PAGE_SIZE", 3)
    filed = [file_report(people["monitor"]) for _ in range(7)]
    # The inbox runs oldest first (its next page is "newer"); my reports newest first.
    for who, url, row, onward, expected in (
            ("verifier", "/inbox/", r'name="reports" value="(\d+)"', NEWER, sorted(r.pk for r in filed)),
            ("monitor", "/my/reports/", r'href="/reports/(\d+)/"', OLDER, sorted((r.pk for r in filed), reverse=True))):
        client = web(people[who])
        html, seen = client.get(url).content.decode(), []
        while True:
            seen += [int(n) for n in re.findall(row, html)]
            link = onward.search(html)
            if not link:
                break
            html = client.get(link.group(1).replace("&amp;", "&")).content.decode()
        assert seen == expected, url


def test_a_hand_made_cursor_is_404_not_500(web, people):
    assert web(people["chair"]).get("/cases/?cursor=bm9wZQ").status_code == 404


def test_a_cursor_whose_position_is_not_a_date_is_404_not_500(web, people, file_report):
    file_report(people["monitor"])
    # base64 of "p=not-a-date": a well-formed cursor whose position the
    # inbox's submitted_at cannot be.
    cursor = base64.b64encode(b"p=not-a-date").decode()
    assert web(people["verifier"]).get(f"/inbox/?cursor={cursor}").status_code == 404


def test_the_inbox_pages_past_a_thousand_reports_filed_at_one_instant(web, people, file_report, monkeypatch):
    """An import files its whole batch with one submitted_at: DRF's cursor
    keeps an OFFSET among the rows tied on the first ordering field, and
    with its default cap (1,000) the pages after the cap came back the same
    for ever. Every report must appear once, in id order."""
    monkeypatch.setattr("web.paging.PAGE_SIZE", 100)
    template = file_report(people["monitor"])
    copied = [f.attname for f in Report._meta.concrete_fields if f.attname not in ("id", "idempotency_key")]
    # Each at its own place, 30 km or more apart: identical clones would all be
    # one another's duplicate candidates (1,250 squared pairs to render).
    Report.objects.bulk_create([Report(**{**{name: getattr(template, name) for name in copied},
                                          "lat": 44.5 + (i % 40) * 0.3, "lon": 22.5 + (i // 40) * 0.4})
                                for i in range(1249)])
    Report.objects.update(submitted_at=template.submitted_at)
    expected = sorted(Report.objects.values_list("pk", flat=True))
    assert len(expected) == 1250
    client = web(people["verifier"])
    html, seen = client.get("/inbox/").content.decode(), []
    for _ in range(20):  # 13 pages; a pager that repeats itself stops here
        seen += [int(n) for n in re.findall(r'name="reports" value="(\d+)"', html)]
        link = NEWER.search(html)
        if not link:
            break
        html = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert seen == expected


def test_the_home_count_stops_at_its_bound(web, people, file_report, monkeypatch):
    monkeypatch.setattr("web.commission_pages.HOME_COUNT_CAP", 3)
    for _ in range(4):
        file_report(people["monitor"])
    html = web(people["verifier"]).get("/").content.decode()
    assert "More than 2 submitted reports are not in a case yet." in html
    assert Report.objects.count() == 4 and Case.objects.count() == 0
