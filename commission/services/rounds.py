"""Attribution rounds: opened by the chair, sealed ballots cast by eligible
members, tallied at the closing time or once everyone has voted."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Party
from accounts.roles import CHAIR, MEMBER
from audit.services import audit_record
from commission.models import (
    UNSETTLED_DEADLINE,
    Ballot,
    Case,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Round,
    RoundStatus,
    RoundVoter,
    Stage,
    Threshold,
)
from commission.sealing import seal
from commission.selectors import (
    ballot_choices,
    ballot_refusal,
    ballots_not_matching_trail,
    eligible_members,
    recused_members,
    reply_window_refusal,
    round_clock_paused,
    round_open_refusal,
    waiting_parties,
)
from commission.services.base import auditors, chairs, future, iso, locked_case, require, text
from commission.services.closure import close_locked
from commission.services.deadlines import deadline_create, deadline_settle, settle_open_deadlines
from commission.services.notify import notify_about
from commission.tally import NO_QUORUM, TIE, UNDETERMINED, commitment, tally


def _quorum(value) -> Decimal:
    try:
        quorum = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"quorum": [_("A number between 0 (excluded) and 1.")]})
    if not quorum.is_finite() or quorum <= 0 or quorum > 1 or quorum != quorum.quantize(Decimal("0.001")):
        raise ValidationError({"quorum": [_("A number between 0 (excluded) and 1, with at most 3 decimals.")]})
    return quorum


def round_open(*, actor, case: Case, closes_at: datetime | None = None, quorum=Decimal("0.5"),
               threshold: str = Threshold.SIMPLE, override_reason: str = "") -> Round:
    """Open an attribution round. While the parties' reply window holds it
    back (open, and a called party has not replied), only with
    `override_reason`: the round's event records it (reason, and
    after.reply_window_overridden with the parties not heard)."""
    require(actor, CHAIR, what=gettext_noop("open a voting round"))
    override_reason = text(override_reason, field="override_reason", required=False)
    now = timezone.now()
    closes_at = future(closes_at, field="closes_at", now=now) if closes_at else now + settings.DEADLINE_VOTE
    quorum = _quorum(quorum if quorum is not None else Decimal("0.5"))
    if threshold not in Threshold.values:
        raise ValidationError({"threshold": [
            _("Must be one of %(choices)s.") % {"choices": ", ".join(Threshold.values)}]})
    with transaction.atomic():
        case = locked_case(case.pk)
        refusal = round_open_refusal(case)
        if refusal is not None:
            raise refusal
        unheard = []
        held = reply_window_refusal(case, now=now)
        if held is not None:
            if not override_reason:
                raise held
            unheard = list(waiting_parties(case).values_list("code", flat=True))
        voters = list(eligible_members(case))  # not empty: round_open_refusal checked
        number = Round.objects.filter(case=case).count() + 1
        rnd = Round.objects.create(case=case, number=number, opened_by=actor, closes_at=closes_at, quorum=quorum,
                                   threshold=threshold, eligible_count=len(voters))
        RoundVoter.objects.bulk_create([RoundVoter(round=rnd, member=v) for v in voters])
        audit_record(actor=actor, action="round.opened", object_type="round", object_id=rnd.pk,
                     after={"case": case.reference, "number": number, "closes_at": iso(closes_at),
                            "quorum": str(quorum), "threshold": threshold, "eligible_count": len(voters),
                            "eligible": [v.username for v in voters], "recused": recused_members(case),
                            **({"reply_window_overridden": {"unheard": unheard}} if unheard else {})},
                     reason=override_reason if unheard else "")
        deadline_create(case=case, kind=DeadlineKind.VOTE, due_at=closes_at, actor=actor, round=rnd)
        case.flag(False)  # a new round is the chair's answer to the escalation
        # The voters only: a recused member has nothing to do in this round.
        notify_about(case, recipients=voters, kind="round_opened", key=f"round:{rnd.pk}:opened",
                     params={"number": number, "closes_at": iso(closes_at)})
    return rnd


@dataclass
class BallotReceipt:
    ballot: Ballot
    round: Round
    changed: bool


def ballot_cast(*, actor, round: Round, choice: str, rationale: str, now: datetime | None = None) -> BallotReceipt:
    """Cast or change the actor's sealed ballot. The round's row lock orders
    ballots and the close: a ballot either commits before the close (and is
    counted) or sees the round closed (and gets 409). `now` (default: the
    clock, read after the locks) is the time the closing time is compared with."""
    require(actor, MEMBER, what=gettext_noop("vote"))
    if not isinstance(choice, str) or choice not in ballot_choices():
        raise ValidationError({"choice": [_("Must be a party code, undetermined or abstain.")]})
    rationale = text(rationale, field="rationale")
    with transaction.atomic():
        locked_case(round.case_id)
        rnd = Round.objects.select_for_update().select_related("case").get(pk=round.pk)
        now = now or timezone.now()
        refusal = ballot_refusal(rnd, actor, now=now)
        if refusal is not None:
            raise refusal
        current = Ballot.objects.filter(round=rnd, voter=actor, superseded=False).first()
        opened = current.content() if current is not None else None
        if opened is not None and opened.choice == choice and opened.rationale == rationale:
            return BallotReceipt(ballot=current, round=rnd, changed=False)  # a resubmission changes nothing
        if current is not None:
            current.superseded = True
            current.save(update_fields=["superseded"])
        salt = secrets.token_hex(16)
        ballot = Ballot.objects.create(round=rnd, voter=actor, sealed=seal(choice=choice, rationale=rationale, salt=salt),
                                       commitment=commitment(salt, choice, rationale))
        # Sealed: only the commitment goes into the trail; the tally reveals the rest.
        audit_record(actor=actor, action="ballot.changed" if current else "ballot.cast", object_type="ballot",
                     object_id=ballot.pk,
                     after={"round": rnd.pk, "voter": actor.username, "commitment": ballot.commitment})
        close_if_everyone_voted(rnd, now=now)
    return BallotReceipt(ballot=ballot, round=rnd, changed=current is not None)


def close_if_everyone_voted(rnd: Round, *, now: datetime) -> None:
    cast = Ballot.objects.filter(round=rnd, superseded=False, voter__in=RoundVoter.objects.filter(
        round=rnd, recused_at__isnull=True).values("member_id")).count()
    if cast >= rnd.eligible_count:
        _close_locked(rnd, now=now, because="all_voted", email_now=True)


def round_close_due(*, round_id: int, now: datetime | None = None, email_now: bool = True) -> bool:
    """Close a round whose closing time has passed (the sweep's job). Safe to
    run twice: a closed round is left as it is."""
    now = now or timezone.now()
    case_id = Round.objects.values_list("case_id", flat=True).get(pk=round_id)
    with transaction.atomic():
        locked_case(case_id)
        rnd = Round.objects.select_for_update().select_related("case").get(pk=round_id)
        if rnd.status != RoundStatus.OPEN or rnd.closes_at > now:
            return False
        if round_clock_paused(rnd):
            # Paused by the chair after the sweep picked the deadline: the
            # pause took the case's lock first, so it wins.
            return False
        _close_locked(rnd, now=now, because="deadline", email_now=email_now)
    return True


def _hold_locked(rnd: Round, case: Case, *, forged: list[int], now: datetime, because: str,
                 email_now: bool) -> None:
    """A stored ballot no longer matches the commitment the trail recorded
    when it was cast: someone changed it behind the service. Nothing is
    counted or revealed; the round is held, the case flagged, and the chair
    and auditors told. The chair may open a new round."""
    rnd.status = RoundStatus.HELD
    rnd.closed_at = now
    rnd.closed_because = because
    rnd.save(update_fields=["status", "closed_at", "closed_because"])
    audit_record(actor=None, action="round.held", object_type="round", object_id=rnd.pk,
                 before={"status": RoundStatus.OPEN},
                 after={"case": case.reference, "status": RoundStatus.HELD, "closed_because": because,
                        "ballots_not_matching": forged},
                 reason="Stored ballots do not match the commitments recorded in the trail when they were cast.")
    deadline = Deadline.objects.select_for_update().filter(round=rnd, status__in=UNSETTLED_DEADLINE).first()
    if deadline is not None:
        deadline_settle(deadline, case=case, status=DeadlineStatus.MET, actor=None, now=now)
    case.flag()
    notify_about(case, recipients=[*chairs(), *auditors()], kind="round_held", key=f"round:{rnd.pk}:held",
                 params={"number": rnd.number}, email_now=email_now)


def _close_locked(rnd: Round, *, now: datetime, because: str, email_now: bool) -> None:
    """Tally and close. The caller holds the case's and the round's locks, so
    every ballot that will ever be accepted has committed and is visible here."""
    case = Case.objects.select_for_update().get(pk=rnd.case_id)
    voters = set(RoundVoter.objects.filter(round=rnd, recused_at__isnull=True).values_list("member_id", flat=True))
    ballots = list(Ballot.objects.filter(round=rnd).select_related("voter").order_by("id"))
    forged = ballots_not_matching_trail(ballots)
    if forged:
        _hold_locked(rnd, case, forged=forged, now=now, because=because, email_now=email_now)
        return
    finals = [b for b in ballots if not b.superseded and b.voter_id in voters]
    # Opened here, once: the tally is what ballots are sealed for.
    opened = {b.pk: b.content() for b in ballots}
    outcome, counts = tally([opened[b.pk].choice for b in finals], eligible=rnd.eligible_count, quorum=rnd.quorum,
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
                        "ballots": [{"voter": b.voter.username, "choice": opened[b.pk].choice,
                                     "rationale": opened[b.pk].rationale, "salt": opened[b.pk].salt,
                                     "commitment": b.commitment, "final": b.pk in final_ids}
                                    for b in ballots]})
    deadline = Deadline.objects.select_for_update().filter(round=rnd, status__in=UNSETTLED_DEADLINE).first()
    if deadline is not None:
        deadline_settle(deadline, case=case, status=DeadlineStatus.MET, actor=None, now=now)
    # The result, to the round's voters (recused ones included: they know a
    # vote took place) and the chair.
    told = [v.member for v in RoundVoter.objects.filter(round=rnd).select_related("member")]
    notify_about(case, recipients=[*told, *chairs()], kind="round_closed", key=f"round:{rnd.pk}:closed",
                 params={"number": rnd.number, "outcome": outcome, "because": because}, email_now=email_now)
    if outcome in (TIE, NO_QUORUM):
        case.flag()
        notify_about(case, recipients=chairs(), kind="round_escalated", key=f"round:{rnd.pk}:escalated",
                     params={"number": rnd.number, "outcome": outcome}, email_now=email_now)
        return
    if outcome == UNDETERMINED:
        close_locked(case, actor=None, outcome=UNDETERMINED, now=now, email_now=email_now)
        return
    before = {"stage": case.stage}
    case.attributed_party = Party.objects.get(code=outcome)
    case.save(update_fields=["attributed_party"])
    case.move_to(Stage.MEASURES, now=now)
    # A window still open (the chair overrode it) ends with attribution.
    settle_open_deadlines(case, kinds=[DeadlineKind.REPLY], actor=None, now=now)
    audit_record(actor=None, action="case.attributed", object_type="case", object_id=case.pk, before=before,
                 after={"stage": case.stage, "party": outcome, "round": rnd.pk})
    deadline_create(case=case, kind=DeadlineKind.MEASURES, due_at=now + settings.DEADLINE_MEASURES, actor=None)
