"""Conflicts of interest: a member recuses themself from a case's votes."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.roles import MEMBER
from audit.services import audit_record
from commission.models import Case, ConflictDeclaration, Round, RoundStatus, RoundVoter
from commission.selectors import conflict_refusal, round_accepts_ballots
from commission.services.base import locked_case, require, text
from commission.services.rounds import close_if_everyone_voted


def conflict_declare(*, actor, case: Case, reason: str, now: datetime | None = None) -> ConflictDeclaration:
    """Idempotent. During an open round, a member who has not voted yet
    leaves its eligible voters; one who has voted must ask the chair (their
    ballot is already sealed in)."""
    require(actor, MEMBER, what=gettext_noop("declare a conflict of interest"))
    reason = text(reason, field="reason")
    given = now
    with transaction.atomic():
        case = locked_case(case.pk)
        existing = ConflictDeclaration.objects.filter(case=case, member=actor).first()
        if existing is not None:
            return existing
        open_round = Round.objects.select_for_update().filter(case=case, status=RoundStatus.OPEN).first()
        now = given or timezone.now()  # after the locks: the round's closing time is compared with this
        refusal = conflict_refusal(case, actor, open_round=open_round, now=now)
        if refusal is not None:
            raise refusal
        # A round past its closing time has ended (ballots are refused) even
        # before the sweep tallies it: its eligible voters no longer change
        # (unless its clock is paused: then it has not ended).
        voter = None
        if open_round is not None and round_accepts_ballots(open_round, now=now):
            voter = RoundVoter.objects.filter(round=open_round, member=actor, recused_at__isnull=True).first()
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
            close_if_everyone_voted(open_round, now=now)
    return declaration
