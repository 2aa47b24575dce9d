"""What may happen next: the predicates the services check before they
refuse, and case_actions, which asks the same predicates for one person.

Each `*_refusal` returns the error the service would raise (a Conflict or
Forbidden, in the reader's language), or None when the action would be
accepted. The services call them under their locks; pages and the API ask
case_actions, so what they offer is exactly what the services accept.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Party
from accounts.roles import CHAIR, MEMBER, VERIFIER, has_role
from audit.models import AuditEvent
from commission.models import (
    Ballot,
    Case,
    CaseReport,
    Compliance,
    ConflictDeclaration,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Measure,
    MeasureStatus,
    Round,
    RoundStatus,
    RoundVoter,
    Stage,
)
from commission.selectors.discussion import can_post_comment
from commission.tally import ABSTAIN, NO_QUORUM, TIE, UNDETERMINED, commitment
from config.errors import ApplicationError, Conflict, Forbidden

# The stage a stage deadline belongs to: once the case left it, the deadline no longer applies.
STAGE_OF_DEADLINE = {DeadlineKind.VERIFICATION: Stage.VERIFICATION, DeadlineKind.MEASURES: Stage.MEASURES,
                     DeadlineKind.REPLY: Stage.ATTRIBUTION}


# --- Who may vote ------------------------------------------------------------------


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


def standing_members():
    """Active members whose delegation is not a party to the conflict: the
    eligible voters of every case, less those who declared a conflict of
    interest on it (eligible_members)."""
    User = get_user_model()
    party_delegations = Party.objects.filter(delegation__isnull=False).values("delegation_id")
    return User.objects.filter(groups__name=MEMBER, is_active=True).exclude(delegation_id__in=party_delegations)


def eligible_members(case: Case):
    """Members at this moment, less those recused: a delegation that is a
    party to the conflict, or a declared conflict of interest on the case."""
    conflicted = ConflictDeclaration.objects.filter(case=case).values("member_id")
    return standing_members().exclude(pk__in=conflicted).distinct().order_by("username")


def recused_members(case: Case) -> list[dict]:
    """The active members who may not vote on this case, and why, in the
    trail's language (English codes): a delegation that is a party, or a
    declared conflict of interest. With eligible_members, the round's opening
    event records both, so eligibility can be recomputed from the trail."""
    User = get_user_model()
    party_of = dict(Party.objects.filter(delegation__isnull=False).values_list("delegation_id", "code"))
    conflicted = set(ConflictDeclaration.objects.filter(case=case).values_list("member_id", flat=True))
    recused = []
    for member in (User.objects.filter(groups__name=MEMBER, is_active=True).distinct().order_by("username")
                   .only("pk", "username", "delegation_id")):
        if member.delegation_id in party_of:
            recused.append({"member": member.username, "reason": "party_delegation",
                            "party": party_of[member.delegation_id]})
        elif member.pk in conflicted:
            recused.append({"member": member.username, "reason": "conflict_declared"})
    return recused


def ballots_not_matching_trail(ballots) -> list[int]:
    """Ids of ballots whose stored salt, choice and rationale no longer hash to
    the commitment the trail recorded when they were cast (ballot.cast or
    ballot.changed). Rewriting a row's commitment too does not help: the
    trail's copy is chained and sealed."""
    recorded = dict(AuditEvent.objects.filter(
        object_type="ballot", object_id__in=[str(b.pk) for b in ballots], action__in=("ballot.cast", "ballot.changed"),
    ).values_list("object_id", "after__commitment"))
    bad = []
    for b in ballots:
        opened = b.content()  # None: altered in place, or sealed with another key
        if (opened is None or commitment(opened.salt, opened.choice, opened.rationale) != b.commitment
                or recorded.get(str(b.pk)) != b.commitment):
            bad.append(b.pk)
    return bad


def ballot_choices() -> set[str]:
    return set(Party.objects.values_list("code", flat=True)) | {UNDETERMINED, ABSTAIN}


