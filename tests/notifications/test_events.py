"""Notifications follow the work: each event tells exactly the people who
must act on it or know of it, once, however often the service or the task
that caused it runs."""

from datetime import timedelta

import pytest
from django.core import mail

from accounts.models import User
from commission import services
from commission.models import Deadline
from config.errors import Conflict
from notifications.mailer import notifications_send
from notifications.models import Notification

pytestmark = pytest.mark.django_db

VOTERS = ("member1", "member2", "member3", "member4")


def told(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def usernames(people, *keys) -> list[str]:
    return sorted(people[k].username for k in keys)


def test_a_round_opened_tells_its_voters_and_not_the_recused_member(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    assert told("round_opened") == usernames(people, *VOTERS)  # member5 (UA's delegation) is recused
    note = Notification.objects.get(kind="round_opened", recipient=people["member1"])
    assert note.params["number"] == 1 and note.params["closes_at"] == rnd.closes_at.isoformat()
    assert (note.case_id, note.case_reference) == (case.pk, case.reference)
    with pytest.raises(Conflict):  # a second open is refused, and tells nobody again
        services.round_open(actor=people["chair"], case=case)
    assert Notification.objects.filter(kind="round_opened").count() == 4


def test_the_vote_reminder_goes_once_to_voters_without_a_ballot(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="radar tracks")
    before = rnd.closes_at - timedelta(hours=1)
    services.deadlines_sweep(now=before)
    services.deadlines_sweep(now=before + timedelta(minutes=1))
    reminders = Notification.objects.filter(kind="deadline_reminder", case_id=case.pk)
    assert sorted(reminders.values_list("recipient__username", flat=True)) == ["member2", "member3", "member4"]
    assert {n.params["what"] for n in reminders} == {"vote"}


def test_a_closed_round_tells_its_voters_and_the_chair_its_result_once(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in VOTERS:
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale=f"{who}: radar tracks")
    assert told("round_closed") == usernames(people, "chair", *VOTERS)
    assert {n.params["outcome"] for n in Notification.objects.filter(kind="round_closed")} == {"RU"}
    # The sweep finding the round's deadline later closes nothing and tells nobody again.
    services.deadlines_sweep(now=rnd.closes_at + timedelta(seconds=1))
    assert Notification.objects.filter(kind="round_closed").count() == 5


def test_a_proposed_measure_tells_the_chair(people, case_in):
    case = case_in("measures")
    services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                             description="Targeted sanctions.")
    assert told("measure_proposed") == ["chair"]
    note = Notification.objects.get(kind="measure_proposed")
    assert note.params["addressee"] == "RU" and note.params["proposer"] == "member1"


def test_an_adopted_measure_tells_the_members_and_the_addressed_partys_delegation(people, case_in, delegations):
    envoy = User.objects.create_user(username="ua_envoy", delegation=delegations["UA"], email="envoy@example.org")
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="remedial_demand", addressee="UA",
                                       description="Repair the school.")
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    assert told("measure_adopted") == sorted([envoy.username, *usernames(people, *VOTERS, "member5")])
    with pytest.raises(Conflict):
        services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="again")
    assert Notification.objects.filter(kind="measure_adopted").count() == 6


def test_a_rejected_measure_tells_the_members_only_when_the_party_has_nobody_here(people, case_in):
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Sanctions.")
    services.measure_decide(actor=people["chair"], measure=measure, adopt=False, reason="Too early.")
    assert told("measure_rejected") == usernames(people, *VOTERS, "member5")


def test_compliance_is_reminded_to_the_chair_and_its_overdue_is_a_missed_deadline(people, case_in):
    case = case_in("measures")
    due = case.stage_changed_at + timedelta(days=30)
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Sanctions.", compliance_due_at=due)
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Yes.")
    deadline = Deadline.objects.get(measure=measure)
    services.deadlines_sweep(now=deadline.due_at - timedelta(hours=1))
    reminder = Notification.objects.get(kind="deadline_reminder", key__startswith=f"reminder:{deadline.pk}:")
    assert reminder.recipient == people["chair"] and reminder.params["what"] == "compliance"
    services.deadlines_sweep(now=deadline.due_at + timedelta(seconds=1))
    services.deadlines_sweep(now=deadline.due_at + timedelta(seconds=2))
    missed = Notification.objects.filter(kind="deadline_missed", params__what="compliance")
    assert [n.recipient.username for n in missed] == ["chair"]


def test_a_closed_case_tells_everyone_on_it_but_not_its_monitors(people, case_in):
    case = case_in("measures")
    services.case_close(actor=people["chair"], case=case, summary="Attributed; no measure.")
    assert told("case_closed") == usernames(people, "chair", "verifier", *VOTERS, "member5")
    assert Notification.objects.get(kind="case_closed", recipient=people["chair"]).params["outcome"] == "decided"


def test_a_missed_deadline_tells_the_chair_once(people, case_in):
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    services.deadlines_sweep(now=deadline.due_at + timedelta(seconds=1))
    services.deadlines_sweep(now=deadline.due_at + timedelta(seconds=2))
    assert told("deadline_missed") == ["chair"]


def test_notifications_of_one_action_are_emailed_once_each(people, case_in):
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)
    mail.outbox.clear()
    assert notifications_send() == 4
    assert notifications_send() == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"{w}@example.org" for w in VOTERS)
