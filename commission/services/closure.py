"""Closing a case: by the chair with a public summary, by verification
findings that do not confirm, or by a round that found the responsibility
undetermined. One function writes what every close writes."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.roles import CHAIR
from audit.services import audit_record
from commission.models import Case
from commission.selectors.consequences import CLOSE_SETTLES
from commission.services.base import checkpoint_after_commit, locked_case, require, text
from commission.services.deadlines import settle_open_deadlines
from commission.services.notify import notify_about, on_the_case


def close_locked(case: Case, *, actor, outcome: str, now: datetime, summary: str | None = None,
                 email_now: bool = True) -> None:
    """Close a case whose lock the caller holds: the case, its event, the
    deadlines of the stages it leaves, and a signed checkpoint after commit."""
    before = {"stage": case.stage}
    case.close(outcome=outcome, now=now, by=actor, summary=summary)
    after = {"stage": case.stage, "outcome": outcome}
    if summary is not None:
        after["summary"] = summary
    audit_record(actor=actor, action="case.closed", object_type="case", object_id=case.pk, before=before,
                 after=after)
    settle_open_deadlines(case, kinds=CLOSE_SETTLES, actor=actor, now=now)
    notify_about(case, recipients=on_the_case(case), kind="case_closed", key=f"case:{case.pk}:closed",
                 params={"outcome": outcome}, email_now=email_now)
    checkpoint_after_commit()


def case_close(*, actor, case: Case, summary: str) -> Case:
    """The chair closes the case with a public summary: in the measures stage
    once every proposed measure is decided, or in attribution after a round
    that did not decide (tie, no quorum) when the chair gives up on a vote.
    Verification closes a case by its own outcomes. Compliance of adopted
    measures is still followed after the close (their deadlines stay live)."""
    from commission.selectors import case_close_outcome, close_refusal

    require(actor, CHAIR, what=gettext_noop("close cases"))
    summary = text(summary, field="summary")
    now = timezone.now()
    with transaction.atomic():
        case = locked_case(case.pk)
        refusal = close_refusal(case)
        if refusal is not None:
            raise refusal
        close_locked(case, actor=actor, outcome=case_close_outcome(case), now=now, summary=summary)
    return case
