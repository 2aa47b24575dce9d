"""The case's discussion (issue 12, item 3): verifiers, the chair and
members write, auditors read, party representatives and monitors never see
it; every comment is in the trail with its body; a reply tells the parent's
author and an @mention tells the reader named; shown during an open round,
it never carries a ballot."""

import json

import pytest

from audit.models import AuditEvent
from commission import services
from commission.models import Comment
from config.errors import Forbidden
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def comments(client, case):
    return client.get(f"/api/v1/cases/{case.pk}/comments/")


def post(client, case, body="The crater axis points north-east.", parent=None):
    data = {"body": body} if parent is None else {"body": body, "parent": parent}
    return client.post(f"/api/v1/cases/{case.pk}/comments/", data, format="json")


@pytest.fixture
def case(case_in):
    return case_in("attribution")


@pytest.mark.parametrize("who", ["member1", "chair", "verifier"])
def test_members_the_chair_and_verifiers_post_and_read_the_discussion(api, people, case, who):
    response = post(api(people[who]), case, body=f"{who}: the radar track matches the fragments.")
    assert response.status_code == 201
    body = response.json()
    assert body["author"] == people[who].username and body["parent"] is None and body["mentions"] == []
    listed = comments(api(people["member2"]), case).json()
    assert [c["body"] for c in listed] == [f"{who}: the radar track matches the fragments."]


def test_auditors_read_the_discussion_but_do_not_post(api, people, case):
    post(api(people["member1"]), case)
    auditor = api(people["auditor"])
    assert comments(auditor, case).status_code == 200 and len(comments(auditor, case).json()) == 1
    assert post(auditor, case).status_code == 403
    with pytest.raises(Forbidden):
        services.comment_post(actor=people["auditor"], case=case, body="An auditor's opinion.")
    assert Comment.objects.count() == 1


def test_a_party_representative_never_sees_the_discussion(api, people, representatives, case):
    post(api(people["member1"]), case, body="RU's battery was in range.")
    rep = api(representatives["RU"])
    # 403, as for the case file itself (tests/commission/test_replies.py).
    assert comments(rep, case).status_code == 403
    assert post(rep, case, body="We object.").status_code == 403
    assert Comment.objects.count() == 1


def test_a_member_who_also_represents_a_party_never_sees_the_discussion(api, people, parties, case):
    from django.contrib.auth.models import Group

    from accounts.roles import PARTY_REPRESENTATIVE

    member = people["member3"]
    member.represents = parties["RU"]
    member.save(update_fields=["represents"])
    member.groups.add(Group.objects.get_or_create(name=PARTY_REPRESENTATIVE)[0])
    assert comments(api(member), case).status_code == 403
    with pytest.raises(Forbidden):
        services.comment_post(actor=member, case=case, body="From both sides.")


@pytest.mark.parametrize("who", ["monitor", "outsider"])
def test_monitors_and_people_without_a_role_are_refused(api, people, case, who):
    assert comments(api(people[who]), case).status_code == 403
    assert post(api(people[who]), case).status_code == 403


def test_anonymous_is_refused(api, case):
    assert comments(api(None), case).status_code in (401, 403)


def test_an_unknown_case_is_404(api, people):
    assert comments(api(people["member1"]), type("C", (), {"pk": 999999})).status_code == 404


def test_a_comment_is_audited_with_its_body(api, people, case):
    response = post(api(people["member1"]), case, body="Fragments are 152 mm.")
    event = AuditEvent.objects.get(action="case.comment_posted")
    assert event.actor_username == "member1" and event.object_type == "case" and event.object_id == str(case.pk)
    assert event.after["body"] == "Fragments are 152 mm." and event.after["comment"] == response.json()["id"]
    # In the case's own trail.
    trail = api(people["auditor"]).get(f"/api/v1/cases/{case.pk}/trail/").json()
    assert "case.comment_posted" in json.dumps(trail)


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_a_blank_comment_is_refused_and_nothing_is_stored(api, people, case, body):
    assert post(api(people["member1"]), case, body=body).status_code == 400
    assert not Comment.objects.exists() and not AuditEvent.objects.filter(action="case.comment_posted").exists()


def test_a_too_long_comment_is_refused(api, people, case):
    assert post(api(people["member1"]), case, body="x" * (services.COMMENT_MAX + 1)).status_code == 400
    assert not Comment.objects.exists()


