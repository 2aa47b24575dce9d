"""Reads of the commission's workflow, scoped to who is asking.

Verifiers, the chair, members and auditors read every case (the commission's
work is shared among them); monitors and anyone else read none. A ballot's
choice is read here only through ballot_own (the voter's own) or once the
round is closed: round_public is what everyone else sees.
"""


from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.roles import AUDITOR, CHAIR, MEMBER, VERIFIER, has_role
from commission.models import (
    UNSETTLED_DEADLINE,
    Ballot,
    Case,
    CaseReport,
    ConflictDeclaration,
    Deadline,
    DeadlineStatus,
    Measure,
    Round,
    RoundStatus,
    RoundVoter,
    Stage,
)
from commission.selectors.discussion import (
    choice_name,
    quorum_needed,
    result_closed_because,
    round_revealed_ballots,
)
from reports.models import Report, ReportStatus

READERS = (VERIFIER, CHAIR, MEMBER, AUDITOR)


def can_read_cases(user) -> bool:
    return has_role(user, *READERS)


def case_list_for(user, *, stage: str | None = None, flagged: bool | None = None) -> QuerySet[Case]:
    if not can_read_cases(user):
        return Case.objects.none()
    # The count as a subquery per listed case, not a join and GROUP BY over
    # every case: a page of 50 reads the links of those 50 only (the
    # case_id index), so the list pages by keyset however many cases exist.
    live = (CaseReport.objects.filter(case=OuterRef("pk"), detached_at__isnull=True).order_by()
            .values("case").annotate(n=Count("pk")).values("n"))
    qs = Case.objects.select_related("attributed_party", "opened_by").annotate(
        report_count=Coalesce(Subquery(live), 0))
    if stage:
        qs = qs.filter(stage=stage)
    if flagged is not None:
        qs = qs.filter(flagged=flagged)
    return qs.order_by("-id")


def case_get_for(user, pk) -> Case | None:
    if not can_read_cases(user):
        return None
    return (Case.objects.select_related("attributed_party", "opened_by", "verifier", "verified_by", "closed_by")
            .filter(pk=pk).first())


def case_reports(case: Case) -> QuerySet[Report]:
    return (Report.objects.filter(case_links__case=case, case_links__detached_at__isnull=True)
            .select_related("alleged_party", "author").order_by("id"))


def case_links(case: Case) -> QuerySet[CaseReport]:
    """Every link, detached ones included (who detached, when, why)."""
    return CaseReport.objects.filter(case=case).select_related("report", "linked_by", "detached_by").order_by("id")


def case_of_report(report: Report) -> Case | None:
    link = CaseReport.objects.filter(report=report, detached_at__isnull=True).select_related("case").first()
    return link.case if link else None


def case_rounds(case: Case) -> QuerySet[Round]:
    return Round.objects.filter(case=case).annotate(ballots_cast=_ballots_cast()).order_by("id")


def case_measures(case: Case) -> QuerySet[Measure]:
    return Measure.objects.filter(case=case).select_related("addressee", "proposed_by", "decided_by").order_by("id")


def case_deadlines(case: Case) -> QuerySet[Deadline]:
    # Through the related manager, so each deadline knows its case without a query.
    return case.deadlines.order_by("due_at", "id")


def case_conflicts(case: Case) -> QuerySet[ConflictDeclaration]:
    return ConflictDeclaration.objects.filter(case=case).select_related("member").order_by("id")


def case_object_refs_by_reference(reference: str) -> list[tuple[str, str]] | None:
    """The trail's case scope (audit.scopes, registered in commission/apps.py):
    None when no case has this reference."""
    case = Case.objects.filter(reference=reference).first()
    return None if case is None else case_object_refs(case)


def case_object_refs(case: Case) -> list[tuple[str, str]]:
    """Every (object_type, object_id) whose events belong to the case's trail:
    the case, its reports (linked now or ever) and their evidence, rounds,
    ballots, measures and deadlines."""
    refs = [("case", str(case.pk))]
    report_ids = list(CaseReport.objects.filter(case=case).values_list("report_id", flat=True).distinct())
    refs += [("report", str(i)) for i in report_ids]
    from reports.models import Evidence

    refs += [("evidence", str(i)) for i in Evidence.objects.filter(report_id__in=report_ids).values_list("pk", flat=True)]
    round_ids = list(Round.objects.filter(case=case).values_list("pk", flat=True))
    refs += [("round", str(i)) for i in round_ids]
    refs += [("ballot", str(i)) for i in Ballot.objects.filter(round_id__in=round_ids).values_list("pk", flat=True)]
    refs += [("measure", str(i)) for i in Measure.objects.filter(case=case).values_list("pk", flat=True)]
    refs += [("deadline", str(i)) for i in Deadline.objects.filter(case=case).values_list("pk", flat=True)]
    return refs


