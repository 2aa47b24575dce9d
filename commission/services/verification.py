"""Verification findings: confirmed moves the case to attribution;
not_confirmed and unfounded close it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import CHAIR, VERIFIER
from audit.services import audit_record
from commission.models import Case, DeadlineKind, Stage, VerificationOutcome
from commission.selectors import verification_refusal
from commission.services.base import locked_case, require, text
from commission.services.closure import close_locked
from commission.services.deadlines import settle_open_deadlines
from commission.services.replies import reply_window_open


def verification_record(*, actor, case: Case, outcome: str, findings: str) -> Case:
    require(actor, VERIFIER, CHAIR, what=gettext_noop("record verification findings"))
    if outcome not in VerificationOutcome.values:
        raise ValidationError({"outcome": [
            _("Must be one of %(choices)s.") % {"choices": ", ".join(VerificationOutcome.values)}]})
    findings = text(findings, field="findings")
    now = timezone.now()
    with transaction.atomic():
        case = locked_case(case.pk)
        refusal = verification_refusal(case)
        if refusal is not None:
            raise refusal
        before = {"stage": case.stage}
        case.verification_outcome = outcome
        case.findings = findings
        case.verified_by = actor
        case.verified_at = now
        # Late findings answer a missed verification deadline: the flag is for what still waits.
        case.flagged = False
        case.save(update_fields=["verification_outcome", "findings", "verified_by", "verified_at", "flagged"])
        confirmed = outcome == VerificationOutcome.CONFIRMED
        if confirmed:
            case.move_to(Stage.ATTRIBUTION, now=now)
        audit_record(actor=actor, action="verification.recorded", object_type="case", object_id=case.pk,
                     before=before, after={"outcome": outcome, "findings": findings,
                                           "stage": Stage.ATTRIBUTION if confirmed else Stage.CLOSED})
        settle_open_deadlines(case, kinds=[DeadlineKind.VERIFICATION], actor=actor, now=now)
        if confirmed:
            reply_window_open(case, actor=actor, now=now)
        if not confirmed:
            close_locked(case, actor=actor, outcome=outcome, now=now)
    return case