# --- The predicates ------------------------------------------------------------------


def triage_refusal(case: Case, *, what: str) -> Conflict | None:
    """Linking and detaching reports: only in verification."""
    if case.stage != Stage.VERIFICATION:
        if what == "link":
            return Conflict(_("Reports can be linked only while the case is in verification."))
        return Conflict(_("Reports can be detached only while the case is in verification."))
    return None


def verification_refusal(case: Case) -> Conflict | None:
    if case.stage != Stage.VERIFICATION:
        return Conflict(_("The case is in %(stage)s; its verification is already recorded.") % {"stage": case.stage})
    return None


def conflict_refusal(case: Case, member, *, open_round: Round | None, now: datetime) -> Conflict | None:
    """Declaring a conflict of interest (an existing declaration is not a
    refusal: the service answers it idempotently)."""
    if case.stage == Stage.CLOSED:
        return Conflict(_("The case is closed."))
    if (open_round is not None and round_accepts_ballots(open_round, now=now)
            and RoundVoter.objects.filter(round=open_round, member=member, recused_at__isnull=True).exists()
            and Ballot.objects.filter(round=open_round, voter=member).exists()):
        return Conflict(_("You have already voted in the open round; ask the chair to open a new round."),
                        code="already_voted")
    return None


def round_open_refusal(case: Case) -> Conflict | None:
    return round_open_refusals([case])[case.pk]


def round_open_refusals(cases: list[Case]) -> dict[int, Conflict | None]:
    """Why a round cannot open on each case (None: it can), in three queries
    however many cases: the chair's home asks for ten at once."""
    open_rounds = set(Round.objects.filter(case__in=cases, status=RoundStatus.OPEN).values_list("case_id", flat=True))
    standing = set(standing_members().values_list("pk", flat=True))
    conflicted: dict[int, set[int]] = {}
    for case_id, member_id in ConflictDeclaration.objects.filter(case__in=cases).values_list("case_id", "member_id"):
        conflicted.setdefault(case_id, set()).add(member_id)
    refusals = {}
    for case in cases:
        refusal = None
        if case.stage != Stage.ATTRIBUTION:
            refusal = Conflict(_("A round opens only in attribution; the case is in %(stage)s.") % {"stage": case.stage})
        elif case.pk in open_rounds:
            refusal = Conflict(_("A round is already open on this case."), code="round_open")
        elif not standing - conflicted.get(case.pk, set()):  # eligible_members(case), in memory
            refusal = Conflict(_("No member is eligible to vote on this case."), code="no_eligible_voters")
        refusals[case.pk] = refusal
    return refusals


def round_clock_paused(rnd: Round) -> bool:
    return Deadline.objects.filter(round=rnd, status=DeadlineStatus.PAUSED).exists()


def round_accepts_ballots(rnd: Round, *, now: datetime) -> bool:
    """Open, and before its closing time, or its clock paused: time stands
    still for a paused round (its closing time moves on resume), so it stays
    open for ballots whatever the wall clock says."""
    if rnd.status != RoundStatus.OPEN:
        return False
    return now < rnd.closes_at or round_clock_paused(rnd)


def ballot_refusal(rnd: Round, member, *, now: datetime) -> ApplicationError | None:
    if not round_accepts_ballots(rnd, now=now):
        return Conflict(_("The round is closed."), code="round_closed")
    if not RoundVoter.objects.filter(round=rnd, member=member, recused_at__isnull=True).exists():
        why = recusal_reason(case=rnd.case, member=member) or _("You were not a member when the round opened.")
        return Forbidden(_("You are not an eligible voter in this round. %(why)s") % {"why": why},
                         code="not_eligible")
    return None


def measure_propose_refusal(case: Case) -> Conflict | None:
    if case.stage != Stage.MEASURES:
        return Conflict(_("Measures are proposed in the measures stage; the case is in %(stage)s.")
                        % {"stage": case.stage})
    return None