# --- Rounds and ballots ---------------------------------------------------------------


def _ballots_cast():
    # Turnout only: current ballots of voters still eligible. Never the choices.
    return Count("ballots", filter=Q(ballots__superseded=False), distinct=True)


def round_get_for(user, pk) -> Round | None:
    if not can_read_cases(user):
        return None
    return Round.objects.select_related("case").annotate(ballots_cast=_ballots_cast()).filter(pk=pk).first()


def round_open_for_case(case: Case) -> Round | None:
    return Round.objects.filter(case=case, status=RoundStatus.OPEN).annotate(ballots_cast=_ballots_cast()).first()


def round_public(rnd: Round) -> dict:
    """What anyone allowed to read the case sees of a round: turnout while it
    is open, the result once it is closed. No choice ever leaves through here
    while the round is open."""
    closed = rnd.status == RoundStatus.CLOSED
    ended = rnd.status != RoundStatus.OPEN  # closed, or held without a result
    cast = getattr(rnd, "ballots_cast", None)
    if cast is None:
        cast = Ballot.objects.filter(round=rnd, superseded=False).count()
    return {
        "id": rnd.pk, "case": rnd.case_id, "number": rnd.number, "status": rnd.status,
        "opened_at": rnd.opened_at, "closes_at": rnd.closes_at, "quorum": rnd.quorum, "threshold": rnd.threshold,
        "eligible_count": rnd.eligible_count, "ballots_cast": cast,
        "closed_at": rnd.closed_at if ended else None,
        "closed_because": rnd.closed_because if ended else None,
        "result": _result(rnd) if closed else None,
    }


def _result(rnd: Round) -> dict:
    """A closed round's result: the outcome in words, why it closed, how
    many had to vote, and the ballots revealed with their rationales."""
    return {"outcome": rnd.outcome, "outcome_name": choice_name(rnd.outcome), "counts": rnd.counts or {},
            "closed_because": result_closed_because(rnd), "quorum_needed": quorum_needed(rnd),
            "ballots": round_revealed_ballots(rnd)}


def ballot_own(rnd: Round, user) -> dict | None:
    """The voter's own current ballot, opened (they may see their own choice):
    choice, rationale, cast_at, commitment."""
    ballot = Ballot.objects.filter(round=rnd, voter=user, superseded=False).first()
    if ballot is None:
        return None
    opened = ballot.content()
    return {"choice": opened.choice if opened else None, "rationale": opened.rationale if opened else None,
            "cast_at": ballot.cast_at, "commitment": ballot.commitment}


def is_eligible(rnd: Round, user) -> bool:
    return RoundVoter.objects.filter(round=rnd, member=user, recused_at__isnull=True).exists()


def rounds_awaiting_ballot(user) -> QuerySet[Round]:
    """Open rounds where the user is an eligible voter with no ballot yet."""
    if not has_role(user, MEMBER):
        return Round.objects.none()
    voted = Ballot.objects.filter(round=OuterRef("pk"), voter=user)
    # A round whose clock is paused stays open for ballots past its closing time.
    running = Q(closes_at__gt=timezone.now()) | Q(deadline__status=DeadlineStatus.PAUSED)
    return (Round.objects.filter(running, status=RoundStatus.OPEN, voters__member=user,
                                 voters__recused_at__isnull=True)
            .exclude(Exists(voted)).select_related("case").order_by("closes_at"))


# --- Deadlines, triage, notifications ---------------------------------------------------------


def deadline_list_for(user, *, status: str | None = None, case: int | None = None, kind: str | None = None,
                      due_before=None) -> QuerySet[Deadline]:
    if not can_read_cases(user):
        return Deadline.objects.none()
    qs = Deadline.objects.select_related("case")
    if status:
        qs = qs.filter(status=status)
    if case:
        qs = qs.filter(case_id=case)
    if kind:
        qs = qs.filter(kind=kind)
    if due_before is not None:
        qs = qs.filter(due_at__lt=due_before)
    return qs.order_by("due_at", "id")


def deadline_get_for(user, pk) -> Deadline | None:
    return deadline_list_for(user).filter(pk=pk).first()


