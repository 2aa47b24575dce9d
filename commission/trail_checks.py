"""What the commission checks in the trail, for the trail's own verification
(registered with audit.checks in commission/apps.py): the app gives the answer
docs/verify_trail.py gives, from the sealed events alone, never from the
commission's tables (those are what a forger would have changed).

- ballots: every ballot revealed by a tally matches its commitment; every
  ballot event of the round is among the revealed ones, as many as were cast;
  each voter's counted ballot is their last; the recount gives the result.
- eligibility: replaying the authority events (accounts.services) and the
  declared conflicts, each round's opening names exactly the eligible and the
  recused members, with the reason. Not recomputed while the trail holds no
  account history (a trail begun before authority changes were audited).
"""

from audit.checks import CheckOutcome
from audit.models import AuditEvent
from commission.tally import commitment, tally

BALLOT_EVENTS = ("ballot.cast", "ballot.changed")
AUTHORITY_EVENTS = ("user.created", "user.roles_changed", "user.delegation_changed", "user.flags_changed",
                    "party.created", "party.delegation_changed", "conflict.declared", "round.opened")


def _events(actions):
    return (AuditEvent.objects.filter(seq__isnull=False, action__in=actions).order_by("seq")
            .values_list("seq", "action", "object_id", "after").iterator(chunk_size=2000))


def ballots_check() -> CheckOutcome:
    cast: dict[str, list[tuple[int, str, str]]] = {}
    rounds = 0
    for seq, action, object_id, after in _events((*BALLOT_EVENTS, "round.tallied")):
        after = after or {}
        if action in BALLOT_EVENTS:
            cast.setdefault(str(after.get("round")), []).append((seq, after.get("voter"), after.get("commitment")))
            continue
        rounds += 1
        problem = _tally_problem(after, cast.get(str(object_id), []))
        if problem:
            return CheckOutcome("ballots", rounds - 1, first_bad_seq=seq, problem=f"seq {seq}: {problem}")
    return CheckOutcome("ballots", rounds)


def _tally_problem(after: dict, cast: list[tuple[int, str, str]]) -> str:
    revealed = after.get("ballots") or []
    by_commitment = {}
    for ballot in revealed:
        if commitment(ballot["salt"], ballot["choice"], ballot["rationale"]) != ballot["commitment"]:
            return f"the revealed ballot of {ballot['voter']} does not match its commitment"
        by_commitment[ballot["commitment"]] = ballot
    last_by_voter = {}
    for ballot_seq, voter, sealed in cast:
        match = by_commitment.get(sealed)
        if match is None or match["voter"] != voter:
            return f"the ballot event at seq {ballot_seq} is not among the tally's revealed ballots"
        last_by_voter[voter] = sealed
    if len(cast) != len(revealed):
        return f"{len(revealed)} ballots revealed but {len(cast)} were cast"
    finals = [b for b in revealed if b["final"]]
    if len({b["voter"] for b in finals}) != len(finals):
        return "a voter has more than one counted ballot"
    for ballot in finals:
        if last_by_voter.get(ballot["voter"]) != ballot["commitment"]:
            return f"the ballot counted for {ballot['voter']} is not their last one"
    outcome, counts = tally([b["choice"] for b in finals], eligible=after["eligible_count"],
                            quorum=after["quorum"], threshold=after["threshold"])
    result = after.get("result") or {}
    said = {k: v for k, v in (result.get("counts") or {}).items() if v}
    if result.get("outcome") != outcome or said != counts:
        return f"the recount gives {outcome} {counts}, the trail says {result.get('outcome')} {said}"
    return ""


def eligibility_check() -> CheckOutcome:
    users: dict[str, dict] = {}
    parties: dict[str, str | None] = {}
    conflicts: dict[str, set[str]] = {}  # case -> members who declared a conflict in it
    standing = None  # (eligible, recused) before conflicts; None: an authority event came since
    rounds = 0
    for seq, action, _object_id, after in _events(AUTHORITY_EVENTS):
        after = after or {}
        if action.startswith("user."):
            user = users.setdefault(after["username"], {"roles": set(), "delegation": None, "is_active": True})
            if "roles" in after:
                user["roles"] = set(after["roles"])
            if action in ("user.created", "user.delegation_changed"):
                user["delegation"] = after.get("delegation")
            if "is_active" in after:
                user["is_active"] = after["is_active"]
            standing = None
        elif action.startswith("party."):
            parties[after["party"]] = after.get("delegation")
            standing = None
        elif action == "conflict.declared":
            conflicts.setdefault(after.get("case"), set()).add(after.get("member"))
        elif action == "round.opened" and users:
            rounds += 1
            # Who stands as a voter changes only with an authority event, and
            # a mission opens tens of thousands of rounds between a few of
            # them: worked out once per change, not once per round.
            if standing is None:
                standing = _standing(users, parties)
            problem = _eligibility_problem(after, users, standing, conflicts.get(after.get("case"), set()))
            if problem:
                return CheckOutcome("eligibility", rounds - 1, first_bad_seq=seq, problem=f"seq {seq}: {problem}")
    return CheckOutcome("eligibility", rounds)


def _standing(users: dict, parties: dict) -> tuple[set[str], dict[str, dict]]:
    """The active members who may vote in any case, and those recused from
    every case because their delegation is a party's."""
    party_of = {delegation: party for party, delegation in parties.items() if delegation}
    eligible, recused = set(), {}
    for name, user in users.items():
        if "member" not in user["roles"] or not user["is_active"]:
            continue
        if user["delegation"] in party_of:
            recused[name] = {"member": name, "reason": "party_delegation", "party": party_of[user["delegation"]]}
        else:
            eligible.add(name)
    return eligible, recused


def _eligibility_problem(after: dict, users: dict, standing: tuple[set[str], dict[str, dict]],
                         conflicted: set[str]) -> str:
    """A party's delegation is recused first; of the others, those who
    declared a conflict in the round's case."""
    eligible, recused = standing
    if conflicted & eligible:
        recused = {**recused, **{name: {"member": name, "reason": "conflict_declared"} for name in conflicted & eligible}}
        eligible = eligible - conflicted
    said_eligible = set(after.get("eligible") or [])
    said_recused = {r["member"]: r for r in after.get("recused") or []}
    unknown = {name for name in said_eligible | set(said_recused) if name not in users}
    if unknown:
        return f"the round names {sorted(unknown)}, whom the trail never gave an account"
    if said_eligible != eligible:
        return f"the round lets {sorted(said_eligible)} vote; the trail's authority events give {sorted(eligible)}"
    if said_recused != recused:
        return "the round's recused members are not those the trail's authority events give"
    return ""
