"""The Celery tasks of the commission, run in-process with Task.apply() (no
broker): what each one does with what is due. The same tasks on a real worker
and beat: test_worker_deadlines.py."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from commission import services, tasks
from commission.models import Deadline, Round
from config.celery import app
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _passed(deadline: Deadline, ago: timedelta = timedelta(minutes=1)) -> Deadline:
    """As if the clock had moved past the due time (services refuse a due time
    in the past, and the tests do not sleep through hours)."""
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now() - ago)
    deadline.refresh_from_db()
    return deadline


def test_every_task_beat_schedules_or_services_enqueue_is_registered():
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    enqueued = {"notifications.tasks.send_notifications", "commission.tasks.fire_deadline",
                "audit.tasks.publish_checkpoint"}
    assert scheduled | enqueued <= set(app.tasks)


def test_the_sweep_task_settles_what_is_due_and_emails_what_it_stored(people, case_in):
    case = case_in("verification")
    deadline = _passed(Deadline.objects.get(case=case, kind="verification"))

    result = tasks.sweep_deadlines.apply().get()

    assert result == {"fired": 1, "reminded": 0, "emailed": 1}
    deadline.refresh_from_db()
    case.refresh_from_db()
    assert deadline.status == "missed" and case.flagged
    note = Notification.objects.get(recipient=people["chair"], kind="deadline_missed")
    assert note.emailed_at is not None
    assert [m.to for m in mail.outbox] == [[people["chair"].email]]


def test_the_sweep_task_run_again_changes_nothing(people, case_in):
    deadline = _passed(Deadline.objects.get(case=case_in("verification"), kind="verification"))
    tasks.sweep_deadlines.apply()

    again = tasks.sweep_deadlines.apply().get()

    assert again == {"fired": 0, "reminded": 0, "emailed": 0}
    assert AuditEvent.objects.filter(action="deadline.missed", object_id=str(deadline.pk)).count() == 1
    assert len(mail.outbox) == 1


def test_fire_deadline_has_one_effect_however_often_it_is_delivered(people, case_in):
    deadline = _passed(Deadline.objects.get(case=case_in("verification"), kind="verification"))

    results = [tasks.fire_deadline.apply(args=[deadline.pk]).get() for _ in range(3)]

    assert results == [True, False, False]
    assert AuditEvent.objects.filter(action="deadline.missed", object_id=str(deadline.pk)).count() == 1
    assert Notification.objects.filter(kind="deadline_missed").count() == 1


def test_fire_deadline_leaves_a_deadline_that_is_not_due_alone(case_in):
    deadline = Deadline.objects.get(case=case_in("verification"), kind="verification")

    assert tasks.fire_deadline.apply(args=[deadline.pk]).get() is False

    deadline.refresh_from_db()
    assert deadline.status == "pending" and deadline.settled_at is None


def test_a_due_vote_deadline_closes_its_round_with_the_tally(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in ("member1", "member2", "member3"):
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale=f"{who}: crater analysis.")
    Round.objects.filter(pk=rnd.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    _passed(Deadline.objects.get(round=rnd), ago=timedelta(seconds=1))

    assert tasks.fire_deadline.apply(args=[Deadline.objects.get(round=rnd).pk]).get() is True

    rnd.refresh_from_db()
    assert (rnd.status, rnd.closed_because, rnd.outcome) == ("closed", "deadline", "RU")
    assert Deadline.objects.get(round=rnd).status == "met"


def test_the_sweep_reminds_those_who_still_have_to_act_once(people, case_in, settings):
    settings.DEADLINE_REMINDER_BEFORE = timedelta(hours=24)
    case = case_in("verification")
    Deadline.objects.filter(case=case).update(due_at=timezone.now() + timedelta(hours=2))

    first = tasks.sweep_deadlines.apply().get()
    second = tasks.sweep_deadlines.apply().get()

    assert (first["fired"], first["reminded"], second["reminded"]) == (0, 1, 0)
    reminder = Notification.objects.get(kind="deadline_reminder")
    assert reminder.recipient == people["verifier"]
