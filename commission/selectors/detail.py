"""The read models the API shows whole: a case with its lists and what the
caller may do next, and a round with the caller's own ballot. Serialized
field by field by commission.serializers (CaseDetailSerializer, RoundSerializer)."""

from django.utils.translation import gettext

from accounts.roles import MEMBER, has_role
from commission.models import Case, Round
from commission.selectors.actions import case_actions, recusal_reason
from commission.selectors.reads import (
    ballot_own,
    case_conflicts,
    case_deadlines,
    case_links,
    case_measures,
    case_rounds,
    is_eligible,
    round_public,
)


def case_detail(case: Case, user) -> dict:
    links = list(case_links(case))
    return {
        "case": case,
        "reports": [link.report for link in links if link.detached_at is None],
        "links": links,
        "verification": case if case.verification_outcome else None,
        "rounds": [round_public(r) for r in case_rounds(case)],
        "measures": list(case_measures(case)),
        "deadlines": list(case_deadlines(case)),
        "conflicts": list(case_conflicts(case)),
        "allowed_actions": case_actions(user, case),
    }


def round_for(rnd: Round, user) -> dict:
    """The public round plus the requester's own ballot and eligibility."""
    eligible = is_eligible(rnd, user)
    member = has_role(user, MEMBER)
    reason = None
    if member and not eligible:
        reason = recusal_reason(case=rnd.case, member=user) or gettext("You were not a member when the round opened.")
    return {
        **round_public(rnd),
        "my_ballot": ballot_own(rnd, user) if member else None,
        "eligible": eligible,
        "recused_reason": reason,
    }
