"""Deadline reminders (run by the sweep, commission.services.sweep): those
who still have to act are told before a deadline runs out. A page of
reminders is one transaction (deadlines_remind_page), claimed with one
conditional UPDATE of reminded_at on the rows themselves (SKIP LOCKED for
rows another sweep holds), so each deadline is reminded once; a page that
fails is sent again one deadline at a time (deadline_remind, the same
notification and event, built by _reminder). Like the sweep, every function
takes `email_now`, which the sweep sets to False (it mails once at its end).
"""

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
    Deadline,
    DeadlineKind,
    Reply,
    ReplyNotice,
    RoundVoter,
)
from commission.selectors import waiting_parties
from commission.services.base import chairs
from commission.services.notify import note_about
from notifications.services import notify, notify_many


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


def reminders_due_q(now: datetime) -> Q:
    return Q(status__in=OPEN_DEADLINE, reminded_at__isnull=True, due_at__gt=now,
             due_at__lte=now + settings.DEADLINE_REMINDER_BEFORE)


def deadline_remind(*, deadline_id: int, now: datetime | None = None, email_now: bool = True) -> bool:
    """Remind those who still have to act. Claimed with a conditional update
    of reminded_at: the one call that changes the row sends the reminders.
    The sweep reminds a page at a time (deadlines_remind_page) and falls back
    to this, one deadline at a time, when a page fails."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Deadline.objects.filter(reminders_due_q(now), pk=deadline_id).update(reminded_at=now)
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
    behind each other's pages, and never deadlock. They are locked in a
    MATERIALIZED CTE, run once: as a subquery of the UPDATE (id IN (...)),
    the planner, taking the window for a row or two when the table had not
    been analyzed since thousands were written, ran it again for every row
    of the window, and a page of 50 among 2,000 took a second."""
    table = connection.ops.quote_name(Deadline._meta.db_table)
    statuses = ", ".join(["%s"] * len(OPEN_DEADLINE))
    window = f"status IN ({statuses}) AND reminded_at IS NULL AND due_at > %s AND due_at <= %s"  # reminders_due_q
    params = [*map(str, OPEN_DEADLINE), now, now + settings.DEADLINE_REMINDER_BEFORE]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH claimable AS MATERIALIZED (SELECT id FROM {table} "  # noqa: S608 (names from the model)
                f"WHERE id = ANY(%s) AND {window} FOR UPDATE SKIP LOCKED) "
                f"UPDATE {table} SET reminded_at = %s FROM claimable "
                f"WHERE {table}.id = claimable.id AND {window} RETURNING {table}.id",
                [list(deadline_ids), *params, now, *params])
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
