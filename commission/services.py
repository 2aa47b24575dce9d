"""Writes of the commission's workflow.

Every change has the same shape: lock the row it changes
(select_for_update), check the current state, change it, write the audit
event in the same transaction, and enqueue follow-up work on commit. The
lock on the case (or on the round, for ballots) is what serialises two people
acting on the same thing at once; the state check after the lock is what
makes the loser's request a clean 409 instead of a double effect.

Deadlines are rows, not timers: deadlines_sweep (run by beat every
DEADLINE_SWEEP_INTERVAL) finds the open ones that are due and settles each in
its own transaction, claiming it with SELECT ... FOR UPDATE SKIP LOCKED and a
status check, so two sweeps, two workers, or one task delivered twice settle a
deadline once.
"""

import hashlib
import logging
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Party
from accounts.roles import CHAIR, MEMBER, VERIFIER, has_role
from audit.services import audit_record
from commission.models import (
    OPEN_DEADLINE,
    Ballot,
    Case,
    CaseReport,
    Compliance,
    ConflictDeclaration,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    MeasureKind,
    MeasureStatus,
    Notification,
    Round,
    RoundStatus,
    RoundVoter,
    Stage,
    Threshold,
    VerificationOutcome,
)
from commission.tally import ABSTAIN, NO_QUORUM, TIE, UNDETERMINED, tally
from config.errors import Conflict, Forbidden
from config.queue import enqueue_on_commit
from reports.models import Report, ReportStatus

logger = logging.getLogger(__name__)

TEXT_MAX = 10_000
# Set while deadlines_sweep runs (see _notify).
_in_sweep: ContextVar[bool] = ContextVar("in_deadline_sweep", default=False)
TITLE_MAX = 200
MAX_REPORTS_PER_REQUEST = 100


# --- Small helpers ---------------------------------------------------------------


def _require(actor, *roles: str, what: str) -> None:
    if not has_role(actor, *roles):
        # Translators: %(what)s is an action such as "open cases", translated on its own.
        raise Forbidden(_("Your role does not allow you to %(what)s.") % {"what": _(what)})


