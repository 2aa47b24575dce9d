"""Deadlines as rows, swept with `now` passed in: a missed deadline escalates
once, reminders go once per due time to whoever still has to act, the chair
extends with a reason, and notifications are emailed once."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import trail_seal, trail_verify
from commission import selectors, services
from commission.models import Deadline
from config.errors import Conflict, Forbidden
from notifications import mailer
from notifications.mailer import EMAIL_CLAIM_TIMEOUT, notifications_send
from notifications.models import Notification
from notifications.selectors import notification_list_for
from notifications.services import notification_mark_read

pytestmark = pytest.mark.django_db


def verification_deadline(case):
    return Deadline.objects.get(case=case, kind="verification")


def events(action, deadline):
    return AuditEvent.objects.filter(action=action, object_type="deadline", object_id=str(deadline.pk)).count()


def test_nothing_is_settled_before_it_is_due(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    result = services.deadlines_sweep(now=deadline.due_at - timedelta(seconds=1))
    assert result.fired == 0
    deadline.refresh_from_db()
    assert deadline.status == "pending"


def test_a_missed_verification_escalates_once_however_often_the_sweep_runs(people, case_in):
    case = case_in("verification")
    deadline = verification_deadline(case)
    late = deadline.due_at + timedelta(minutes=1)
    assert services.deadlines_sweep(now=late).fired == 1
    assert services.deadlines_sweep(now=late).fired == 0
    assert services.deadlines_sweep(now=late + timedelta(hours=1)).fired == 0
    deadline.refresh_from_db()
    case.refresh_from_db()
    assert deadline.status == "missed" and deadline.settled_at == late
    assert case.flagged and case.stage == "verification"
    assert events("deadline.missed", deadline) == 1
    notes = Notification.objects.filter(kind="deadline_missed")
    assert [(n.recipient, n.case_id, n.case_reference) for n in notes] == [(people["chair"], case.pk, case.reference)]
    assert deadline in selectors.deadlines_for_home(people["chair"])
    trail_seal()
    assert trail_verify().ok


def test_a_stage_done_in_time_is_met_not_missed(people, case_in):
    case = case_in("attribution")
    deadline = verification_deadline(case)
    assert deadline.status == "met"
    assert services.deadlines_sweep(now=deadline.due_at + timedelta(days=1)).fired == 0
    case.refresh_from_db()
    assert not case.flagged and not Notification.objects.filter(kind="deadline_missed").exists()


def test_the_sweep_closes_a_round_at_its_closing_time(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in ("member1", "member2", "member3"):
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale="Radar tracks.")
    assert services.deadlines_sweep(now=rnd.closes_at - timedelta(seconds=1)).fired == 0
    assert services.deadlines_sweep(now=rnd.closes_at).fired == 1
    rnd.refresh_from_db()
    assert rnd.status == "closed" and rnd.closed_because == "deadline" and rnd.outcome == "RU"
    assert Deadline.objects.get(round=rnd).status == "met"
    assert AuditEvent.objects.filter(action="round.tallied").count() == 1


def test_a_missed_measures_stage_escalates(people, case_in):
    case = case_in("measures")
    deadline = Deadline.objects.get(case=case, kind="measures")
    assert services.deadlines_sweep(now=deadline.due_at).fired == 1
    deadline.refresh_from_db()
    case.refresh_from_db()
    assert deadline.status == "missed" and case.flagged


# --- Reminders -------------------------------------------------------------------------


def test_the_assigned_verifier_is_reminded_once_before_the_due_time(people, case_in, settings):
    case = case_in("verification")
    deadline = verification_deadline(case)
    too_early = deadline.due_at - settings.DEADLINE_REMINDER_BEFORE - timedelta(minutes=1)
    assert services.deadlines_sweep(now=too_early).reminded == 0
    soon = deadline.due_at - settings.DEADLINE_REMINDER_BEFORE + timedelta(minutes=1)
    assert services.deadlines_sweep(now=soon).reminded == 1
    assert services.deadlines_sweep(now=soon + timedelta(hours=1)).reminded == 0
    reminders = Notification.objects.filter(kind="deadline_reminder")
    assert [n.recipient for n in reminders] == [people["verifier"]]
    assert events("deadline.reminded", deadline) == 1
    deadline.refresh_from_db()
    assert deadline.status == "pending"  # a reminder settles nothing


def test_without_an_assigned_verifier_every_verifier_is_reminded(people, submitted, settings):
    case = services.case_open(actor=people["chair"], title="Opened by the chair",
                              reports=[submitted(people["monitor"])])
    deadline = verification_deadline(case)
    services.deadlines_sweep(now=deadline.due_at - timedelta(hours=1))
    assert [n.recipient for n in Notification.objects.filter(kind="deadline_reminder")] == [people["verifier"]]


def test_members_who_have_not_voted_are_reminded(people, case_in, settings):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Radar tracks.")
    services.ballot_cast(actor=people["member3"], round=rnd, choice="UA", rationale="Crater shape.")
    assert services.deadlines_sweep(now=rnd.closes_at - timedelta(hours=2)).reminded == 1
    reminded = sorted(n.recipient.username for n in Notification.objects.filter(kind="deadline_reminder"))
    assert reminded == ["member2", "member4"]  # not the voters, not the recused member5


def test_an_extension_means_a_new_reminder_before_the_new_time(people, case_in):
    case = case_in("verification")
    deadline = verification_deadline(case)
    services.deadlines_sweep(now=deadline.due_at - timedelta(hours=1))
    new_due = deadline.due_at + timedelta(days=2)
    services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=new_due, reason="Site unreachable.")
    assert services.deadlines_sweep(now=new_due - timedelta(hours=1)).reminded == 1
    assert services.deadlines_sweep(now=new_due - timedelta(minutes=30)).reminded == 0
    assert Notification.objects.filter(kind="deadline_reminder", recipient=people["verifier"]).count() == 2


# --- Extensions ------------------------------------------------------------------------


def test_the_chair_extends_a_deadline_with_a_reason(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    old = deadline.due_at
    deadline = services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=old + timedelta(days=1),
                                        reason="The site was unreachable.")
    assert deadline.status == "extended" and deadline.due_at == old + timedelta(days=1)
    event = AuditEvent.objects.get(action="deadline.extended")
    assert event.reason == "The site was unreachable." and event.before["due_at"] == old.isoformat()
    # The old due time passes without effect; the new one fires.
    assert services.deadlines_sweep(now=old + timedelta(minutes=1)).fired == 0
    assert services.deadlines_sweep(now=deadline.due_at).fired == 1


def test_an_extension_needs_a_reason_and_a_later_time(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    cases = [
        ("reason", {"due_at": deadline.due_at + timedelta(days=1), "reason": " "}),
        ("due_at", {"due_at": deadline.due_at - timedelta(hours=1), "reason": "Earlier."}),
        ("due_at", {"due_at": deadline.due_at, "reason": "Same time."}),
        ("due_at", {"due_at": timezone.now() - timedelta(hours=1), "reason": "In the past."}),
        ("due_at", {"due_at": "tomorrow", "reason": "Not a time."}),
    ]
    for field, kwargs in cases:
        with pytest.raises(ValidationError) as err:
            services.deadline_extend(actor=people["chair"], deadline=deadline, **kwargs)
        assert field in err.value.message_dict
    deadline.refresh_from_db()
    assert deadline.status == "pending" and not AuditEvent.objects.filter(action="deadline.extended").exists()


@pytest.mark.parametrize("who", ["verifier", "member1", "auditor", "monitor"])
def test_only_the_chair_extends(people, case_in, who):
    deadline = verification_deadline(case_in("verification"))
    with pytest.raises(Forbidden):
        services.deadline_extend(actor=people[who], deadline=deadline, due_at=deadline.due_at + timedelta(days=1),
                                 reason="Please.")


def test_a_met_deadline_is_not_extended(people, case_in):
    deadline = verification_deadline(case_in("attribution"))
    with pytest.raises(Conflict):
        services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=deadline.due_at + timedelta(days=1),
                                 reason="Too late.")


def test_a_missed_deadline_may_be_extended_and_fires_again(people, case_in):
    case = case_in("verification")
    deadline = verification_deadline(case)
    services.deadlines_sweep(now=deadline.due_at)
    deadline.refresh_from_db()
    assert deadline.status == "missed"
    new_due = deadline.due_at + timedelta(days=1)
    services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=new_due, reason="One more day.")
    deadline.refresh_from_db()
    assert deadline.status == "extended"
    assert services.deadlines_sweep(now=new_due).fired == 1
    assert events("deadline.missed", deadline) == 2
    assert Notification.objects.filter(kind="deadline_missed").count() == 2


def test_extending_a_vote_deadline_moves_the_rounds_closing_time(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    deadline = Deadline.objects.get(round=rnd)
    new_close = rnd.closes_at + timedelta(days=3)
    services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=new_close, reason="Holidays.")
    rnd.refresh_from_db()
    assert rnd.closes_at == new_close and rnd.status == "open"
    assert services.deadlines_sweep(now=new_close - timedelta(seconds=1)).fired == 0
    assert services.deadlines_sweep(now=new_close).fired == 1
    rnd.refresh_from_db()
    assert rnd.status == "closed" and rnd.closed_because == "deadline"


def test_a_vote_deadline_past_its_closing_time_is_not_extended(people, case_in):
    """Ballots are refused from the closing time on, even before the sweep
    closes the round: extending then would reopen a round that has ended."""
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1))
    deadline = Deadline.objects.get(round=rnd)
    with pytest.raises(Conflict):  # at the closing time itself, by the test's clock
        services.deadline_extend(actor=people["chair"], deadline=deadline, now=rnd.closes_at,
                                 due_at=rnd.closes_at + timedelta(days=1), reason="Reopen it.")
    rnd.refresh_from_db()
    assert rnd.closes_at == deadline.due_at


def test_a_closed_rounds_deadline_is_not_extended(people, case_in):
    case = case_in("measures")
    deadline = Deadline.objects.get(case=case, kind="vote")
    with pytest.raises(Conflict):
        services.deadline_extend(actor=people["chair"], deadline=deadline,
                                 due_at=timezone.now() + timedelta(days=30), reason="Reopen.")


# --- Notifications ---------------------------------------------------------------------


def test_notifications_are_emailed_once(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    services.deadlines_sweep(now=deadline.due_at - timedelta(hours=1))  # reminder to the verifier
    services.deadlines_sweep(now=deadline.due_at)  # missed: the chair
    mail.outbox.clear()
    assert notifications_send() == 2
    assert notifications_send() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["chair@example.org", "verifier1@example.org"]
    assert all(m.subject.startswith("CASE-") for m in mail.outbox)
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_notification_is_marked_read_by_its_recipient_only(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    services.deadlines_sweep(now=deadline.due_at)
    note = Notification.objects.get()
    with pytest.raises(Forbidden):
        notification_mark_read(actor=people["verifier"], notification=note)
    notification_mark_read(actor=people["chair"], notification=note)
    assert list(notification_list_for(people["chair"], unread=True)) == []
    assert list(notification_list_for(people["chair"], unread=False)) == [note]
    assert list(notification_list_for(people["verifier"])) == []


def test_late_findings_lift_the_flag_of_a_missed_verification_deadline(people, case_in):
    case = case_in("verification")
    services.deadlines_sweep(now=timezone.now() + settings.DEADLINE_VERIFICATION + timedelta(seconds=1))
    case.refresh_from_db()
    assert case.flagged
    services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings="Late, but done.")
    case.refresh_from_db()
    assert not case.flagged
    assert case.deadlines.get(kind="verification").status == "missed"


def test_a_stage_deadline_cannot_be_extended_once_the_case_left_that_stage(people, case_in):
    case = case_in("attribution")
    deadline = Deadline.objects.get(case=case, kind="verification")
    with pytest.raises(Conflict):
        services.deadline_extend(actor=people["chair"], deadline=deadline,
                                 due_at=timezone.now() + timedelta(days=2), reason="Too late.")
    deadline.refresh_from_db()
    assert deadline.status == "met"


def test_a_missed_verification_deadline_cannot_be_extended_after_late_findings(people, case_in):
    case = case_in("verification")
    services.deadlines_sweep(now=timezone.now() + settings.DEADLINE_VERIFICATION + timedelta(seconds=1))
    services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings="Late.")
    deadline = Deadline.objects.get(case=case, kind="verification")
    with pytest.raises(Conflict) as err:
        services.deadline_extend(actor=people["chair"], deadline=deadline,
                                 due_at=timezone.now() + timedelta(days=2), reason="Give them time.")
    assert err.value.code == "wrong_stage"
    assert Deadline.objects.get(pk=deadline.pk).status == "missed"


def test_a_sweep_out_of_time_stops_and_leaves_the_rest_to_the_next(people, case_in):
    case_in("verification")
    late = timezone.now() + settings.DEADLINE_VERIFICATION + timedelta(seconds=1)
    result = services.deadlines_sweep(now=late, budget_seconds=-1)
    assert result.out_of_time and result.fired == 0
    assert services.deadlines_sweep(now=late).fired == 1


def test_a_failed_email_is_sent_again_by_the_next_run(people, case_in, settings, monkeypatch):
    case_in("verification")
    services.deadlines_sweep(now=timezone.now() + settings.DEADLINE_VERIFICATION + timedelta(seconds=1))
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OSError("mail server down")

    monkeypatch.setattr(mailer, "send_mail", refuse)
    assert notifications_send() == 0
    assert calls and Notification.objects.filter(emailed_at__isnull=True).exists()
    monkeypatch.undo()
    mail.outbox.clear()
    assert notifications_send() == 1
    assert len(mail.outbox) == 1
    assert notifications_send() == 0


def test_an_email_claimed_by_a_mailer_that_died_is_sent_after_the_claim_times_out(people, case_in):
    case_in("verification")
    services.deadlines_sweep(now=timezone.now() + settings.DEADLINE_VERIFICATION + timedelta(seconds=1))
    note = Notification.objects.get()
    # A mailer claimed it and was killed before sending.
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=timezone.now())
    mail.outbox.clear()
    assert notifications_send() == 0
    Notification.objects.filter(pk=note.pk).update(
        email_claimed_at=timezone.now() - EMAIL_CLAIM_TIMEOUT - timedelta(seconds=1))
    assert notifications_send() == 1
    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=note.pk).emailed_at is not None
