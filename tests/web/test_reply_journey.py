"""A party representative's journey in a real browser (headless Chromium):
rep_ru signs in, finds the case awaiting RU's reply on their home page with
its due time, reads the findings and the reports' facts, submits the reply
with a file; a member then reads it on the case page, above the vote.
Screenshots at 1280 and 360 px."""

import pytest

from commission.models import Reply, ReplyEvidence
from tests.web.browser import make_png, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_a_party_representative_submits_a_reply_with_a_file(people, representatives, case_naming, session, media):
    case = case_naming("RU", title="Shelling of Orikhiv, northern outskirts")
    s = session("rep_ru")
    page = s.page
    card = page.locator("#h-reply").locator("xpath=..")
    assert case.reference in card.inner_text() and "reply by" in card.inner_text()
    s.shoot("home-representative")

    page.get_by_role("link", name=case.reference).first.click()
    page.wait_for_url(f"**/cases/{case.pk}/reply/")
    assert page.get_by_text("Craters and fragments match 152 mm rounds.").is_visible()
    assert "monitor1" not in page.content() and "verifier1" not in page.content()
    page.get_by_label("Your party's reply").fill(
        "The Russian Federation denies firing on Orikhiv that day; the attached map shows the line of contact.")
    photo = media / "line-of-contact.png"
    photo.write_bytes(make_png())
    page.get_by_label("Evidence files").set_input_files(str(photo))
    s.shoot("reply-form")
    # At 360 px the form fits the screen: nothing wider than the viewport.
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Submit the reply").click()
    page.wait_for_url(f"**/cases/{case.pk}/reply/")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.get_by_text("Your party's reply is recorded.").is_visible()
    assert page.get_by_role("heading", name="Reply of RU").is_visible()
    assert page.get_by_role("button", name="Submit the reply").count() == 0
    s.shoot("reply-submitted")
    reply = Reply.objects.get(case=case)
    assert reply.party.code == "RU" and ReplyEvidence.objects.filter(reply=reply).count() == 1

    m = session("member1")
    page = m.go(f"/cases/{case.pk}/")
    assert page.get_by_role("heading", name="Replies of the parties").is_visible()
    assert page.get_by_text("denies firing on Orikhiv").is_visible()
    m.shoot("case-replies")
