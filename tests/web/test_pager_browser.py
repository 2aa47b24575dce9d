"""The keyset pager in a real browser at phone width (360 px): the chair
walks the case list older and back newer; the links fit the screen and keep
the filter. Screenshot: case-list-pager (1280 and 360 px)."""

import pytest

from tests.web.browser import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_the_chair_pages_through_the_cases_on_a_phone(people, case_in, session, monkeypatch):
    # The live server runs in this process: a small page shows the pager with a few cases.
    monkeypatch.setattr("web.paging.PAGE_SIZE", 3)
    cases = sorted((case_in("verification", title=f"Shelling {n}") for n in range(7)), key=lambda c: -c.pk)
    chair = session("chair")
    page = chair.page
    page.set_viewport_size({"width": 360, "height": 740})
    chair.go("/cases/?stage=verification")

    def shown():
        return page.locator("table tbody tr td:first-child a").all_inner_texts()

    assert shown() == [c.reference for c in cases[:3]]
    older = page.get_by_role("link", name="Older →")
    box = older.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing pushes the page sideways
    assert page.get_by_role("link", name="← Newer").count() == 0
    chair.shoot("case-list-pager")
    seen = shown()
    while page.get_by_role("link", name="Older →").count():
        page.get_by_role("link", name="Older →").click()
        page.wait_for_load_state()
        assert "stage=verification" in page.url
        seen += shown()
    assert seen == [c.reference for c in cases]
    page.get_by_role("link", name="← Newer").click()
    page.wait_for_load_state()
    assert shown() == [c.reference for c in cases[3:6]]
