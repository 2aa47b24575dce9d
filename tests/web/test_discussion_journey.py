"""The discussion and the result in a real browser (issue 12, item 3): while
a round is open, a member comments and another replies from the reply link;
the thread shows no ballot; once the round has closed, the case page names
the party, says why the round closed and shows the ballots with their
rationales. Both are saved as screenshots at 1280 and 360 px."""

import pytest

from commission import services
from commission.models import Comment
from notifications.models import Notification
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def fits_a_phone(s: Session) -> bool:
    s.page.set_viewport_size({"width": 360, "height": 800})
    width = s.page.evaluate("document.documentElement.scrollWidth")
    s.page.set_viewport_size({"width": 1280, "height": 800})
    return width <= 360


def test_members_discuss_during_the_round_and_read_the_result_after_it(people, case_in, session):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member3"], round=rnd, choice="RU", rationale="A sealed rationale.")

    m1 = session("member1")
    page = m1.go(f"/cases/{case.pk}/")
    page.get_by_label("Your comment").fill("The radar log puts the launch at 04:10, north-east of the town. "
                                           "@member2, does it match the fragments?")
    page.get_by_role("button", name="Post the comment").click()
    page.wait_for_url(f"**/cases/{case.pk}/#h-discussion")
    assert Notification.objects.filter(recipient=people["member2"], kind="comment_mention").exists()

    m2 = session("member2")
    page = m2.go(f"/cases/{case.pk}/")
    page.get_by_test_id("reply-link").first.click()
    assert page.get_by_role("heading", name="Reply to member1").is_visible()
    page.get_by_label("Your comment").fill("Yes: 152 mm fragments, and the crater axis points the same way.")
    page.get_by_role("button", name="Post the comment").click()
    page.wait_for_url(f"**/cases/{case.pk}/#h-discussion")
    reply = Comment.objects.get(author=people["member2"])
    assert reply.parent.author == people["member1"]
    discussion = page.get_by_test_id("discussion")
    assert "in reply to member1" in discussion.inner_text()
    assert "A sealed rationale." not in page.content()
    assert fits_a_phone(m2)
    page.locator("#h-discussion").scroll_into_view_if_needed()
    m2.shoot("case-discussion")

    # Everyone votes: the round closes early and the result is revealed.
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="The radar log.")
    services.ballot_cast(actor=people["member2"], round=rnd, choice="RU", rationale="The fragments and the crater.")
    services.ballot_cast(actor=people["member4"], round=rnd, choice="abstain", rationale="Not enough for me.")

    auditor = session("auditor1")
    page = auditor.go(f"/cases/{case.pk}/")
    result = page.get_by_test_id("round-result")
    text = result.inner_text()
    assert "Result: Russian Federation" in text
    assert "Closed early: every eligible member had voted." in text
    assert "4 of 4 eligible members voted (100 %); quorum 50 % (2 needed)." in text
    assert "A sealed rationale." in text and "Not enough for me." in text
    assert fits_a_phone(auditor)
    result.scroll_into_view_if_needed()
    auditor.shoot("round-result")
