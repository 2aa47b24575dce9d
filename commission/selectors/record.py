"""The decision record of a case (issue 12, item 4): everything a delegation
signs and files, read in one place so that the page and the PDF show the
same thing (web.record renders both from one template).

Who reads it: whoever reads the case (READERS). Party representatives do
not: the record holds the ballots and the members' rationales, which they
never see on their hearing (commission.selectors.replies).

What it leaves out on purpose: who filed each report. The record goes to
the delegations, parties' included; a monitor's name is a source to protect
(docs/security.md), and the report's reference leads the commission back to
it. Evidence files stay out too (confidential); their count is given.
"""

from django.db.models import Count

from accounts.models import Delegation, Party
from audit.models import AuditEvent, Checkpoint
from audit.selectors import checkpoint_dict, checkpoint_latest, event_list
from commission.models import Ballot, Case, Reply, RoundStatus, RoundVoter, Stage
from commission.selectors.reads import case_deadlines, case_measures, case_object_refs, case_reports, case_rounds


def case_trail_head(case: Case) -> AuditEvent | None:
    """The case's last sealed event: the head of its trail, the one a
    `--case` export ends with (before its checkpoint line)."""
    refs = set(case_object_refs(case))
    return event_list(refs=refs).filter(seq__isnull=False).order_by("-seq").first()


def checkpoint_covering(seq: int | None) -> Checkpoint | None:
    """The latest signed checkpoint, when it covers `seq` (its tree holds
    that event); None otherwise."""
    latest = checkpoint_latest()
    if latest is None or seq is None or latest.seq < seq:
        return None
    return latest


def _party_names() -> dict[str, str]:
    return dict(Party.objects.values_list("code", "name"))


def _person(user) -> dict:
    return {"username": user.username, "name": user.get_full_name() or user.username,
            "delegation": user.delegation.code if getattr(user, "delegation_id", None) else ""}


def revealed_ballots(rnd) -> list[dict]:
    """The ballots a closed round counted (each eligible voter's last one),
    opened: they were revealed in the round's `round.tallied` event. Never
    for an open or held round: nothing is revealed before the tally."""
    if rnd.status != RoundStatus.CLOSED:
        return []
    voters = set(RoundVoter.objects.filter(round=rnd, recused_at__isnull=True).values_list("member_id", flat=True))
    out = []
    for ballot in (Ballot.objects.filter(round=rnd, superseded=False).select_related("voter__delegation")
                   .order_by("voter__username")):
        if ballot.voter_id not in voters:
            continue
        opened = ballot.content()
        out.append({**_person(ballot.voter), "choice": opened.choice if opened else "",
                    "rationale": opened.rationale if opened else "", "cast_at": ballot.cast_at,
                    "commitment": ballot.commitment})
    return out


def case_record(case: Case) -> dict:
    """The record's content. `interim` is True while the case is not closed:
    the document then says, on every page, that it is not a decision."""
    names = _party_names()
    reports = list(case_reports(case).annotate(evidence_count=Count("evidence")))
    rounds = []
    for rnd in case_rounds(case).select_related("opened_by"):
        ballots = revealed_ballots(rnd)
        for b in ballots:
            b["choice_name"] = names.get(b["choice"], "")
        ended = rnd.status != RoundStatus.OPEN
        rounds.append({
            "number": rnd.number, "status": rnd.status, "opened_at": rnd.opened_at, "closes_at": rnd.closes_at,
            "closed_at": rnd.closed_at if ended else None,
            "closed_because": rnd.closed_because if ended else "",
            "eligible_count": rnd.eligible_count, "ballots_cast": rnd.ballots_cast,
            "quorum": rnd.quorum, "quorum_percent": f"{(rnd.quorum * 100).normalize():f}",
            "threshold": rnd.threshold,
            "outcome": rnd.outcome if rnd.status == RoundStatus.CLOSED else "",
            "outcome_name": names.get(rnd.outcome, "") if rnd.status == RoundStatus.CLOSED else "",
            "counts": (rnd.counts or {}) if rnd.status == RoundStatus.CLOSED else {},
            "ballots": ballots,
        })
    measures = [{
        "kind": m.kind, "addressee": m.addressee.code, "addressee_name": m.addressee.name,
        "description": m.description, "status": m.status, "proposed_by": m.proposed_by.username,
        "proposed_at": m.proposed_at, "decided_by": m.decided_by.username if m.decided_by else "",
        "decided_at": m.decided_at, "decision_reason": m.decision_reason, "compliance": m.compliance,
        "compliance_due_at": m.compliance_due_at, "compliance_note": m.compliance_note,
        "compliance_recorded_at": m.compliance_recorded_at,
    } for m in case_measures(case)]
    deadlines = [{"kind": d.kind, "due_at": d.due_at, "status": d.status, "settled_at": d.settled_at}
                 for d in case_deadlines(case)]
    replies = [{"party": r.party.code, "party_name": r.party.name, "text": r.text, "submitted_at": r.submitted_at}
               for r in Reply.objects.filter(case=case).select_related("party").order_by("party__code", "id")]
    head = case_trail_head(case)
    checkpoint = checkpoint_covering(head.seq if head else None)
    return {
        "case": case,
        "interim": case.stage != Stage.CLOSED,
        "attributed_party_name": case.attributed_party.name if case.attributed_party_id else "",
        "verified_by": case.verified_by.username if case.verified_by_id else "",
        "closed_by": case.closed_by.username if case.closed_by_id else "",
        "reports": reports,
        "rounds": rounds,
        "measures": measures,
        "deadlines": deadlines,
        "replies": replies,
        "head": {"seq": head.seq, "hash": head.hash, "at": head.at, "action": head.action} if head else None,
        "checkpoint": checkpoint_dict(checkpoint) if checkpoint else None,
        "latest_checkpoint_seq": None if checkpoint else getattr(checkpoint_latest(), "seq", None),
        "delegations": list(Delegation.objects.order_by("code").values("code", "name")),
    }
