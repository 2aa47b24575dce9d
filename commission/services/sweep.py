"""The deadline sweep (run by beat every DEADLINE_SWEEP_INTERVAL): it finds
the open deadlines that are due and settles them a page per transaction
(deadlines_fire_page), claiming each with SELECT ... FOR UPDATE SKIP LOCKED
and a status check, so two sweeps, two workers, or one task delivered twice
settle a deadline once. A page that fails is settled again one deadline at a
time (deadline_fire, the same decision and effects).
Reminders are sent a page per transaction too (deadlines_remind_page),
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
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.roles import PARTY_REPRESENTATIVE, VERIFIER
from audit.services import audit_record, audit_record_many
from commission.models import (
    OPEN_DEADLINE,
    Ballot,
    Case,
    Compliance,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    Reply,
    ReplyNotice,
    RoundVoter,
    Stage,
)
from commission.selectors import waiting_parties
from commission.services.base import chairs
from commission.services.deadlines import settle_event
from commission.services.notify import note_about
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


def _reminder_recipients(deadline: Deadline, case: Case):
    if deadline.kind == DeadlineKind.VERIFICATION:
        if case.verifier_id:
            return [case.verifier]
        return list(_verifiers())
    if deadline.kind == DeadlineKind.VOTE:
        voted = Ballot.objects.filter(round_id=deadline.round_id).values("voter_id")
        return [v.member for v in RoundVoter.objects.filter(round_id=deadline.round_id, recused_at__isnull=True)
                .exclude(member_id__in=voted).select_related("member")]
    if deadline.kind == DeadlineKind.REPLY:
        return list(_representatives().filter(represents__in=waiting_parties(case)))
    return list(chairs())


def _verifiers():
    User = get_user_model()
    return User.objects.filter(groups__name=VERIFIER, is_active=True).distinct().order_by("id")


def _representatives():
    User = get_user_model()
    return User.objects.filter(is_active=True, groups__name=PARTY_REPRESENTATIVE).distinct().order_by("id")


def _reminder(deadline: Deadline, case: Case, recipients: list) -> tuple[dict, dict]:
    """A reminder's notification (notify's arguments) and audit event
    (audit_record's): built here for both paths, so that a page reminds
    exactly as deadline_remind does."""
    note = note_about(case, recipients=recipients, kind="deadline_reminder",
                      key=f"reminder:{deadline.pk}:{deadline.due_at.isoformat()}",
                      params={"what": deadline.kind, "due_at": deadline.due_at.isoformat()})
    event = {"action": "deadline.reminded", "object_type": "deadline", "object_id": deadline.pk,
             "after": {"case": case.reference, "kind": deadline.kind,
                       "recipients": sorted(u.username for u in recipients)}}
    return note, event


def _reminder_window(now: datetime) -> Q:
    return Q(status__in=OPEN_DEADLINE, reminded_at__isnull=True, due_at__gt=now,
             due_at__lte=now + settings.DEADLINE_REMINDER_BEFORE)


def deadline_remind(*, deadline_id: int, now: datetime | None = None, email_now: bool = True) -> bool:
    """Remind those who still have to act. Claimed with a conditional update
    of reminded_at: the one call that changes the row sends the reminders.
    The sweep reminds a page at a time (deadlines_remind_page) and falls back
    to this, one deadline at a time, when a page fails."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Deadline.objects.filter(_reminder_window(now), pk=deadline_id).update(reminded_at=now)
        if claimed != 1:
            return False
        deadline = Deadline.objects.select_related("case", "case__verifier").get(pk=deadline_id)
        note, event = _reminder(deadline, deadline.case, _reminder_recipients(deadline, deadline.case))
        notify(**note, email_now=email_now)
        audit_record(actor=None, **event)
    return True


def _claim_reminders(deadline_ids: list[int], now: datetime) -> list[int]:
    """Set reminded_at on those of deadline_ids still to be reminded, in one
    statement, and return the ids it changed: only the caller whose UPDATE
    changed a row reminds it. The conditions are on the updated row itself,
    so PostgreSQL checks them again on the row's newest version when another
    transaction changed it meanwhile (a claim through a subquery alone would
    judge by the statement's snapshot). The rows are first locked with SKIP
    LOCKED: a row another sweep has just claimed (or a person's transaction
    holds) is left to it instead of waited for, so two sweeps never queue
    behind each other's pages, and never deadlock."""
    table = connection.ops.quote_name(Deadline._meta.db_table)
    statuses = ", ".join(["%s"] * len(OPEN_DEADLINE))
    window = f"status IN ({statuses}) AND reminded_at IS NULL AND due_at > %s AND due_at <= %s"  # _reminder_window
    params = [*map(str, OPEN_DEADLINE), now, now + settings.DEADLINE_REMINDER_BEFORE]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET reminded_at = %s WHERE {window} AND id IN ("  # noqa: S608 (names from the model)
                f"SELECT id FROM {table} WHERE id = ANY(%s) AND {window} FOR UPDATE SKIP LOCKED) RETURNING id",
                [now, *params, list(deadline_ids), *params])
        else:  # SQLite: one writer at a time, no row locks to skip
            ids = ", ".join(["%s"] * len(deadline_ids))
            cursor.execute(f"UPDATE {table} SET reminded_at = %s WHERE {window} AND id IN ({ids}) "  # noqa: S608
                           "RETURNING id", [now, *params, *deadline_ids])
        return [row[0] for row in cursor.fetchall()]


def _page_recipients(deadlines: list[Deadline]) -> dict[int, list]:
    """_reminder_recipients for every deadline of a page, with one query per
    kind of recipient instead of one (or two) per deadline: the verifiers,
    the voters yet to vote in all the page's rounds, the parties still to
    reply on all its cases and their representatives, the chairs. Each list
    is in the order _reminder_recipients gives."""
    kinds = {d.kind for d in deadlines}
    verifiers = (list(_verifiers()) if any(d.kind == DeadlineKind.VERIFICATION and not d.case.verifier_id
                                           for d in deadlines) else [])
    chairs_now = (list(chairs()) if kinds - {DeadlineKind.VERIFICATION, DeadlineKind.VOTE, DeadlineKind.REPLY}
                  else [])
    voters: dict[int, list] = {}
    round_ids = [d.round_id for d in deadlines if d.kind == DeadlineKind.VOTE and d.round_id]
    if round_ids:
        voted = Ballot.objects.filter(round_id=OuterRef("round_id"), voter_id=OuterRef("member_id"))
        for voter in (RoundVoter.objects.filter(round_id__in=round_ids, recused_at__isnull=True)
                      .exclude(Exists(voted)).select_related("member").order_by("id")):
            voters.setdefault(voter.round_id, []).append(voter.member)
    waiting: dict[int, set] = {}
    representatives = []
    case_ids = [d.case_id for d in deadlines if d.kind == DeadlineKind.REPLY]
    if case_ids:
        replied = Reply.objects.filter(case_id=OuterRef("case_id"), party_id=OuterRef("party_id"))
        for case_id, party_id in (ReplyNotice.objects.filter(case_id__in=case_ids).exclude(Exists(replied))
                                  .values_list("case_id", "party_id")):
            waiting.setdefault(case_id, set()).add(party_id)
        if waiting:
            parties = set().union(*waiting.values())
            representatives = list(_representatives().filter(represents_id__in=parties))
    found = {}
    for d in deadlines:
        if d.kind == DeadlineKind.VERIFICATION:
            found[d.pk] = [d.case.verifier] if d.case.verifier_id else verifiers
        elif d.kind == DeadlineKind.VOTE:
            found[d.pk] = voters.get(d.round_id, [])
        elif d.kind == DeadlineKind.REPLY:
            parties = waiting.get(d.case_id, set())
            found[d.pk] = [u for u in representatives if u.represents_id in parties]
        else:
            found[d.pk] = chairs_now
    return found


def deadlines_remind_page(*, deadline_ids: list[int], now: datetime | None = None, email_now: bool = True) -> int:
    """deadline_remind for a page of deadlines, in one transaction: one
    UPDATE claims them all (_claim_reminders), the recipients are found with
    a few queries for the whole page (_page_recipients), the events written
    with one COPY and the notifications with one INSERT. Each deadline claimed
    gets the notification and the event deadline_remind would give it; one
    another call claimed (or holds) is not reminded by this one. Returns how
    many this call reminded."""
    now = now or timezone.now()
    if not deadline_ids:
        return 0
    with transaction.atomic():
        claimed = _claim_reminders(deadline_ids, now)
        if not claimed:
            return 0
        order = {pk: i for i, pk in enumerate(deadline_ids)}  # the caller's order (the sweep's: soonest first)
        deadlines = sorted(Deadline.objects.filter(pk__in=claimed).select_related("case", "case__verifier"),
                           key=lambda d: order[d.pk])
        recipients = _page_recipients(deadlines)
        reminders = [_reminder(d, d.case, recipients[d.pk]) for d in deadlines]
        notify_many(notes=[note for note, _ in reminders], email_now=email_now)
        audit_record_many(actor=None, events=[event for _, event in reminders])
    return len(deadlines)


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
        due = Deadline.objects.filter(_reminder_window(now))
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
