"""Reads of the right of reply: which cases a party representative may see,
what of them (the procedure's part: findings and the reports' facts, never
who filed or verified, nor ballots, discussion or the trail), the reply
window, and whether it still holds a round back.

A representative asking for a case that does not name their party gets the
same answer as for a case that does not exist (None here, 404 outside), so
that nobody learns which cases are held against the other party.
"""

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Party
from accounts.roles import PARTY_REPRESENTATIVE, has_role
from commission.models import (
    OPEN_DEADLINE,
    Case,
    CaseReport,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Reply,
    ReplyNotice,
    Stage,
)
from commission.selectors.reads import can_read_cases, case_reports
from config.errors import Conflict, Forbidden

# A representative reads a case from its move to attribution on: before,
# the verification is internal work in progress.
HEARD_STAGES = (Stage.ATTRIBUTION, Stage.MEASURES, Stage.CLOSED)


def represented_party(user) -> Party | None:
    """The party `user` speaks for, when they are an active representative of one."""
    if not has_role(user, PARTY_REPRESENTATIVE) or not getattr(user, "represents_id", None):
        return None
    return user.represents


def named_parties(case: Case) -> QuerySet[Party]:
    """The parties named (alleged_party) in the case's live reports."""
    return Party.objects.filter(pk__in=case_reports(case).filter(alleged_party__isnull=False)
                                .values("alleged_party_id")).order_by("code")


def case_list_for_representative(user) -> QuerySet[Case]:
    party = represented_party(user)
    if party is None:
        return Case.objects.none()
    named = CaseReport.objects.filter(case=OuterRef("pk"), detached_at__isnull=True, report__alleged_party=party)
    return Case.objects.filter(Exists(named), stage__in=HEARD_STAGES).order_by("-id")


def case_get_for_hearing(user, pk) -> Case | None:
    """The case for its replies: every reader of cases, or a representative
    of a party it names (from attribution on); None otherwise."""
    if can_read_cases(user):
        return Case.objects.filter(pk=pk).first()
    return case_list_for_representative(user).filter(pk=pk).first()


def reply_windows(cases) -> dict[int, Deadline]:
    """case id -> its reply window (the first by due time), for several
    cases in one query: the chair's home asks it of ten cases at once."""
    windows: dict[int, Deadline] = {}
    for window in Deadline.objects.filter(case__in=cases, kind=DeadlineKind.REPLY).order_by("due_at", "id"):
        windows.setdefault(window.case_id, window)
    return windows


def reply_window(case: Case) -> Deadline | None:
    return reply_windows([case]).get(case.pk)


def reply_window_among(deadlines) -> Deadline | None:
    """reply_window(case) from the case's deadlines already read in
    case_deadlines' order (due_at, id): the same pick, without a query."""
    return next((d for d in deadlines if d.kind == DeadlineKind.REPLY), None)


def _window_open(window: Deadline | None, now: datetime) -> bool:
    # A paused window stays open: its clock stopped (the party cannot be
    # reached, say), not the procedure; it still holds the round back.
    if window is None:
        return False
    return window.status == DeadlineStatus.PAUSED or (window.status in OPEN_DEADLINE and window.due_at > now)


def waiting_parties(case: Case) -> QuerySet[Party]:
    """Notified parties that have not replied yet."""
    replied = Reply.objects.filter(case=case).values("party_id")
    notified = ReplyNotice.objects.filter(case=case).exclude(party_id__in=replied).values("party_id")
    return Party.objects.filter(pk__in=notified).order_by("code")


_UNREAD = object()


def reply_window_refusal(case: Case, *, now: datetime | None = None, window=_UNREAD) -> Conflict | None:
    """Whether the reply window still holds a round back: it is open and a
    notified party has not replied. The chair may override with a reason.
    `window`: reply_window(case), when the caller has read it already."""
    now = now or timezone.now()
    if window is _UNREAD:
        window = reply_window(case)
    if not _window_open(window, now):
        return None
    waiting = list(waiting_parties(case).values_list("code", flat=True))
    if not waiting:
        return None
    return Conflict(_("The parties' reply window is open until %(due)s and %(parties)s has not replied; "
                      "give a reason to open the round anyway.")
                    % {"due": window.due_at.strftime("%Y-%m-%d %H:%M UTC"), "parties": ", ".join(waiting)},
                    code="reply_window_open")


