"""The tally: a pure function, so that the service, the tests and the
auditor's script (docs/verify_trail.py, which repeats it without importing
the project) all count the same way. The rule is written in docs/audit.md.
"""

import hashlib
from collections import Counter
from fractions import Fraction

ABSTAIN = "abstain"
UNDETERMINED = "undetermined"
TIE = "tie"
NO_QUORUM = "no_quorum"


def tally(choices: list[str], *, eligible: int, quorum, threshold: str) -> tuple[str, dict[str, int]]:
    """Outcome and counts of the final ballots of a round.

    - no_quorum when fewer than `quorum` of the eligible voters cast a ballot
      (abstentions count as cast), or nobody was eligible;
    - undetermined when every ballot is an abstention;
    - tie when two choices share the top count, or the top choice falls short
      of the threshold among the non-abstaining ballots (more than half for
      "simple", at least two thirds for "two_thirds");
    - otherwise the top choice: a party code, or undetermined.

    Fractions, never floats: 2/3 must compare exactly at the boundary.
    """
    counts = Counter(choices)
    cast = sum(counts.values())
    if eligible <= 0 or Fraction(cast, eligible) < Fraction(str(quorum)):
        return NO_QUORUM, dict(counts)
    votes = {choice: n for choice, n in counts.items() if choice != ABSTAIN}
    if not votes:
        return UNDETERMINED, dict(counts)
    total = sum(votes.values())
    top = max(votes.values())
    leaders = sorted(choice for choice, n in votes.items() if n == top)
    if len(leaders) > 1:
        return TIE, dict(counts)
    decisive = top * 2 > total if threshold == "simple" else top * 3 >= total * 2
    return (leaders[0] if decisive else TIE), dict(counts)


def commitment(salt: str, choice: str, rationale: str) -> str:
    """A sealed ballot's commitment: what the trail holds while the round is
    open, and what the tally checks every stored ballot against (docs/audit.md)."""
    return hashlib.sha256(f"{salt}\n{choice}\n{rationale}".encode()).hexdigest()
