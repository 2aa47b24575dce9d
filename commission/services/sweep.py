"""The deadline sweep (run by beat every DEADLINE_SWEEP_INTERVAL): it finds
the open deadlines that are due and settles them a page per transaction
(deadlines_fire_page), claiming each with SELECT ... FOR UPDATE SKIP LOCKED
and a status check, so two sweeps, two workers, or one task delivered twice
settle a deadline once. A page that fails is settled again one deadline at a
time (deadline_fire, the same decision and effects).
Reminders are sent a page per transaction too (commission.services.reminders),
claimed with one conditional UPDATE of reminded_at; a page that fails is sent
again one deadline at a time (deadline_remind).
A paused deadline is not open (OPEN_DEADLINE): the sweep and the reminders
never see it, and a pause that lands between the sweep's lookup and its
claim wins, because the claim checks the status again under the lock.

Notifications stored by a sweep are emailed once at its end (the task calls
the mailer), not one publish per deadline: every function here takes
`email_now`, which the sweep sets to False.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record, audit_record_many
from commission.models import (
    OPEN_DEADLINE,
    Case,
    Compliance,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    Stage,
)
from commission.selectors import waiting_parties
from commission.services.base import chairs
from commission.services.deadlines import settle_event
from commission.services.notify import note_about
from commission.services.reminders import deadline_remind, deadlines_remind_page, reminders_due_q
from commission.services.rounds import round_close_due
from notifications.services import notify, notify_many

logger = logging.getLogger(__name__)

# A sweep stops taking new deadlines after this long, well inside the broker's
# visibility timeout (5 min), so Redis never hands a still-running sweep to a
# second worker; the next beat tick carries on where it stopped.
SWEEP_BUDGET_SECONDS = 120.0


@dataclass
class _Settlement:
    """What settling one due deadline does, decided under its locks: its new
    status, the audit events (audit_record's arguments, in order), the
    notifications (notify's), whether its case is flagged, and the measure
    made overdue. The one-at-a-time path (_apply_one) and the page path
    (_apply_page) carry out the same decision, so their effects are the same."""

    deadline: Deadline
    case: Case
    status: str
    events: list[dict]
    notes: list[dict]
    flag: bool = False
    overdue: Measure | None = None


def _settlement(deadline: Deadline, case: Case, *, measure: Measure | None, chairs_now: list) -> _Settlement:
    """Decide, the locks held and the deadline re-read open and due. Not for
    a vote deadline (its round's close settles it)."""
    events, notes = [], []
    overdue = None
    if deadline.kind == DeadlineKind.REPLY:
        # The reply window's end. Missed when a called party did not reply;
        # that is the party's choice, not a failure of the commission's, so
        # the case is not flagged: the chair is told the round may now open,
        # and who did not reply.
        waiting = (list(waiting_parties(case).values_list("code", flat=True))
                   if case.stage == Stage.ATTRIBUTION else [])
        status = DeadlineStatus.MISSED if waiting else DeadlineStatus.MET
        events.append(settle_event(deadline, case=case, status=status))
        if case.stage == Stage.ATTRIBUTION:
            notes.append(note_about(case, recipients=chairs_now, kind="reply_window_ended",
                                    key=f"reply-ended:{deadline.pk}:{deadline.due_at.isoformat()}",
                                    params={"waiting": waiting}))
        return _Settlement(deadline, case, status, events, notes)
    if deadline.kind == DeadlineKind.VERIFICATION:
        missed = case.stage == Stage.VERIFICATION
    elif deadline.kind == DeadlineKind.MEASURES:
        missed = case.stage == Stage.MEASURES
    else:
        if measure is None:  # a compliance deadline always has its measure
            raise Measure.DoesNotExist(f"deadline {deadline.pk} has no measure")
        missed = measure.compliance == Compliance.PENDING
        if missed:
            overdue = measure
            events.append({"action": "measure.overdue", "object_type": "measure", "object_id": measure.pk,
                           "before": {"compliance": Compliance.PENDING},
                           "after": {"case": case.reference, "compliance": Compliance.OVERDUE}})
    status = DeadlineStatus.MISSED if missed else DeadlineStatus.MET
    events.append(settle_event(deadline, case=case, status=status))
    if missed:
        notes.append(note_about(case, recipients=chairs_now, kind="deadline_missed",
                                key=f"missed:{deadline.pk}:{deadline.due_at.isoformat()}",
                                params={"what": deadline.kind, "due_at": deadline.due_at.isoformat()}))
    return _Settlement(deadline, case, status, events, notes, flag=missed, overdue=overdue)


def _apply_one(done: _Settlement, *, now: datetime, email_now: bool) -> None:
    if done.overdue is not None:
        done.overdue.compliance = Compliance.OVERDUE
        done.overdue.save(update_fields=["compliance"])
    done.deadline.settle(done.status, now=now)
    for event in done.events:
        audit_record(actor=None, **event)
    if done.flag:
        done.case.flag()
    for note in done.notes:
        notify(**note, email_now=email_now)


def _apply_page(page: list[_Settlement], *, now: datetime, email_now: bool) -> None:
    """_apply_one for a page of deadlines: one UPDATE per table and status
    (the same columns Deadline.settle, Measure and Case.flag save), the
    events in one COPY, the notifications in one INSERT."""
    for status in (DeadlineStatus.MET, DeadlineStatus.MISSED):
        ids = [done.deadline.pk for done in page if done.status == status]
        if ids:
            # Deadline.settle's columns: an open deadline's pause fields are
            # already clear, and are written clear all the same.
            Deadline.objects.filter(pk__in=ids).update(status=status, settled_at=now, paused_at=None,
                                                      pause_reason="", paused_from="")
    overdue = [done.overdue.pk for done in page if done.overdue is not None]
    if overdue:
        Measure.objects.filter(pk__in=overdue).update(compliance=Compliance.OVERDUE)
    flagged = {done.case.pk for done in page if done.flag}
    if flagged:
        Case.objects.filter(pk__in=flagged, flagged=False).update(flagged=True)  # Case.flag: a no-op if flagged
    audit_record_many(actor=None, events=[event for done in page for event in done.events])
    notify_many(notes=[note for done in page for note in done.notes], email_now=email_now)


def deadline_fire(*, deadline_id: int, now: datetime | None = None, email_now: bool = True) -> bool:
    """Settle one due deadline. Returns True if this call did it. A deadline
    locked by another sweeper is skipped (SKIP LOCKED), one already settled is
    left alone: running this twice, or concurrently, has one effect."""
    now = now or timezone.now()
    due = (Deadline.objects.filter(pk=deadline_id, status__in=OPEN_DEADLINE, due_at__lte=now)
           .values("kind", "case_id", "round_id").first())
    if due is None:
        return False
    if due["kind"] == DeadlineKind.VOTE:
        # The round's close settles its deadline; it takes the same locks as a
        # ballot (case, then round), so a ballot racing the close is either
        # counted or refused with 409, never lost.
        return round_close_due(round_id=due["round_id"], now=now, email_now=email_now)
    with transaction.atomic():
        # The lock order (case, round, deadline, measure), with SKIP LOCKED on
        # the case too: a case held by a person's transaction (or by another
        # sweep) is left for the next sweep instead of making this one queue.
        case = Case.objects.select_for_update(skip_locked=True).filter(pk=due["case_id"]).first()
        if case is None:
            return False
        deadline = (Deadline.objects.select_for_update(skip_locked=True)
                    .filter(pk=deadline_id, status__in=OPEN_DEADLINE, due_at__lte=now).first())
        if deadline is None:
            return False
        measure = (Measure.objects.select_for_update().get(pk=deadline.measure_id)
                   if deadline.kind == DeadlineKind.COMPLIANCE else None)
        _apply_one(_settlement(deadline, case, measure=measure, chairs_now=list(chairs())), now=now,
                   email_now=email_now)
    return True


def deadlines_fire_page(*, deadline_ids: list[int], now: datetime | None = None, email_now: bool = True) -> int:
    """Settle a page of due deadlines (not votes) in one transaction, with the
    effects deadline_fire has on each. Returns how many this call settled.

    Locks are taken in the lock order and, within a table, in id order, all
    with SKIP LOCKED but the measures' (a measure is only ever locked after
    its case, which this holds): two sweepers never wait on each other, so
    they cannot deadlock, and a deadline (or case) another one holds is left
    to it or to the next sweep. Each deadline's state is checked again under
    its lock: one settled meanwhile is not settled twice."""
    now = now or timezone.now()
    with transaction.atomic():
        due_cases = Deadline.objects.filter(pk__in=deadline_ids).values("case_id")  # a subquery: not locked
        cases = {case.pk: case for case in
                 Case.objects.select_for_update(skip_locked=True).filter(pk__in=due_cases).order_by("pk")}
        deadlines = list(Deadline.objects.select_for_update(skip_locked=True)
                         .filter(pk__in=deadline_ids, case_id__in=list(cases), status__in=OPEN_DEADLINE,
                                 due_at__lte=now)
                         .exclude(kind=DeadlineKind.VOTE).order_by("pk"))
        if not deadlines:
            return 0
        measure_ids = sorted(d.measure_id for d in deadlines if d.kind == DeadlineKind.COMPLIANCE and d.measure_id)
        measures = {measure.pk: measure for measure in
                    Measure.objects.select_for_update().filter(pk__in=measure_ids).order_by("pk")}
        chairs_now = list(chairs())  # once a page, not once a deadline
        page = [_settlement(d, cases[d.case_id], measure=measures.get(d.measure_id), chairs_now=chairs_now)
                for d in deadlines]
        _apply_page(page, now=now, email_now=email_now)
    return len(page)


@dataclass
class SweepResult:
    fired: int = 0
    reminded: int = 0
    out_of_time: bool = False


def deadlines_sweep(*, now: datetime | None = None, batch: int | None = None,
                    budget_seconds: float = SWEEP_BUDGET_SECONDS) -> SweepResult:
    """Settle the due deadlines (oldest first, within the time budget) and send
    the reminders that are due. Both lookups walk a partial index on due_at
    over open deadlines only. What it stores is emailed by the caller (the
    task runs the mailer after it).

    Due deadlines are settled a page (DEADLINE_SWEEP_PAGE, 500) per
    transaction: one statement per table and page instead of a dozen per
    deadline. A page that fails is rolled back and settled again one deadline
    at a time, so that one bad deadline holds back none of the others; it
    stays due, and is tried again next sweep. A vote deadline is settled by
    its round's close (the tally), one at a time. The reminders then go out
    a page per transaction as well (deadlines_remind_page), within the same
    time budget."""
    now = now or timezone.now()
    batch = batch or settings.DEADLINE_SWEEP_PAGE
    stop_at = time.monotonic() + budget_seconds
    result = SweepResult()
    after = None  # keyset (due_at, id): a deadline skipped this time is not looked at again in this sweep
    while True:
        due = Deadline.objects.filter(status__in=OPEN_DEADLINE, due_at__lte=now)
        if after is not None:
            due = due.filter(Q(due_at__gt=after[0]) | Q(due_at=after[0], pk__gt=after[1]))
        rows = list(due.order_by("due_at", "pk").values_list("due_at", "pk", "kind")[:batch])
        if not rows:
            break
        if time.monotonic() > stop_at:
            result.out_of_time = True
            break
        after = rows[-1][:2]
        votes = [pk for _, pk, kind in rows if kind == DeadlineKind.VOTE]
        others = [pk for _, pk, kind in rows if kind != DeadlineKind.VOTE]
        if others:
            try:
                result.fired += deadlines_fire_page(deadline_ids=others, now=now, email_now=False)
            except Exception:
                logger.warning("a page of %d deadlines could not be settled at once; settling them one by one",
                               len(others), exc_info=True)
                votes = others + votes
        for deadline_id in votes:
            try:
                result.fired += deadline_fire(deadline_id=deadline_id, now=now, email_now=False)
            except Exception:  # one bad row must not stop the others; it is retried next sweep
                logger.exception("deadline %s could not be settled", deadline_id)
    after = None
    while not result.out_of_time:
        # Reminders a page per transaction too (deadlines_remind_page), walked
        # by the same keyset; a page that fails is sent again one at a time.
        due = Deadline.objects.filter(reminders_due_q(now))
        if after is not None:
            due = due.filter(Q(due_at__gt=after[0]) | Q(due_at=after[0], pk__gt=after[1]))
        rows = list(due.order_by("due_at", "pk").values_list("due_at", "pk")[:batch])
        if not rows:
            break
        if time.monotonic() > stop_at:
            result.out_of_time = True
            break
        after = rows[-1]
        page = [pk for _, pk in rows]
        try:
            result.reminded += deadlines_remind_page(deadline_ids=page, now=now, email_now=False)
            continue
        except Exception:
            logger.warning("a page of %d reminders could not be sent at once; sending them one by one",
                           len(page), exc_info=True)
        for deadline_id in page:
            try:
                result.reminded += deadline_remind(deadline_id=deadline_id, now=now, email_now=False)
            except Exception:
                logger.exception("reminders for deadline %s could not be sent", deadline_id)
    return result