def reply_refusal(case: Case, party: Party | None, *, now: datetime | None = None):
    """Why `party` may not reply to `case` now, or None."""
    now = now or timezone.now()
    if party is None:
        return Forbidden(_("Only a representative of a party may reply."))
    if not ReplyNotice.objects.filter(case=case, party=party).exists():
        return Conflict(_("Your party was not called to reply on this case."), code="not_notified")
    if Reply.objects.filter(case=case, party=party).exists():
        return Conflict(_("Your party has already replied on this case."), code="already_replied")
    if case.stage != Stage.ATTRIBUTION or not _window_open(reply_window(case), now):
        return Conflict(_("The reply window has ended."), code="reply_window_closed")
    return None


def replies_for(user, case: Case) -> QuerySet[Reply]:
    """Every reply for the commission; a representative reads only their own
    party's (the other party's reply is not theirs to read)."""
    qs = Reply.objects.filter(case=case).select_related("party", "author").prefetch_related("evidence")
    if can_read_cases(user):
        return qs.order_by("id")
    party = represented_party(user)
    return qs.filter(party=party).order_by("id") if party is not None else qs.none()


def reply_evidence_get_for(user, case: Case, pk):
    from commission.models import ReplyEvidence

    return ReplyEvidence.objects.filter(pk=pk, reply__in=replies_for(user, case)).select_related("reply").first()


def hearing(case: Case, user, *, now: datetime | None = None, reports=_UNREAD, window=_UNREAD) -> dict:
    """What the API's GET /cases/{id}/replies/ and the pages show: the case's
    findings and its reports' facts (no monitor, no verifier), the window,
    the parties called and whether they replied, the replies the user may
    read, and whether the user may reply now.

    `reports` (case_reports(case)) and `window` (reply_window(case)), when
    the caller has read them already: the case page has, and read each
    twice (tests/commission/test_replies.py holds that the answer is the
    same either way)."""
    now = now or timezone.now()
    if window is _UNREAD:
        window = reply_window(case)
    replied = dict(Reply.objects.filter(case=case).values_list("party_id", "submitted_at"))
    notices = ReplyNotice.objects.filter(case=case).select_related("party").order_by("party__code")
    party = represented_party(user)
    return {
        "case": {"id": case.pk, "reference": case.reference, "title": case.title, "stage": case.stage,
                 "verification_outcome": case.verification_outcome, "findings": case.findings,
                 "verified_at": case.verified_at,
                 "reports": list(case_reports(case)) if reports is _UNREAD else list(reports)},
        "window": ({"due_at": window.due_at, "status": window.status, "open": _window_open(window, now),
                    # Early when every called party replied; the due time otherwise.
                    "closed_at": None if _window_open(window, now) else (window.settled_at or window.due_at)}
                   if window is not None else None),
        "parties": [{"party": n.party.code, "name": n.party.name, "notified_at": n.notified_at,
                     "replied": n.party_id in replied, "replied_at": replied.get(n.party_id)} for n in notices],
        "replies": list(replies_for(user, case)),
        "can_reply": party is not None and reply_refusal(case, party, now=now) is None,
    }


def cases_awaiting_reply(user) -> list[dict]:
    """The representative's home: cases whose window is open and where their
    party has not replied yet, soonest due first."""
    party = represented_party(user)
    if party is None:
        return []
    now = timezone.now()
    running = Q(status__in=OPEN_DEADLINE, due_at__gt=now) | Q(status=DeadlineStatus.PAUSED)
    windows = (Deadline.objects.filter(running, kind=DeadlineKind.REPLY,
                                       case__in=case_list_for_representative(user),
                                       case__reply_notices__party=party)
               .exclude(case__replies__party=party).select_related("case").order_by("due_at"))
    return [{"case": w.case, "due_at": w.due_at} for w in windows]