def measure_decide_refusal(case: Case, measure: Measure) -> Conflict | None:
    if case.stage != Stage.MEASURES:
        return Conflict(_("The case is in %(stage)s; measures are decided in the measures stage.")
                        % {"stage": case.stage})
    if measure.status != MeasureStatus.PROPOSED:
        return Conflict(_("The measure is already %(status)s.") % {"status": measure.status})
    return None


def compliance_refusal(measure: Measure) -> Conflict | None:
    if measure.status != MeasureStatus.ADOPTED:
        return Conflict(_("Compliance is followed only for adopted measures."))
    if measure.compliance not in (Compliance.PENDING, Compliance.OVERDUE):
        return Conflict(_("Compliance is already recorded as %(compliance)s.") % {"compliance": measure.compliance})
    return None


def _deadline_applies_refusal(deadline: Deadline, *, case: Case, round: Round | None, now: datetime) -> Conflict | None:
    """Whether the deadline still guards anything a chair may move or stop."""
    if deadline.kind != DeadlineKind.COMPLIANCE and case.stage == Stage.CLOSED:
        return Conflict(_("The case is closed."))
    # A stage's deadline means something only while the case is in that
    # stage: once the case moved on, extending it would only fire it again.
    stage = STAGE_OF_DEADLINE.get(deadline.kind)
    if stage is not None and case.stage != stage:
        return Conflict(_("The case has left the %(kind)s stage; this deadline no longer applies.")
                        % {"kind": deadline.kind}, code="wrong_stage")
    if round is not None and (round.status != RoundStatus.OPEN or round.closes_at <= now):
        # Ballots are refused from the closing time on, before the sweep
        # tallies: moving it then would reopen a round that has ended.
        return Conflict(_("The round is closed."), code="round_closed")
    if deadline.kind == DeadlineKind.COMPLIANCE and deadline.measure_id is not None:
        # Compliance is recorded under the case's lock, which the service holds here.
        compliance = Measure.objects.values_list("compliance", flat=True).get(pk=deadline.measure_id)
        if compliance not in (Compliance.PENDING, Compliance.OVERDUE):
            return Conflict(_("Compliance with this measure is already recorded."), code="wrong_stage")
    return None


def extension_refusal(deadline: Deadline, *, case: Case, round: Round | None, now: datetime) -> Conflict | None:
    if deadline.status == DeadlineStatus.MET:
        return Conflict(_("This deadline is met; there is nothing to extend."))
    if deadline.status == DeadlineStatus.PAUSED:
        # One way to move a paused clock: resuming it. Extending it too would
        # leave "how long was it paused" and "what was the new date" ambiguous.
        return Conflict(_("This deadline is paused; resume it before extending it."), code="paused")
    return _deadline_applies_refusal(deadline, case=case, round=round, now=now)


def pause_refusal(deadline: Deadline, *, case: Case, round: Round | None, now: datetime) -> Conflict | None:
    """Only a running clock that has not run out yet can be stopped: a missed
    one is extended instead, and one already due is the sweep's."""
    if deadline.status == DeadlineStatus.PAUSED:
        return Conflict(_("This deadline is already paused."), code="paused")
    if deadline.status not in (DeadlineStatus.PENDING, DeadlineStatus.EXTENDED):
        return Conflict(_("Only a running deadline can be paused; this one is already met or missed."),
                        code="not_running")
    if deadline.due_at <= now:
        return Conflict(_("This deadline has already passed; extend it instead."), code="due")
    return _deadline_applies_refusal(deadline, case=case, round=round, now=now)


def resume_refusal(deadline: Deadline) -> Conflict | None:
    # A paused deadline whose stage ended was settled (met) and is no longer
    # paused, so "paused" is the whole check.
    if deadline.status != DeadlineStatus.PAUSED:
        return Conflict(_("This deadline is not paused."), code="not_paused")
    return None