def deadlines_for_home(user) -> list[Deadline]:
    """The deadlines that wait for this person, missed ones first, then the
    open ones coming soonest. The chair answers for every deadline (and hears
    of every missed one); a verifier for verification (of their cases, or of
    cases nobody verifies yet); a member for the vote of rounds they are a
    voter in and have not voted in yet (never a recused one's), and for the
    measures stage (members propose)."""
    if not can_read_cases(user):
        return []
    qs = Deadline.objects.select_related("case")
    if not has_role(user, CHAIR):
        mine = Q(pk__in=[])
        if has_role(user, VERIFIER):
            mine |= Q(kind="verification") & (Q(case__verifier=user) | Q(case__verifier__isnull=True))
        if has_role(user, MEMBER):
            voter = RoundVoter.objects.filter(round=OuterRef("round_id"), member=user, recused_at__isnull=True)
            voted = Ballot.objects.filter(round=OuterRef("round_id"), voter=user)
            mine |= (Q(kind="vote") & Q(Exists(voter)) & ~Q(Exists(voted))) | Q(kind="measures")
        qs = qs.filter(mine)
    # A missed deadline matters while its case is still flagged (not yet answered by the chair).
    missed = list(qs.filter(status="missed", case__flagged=True).order_by("-due_at")[:10]) if has_role(
        user, CHAIR) else []
    coming = list(qs.filter(status__in=UNSETTLED_DEADLINE).order_by("due_at")[:10])
    return missed + coming


def measures_awaiting_decision(user) -> QuerySet[Measure]:
    """For the chair: proposed measures not yet adopted or rejected."""
    if not has_role(user, CHAIR):
        return Measure.objects.none()
    return (Measure.objects.filter(status="proposed").exclude(case__stage=Stage.CLOSED)
            .select_related("case", "addressee").order_by("proposed_at", "id"))


def inbox_reports(user) -> QuerySet[Report]:
    """Submitted reports not in any case yet (the triage inbox)."""
    if not has_role(user, VERIFIER, CHAIR):
        return Report.objects.none()
    live = CaseReport.objects.filter(report=OuterRef("pk"), detached_at__isnull=True)
    return (Report.objects.filter(status=ReportStatus.SUBMITTED).exclude(Exists(live))
            .select_related("alleged_party", "author").order_by("-submitted_at", "-id"))


def live_case_references(report_ids) -> dict[int, str]:
    """report id -> reference of the case it is in (for duplicate candidates)."""
    return dict(CaseReport.objects.filter(report_id__in=list(report_ids), detached_at__isnull=True)
                .values_list("report_id", "case__reference"))


BOARD_COLUMN_MAX = 30


def board(user, *, per_column: int = BOARD_COLUMN_MAX) -> list[dict]:
    """The chair's board: cases by stage, flagged (missed deadline) first, then
    by the next due deadline, then newest; the first `per_column` of each
    stage (`more`: there are others, which the case list shows). One query
    per column and three for what the cards show, however many cases are open."""
    open_deadlines = Deadline.objects.filter(status__in=UNSETTLED_DEADLINE).order_by("due_at")
    missed = Deadline.objects.filter(status="missed").order_by("-due_at")
    # The case's soonest running deadline (the case_id index of deadlines, per case of the stage).
    next_due = (Deadline.objects.filter(case=OuterRef("pk"), status__in=UNSETTLED_DEADLINE)
                .order_by("due_at").values("due_at")[:1])
    columns = []
    for stage in (Stage.VERIFICATION, Stage.ATTRIBUTION, Stage.MEASURES):
        # Only what a card shows: without the joins to the opener and the
        # party and the long texts, 90 cards cost less to read and to build.
        items = list(case_list_for(user).filter(stage=stage).select_related(None)
                     .only("reference", "title", "stage", "flagged").annotate(next_due=Subquery(next_due))
                     .order_by("-flagged", F("next_due").asc(nulls_last=True), "-id")[:per_column + 1])
        columns.append({"stage": stage, "cases": items[:per_column], "more": len(items) > per_column})
    prefetch_related_objects(
        [c for col in columns for c in col["cases"]],
        Prefetch("deadlines", queryset=open_deadlines, to_attr="open_deadlines"),
        Prefetch("deadlines", queryset=missed, to_attr="missed_deadlines"),
        Prefetch("rounds", queryset=Round.objects.filter(status=RoundStatus.OPEN), to_attr="open_rounds"),
    )
    return columns


# --- Reads for the API (commission.api.*) --------------------------------------------------------


def case_list_with_deadlines_for(user, *, stage: str | None = None, flagged: bool | None = None) -> QuerySet[Case]:
    """case_list_for with each case's deadlines prefetched: one query for a
    whole page, however many cases it holds."""
    return case_list_for(user, stage=stage, flagged=flagged).prefetch_related(
        Prefetch("deadlines", queryset=Deadline.objects.order_by("due_at", "id")))


def measure_get_for(user, pk) -> Measure | None:
    if not can_read_cases(user):
        return None
    return Measure.objects.select_related("case", "addressee", "proposed_by", "decided_by").filter(pk=pk).first()


def conflict_of(case: Case, member) -> ConflictDeclaration | None:
    return ConflictDeclaration.objects.filter(case=case, member=member).first()