def test_a_reply_to_a_comment_of_another_case_is_refused(api, people, case, case_in):
    other = case_in("attribution", title="Another case")
    elsewhere = post(api(people["member1"]), other).json()["id"]
    response = post(api(people["member2"]), case, parent=elsewhere)
    assert response.status_code == 400 and "parent" in response.json()
    assert Comment.objects.count() == 1


def test_a_reply_notifies_the_parent_author(api, people, case):
    first = post(api(people["member1"]), case, body="Who saw the radar log?").json()
    response = post(api(people["member2"]), case, body="I did; it shows a launch at 04:10.", parent=first["id"])
    assert response.status_code == 201 and response.json()["parent"] == first["id"]
    assert response.json()["parent_author"] == "member1"
    told = Notification.objects.get(kind="comment_reply")
    assert told.recipient == people["member1"] and told.case_id == case.pk
    # Nobody else is told of it; the replier is not told of their own reply.
    assert Notification.objects.filter(kind__startswith="comment_").count() == 1


def test_replying_to_oneself_notifies_nobody(api, people, case):
    first = post(api(people["member1"]), case).json()
    post(api(people["member1"]), case, body="And a correction.", parent=first["id"])
    assert not Notification.objects.filter(kind__startswith="comment_").exists()


def test_a_mention_notifies_the_reader_named(api, people, case):
    response = post(api(people["member1"]), case, body="@member3 and @auditor1, see the fragments; @nobody neither.")
    assert sorted(response.json()["mentions"]) == ["auditor1", "member3"]
    told = Notification.objects.filter(kind="comment_mention").order_by("recipient__username")
    assert [n.recipient.username for n in told] == ["auditor1", "member3"]


def test_a_mention_of_someone_who_may_not_read_the_case_tells_nobody(api, people, representatives, case):
    response = post(api(people["member1"]), case, body="@monitor1 @rep_ru @outsider please look.")
    assert response.json()["mentions"] == []
    assert not Notification.objects.filter(kind="comment_mention").exists()


def test_a_mention_in_an_email_address_is_not_a_mention(api, people, case):
    response = post(api(people["member1"]), case, body="Write to press@member3 for the file.")
    assert response.json()["mentions"] == []


def test_the_replied_author_mentioned_as_well_is_told_once(api, people, case):
    first = post(api(people["member1"]), case).json()
    post(api(people["member2"]), case, body="@member1 agreed.", parent=first["id"])
    assert Notification.objects.filter(recipient=people["member1"], kind__startswith="comment_").count() == 1


def test_during_an_open_round_the_discussion_carries_no_ballot(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="UA",
                         rationale="A secret rationale about the launch site.")
    post(api(people["member2"]), case, body="Still reading the fragments report.")
    for who in ("member1", "member2", "chair", "auditor"):
        text = json.dumps(comments(api(people[who]), case).json())
        assert "A secret rationale" not in text and "choice" not in text and "ballot" not in text
    assert "A secret rationale" not in json.dumps(AuditEvent.objects.get(action="case.comment_posted").after)



def test_the_database_refuses_to_edit_or_delete_a_comment(people, case):
    from django.db import DatabaseError, transaction

    comment = services.comment_post(actor=people["member1"], case=case, body="As said before the vote.")
    for change in (lambda: Comment.objects.filter(pk=comment.pk).update(body="Rewritten after the vote."),
                   lambda: Comment.objects.filter(pk=comment.pk).delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert Comment.objects.get().body == "As said before the vote."


def test_the_case_says_who_may_post_in_its_allowed_actions(api, people, case):
    for who, may in (("member1", True), ("chair", True), ("verifier", True), ("auditor", False)):
        actions = api(people[who]).get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]["case"]
        assert ("post_comment" in actions) is may, who


def test_posting_is_rate_limited_per_person_and_reading_is_not(api, people, case, settings):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    from commission.api.discussion import CaseCommentsApi

    cache.clear()
    # DRF reads the rates once, at import: give the throttle its own for this test.
    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "comment": "2/min"}
    try:
        member = api(people["member1"])
        statuses = [post(member, case, body=f"Point {n}.").status_code for n in range(3)]
        other = post(api(people["member2"]), case).status_code
        reads = [comments(member, case).status_code for _ in range(3)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert statuses == [201, 201, 429] and other == 201 and reads == [200, 200, 200]
    assert Comment.objects.count() == 3
    assert CaseCommentsApi.throttle_scope == "comment"