def close_refusal(case: Case) -> Conflict | None:
    if case.stage == Stage.CLOSED:
        return Conflict(_("The case is already closed."))
    if case.stage == Stage.VERIFICATION:
        return Conflict(_("Record the verification first: not_confirmed or unfounded findings close the case."),
                        code="wrong_stage")
    if Round.objects.filter(case=case, status=RoundStatus.OPEN).exists():
        return Conflict(_("A voting round is open; it must close before the case does."), code="round_open")
    if case.stage == Stage.ATTRIBUTION:
        last = Round.objects.filter(case=case).order_by("-number").first()
        if last is None or last.outcome not in (TIE, NO_QUORUM):
            return Conflict(_("A case in attribution closes only after a round that did not decide."),
                            code="wrong_stage")
    elif Measure.objects.filter(case=case, status=MeasureStatus.PROPOSED).exists():
        return Conflict(_("Adopt or reject every proposed measure before closing the case."),
                        code="measures_pending")
    return None


# --- What one person may do on a case ---------------------------------------------------


def case_actions(user, case: Case, *, now: datetime | None = None) -> dict:
    """What `user` may do next on `case`, from the predicates above and the
    same role checks as the services:

    {"case": [names], "measures": {id: [names]}, "deadlines": {id: [names]}}

    Case actions: link_reports, detach_report, record_verification,
    declare_conflict, open_round, cast_ballot, propose_measure, close,
    post_comment (the discussion, at any stage).
    Measure actions: decide (adopt or reject), record_compliance.
    Deadline actions: extend, pause, resume.
    """
    now = now or timezone.now()
    triage, chair, member = has_role(user, VERIFIER, CHAIR), has_role(user, CHAIR), has_role(user, MEMBER)
    names: list[str] = []
    if triage and triage_refusal(case, what="link") is None:
        names.append("link_reports")
        if CaseReport.objects.filter(case=case, detached_at__isnull=True).count() > 1:
            names.append("detach_report")
    if triage and verification_refusal(case) is None:
        names.append("record_verification")
    # Every round of the case in one query: the open one (at most one, a
    # constraint) for the ballot and the conflict, all of them for the
    # chair's vote deadlines below. Each knows its case without a join.
    rounds = list(case.rounds.all())
    open_round = next((rnd for rnd in rounds if rnd.status == RoundStatus.OPEN), None)
    if (member and not ConflictDeclaration.objects.filter(case=case, member=user).exists()
            and conflict_refusal(case, user, open_round=open_round, now=now) is None):
        names.append("declare_conflict")
    if chair and round_open_refusal(case) is None:
        names.append("open_round")
    if member and open_round is not None and ballot_refusal(open_round, user, now=now) is None:
        names.append("cast_ballot")
    if member and measure_propose_refusal(case) is None:
        names.append("propose_measure")
    if chair and close_refusal(case) is None:
        names.append("close")
    if can_post_comment(user):
        names.append("post_comment")
    measures: dict[int, list[str]] = {}
    deadlines: dict[int, list[str]] = {}
    if chair:
        for measure in Measure.objects.filter(case=case).order_by("id"):
            allowed = []
            if measure_decide_refusal(case, measure) is None:
                allowed.append("decide")
            if compliance_refusal(measure) is None:
                allowed.append("record_compliance")
            measures[measure.pk] = allowed
        by_pk = {r.pk: r for r in rounds}
        for deadline in Deadline.objects.filter(case=case).order_by("due_at", "id"):
            rnd = by_pk.get(deadline.round_id) if deadline.kind == DeadlineKind.VOTE else None
            allowed = []
            if extension_refusal(deadline, case=case, round=rnd, now=now) is None:
                allowed.append("extend")
            if pause_refusal(deadline, case=case, round=rnd, now=now) is None:
                allowed.append("pause")
            if resume_refusal(deadline) is None:
                allowed.append("resume")
            deadlines[deadline.pk] = allowed
    return {"case": names, "measures": measures, "deadlines": deadlines}
