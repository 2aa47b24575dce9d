"""The case's discussion and a closed round's revealed result.

The discussion is the commission's: verifiers, the chair and members write,
auditors read; party representatives and monitors never see it (issue 13:
a party must not read the deliberation about itself), even a person who also
holds a commission role while representing a party. Nothing here touches a
ballot: the thread is shown beside an open round and must never carry one.

A round's ballots are revealed only once it is closed (round_revealed_ballots).
"""

import math
import re

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Party
from accounts.roles import AUDITOR, CHAIR, MEMBER, PARTY_REPRESENTATIVE, VERIFIER, has_role
from commission.models import Ballot, Case, Comment, Round, RoundStatus, RoundVoter
from commission.tally import ABSTAIN, NO_QUORUM, TIE, UNDETERMINED

DISCUSSION_WRITERS = (VERIFIER, CHAIR, MEMBER)
DISCUSSION_READERS = (*DISCUSSION_WRITERS, AUDITOR)
# @username, as Django's usernames are spelled (letters, digits and @.+-_),
# not preceded by a word character (so an e-mail address is no mention).
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


def can_read_discussion(user) -> bool:
    return has_role(user, *DISCUSSION_READERS) and not has_role(user, PARTY_REPRESENTATIVE)


def can_post_comment(user) -> bool:
    return has_role(user, *DISCUSSION_WRITERS) and not has_role(user, PARTY_REPRESENTATIVE)


def comment_list_for(user, case: Case) -> QuerySet[Comment]:
    """Oldest first: a discussion reads in the order it was held."""
    if not can_read_discussion(user):
        return Comment.objects.none()
    return (Comment.objects.filter(case=case).select_related("author", "parent__author")
            .prefetch_related("mentions").order_by("id"))


def mentioned_readers(body: str, *, exclude=()) -> list:
    """The active people named as @username in `body` who may read the
    discussion; other names are left as plain text (nobody is told)."""
    names = {m.rstrip(".") for m in MENTION.findall(body or "")}
    if not names:
        return []
    users = get_user_model().objects.filter(username__in=names, is_active=True).exclude(
        pk__in=[u.pk for u in exclude]).order_by("username")
    return [u for u in users if can_read_discussion(u)]


# --- A closed round's result --------------------------------------------------


def choice_name(choice: str, *, parties: dict[str, str] | None = None) -> str:
    """A ballot's choice or a round's outcome in words: the party's name, or
    what the other values mean in the reader's language. `parties` (code ->
    name) saves a query per name when naming many."""
    words = {UNDETERMINED: _("Undetermined"), ABSTAIN: _("Abstain"), TIE: _("Tie"),
             NO_QUORUM: _("No quorum")}
    if choice in words:
        return str(words[choice])
    if parties is None:
        parties = dict(Party.objects.filter(code=choice).values_list("code", "name"))
    return parties.get(choice) or choice


def result_closed_because(rnd: Round) -> str:
    """Why the round ended, as the result says it: all_voted (early, every
    eligible member had voted), deadline (at its closing time, with quorum)
    or no_quorum (at its closing time, too few had voted)."""
    if rnd.outcome == NO_QUORUM:
        return NO_QUORUM
    return rnd.closed_because


def quorum_needed(rnd: Round) -> int:
    """How many eligible members had to vote: the tally's rule (cast/eligible
    >= quorum), as a count."""
    from fractions import Fraction

    return math.ceil(Fraction(str(rnd.quorum)) * rnd.eligible_count)


def round_revealed_ballots(rnd: Round) -> list[dict] | None:
    """Each counted member's final ballot (voter, choice, rationale), opened
    from its seal, once the round is closed; None while it is open or held.
    Superseded ballots and those of members who recused are not the result
    (the trail's round.tallied event keeps every one)."""
    if rnd.status != RoundStatus.CLOSED:
        return None
    voters = RoundVoter.objects.filter(round=rnd, recused_at__isnull=True).values("member_id")
    finals = (Ballot.objects.filter(round=rnd, superseded=False, voter__in=voters)
              .select_related("voter").order_by("voter__username"))
    parties = dict(Party.objects.values_list("code", "name"))
    revealed = []
    for ballot in finals:
        opened = ballot.content()
        if opened is None:
            continue  # cannot happen for a closed round: a ballot that does not open holds it instead
        revealed.append({"voter": ballot.voter.username,
                         "voter_name": ballot.voter.get_full_name() or ballot.voter.username,
                         "choice": opened.choice, "choice_name": choice_name(opened.choice, parties=parties),
                         "rationale": opened.rationale, "cast_at": ballot.cast_at})
    return revealed
