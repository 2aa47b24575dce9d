"""Pausable clocks: the chair stops a deadline's clock with a reason and
resumes it; the due time moves by exactly the time paused; the sweep and the
reminders leave a paused deadline alone; every pause and resume is in the
trail. Times are passed in as `now`, like the other deadline rules."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import trail_seal, trail_verify
from commission import selectors, services
from commission.models import Deadline, Measure, Round
from config.errors import Conflict, Forbidden
from notifications.models import Notification

pytestmark = pytest.mark.django_db

WHY = "Monitors denied access to the site."


def verification_deadline(case):
    return Deadline.objects.get(case=case, kind="verification")


def pause(people, deadline, *, now, reason=WHY):
    return services.deadline_pause(actor=people["chair"], deadline=deadline, reason=reason, now=now)


def resume(people, deadline, *, now, reason="Access restored."):
    return services.deadline_resume(actor=people["chair"], deadline=deadline, reason=reason, now=now)


# --- Pause and resume ------------------------------------------------------------------------


def test_resuming_moves_the_due_time_by_exactly_the_time_paused(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    due = deadline.due_at
    paused_at = due - timedelta(hours=10)
    deadline = pause(people, deadline, now=paused_at)
    assert deadline.status == "paused" and deadline.paused_at == paused_at and deadline.pause_reason == WHY
    assert deadline.due_at == due  # unchanged while paused
    resumed_at = paused_at + timedelta(hours=30, seconds=7)
    deadline = resume(people, deadline, now=resumed_at)
    deadline.refresh_from_db()
    assert deadline.due_at == due + timedelta(hours=30, seconds=7)
    assert deadline.status == "pending" and deadline.paused_at is None and deadline.pause_reason == ""


def test_an_extended_deadline_is_extended_again_after_a_resume(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    now = timezone.now()
    deadline = services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=now + timedelta(days=5),
                                        reason="Lab results pending.", now=now)
    deadline = pause(people, deadline, now=now + timedelta(days=1))
    deadline = resume(people, deadline, now=now + timedelta(days=2))
    assert deadline.status == "extended" and deadline.due_at == now + timedelta(days=6)


def test_every_pause_and_resume_is_in_the_trail_with_its_reason(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    due = deadline.due_at
    start = due - timedelta(hours=2)
    pause(people, deadline, now=start)
    resume(people, deadline, now=start + timedelta(minutes=90), reason="The checkpoint reopened.")
    paused = AuditEvent.objects.get(action="deadline.paused", object_id=str(deadline.pk))
    resumed = AuditEvent.objects.get(action="deadline.resumed", object_id=str(deadline.pk))
    assert paused.actor == people["chair"] and paused.reason == WHY
    assert paused.before == {"status": "pending", "due_at": due.isoformat()}
    assert paused.after["status"] == "paused" and paused.after["paused_at"] == start.isoformat()
    assert resumed.reason == "The checkpoint reopened."
    assert resumed.before["due_at"] == due.isoformat() and resumed.before["status"] == "paused"
    assert resumed.after["due_at"] == (due + timedelta(minutes=90)).isoformat()
    assert resumed.after["status"] == "pending" and resumed.after["paused_seconds"] == 5400
    trail_seal()
    assert trail_verify().ok


@pytest.mark.parametrize("who", ["verifier", "member1", "auditor", "monitor"])
def test_only_the_chair_pauses_and_resumes(people, case_in, who):
    deadline = verification_deadline(case_in("verification"))
    with pytest.raises(Forbidden):
        services.deadline_pause(actor=people[who], deadline=deadline, reason=WHY)
    pause(people, deadline, now=timezone.now())
    with pytest.raises(Forbidden):
        services.deadline_resume(actor=people[who], deadline=deadline, reason="Back.")
    assert Deadline.objects.get(pk=deadline.pk).status == "paused"


def test_a_pause_and_a_resume_need_a_reason(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    with pytest.raises(ValidationError) as err:
        pause(people, deadline, now=timezone.now(), reason="  ")
    assert "reason" in err.value.message_dict
    assert Deadline.objects.get(pk=deadline.pk).status == "pending"
    pause(people, deadline, now=timezone.now())
    with pytest.raises(ValidationError) as err:
        resume(people, deadline, now=timezone.now(), reason="")
    assert "reason" in err.value.message_dict
    assert Deadline.objects.get(pk=deadline.pk).status == "paused"
    assert not AuditEvent.objects.filter(action="deadline.resumed").exists()


def test_pausing_a_paused_deadline_or_resuming_a_running_one_is_a_conflict(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    with pytest.raises(Conflict) as err:
        resume(people, deadline, now=timezone.now())
    assert err.value.code == "not_paused"
    now = timezone.now()
    pause(people, deadline, now=now)
    with pytest.raises(Conflict) as err:
        pause(people, deadline, now=now + timedelta(minutes=1))
    assert err.value.code == "paused"
    assert Deadline.objects.get(pk=deadline.pk).paused_at == now  # the first pause stands
    assert AuditEvent.objects.filter(action="deadline.paused").count() == 1


def test_a_paused_deadline_is_resumed_before_it_is_extended(people, case_in):
    deadline = verification_deadline(case_in("verification"))
    pause(people, deadline, now=timezone.now())
    with pytest.raises(Conflict) as err:
        services.deadline_extend(actor=people["chair"], deadline=deadline, due_at=deadline.due_at + timedelta(days=3),
                                 reason="More time.")
    assert err.value.code == "paused"
    case = deadline.case
    assert selectors.case_actions(people["chair"], case)["deadlines"][deadline.pk] == ["resume"]


def test_a_met_missed_or_already_due_deadline_is_not_paused(people, case_in):
    met = verification_deadline(case_in("attribution"))
    with pytest.raises(Conflict):
        pause(people, met, now=timezone.now())
    missed = verification_deadline(case_in("verification"))
    services.deadlines_sweep(now=missed.due_at)
    with pytest.raises(Conflict) as err:
        pause(people, Deadline.objects.get(pk=missed.pk), now=missed.due_at + timedelta(minutes=1))
    assert err.value.code == "not_running"
    due = verification_deadline(case_in("verification"))
    with pytest.raises(Conflict) as err:  # due but not swept yet: the sweep's, not the chair's
        pause(people, due, now=due.due_at)
    assert err.value.code == "due"
    assert not AuditEvent.objects.filter(action="deadline.paused").exists()


# --- The sweep and the reminders ---------------------------------------------------------------


def test_the_sweep_skips_a_paused_deadline_and_fires_it_at_the_moved_time(people, case_in):
    case = case_in("verification")
    deadline = verification_deadline(case)
    due = deadline.due_at
    paused_at = due - timedelta(hours=1)
    pause(people, deadline, now=paused_at)
    assert services.deadlines_sweep(now=due + timedelta(days=3)).fired == 0
    assert services.deadline_fire(deadline_id=deadline.pk, now=due + timedelta(days=3)) is False
    assert Deadline.objects.get(pk=deadline.pk).status == "paused"
    resumed_at = paused_at + timedelta(days=4)
    resume(people, deadline, now=resumed_at)
    moved = due + timedelta(days=4)
    assert services.deadlines_sweep(now=moved - timedelta(seconds=1)).fired == 0
    assert services.deadlines_sweep(now=moved).fired == 1
    deadline.refresh_from_db()
    case.refresh_from_db()
    assert deadline.status == "missed" and deadline.settled_at == moved and case.flagged


def test_no_reminder_while_paused_and_one_before_the_moved_time(people, case_in, settings):
    deadline = verification_deadline(case_in("verification"))
    due = deadline.due_at
    pause(people, deadline, now=due - timedelta(days=1))
    window = due - settings.DEADLINE_REMINDER_BEFORE / 2
    assert services.deadlines_sweep(now=window).reminded == 0
    resume(people, deadline, now=due - timedelta(hours=1))  # paused 23 hours
    moved = due + timedelta(hours=23)
    assert services.deadlines_sweep(now=moved - settings.DEADLINE_REMINDER_BEFORE / 2).reminded == 1
    notes = Notification.objects.filter(kind="deadline_reminder", recipient=people["verifier"])
    assert notes.count() == 1


def test_a_stage_that_ends_while_paused_settles_the_deadline_met(people, case_in):
    case = case_in("verification")
    deadline = verification_deadline(case)
    pause(people, deadline, now=timezone.now())
    services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings="Craters match.")
    deadline.refresh_from_db()
    assert deadline.status == "met" and deadline.paused_at is None and deadline.pause_reason == ""
    with pytest.raises(Conflict):
        resume(people, deadline, now=timezone.now())


# --- A paused vote ---------------------------------------------------------------------------


def test_a_paused_vote_stays_open_past_its_closing_time_and_closes_at_the_moved_time(people, case_in):
    case = case_in("attribution")
    now = timezone.now()
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=now + timedelta(hours=2))
    deadline = Deadline.objects.get(round=rnd)
    pause(people, deadline, now=now + timedelta(hours=1))
    late = rnd.closes_at + timedelta(hours=5)
    assert services.deadlines_sweep(now=late).fired == 0
    assert services.round_close_due(round_id=rnd.pk, now=late) is False
    # Time stands still for the round: a ballot is still taken after the closing time.
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Radar tracks.", now=late)
    assert Round.objects.get(pk=rnd.pk).status == "open"
    resume(people, deadline, now=now + timedelta(hours=7))  # paused 6 hours
    rnd.refresh_from_db()
    deadline.refresh_from_db()
    assert rnd.closes_at == deadline.due_at == now + timedelta(hours=8)
    assert services.deadlines_sweep(now=rnd.closes_at - timedelta(seconds=1)).fired == 0
    assert services.deadlines_sweep(now=rnd.closes_at).fired == 1
    rnd.refresh_from_db()
    assert rnd.status == "closed" and rnd.closed_because == "deadline"
    assert Deadline.objects.get(pk=deadline.pk).status == "met"


def test_a_paused_vote_closes_early_when_everyone_voted(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    deadline = Deadline.objects.get(round=rnd)
    pause(people, deadline, now=timezone.now())
    for who in ("member1", "member2", "member3", "member4"):
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale="Radar tracks.")
    rnd.refresh_from_db()
    deadline.refresh_from_db()
    assert rnd.status == "closed" and rnd.closed_because == "all_voted"
    assert deadline.status == "met" and deadline.paused_at is None


def test_resuming_a_compliance_deadline_moves_the_measures_compliance_date(people, case_in):
    case = case_in("measures")
    now = timezone.now()
    measure = services.measure_propose(actor=people["member1"], case=case, kind="remedial_demand", addressee="RU",
                                       description="Withdraw the battery.", compliance_due_at=now + timedelta(days=5))
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    deadline = Deadline.objects.get(measure=measure)
    pause(people, deadline, now=now + timedelta(days=1))
    resume(people, deadline, now=now + timedelta(days=3))
    measure.refresh_from_db()
    assert measure.compliance_due_at == now + timedelta(days=7) == Deadline.objects.get(pk=deadline.pk).due_at
    assert measure.compliance == "pending"
    assert Measure.objects.get(pk=measure.pk).compliance_due_at == now + timedelta(days=7)


# --- Through the API ---------------------------------------------------------------------------


def test_the_api_pauses_and_resumes_a_deadline(api, people, case_in):
    deadline = verification_deadline(case_in("verification"))
    chair = api(people["chair"])
    response = chair.post(f"/api/v1/deadlines/{deadline.pk}/pause/", {"reason": WHY}, format="json")
    assert response.status_code == 200, response.content
    shown = response.json()
    assert shown["status"] == "paused" and shown["pause_reason"] == WHY and shown["paused_at"]
    again = chair.post(f"/api/v1/deadlines/{deadline.pk}/pause/", {"reason": WHY}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "paused"
    assert chair.post(f"/api/v1/deadlines/{deadline.pk}/resume/", {}, format="json").status_code == 400
    member = api(people["member1"]).post(f"/api/v1/deadlines/{deadline.pk}/resume/", {"reason": "Back."},
                                         format="json")
    assert member.status_code == 403
    response = chair.post(f"/api/v1/deadlines/{deadline.pk}/resume/", {"reason": "Access restored."},
                          format="json")
    assert response.status_code == 200, response.content
    shown = response.json()
    assert shown["status"] == "pending" and shown["paused_at"] is None and shown["pause_reason"] == ""
    deadline_after = Deadline.objects.get(pk=deadline.pk)
    assert deadline_after.due_at > deadline.due_at
    assert chair.post("/api/v1/deadlines/999999/pause/", {"reason": WHY}, format="json").status_code == 404


def test_the_api_lists_paused_deadlines_and_offers_resume(api, people, case_in):
    case = case_in("verification")
    deadline = verification_deadline(case)
    pause(people, deadline, now=timezone.now())
    chair = api(people["chair"])
    listed = chair.get("/api/v1/deadlines/?status=paused").json()
    assert [d["id"] for d in listed["results"]] == [deadline.pk]
    detail = chair.get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["allowed_actions"]["deadlines"][str(deadline.pk)] == ["resume"]
