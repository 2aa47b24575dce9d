"""What waits for a person on their home page, from the same predicates the
services check (actions.py, replies.py), so that the home asks nothing the
service would refuse."""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.roles import CHAIR, has_role
from commission.models import Case, Round, RoundStatus, Stage
from commission.selectors.actions import round_open_refusals
from commission.selectors.replies import reply_window_refusal, reply_windows

HOME_AWAITING_ROUND = 10


def cases_awaiting_round(user, *, limit: int = HOME_AWAITING_ROUND) -> list[dict]:
    """For the chair: verified cases in attribution with no open round, each
    with why a round cannot open yet (the parties' reply window holding it
    back, or no eligible member), from the same predicates as round_open."""
    if not has_role(user, CHAIR):
        return []
    open_round = Round.objects.filter(case=OuterRef("pk"), status=RoundStatus.OPEN)
    cases = list(Case.objects.filter(stage=Stage.ATTRIBUTION).exclude(Exists(open_round))
                 # The first few only; the board's attribution column has the rest.
                 .order_by("stage_changed_at", "id")[:limit])
    now = timezone.now()
    windows = reply_windows(cases)  # one query for the ten, each read once for both checks
    refusals = round_open_refusals(cases)  # three queries for the ten
    items = []
    for case in cases:
        window = windows.get(case.pk)
        held = reply_window_refusal(case, now=now, window=window)
        refusal = refusals[case.pk]
        items.append({"case": case, "held_until": window.due_at if held is not None else None,
                      "refusal": str(refusal) if refusal is not None else None})
    return items
