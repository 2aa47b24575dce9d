"""The case page's discussion and its round result (issue 12, item 3): the
commission's roles read the thread, verifiers/chair/members post and reply
from the page, auditors only read; party representatives and monitors never
see it; an open round's page never shows a ballot in it; a closed round
says what happened in words and shows the ballots with their rationales."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from commission import services
from commission.models import Comment
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(case_in):
    return case_in("attribution")


def field_errors(html: str, field_id: str) -> list[str]:
    match = re.search(rf'<ul class="errorlist" id="{field_id}_errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def test_a_member_posts_a_comment_from_the_case_page(people, case, web):
    client = web(people["member1"])
    response = client.post(f"/cases/{case.pk}/comments/", {"body": "The radar log is in report 2."})
    assert response.status_code == 302 and response["Location"].endswith(f"/cases/{case.pk}/#h-discussion")
    comment = Comment.objects.get()
    assert comment.author == people["member1"] and comment.parent is None
    assert AuditEvent.objects.filter(action="case.comment_posted", actor_username="member1").exists()
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="discussion"' in page and "The radar log is in report 2." in page


def test_a_reply_from_the_reply_link_answers_the_comment_and_tells_its_author(people, case, web):
    first = services.comment_post(actor=people["member1"], case=case, body="Who has the launch time?")
    chair = web(people["chair"])
    page = chair.get(f"/cases/{case.pk}/?reply={first.pk}").content.decode()
    assert "Reply to member1" in page and f'name="parent" value="{first.pk}"' in page
    response = chair.post(f"/cases/{case.pk}/comments/", {"body": "04:10 local.", "parent": first.pk})
    assert response.status_code == 302
    reply = Comment.objects.get(parent=first)
    assert reply.author == people["chair"]
    assert Notification.objects.get(kind="comment_reply").recipient == people["member1"]
    page = chair.get(f"/cases/{case.pk}/").content.decode()
    assert re.search(rf'id="comment-{reply.pk}"', page) and f'href="#comment-{first.pk}"' in page


def test_a_blank_comment_shows_the_message_and_stores_nothing(people, case, web):
    response = web(people["verifier"]).post(f"/cases/{case.pk}/comments/", {"body": "   "})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "id_comment_body") == ["This field is required."]
    assert not Comment.objects.exists()


def test_auditors_read_the_discussion_without_a_form(people, case, web):
    services.comment_post(actor=people["member1"], case=case, body="Fragments are 152 mm.")
    client = web(people["auditor"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Fragments are 152 mm." in page and 'id="id_comment_body"' not in page and "reply-link" not in page
    assert client.post(f"/cases/{case.pk}/comments/", {"body": "An opinion."}).status_code == 403
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("who", ["monitor", "outsider"])
def test_monitors_are_refused_the_discussion(people, case, web, who):
    client = web(people[who])
    assert client.get(f"/cases/{case.pk}/").status_code == 403
    assert client.post(f"/cases/{case.pk}/comments/", {"body": "Hello."}).status_code == 403
    assert not Comment.objects.exists()


def test_a_party_representative_never_sees_the_discussion(people, representatives, case, web):
    services.comment_post(actor=people["member1"], case=case, body="RU's battery was in range.")
    client = web(representatives["RU"])
    for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/reply/"):
        response = client.get(url)
        assert "RU's battery was in range." not in response.content.decode(), url
    assert client.post(f"/cases/{case.pk}/comments/", {"body": "We object."}).status_code == 403
    assert Comment.objects.count() == 1


def test_during_an_open_round_the_discussion_shows_no_ballot(people, case, web):
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="UA", rationale="A secret rationale.")
    services.comment_post(actor=people["member2"], case=case, body="Still reading.")
    for who in ("member2", "chair", "auditor"):
        page = web(people[who]).get(f"/cases/{case.pk}/").content.decode()
        discussion = page[page.index('data-testid="discussion"'):]
        assert "Still reading." in discussion and "A secret rationale." not in page
        assert 'data-testid="round-result"' not in page


def test_a_closed_round_names_the_party_says_why_and_shows_the_ballots(people, case, web):
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in ("member1", "member2", "member3"):
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale=f"{who}: the radar log.")
    services.ballot_cast(actor=people["member4"], round=rnd, choice="abstain", rationale="Not enough for me.")
    page = web(people["auditor"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Result: Russian Federation" in page
    assert "Closed early: every eligible member had voted." in page
    assert "4 of 4 eligible members voted (100 %); quorum 50 % (2 needed)." in page
    ballots = page[page.index('class="ballots"'):]
    assert re.search(r"member1</td><td>Russian Federation</td><td class=\"prewrap\">member1: the radar log.", ballots)
    assert "Not enough for me." in ballots


def test_a_round_without_quorum_says_so_on_the_page(people, case, web):
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1),
                              quorum="0.75")
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Alone.")
    services.round_close_due(round_id=rnd.pk, now=rnd.closes_at)
    page = web(people["chair"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Result: No quorum" in page
    assert "Closed at its deadline without quorum: too few eligible members voted." in page
    assert "1 of 4 eligible members voted (25 %); quorum 75 % (3 needed)." in page


def test_a_round_closed_at_its_deadline_says_so_on_the_page(people, case, web):
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1))
    for who in ("member1", "member2", "member3"):
        services.ballot_cast(actor=people[who], round=rnd, choice="UA", rationale="The shell casings.")
    services.round_close_due(round_id=rnd.pk, now=rnd.closes_at)
    page = web(people["member4"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Result: Ukraine" in page and "Closed at its deadline." in page


def test_the_round_form_asks_for_the_quorum_in_percent(people, case, web):
    page = web(people["chair"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Quorum (%)" in page and re.search(r'id="id_round_quorum"[^>]*value="50"|value="50"[^>]*id="id_round_quorum"',
                                              page)
