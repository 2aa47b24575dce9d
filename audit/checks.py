"""Checks of what the trail says, beyond its chain, that only the apps above
know how to make: every revealed ballot against its commitment, every tally
recounted, every round's eligibility recomputed (the commission's, registered
in commission/apps.py). The trail knows no app: they register here, and the
trail's verification (audit.selectors.chain_verify) runs them after the chain
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

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.problem


TrailCheck = Callable[[], CheckOutcome]

_checks: dict[str, TrailCheck] = {}


def trail_check_register(name: str, check: TrailCheck) -> None:
    _checks[name] = check


def trail_checks_run() -> list[CheckOutcome]:
    return [check() for _name, check in sorted(_checks.items())]