def _text(value, *, field: str, max_length: int = TEXT_MAX, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationError({field: [_("Must be text.")]})
    if required and not text:
        raise ValidationError({field: [_("This field is required.")]})
    if len(text) > max_length:
        raise ValidationError({field: [
            _("Ensure this field has no more than %(max_length)d characters.") % {"max_length": max_length}]})
    return text


def _future(value, *, field: str, now: datetime) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError({field: [_("A date and time with a time zone is required.")]})
    if value <= now:
        raise ValidationError({field: [_("Must be in the future.")]})
    return value


def _locked_case(case_id: int) -> Case:
    return Case.objects.select_for_update().get(pk=case_id)


def _chairs():
    User = get_user_model()
    return User.objects.filter(groups__name=CHAIR, is_active=True).distinct().order_by("id")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _notify(*, recipients, case: Case | None, kind: str, key: str, subject: str, body: str = "") -> None:
    """Store one notification per recipient for `key`. The unique constraint
    (recipient, key) makes a repeat, such as a task run twice, insert nothing:
    one statement, no read before the write. Emails go out after commit."""
    rows = [Notification(recipient=user, case=case, kind=kind, key=key[:120], subject=subject[:200], body=body)
            for user in recipients]
    if not rows:
        return
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if not _in_sweep.get():
        # Inside a sweep the task emails everything at its end: one publish
        # per fired deadline would cost more than the deadline itself.
        from commission.tasks import send_notifications

        enqueue_on_commit(send_notifications)


def _deadline_create(*, case: Case, kind: str, due_at: datetime, actor, round: Round | None = None,
                     measure: Measure | None = None) -> Deadline:
    deadline = Deadline.objects.create(case=case, kind=kind, due_at=due_at, round=round, measure=measure)
    audit_record(actor=actor, action="deadline.set", object_type="deadline", object_id=deadline.pk,
                 after={"case": case.reference, "kind": kind, "due_at": _iso(due_at)})
    return deadline


def _deadline_settle(deadline: Deadline, *, status: str, actor, now: datetime, reason: str = "") -> None:
    """Mark an open deadline met or missed (caller holds the locks)."""
    before = {"status": deadline.status, "due_at": _iso(deadline.due_at)}
    deadline.status = status
    deadline.settled_at = now
    deadline.save(update_fields=["status", "settled_at"])
    audit_record(actor=actor, action=f"deadline.{status}", object_type="deadline", object_id=deadline.pk,
                 before=before, after={"case": deadline.case.reference, "kind": deadline.kind, "status": status},
                 reason=reason)


def _settle_open_deadlines(case: Case, *, kinds, actor, now: datetime) -> None:
    for deadline in Deadline.objects.select_for_update().filter(case=case, kind__in=kinds, status__in=OPEN_DEADLINE):
        deadline.case = case
        _deadline_settle(deadline, status=DeadlineStatus.MET, actor=actor, now=now)


def _stage(case: Case, stage: str, now: datetime) -> None:
    case.stage = stage
    case.stage_changed_at = now


def _checkpoint_after_commit() -> None:
    from audit.tasks import publish_checkpoint

    enqueue_on_commit(publish_checkpoint)


# --- Cases and triage ----------------------------------------------------------------


def _submitted_reports(report_ids) -> list[Report]:
    ids = sorted({int(r.pk if isinstance(r, Report) else r) for r in report_ids})
    if not ids:
        raise ValidationError({"reports": [_("Select at least one report.")]})
    if len(ids) > MAX_REPORTS_PER_REQUEST:
        raise ValidationError({"reports": [
            _("At most %(n)d reports at a time.") % {"n": MAX_REPORTS_PER_REQUEST}]})
    # Locked so that two verifiers linking the same report queue up here; the
    # partial unique index on CaseReport is the last word if they do not.
    # A monitor's draft is invisible to verifiers: it is answered exactly like
    # an unknown id, so the error does not tell that a draft exists.
    reports = list(Report.objects.select_for_update().filter(pk__in=ids, status=ReportStatus.SUBMITTED)
                   .order_by("pk"))
    found = {r.pk for r in reports}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError({"reports": [
            _("No submitted report with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}]})
    taken = list(CaseReport.objects.filter(report__in=reports, detached_at__isnull=True)
                 .select_related("case", "report").order_by("report_id"))
    if taken:
        names = ", ".join(_("%(report)s (in %(case)s)") % {"report": link.report.reference,
                                                              "case": link.case.reference} for link in taken)
        raise Conflict(_("Already in a case: %(names)s.") % {"names": names}, field="reports",
                       code="already_in_case")
    return reports


def _link(case: Case, reports: list[Report], actor) -> None:
    try:
        with transaction.atomic():
            CaseReport.objects.bulk_create([CaseReport(case=case, report=r, linked_by=actor) for r in reports])
    except IntegrityError:
        raise Conflict(_("A report was put in another case at the same moment."), field="reports",
                       code="already_in_case")
    for report in reports:
        audit_record(actor=actor, action="case.report_linked", object_type="case", object_id=case.pk,
                     after={"case": case.reference, "report": report.reference, "report_id": report.pk})


def case_open(*, actor, title: str, reports) -> Case:
    """A verifier (or the chair) opens a case from submitted reports; the
    verification deadline starts now."""
    _require(actor, VERIFIER, CHAIR, what=gettext_noop("open cases"))
    title = _text(title, field="title", max_length=TITLE_MAX)
    now = timezone.now()
    with transaction.atomic():
        chosen = _submitted_reports(reports)
        case = Case.objects.create(title=title, opened_by=actor,
                                   verifier=actor if has_role(actor, VERIFIER) else None)
        case.reference = f"{Case.REFERENCE_PREFIX}-{case.created_at:%Y}-{case.pk:06d}"
        case.save(update_fields=["reference"])
        audit_record(actor=actor, action="case.opened", object_type="case", object_id=case.pk,
                     after={"reference": case.reference, "title": title, "stage": case.stage,
                            "reports": [r.reference for r in chosen]})
        _link(case, chosen, actor)
        _deadline_create(case=case, kind=DeadlineKind.VERIFICATION, due_at=now + settings.DEADLINE_VERIFICATION,
                         actor=actor)
    return case


def case_link_reports(*, actor, case: Case, reports) -> Case:
    _require(actor, VERIFIER, CHAIR, what=gettext_noop("link reports"))
    with transaction.atomic():
        case = _locked_case(case.pk)
        if case.stage != Stage.VERIFICATION:
            raise Conflict(_("Reports can be linked only while the case is in verification."))
        _link(case, _submitted_reports(reports), actor)
    return case


def case_detach_report(*, actor, case: Case, report: Report, reason: str) -> Case:
    _require(actor, VERIFIER, CHAIR, what=gettext_noop("detach reports"))
    reason = _text(reason, field="reason")
    with transaction.atomic():
        case = _locked_case(case.pk)
        if case.stage != Stage.VERIFICATION:
            raise Conflict(_("Reports can be detached only while the case is in verification."))
        links = list(CaseReport.objects.select_for_update().filter(case=case, detached_at__isnull=True))
        link = next((item for item in links if item.report_id == report.pk), None)
        if link is None:
            raise ValidationError({"report": [_("This report is not linked to the case.")]})
        if len(links) == 1:
            raise Conflict(_("A case keeps at least one report: link the right one before detaching this one."),
                           field="report", code="last_report")
        link.detached_at = timezone.now()
        link.detached_by = actor
        link.detach_reason = reason
        link.save(update_fields=["detached_at", "detached_by", "detach_reason"])
        audit_record(actor=actor, action="case.report_detached", object_type="case", object_id=case.pk,
                     before={"report": report.reference, "report_id": report.pk}, after={"case": case.reference},
                     reason=reason)
    return case


# --- Verification ----------------------------------------------------------------


def verification_record(*, actor, case: Case, outcome: str, findings: str) -> Case:
    """Confirmed moves the case to attribution; not_confirmed and unfounded close it."""
    _require(actor, VERIFIER, CHAIR, what=gettext_noop("record verification findings"))
    if outcome not in VerificationOutcome.values:
        raise ValidationError({"outcome": [
            _("Must be one of %(choices)s.") % {"choices": ", ".join(VerificationOutcome.values)}]})
    findings = _text(findings, field="findings")
    now = timezone.now()
    with transaction.atomic():
        case = _locked_case(case.pk)
        if case.stage != Stage.VERIFICATION:
            raise Conflict(_("The case is in %(stage)s; its verification is already recorded.") % {"stage": case.stage})
        before = {"stage": case.stage}
        case.verification_outcome = outcome
        case.findings = findings
        case.verified_by = actor
        case.verified_at = now
        # Late findings answer a missed verification deadline: the flag is for what still waits.
        case.flagged = False
        if outcome == VerificationOutcome.CONFIRMED:
            _stage(case, Stage.ATTRIBUTION, now)
        else:
            _stage(case, Stage.CLOSED, now)
            case.outcome = outcome
            case.closed_at = now
            case.closed_by = actor
        case.save()
        audit_record(actor=actor, action="verification.recorded", object_type="case", object_id=case.pk,
                     before=before, after={"outcome": outcome, "findings": findings, "stage": case.stage})
        _settle_open_deadlines(case, kinds=[DeadlineKind.VERIFICATION], actor=actor, now=now)
        if case.stage == Stage.CLOSED:
            audit_record(actor=actor, action="case.closed", object_type="case", object_id=case.pk,
                         before=before, after={"stage": case.stage, "outcome": outcome})
            _checkpoint_after_commit()
    return case


# --- Conflicts of interest ----------------------------------------------------------------


def conflict_declare(*, actor, case: Case, reason: str) -> ConflictDeclaration:
    """A member recuses themself from the case's votes. Idempotent. During an
    open round, a member who has not voted yet leaves its eligible voters; one
    who has voted must ask the chair (their ballot is already sealed in)."""
    _require(actor, MEMBER, what=gettext_noop("declare a conflict of interest"))
    reason = _text(reason, field="reason")
    now = timezone.now()
    with transaction.atomic():
        case = _locked_case(case.pk)
        existing = ConflictDeclaration.objects.filter(case=case, member=actor).first()
        if existing is not None:
            return existing
        if case.stage == Stage.CLOSED:
            raise Conflict(_("The case is closed."))
        open_round = Round.objects.select_for_update().filter(case=case, status=RoundStatus.OPEN).first()
        voter = None
        # A round past its closing time has ended (ballots are refused) even
        # before the sweep tallies it: its eligible voters no longer change.
        if open_round is not None and open_round.closes_at > timezone.now():
            voter = RoundVoter.objects.filter(round=open_round, member=actor, recused_at__isnull=True).first()
            if voter is not None and Ballot.objects.filter(round=open_round, voter=actor).exists():
                raise Conflict(_("You have already voted in the open round; ask the chair to open a new round."),
                               code="already_voted")
        declaration = ConflictDeclaration.objects.create(case=case, member=actor, reason=reason)
        audit_record(actor=actor, action="conflict.declared", object_type="case", object_id=case.pk,
                     after={"case": case.reference, "member": actor.username}, reason=reason)
        if voter is not None:
            voter.recused_at = now
            voter.save(update_fields=["recused_at"])
            before = {"eligible_count": open_round.eligible_count}
            open_round.eligible_count -= 1
            open_round.save(update_fields=["eligible_count"])
            audit_record(actor=actor, action="round.voter_recused", object_type="round", object_id=open_round.pk,
                         before=before, after={"eligible_count": open_round.eligible_count,
                                               "member": actor.username}, reason=reason)
            _close_if_everyone_voted(open_round, now=now)
    return declaration


def recusal_reason(*, case: Case, member) -> str | None:
    """Why a member may not vote on this case, or None."""
    delegation_id = getattr(member, "delegation_id", None)
    if delegation_id:
        party = Party.objects.filter(delegation_id=delegation_id).first()
        if party is not None:
            return _("Your delegation is party %(party)s to the conflict.") % {"party": party.code}
    if ConflictDeclaration.objects.filter(case=case, member=member).exists():
        return _("You declared a conflict of interest on this case.")
    return None


# --- Attribution rounds ----------------------------------------------------------------


def _quorum(value) -> Decimal:
    try:
        quorum = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"quorum": [_("A number between 0 (excluded) and 1.")]})
    if not quorum.is_finite() or quorum <= 0 or quorum > 1 or quorum != quorum.quantize(Decimal("0.001")):
        raise ValidationError({"quorum": [_("A number between 0 (excluded) and 1, with at most 3 decimals.")]})
    return quorum


def eligible_members(case: Case):
    """Members at this moment, less those recused: a delegation that is a
    party to the conflict, or a declared conflict of interest on the case."""
    User = get_user_model()
    party_delegations = Party.objects.filter(delegation__isnull=False).values("delegation_id")
    conflicted = ConflictDeclaration.objects.filter(case=case).values("member_id")
    return (User.objects.filter(groups__name=MEMBER, is_active=True)
            .exclude(delegation_id__in=party_delegations).exclude(pk__in=conflicted)
            .distinct().order_by("username"))


def round_open(*, actor, case: Case, closes_at: datetime | None = None, quorum=Decimal("0.5"),
               threshold: str = Threshold.SIMPLE) -> Round:
    _require(actor, CHAIR, what=gettext_noop("open a voting round"))
    now = timezone.now()
    closes_at = _future(closes_at, field="closes_at", now=now) if closes_at else now + settings.DEADLINE_VOTE
    quorum = _quorum(quorum if quorum is not None else Decimal("0.5"))
    if threshold not in Threshold.values:
        raise ValidationError({"threshold": [
            _("Must be one of %(choices)s.") % {"choices": ", ".join(Threshold.values)}]})
    with transaction.atomic():
        case = _locked_case(case.pk)
        if case.stage != Stage.ATTRIBUTION:
            raise Conflict(_("A round opens only in attribution; the case is in %(stage)s.") % {"stage": case.stage})
        if Round.objects.filter(case=case, status=RoundStatus.OPEN).exists():
            raise Conflict(_("A round is already open on this case."), code="round_open")
        voters = list(eligible_members(case))
        if not voters:
            raise Conflict(_("No member is eligible to vote on this case."), code="no_eligible_voters")
        number = Round.objects.filter(case=case).count() + 1
        rnd = Round.objects.create(case=case, number=number, opened_by=actor, closes_at=closes_at, quorum=quorum,
                                   threshold=threshold, eligible_count=len(voters))
        RoundVoter.objects.bulk_create([RoundVoter(round=rnd, member=v) for v in voters])
        audit_record(actor=actor, action="round.opened", object_type="round", object_id=rnd.pk,
                     after={"case": case.reference, "number": number, "closes_at": _iso(closes_at),
                            "quorum": str(quorum), "threshold": threshold, "eligible_count": len(voters),
                            "eligible": [v.username for v in voters]})
        _deadline_create(case=case, kind=DeadlineKind.VOTE, due_at=closes_at, actor=actor, round=rnd)
        if case.flagged:
            # A new round is the chair's answer to the escalation.
            case.flagged = False
            case.save(update_fields=["flagged"])
    return rnd


def commitment(salt: str, choice: str, rationale: str) -> str:
    """What the trail holds while the round is open (docs/audit.md)."""
    return hashlib.sha256(f"{salt}\n{choice}\n{rationale}".encode()).hexdigest()


def _choices() -> set[str]:
    return set(Party.objects.values_list("code", flat=True)) | {UNDETERMINED, ABSTAIN}


@dataclass
class BallotReceipt:
    ballot: Ballot
    round: Round
    changed: bool


def ballot_cast(*, actor, round: Round, choice: str, rationale: str) -> BallotReceipt:
    """Cast or change the actor's sealed ballot. The round's row lock orders
    ballots and the close: a ballot either commits before the close (and is
    counted) or sees the round closed (and gets 409)."""
    _require(actor, MEMBER, what=gettext_noop("vote"))
    if not isinstance(choice, str) or choice not in _choices():
        raise ValidationError({"choice": [_("Must be a party code, undetermined or abstain.")]})
    rationale = _text(rationale, field="rationale")
    with transaction.atomic():
        _locked_case(round.case_id)
        rnd = Round.objects.select_for_update().select_related("case").get(pk=round.pk)
        now = timezone.now()
        if rnd.status != RoundStatus.OPEN or now >= rnd.closes_at:
            raise Conflict(_("The round is closed."), code="round_closed")
        if not RoundVoter.objects.filter(round=rnd, member=actor, recused_at__isnull=True).exists():
            why = recusal_reason(case=rnd.case, member=actor) or _("You were not a member when the round opened.")
            raise Forbidden(_("You are not an eligible voter in this round. %(why)s") % {"why": why},
                            code="not_eligible")
        current = Ballot.objects.filter(round=rnd, voter=actor, superseded=False).first()
        if current is not None and current.choice == choice and current.rationale == rationale:
            return BallotReceipt(ballot=current, round=rnd, changed=False)  # a resubmission changes nothing
        if current is not None:
            current.superseded = True
            current.save(update_fields=["superseded"])
        salt = secrets.token_hex(16)
        ballot = Ballot.objects.create(round=rnd, voter=actor, choice=choice, rationale=rationale, salt=salt,
                                       commitment=commitment(salt, choice, rationale))
        # Sealed: only the commitment goes into the trail; the tally reveals the rest.
        audit_record(actor=actor, action="ballot.changed" if current else "ballot.cast", object_type="ballot",
                     object_id=ballot.pk,
                     after={"round": rnd.pk, "voter": actor.username, "commitment": ballot.commitment})
        _close_if_everyone_voted(rnd, now=now)
    return BallotReceipt(ballot=ballot, round=rnd, changed=current is not None)


def _close_if_everyone_voted(rnd: Round, *, now: datetime) -> None:
    cast = Ballot.objects.filter(round=rnd, superseded=False, voter__in=RoundVoter.objects.filter(
        round=rnd, recused_at__isnull=True).values("member_id")).count()
    if cast >= rnd.eligible_count:
        _round_close_locked(rnd, now=now, because="all_voted")


def round_close_due(*, round_id: int, now: datetime | None = None) -> bool:
    """Close a round whose closing time has passed (the sweep's job). Safe to
    run twice: a closed round is left as it is."""
    now = now or timezone.now()
    case_id = Round.objects.values_list("case_id", flat=True).get(pk=round_id)
    with transaction.atomic():
        _locked_case(case_id)
        rnd = Round.objects.select_for_update().select_related("case").get(pk=round_id)
        if rnd.status != RoundStatus.OPEN or rnd.closes_at > now:
            return False
        _round_close_locked(rnd, now=now, because="deadline")
    return True


def _round_close_locked(rnd: Round, *, now: datetime, because: str) -> None:
    """Tally and close. The caller holds the case's and the round's locks, so
    every ballot that will ever be accepted has committed and is visible here."""
    case = Case.objects.select_for_update().get(pk=rnd.case_id)
    voters = set(RoundVoter.objects.filter(round=rnd, recused_at__isnull=True).values_list("member_id", flat=True))
    ballots = list(Ballot.objects.filter(round=rnd).select_related("voter").order_by("id"))
    finals = [b for b in ballots if not b.superseded and b.voter_id in voters]
    outcome, counts = tally([b.choice for b in finals], eligible=rnd.eligible_count, quorum=rnd.quorum,
                            threshold=rnd.threshold)
    rnd.status = RoundStatus.CLOSED
    rnd.closed_at = now
    rnd.closed_because = because
    rnd.outcome = outcome
    rnd.counts = counts
    rnd.save(update_fields=["status", "closed_at", "closed_because", "outcome", "counts"])
    final_ids = {b.pk for b in finals}
    audit_record(actor=None, action="round.tallied", object_type="round", object_id=rnd.pk,
                 before={"status": RoundStatus.OPEN},
                 after={"case": case.reference, "closed_because": because,
                        "result": {"outcome": outcome, "counts": counts}, "threshold": rnd.threshold,
                        "eligible_count": rnd.eligible_count, "quorum": str(rnd.quorum),
                        "ballots": [{"voter": b.voter.username, "choice": b.choice, "rationale": b.rationale,
                                     "salt": b.salt, "commitment": b.commitment, "final": b.pk in final_ids}
                                    for b in ballots]})
    deadline = Deadline.objects.select_for_update().filter(round=rnd, status__in=OPEN_DEADLINE).first()
    if deadline is not None:
        deadline.case = case
        _deadline_settle(deadline, status=DeadlineStatus.MET, actor=None, now=now)
    before = {"stage": case.stage}
    if outcome in (TIE, NO_QUORUM):
        case.flagged = True
        case.save(update_fields=["flagged"])
        _notify(recipients=_chairs(), case=case, kind="round_escalated", key=f"round:{rnd.pk}:escalated",
                subject=f"{case.reference}: round {rnd.number} ended in {outcome}",
                body="The vote did not decide. You may open a new round.")
        return
    if outcome == UNDETERMINED:
        _stage(case, Stage.CLOSED, now)
        case.outcome = UNDETERMINED
        case.closed_at = now
        case.save()
        audit_record(actor=None, action="case.closed", object_type="case", object_id=case.pk, before=before,
                     after={"stage": case.stage, "outcome": UNDETERMINED})
        _checkpoint_after_commit()
        return
    case.attributed_party = Party.objects.get(code=outcome)
    _stage(case, Stage.MEASURES, now)
    case.save()
    audit_record(actor=None, action="case.attributed", object_type="case", object_id=case.pk, before=before,
                 after={"stage": case.stage, "party": outcome, "round": rnd.pk})
    _deadline_create(case=case, kind=DeadlineKind.MEASURES, due_at=now + settings.DEADLINE_MEASURES, actor=None)


# --- Corrective measures ------------------------------------------------------------------


def measure_propose(*, actor, case: Case, kind: str, addressee: str, description: str,
                    compliance_due_at: datetime | None = None) -> Measure:
    _require(actor, MEMBER, what=gettext_noop("propose measures"))
    errors = {}
    if kind not in MeasureKind.values:
        errors["kind"] = [_("Must be one of %(choices)s.") % {"choices": ", ".join(MeasureKind.values)}]
    party = Party.objects.filter(code=addressee).first() if isinstance(addressee, str) else None
    if party is None:
        errors["addressee"] = [_("Must be a party code.")]
    if errors:
        raise ValidationError(errors)
    description = _text(description, field="description")
    now = timezone.now()
    if compliance_due_at is not None:
        compliance_due_at = _future(compliance_due_at, field="compliance_due_at", now=now)
    with transaction.atomic():
        case = _locked_case(case.pk)
        if case.stage != Stage.MEASURES:
            raise Conflict(_("Measures are proposed in the measures stage; the case is in %(stage)s.")
                           % {"stage": case.stage})
        measure = Measure.objects.create(case=case, kind=kind, addressee=party, description=description,
                                         compliance_due_at=compliance_due_at, proposed_by=actor)
        audit_record(actor=actor, action="measure.proposed", object_type="measure", object_id=measure.pk,
                     after={"case": case.reference, "kind": kind, "addressee": party.code,
                            "description": description, "compliance_due_at": _iso(compliance_due_at)})
    return measure


def measure_decide(*, actor, measure: Measure, adopt: bool, reason: str) -> Measure:
    _require(actor, CHAIR, what=gettext_noop("adopt or reject measures"))
    reason = _text(reason, field="reason")
    now = timezone.now()
    with transaction.atomic():
        case = _locked_case(measure.case_id)
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        if case.stage != Stage.MEASURES:
            raise Conflict(_("The case is in %(stage)s; measures are decided in the measures stage.")
                           % {"stage": case.stage})
        if measure.status != MeasureStatus.PROPOSED:
            raise Conflict(_("The measure is already %(status)s.") % {"status": measure.status})
        measure.status = MeasureStatus.ADOPTED if adopt else MeasureStatus.REJECTED
        measure.decided_by = actor
        measure.decided_at = now
        measure.decision_reason = reason
        if adopt:
            measure.compliance = Compliance.PENDING
        measure.save()
        audit_record(actor=actor, action=f"measure.{measure.status}", object_type="measure", object_id=measure.pk,
                     before={"status": MeasureStatus.PROPOSED},
                     after={"case": case.reference, "status": measure.status, "compliance": measure.compliance},
                     reason=reason)
        if adopt and measure.compliance_due_at:
            due = measure.compliance_due_at if measure.compliance_due_at > now else now
            _deadline_create(case=case, kind=DeadlineKind.COMPLIANCE, due_at=due, actor=actor, measure=measure)
    return measure


def measure_compliance_record(*, actor, measure: Measure, compliance: str, note: str) -> Measure:
    _require(actor, CHAIR, what=gettext_noop("record compliance"))
    if compliance not in (Compliance.COMPLIED, Compliance.NOT_COMPLIED):
        raise ValidationError({"compliance": [_("Must be complied or not_complied.")]})
    note = _text(note, field="note")
    now = timezone.now()
    with transaction.atomic():
        case = _locked_case(measure.case_id)
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        if measure.status != MeasureStatus.ADOPTED:
            raise Conflict(_("Compliance is followed only for adopted measures."))
        if measure.compliance not in (Compliance.PENDING, Compliance.OVERDUE):
            raise Conflict(_("Compliance is already recorded as %(compliance)s.") % {"compliance": measure.compliance})
        before = {"compliance": measure.compliance}
        measure.compliance = compliance
        measure.compliance_note = note
        measure.compliance_recorded_at = now
        measure.save(update_fields=["compliance", "compliance_note", "compliance_recorded_at"])
        audit_record(actor=actor, action="measure.compliance_recorded", object_type="measure",
                     object_id=measure.pk, before=before,
                     after={"case": case.reference, "compliance": compliance, "note": note})
        deadline = Deadline.objects.select_for_update().filter(measure=measure, status__in=OPEN_DEADLINE).first()
        if deadline is not None:
            deadline.case = case
            _deadline_settle(deadline, status=DeadlineStatus.MET, actor=actor, now=now)
    return measure


# --- Closure -------------------------------------------------------------------------------


def case_close(*, actor, case: Case, summary: str) -> Case:
    """The chair closes the case with a public summary: in the measures stage
    once every proposed measure is decided, or in attribution after a round
    that did not decide (tie, no quorum) when the chair gives up on a vote.
    Verification closes a case by its own outcomes. Compliance of adopted
    measures is still followed after the close (their deadlines stay live)."""
    _require(actor, CHAIR, what=gettext_noop("close cases"))
    summary = _text(summary, field="summary")
    now = timezone.now()
    with transaction.atomic():
        case = _locked_case(case.pk)
        if case.stage == Stage.CLOSED:
            raise Conflict(_("The case is already closed."))
        if case.stage == Stage.VERIFICATION:
            raise Conflict(_("Record the verification first: not_confirmed or unfounded findings close the case."),
                           code="wrong_stage")
        if Round.objects.filter(case=case, status=RoundStatus.OPEN).exists():
            raise Conflict(_("A voting round is open; it must close before the case does."), code="round_open")
        if case.stage == Stage.ATTRIBUTION:
            last = Round.objects.filter(case=case).order_by("-number").first()
            if last is None or last.outcome not in (TIE, NO_QUORUM):
                raise Conflict(_("A case in attribution closes only after a round that did not decide."),
                               code="wrong_stage")
            outcome = "unresolved"
        else:
            if Measure.objects.filter(case=case, status=MeasureStatus.PROPOSED).exists():
                raise Conflict(_("Adopt or reject every proposed measure before closing the case."),
                               code="measures_pending")
            outcome = "decided"
        before = {"stage": case.stage}
        _stage(case, Stage.CLOSED, now)
        case.summary = summary
        case.flagged = False  # nothing waits on a closed case's stages any more
        case.outcome = outcome
        case.closed_at = now
        case.closed_by = actor
        case.save()
        audit_record(actor=actor, action="case.closed", object_type="case", object_id=case.pk, before=before,
                     after={"stage": case.stage, "outcome": case.outcome, "summary": summary})
        _settle_open_deadlines(case, kinds=[DeadlineKind.VERIFICATION, DeadlineKind.MEASURES], actor=actor, now=now)
        _checkpoint_after_commit()
    return case


# --- Deadlines -----------------------------------------------------------------------------


def deadline_extend(*, actor, deadline: Deadline, due_at: datetime, reason: str) -> Deadline:
    """The chair moves a deadline later, with a reason. A missed deadline may
    be extended too (the stage gets a second chance and fires again)."""
    _require(actor, CHAIR, what=gettext_noop("extend deadlines"))
    reason = _text(reason, field="reason")
    now = timezone.now()
    due_at = _future(due_at, field="due_at", now=now)
    with transaction.atomic():
        case = _locked_case(deadline.case_id)
        # The documented lock order: case, round, deadline, measure.
        rnd = (Round.objects.select_for_update().get(pk=deadline.round_id)
               if deadline.kind == DeadlineKind.VOTE else None)
        deadline = Deadline.objects.select_for_update().get(pk=deadline.pk)
        if deadline.status == DeadlineStatus.MET:
            raise Conflict(_("This deadline is met; there is nothing to extend."))
        if deadline.kind != DeadlineKind.COMPLIANCE and case.stage == Stage.CLOSED:
            raise Conflict(_("The case is closed."))
        # A stage's deadline means something only while the case is in that
        # stage: once the case moved on, extending it would only fire it again.
        stage_of = {DeadlineKind.VERIFICATION: Stage.VERIFICATION, DeadlineKind.MEASURES: Stage.MEASURES}
        if deadline.kind in stage_of and case.stage != stage_of[deadline.kind]:
            raise Conflict(_("The case has left the %(kind)s stage; this deadline no longer applies.")
                           % {"kind": deadline.kind},
                           code="wrong_stage")
        if due_at <= deadline.due_at:
            raise ValidationError({"due_at": [_("An extension must be later than the current due time.")]})
        if rnd is not None:
            # Ballots are refused from the closing time on, before the sweep
            # tallies: moving it then would reopen a round that has ended.
            if rnd.status != RoundStatus.OPEN or rnd.closes_at <= timezone.now():
                raise Conflict(_("The round is closed."), code="round_closed")
            rnd.closes_at = due_at
            rnd.save(update_fields=["closes_at"])
        if deadline.kind == DeadlineKind.COMPLIANCE:
            measure = Measure.objects.select_for_update().get(pk=deadline.measure_id)
            if measure.compliance not in (Compliance.PENDING, Compliance.OVERDUE):
                raise Conflict(_("Compliance with this measure is already recorded."), code="wrong_stage")
            measure.compliance = Compliance.PENDING  # an overdue measure gets its new date
            measure.compliance_due_at = due_at
            measure.save(update_fields=["compliance", "compliance_due_at"])
        before = {"due_at": _iso(deadline.due_at), "status": deadline.status}
        deadline.due_at = due_at
        deadline.status = DeadlineStatus.EXTENDED
        deadline.settled_at = None
        deadline.reminded_at = None  # remind again before the new time
        deadline.save(update_fields=["due_at", "status", "settled_at", "reminded_at"])
        audit_record(actor=actor, action="deadline.extended", object_type="deadline", object_id=deadline.pk,
                     before=before, after={"case": case.reference, "kind": deadline.kind, "due_at": _iso(due_at),
                                           "status": deadline.status}, reason=reason)
    return deadline


def _escalate(deadline: Deadline, case: Case, *, now: datetime, what: str) -> None:
    if not case.flagged:
        case.flagged = True
        case.save(update_fields=["flagged"])
    _notify(recipients=_chairs(), case=case, kind="deadline_missed",
            key=f"missed:{deadline.pk}:{deadline.due_at.isoformat()}",
            subject=f"{case.reference}: {what} deadline missed",
            body=f"The {what} deadline of {case.reference} ({case.title}) passed at {deadline.due_at:%Y-%m-%d %H:%M} UTC.")


def deadline_fire(*, deadline_id: int, now: datetime | None = None) -> bool:
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
        return round_close_due(round_id=due["round_id"], now=now)
    with transaction.atomic():
        # Locks are always taken case first, then round, deadline, measure:
        # one order everywhere, so two transitions never deadlock.
        # SKIP LOCKED on the case too: a case held by a person's transaction
        # (or by another sweep) is left for the next sweep instead of making
        # this one queue behind it.
        case = Case.objects.select_for_update(skip_locked=True).filter(pk=due["case_id"]).first()
        if case is None:
            return False
        deadline = (Deadline.objects.select_for_update(skip_locked=True)
                    .filter(pk=deadline_id, status__in=OPEN_DEADLINE, due_at__lte=now).first())
        if deadline is None:
            return False
        deadline.case = case
        if deadline.kind == DeadlineKind.VERIFICATION:
            missed = case.stage == Stage.VERIFICATION
        elif deadline.kind == DeadlineKind.MEASURES:
            missed = case.stage == Stage.MEASURES
        else:
            measure = Measure.objects.select_for_update().get(pk=deadline.measure_id)
            missed = measure.compliance == Compliance.PENDING
            if missed:
                measure.compliance = Compliance.OVERDUE
                measure.save(update_fields=["compliance"])
                audit_record(actor=None, action="measure.overdue", object_type="measure", object_id=measure.pk,
                             before={"compliance": Compliance.PENDING},
                             after={"case": case.reference, "compliance": Compliance.OVERDUE})
        _deadline_settle(deadline, status=DeadlineStatus.MISSED if missed else DeadlineStatus.MET, actor=None,
                         now=now)
        if missed:
            _escalate(deadline, case, now=now, what=deadline.kind)
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
    return list(_chairs())


def deadline_remind(*, deadline_id: int, now: datetime | None = None) -> bool:
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
        _notify(recipients=recipients, case=case, kind="deadline_reminder",
                key=f"reminder:{deadline.pk}:{deadline.due_at.isoformat()}",
                subject=f"{case.reference}: {deadline.kind} due {deadline.due_at:%Y-%m-%d %H:%M} UTC",
                body=f"{case.title}: the {deadline.kind} deadline is coming.")
        audit_record(actor=None, action="deadline.reminded", object_type="deadline", object_id=deadline.pk,
                     after={"case": case.reference, "kind": deadline.kind,
                            "recipients": sorted(u.username for u in recipients)})
    return True


@dataclass
class SweepResult:
    fired: int = 0
    reminded: int = 0
    out_of_time: bool = False


# A sweep stops taking new deadlines after this long, well inside the broker's
# visibility timeout (5 min), so Redis never hands a still-running sweep to a
# second worker; the next beat tick carries on where it stopped.
SWEEP_BUDGET_SECONDS = 120.0


def deadlines_sweep(*, now: datetime | None = None, batch: int = 500,
                    budget_seconds: float = SWEEP_BUDGET_SECONDS) -> SweepResult:
    """Settle the due deadlines (oldest first, within the time budget) and send
    the reminders that are due. Both lookups walk a partial index on due_at
    over open deadlines only."""
    token = _in_sweep.set(True)
    try:
        return _sweep(now=now or timezone.now(), batch=batch, stop_at=time.monotonic() + budget_seconds)
    finally:
        _in_sweep.reset(token)


def _sweep(*, now: datetime, batch: int, stop_at: float) -> SweepResult:
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
                result.fired += deadline_fire(deadline_id=deadline_id, now=now)
            except Exception:  # one bad row must not stop the others; it is retried next sweep
                logger.exception("deadline %s could not be settled", deadline_id)
    remind_ids = list(Deadline.objects.filter(
        status__in=OPEN_DEADLINE, reminded_at__isnull=True, due_at__gt=now,
        due_at__lte=now + settings.DEADLINE_REMINDER_BEFORE,
    ).order_by("due_at").values_list("pk", flat=True)[:batch * 10])
    for deadline_id in remind_ids:
        try:
            result.reminded += deadline_remind(deadline_id=deadline_id, now=now)
        except Exception:
            logger.exception("reminders for deadline %s could not be sent", deadline_id)
    return result


# --- Notifications ------------------------------------------------------------------------


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise Forbidden(_("Not your notification."))
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db(fields=["read_at"])
    return notification


# A claim older than this is taken to belong to a mailer that died mid-send.
EMAIL_CLAIM_TIMEOUT = timedelta(minutes=10)


def notifications_send(*, limit: int = 200) -> int:
    """Email stored notifications not sent yet.

    Each is claimed with a conditional update of email_claimed_at before
    sending, so two mailers never send one at once; emailed_at is written only
    after the mail server accepted it. A mailer killed between the two leaves
    a stale claim that the next run takes again after EMAIL_CLAIM_TIMEOUT: an
    email is sent at least once (possibly twice in that case), never lost.
    """
    sent = 0
    now = timezone.now()
    claimable = Q(emailed_at__isnull=True) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT))
    pending = list(Notification.objects.filter(claimable).order_by("id").values_list("pk", flat=True)[:limit])
    for pk in pending:
        claim = timezone.now()
        if Notification.objects.filter(claimable, pk=pk).update(email_claimed_at=claim) != 1:
            continue
        note = Notification.objects.select_related("recipient").get(pk=pk)
        if note.recipient.email:
            try:
                send_mail(note.subject, note.body or note.subject, settings.DEFAULT_FROM_EMAIL,
                          [note.recipient.email])
            except Exception:
                logger.warning("could not email notification %s; will retry", pk, exc_info=True)
                Notification.objects.filter(pk=pk, email_claimed_at=claim).update(email_claimed_at=None)
                continue
            sent += 1
        # No address: nothing to send; the notification is listed in the app.
        Notification.objects.filter(pk=pk, email_claimed_at=claim).update(emailed_at=timezone.now())
    return sent
