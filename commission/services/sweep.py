"""The deadline sweep (run by beat every DEADLINE_SWEEP_INTERVAL): it finds
the open deadlines that are due and settles each in its own transaction,
claiming it with SELECT ... FOR UPDATE SKIP LOCKED and a status check, so two
sweeps, two workers, or one task delivered twice settle a deadline once.
Reminders are claimed with a conditional update of reminded_at.
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
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.roles import PARTY_REPRESENTATIVE, VERIFIER
from audit.services import audit_record
from commission.models import (
    OPEN_DEADLINE,
    Ballot,
    Case,
    Compliance,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    RoundVoter,
    Stage,
)
from commission.selectors import waiting_parties
from commission.services.base import chairs
from commission.services.deadlines import deadline_settle
from commission.services.notify import notify_about
from commission.services.rounds import round_close_due

logger = logging.getLogger(__name__)

# A sweep stops taking new deadlines after this long, well inside the broker's
# visibility timeout (5 min), so Redis never hands a still-running sweep to a
# second worker; the next beat tick carries on where it stopped.
SWEEP_BUDGET_SECONDS = 120.0


def _escalate(deadline: Deadline, case: Case, *, email_now: bool) -> None:
    case.flag()
    notify_about(case, recipients=chairs(), kind="deadline_missed",
                 key=f"missed:{deadline.pk}:{deadline.due_at.isoformat()}",
                 params={"what": deadline.kind, "due_at": deadline.due_at.isoformat()}, email_now=email_now)


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
        if deadline.kind == DeadlineKind.VERIFICATION:
            missed = case.stage == Stage.VERIFICATION
        elif deadline.kind == DeadlineKind.MEASURES:
            missed = case.stage == Stage.MEASURES
        elif deadline.kind == DeadlineKind.REPLY:
            return _reply_window_end(deadline, case, now=now, email_now=email_now)
        else:
            measure = Measure.objects.select_for_update().get(pk=deadline.measure_id)
            missed = measure.compliance == Compliance.PENDING
            if missed:
                measure.compliance = Compliance.OVERDUE
                measure.save(update_fields=["compliance"])
                audit_record(actor=None, action="measure.overdue", object_type="measure", object_id=measure.pk,
                             before={"compliance": Compliance.PENDING},
                             after={"case": case.reference, "compliance": Compliance.OVERDUE})
        deadline_settle(deadline, case=case, status=DeadlineStatus.MISSED if missed else DeadlineStatus.MET,
                        actor=None, now=now)
        if missed:
            _escalate(deadline, case, email_now=email_now)
    return True


def _reply_window_end(deadline: Deadline, case: Case, *, now: datetime, email_now: bool) -> bool:
    """The reply window's end (the caller holds the locks). Missed when a
    called party did not reply; that is the party's choice, not a failure of
    the commission's, so the case is not flagged: the chair is told the
    round may now open, and who did not reply."""
    waiting = list(waiting_parties(case).values_list("code", flat=True)) if case.stage == Stage.ATTRIBUTION else []
    deadline_settle(deadline, case=case, status=DeadlineStatus.MISSED if waiting else DeadlineStatus.MET,
                    actor=None, now=now)
    if case.stage == Stage.ATTRIBUTION:
        notify_about(case, recipients=chairs(), kind="reply_window_ended",
                     key=f"reply-ended:{deadline.pk}:{deadline.due_at.isoformat()}",
                     params={"waiting": waiting}, email_now=email_now)
    return True


def _reminder_recipients(deadline: Deadline, case: Case):
    if deadline.kind == DeadlineKind.VERIFICATION:
        if case.verifier_id:
            return [case.verifier]
        User = get_user_model()
        return list(User.objects.filter(groups__name=VERIFIER, is_active=True).distinct().order_by("id"))
    if deadline.kind == DeadlineKind.VOTE:
        voted = Ballot.objects.filter(round_id=deadline.round_id).values("voter_id")
        return [v.member for v in RoundVoter.objects.filter(round_id=deadline.round_id, recused_at__isnull=True)
                .exclude(member_id__in=voted).select_related("member")]
    if deadline.kind == DeadlineKind.REPLY:
        User = get_user_model()
        return list(User.objects.filter(represents__in=waiting_parties(case), is_active=True,
                                        groups__name=PARTY_REPRESENTATIVE).distinct().order_by("id"))
    return list(chairs())


def deadline_remind(*, deadline_id: int, now: datetime | None = None, email_now: bool = True) -> bool:
    """Remind those who still have to act. Claimed with a conditional update
    of reminded_at: the one call that changes the row sends the reminders."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Deadline.objects.filter(
            pk=deadline_id, status__in=OPEN_DEADLINE, reminded_at__isnull=True,
            due_at__gt=now, due_at__lte=now + settings.DEADLINE_REMINDER_BEFORE,
        ).update(reminded_at=now)
        if claimed != 1:
            return False
        deadline = Deadline.objects.select_related("case", "case__verifier").get(pk=deadline_id)
        case = deadline.case
        recipients = _reminder_recipients(deadline, case)
        notify_about(case, recipients=recipients, kind="deadline_reminder",
                     key=f"reminder:{deadline.pk}:{deadline.due_at.isoformat()}",
                     params={"what": deadline.kind, "due_at": deadline.due_at.isoformat()}, email_now=email_now)
        audit_record(actor=None, action="deadline.reminded", object_type="deadline", object_id=deadline.pk,
                     after={"case": case.reference, "kind": deadline.kind,
                            "recipients": sorted(u.username for u in recipients)})
    return True


@dataclass
class SweepResult:
    fired: int = 0
    reminded: int = 0
    out_of_time: bool = False


def deadlines_sweep(*, now: datetime | None = None, batch: int = 500,
                    budget_seconds: float = SWEEP_BUDGET_SECONDS) -> SweepResult:
    """Settle the due deadlines (oldest first, within the time budget) and send
    the reminders that are due. Both lookups walk a partial index on due_at
    over open deadlines only. What it stores is emailed by the caller (the
    task runs the mailer after it)."""
    now = now or timezone.now()
    stop_at = time.monotonic() + budget_seconds
    result = SweepResult()
    after = None  # keyset (due_at, id): a deadline skipped this time is not looked at again in this sweep
    while True:
        due = Deadline.objects.filter(status__in=OPEN_DEADLINE, due_at__lte=now)
        if after is not None:
            due = due.filter(Q(due_at__gt=after[0]) | Q(due_at=after[0], pk__gt=after[1]))
        rows = list(due.order_by("due_at", "pk").values_list("due_at", "pk")[:batch])
        if not rows:
            break
        if time.monotonic() > stop_at:
            result.out_of_time = True
            break
        for due_at, deadline_id in rows:
            after = (due_at, deadline_id)
            try:
                result.fired += deadline_fire(deadline_id=deadline_id, now=now, email_now=False)
            except Exception:  # one bad row must not stop the others; it is retried next sweep
                logger.exception("deadline %s could not be settled", deadline_id)
    remind_ids = list(Deadline.objects.filter(
        status__in=OPEN_DEADLINE, reminded_at__isnull=True, due_at__gt=now,
        due_at__lte=now + settings.DEADLINE_REMINDER_BEFORE,
    ).order_by("due_at").values_list("pk", flat=True)[:batch * 10])
    for deadline_id in remind_ids:
        try:
            result.reminded += deadline_remind(deadline_id=deadline_id, now=now, email_now=False)
        except Exception:
            logger.exception("reminders for deadline %s could not be sent", deadline_id)
    return result
