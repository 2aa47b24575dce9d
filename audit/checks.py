"""Checks of what the trail says, beyond its chain, that only the apps above
know how to make: every revealed ballot against its commitment, every tally
recounted, every round's eligibility recomputed (the commission's, registered
in commission/apps.py). The trail knows no app: they register here, and the
trail's verification (audit.verification.chain_verify) runs them after the chain
and the checkpoints, so verify_audit, the API and the trail page give the one
answer docs/verify_trail.py gives.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class CheckOutcome:
    name: str  # e.g. "ballots", shown to auditors
    checked: int  # how many things it checked (rounds recounted, ...)
    first_bad_seq: int | None = None
    problem: str = ""
    # True when an incremental check had no new event for it to read.
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.problem


TrailCheck = Callable[[], CheckOutcome]

# name -> (the check, the actions whose events it reads; None: any)
_checks: dict[str, tuple[TrailCheck, frozenset[str] | None]] = {}


def trail_check_register(name: str, check: TrailCheck, *, actions: tuple[str, ...] | None = None) -> None:
    """`actions`: the events whose arrival can change the check's verdict
    (None: any event). The incremental verification runs a check only when
    one of them arrived after the verified point: the full pass that signed
    the point ran it on everything before."""
    _checks[name] = (check, frozenset(actions) if actions is not None else None)


def trail_checks_run(*, new_actions: set[str] | None = None) -> list[CheckOutcome]:
    """Every registered check; with new_actions (the actions after the
    verified point), those that read none of them are reported as not run
    (checked 0, skipped) instead of re-reading the whole trail."""
    outcomes = []
    for name, (check, actions) in sorted(_checks.items()):
        if new_actions is not None and actions is not None and not (actions & new_actions):
            outcomes.append(CheckOutcome(name, 0, skipped=True))
        else:
            outcomes.append(check())
    return outcomes
