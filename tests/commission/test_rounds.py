"""Attribution rounds at the service level: who may vote, sealed ballots that
can change until the close, how and when a round closes, and what the tally
decides and records."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import roles
from accounts.models import User
from audit.models import AuditEvent
from audit.services import trail_export, trail_seal, trail_verify
from commission import selectors, services
from commission.models import Ballot, Deadline, Round, RoundVoter
from config.errors import Conflict, Forbidden
from notifications.models import Notification
from tests.audit.helpers import lines, run_script

pytestmark = pytest.mark.django_db

VOTERS = ("member1", "member2", "member3", "member4")


def vote(people, rnd, who, choice, rationale=None):
    return services.ballot_cast(actor=people[who], round=rnd, choice=choice,
                                rationale=rationale or f"{who}: the evidence points to {choice}.")


def close_at_deadline(rnd):
    """What the sweep does once the closing time has passed."""
    rnd.refresh_from_db()
    assert services.round_close_due(round_id=rnd.pk, now=rnd.closes_at + timedelta(seconds=1))
    rnd.refresh_from_db()
    return rnd


def extra_member(username, delegation):
    user = User.objects.create_user(username=username, password="x", delegation=delegation,
                                    email=f"{username}@example.org")
    user.groups.add(Group.objects.get_or_create(name=roles.MEMBER)[0])
    return user


@pytest.fixture
def case(case_in):
    return case_in("attribution")


@pytest.fixture
def rnd(people, case):
    return services.round_open(actor=people["chair"], case=case)


# --- Opening a round and who may vote ---------------------------------------------------


def test_the_chair_opens_a_round_with_the_members_less_the_recused(people, case, settings):
    rnd = services.round_open(actor=people["chair"], case=case)
    assert rnd.number == 1 and rnd.status == "open" and rnd.quorum == Decimal("0.5") and rnd.threshold == "simple"
    assert rnd.eligible_count == 4
    assert set(RoundVoter.objects.filter(round=rnd).values_list("member__username", flat=True)) == set(VOTERS)
    assert abs(rnd.closes_at - (timezone.now() + settings.DEADLINE_VOTE)) < timedelta(minutes=1)
    opened = AuditEvent.objects.get(action="round.opened")
    assert opened.after["eligible"] == sorted(VOTERS) and opened.after["eligible_count"] == 4
    # Who could not vote, and why: eligibility can be recomputed from the trail.
    assert opened.after["recused"] == [{"member": "member5", "reason": "party_delegation", "party": "UA"}]
    deadline = Deadline.objects.get(round=rnd)
    assert deadline.kind == "vote" and deadline.due_at == rnd.closes_at and deadline.status == "pending"


def test_a_member_of_a_partys_delegation_is_recused(people, rnd):
    assert not selectors.is_eligible(rnd, people["member5"])
    with pytest.raises(Forbidden) as err:
        vote(people, rnd, "member5", "RU")
    assert "UA" in err.value.message
    assert not Ballot.objects.exists()


def test_a_declared_conflict_excludes_the_member_and_its_reason_is_in_the_trail(people, case):
    services.conflict_declare(actor=people["member2"], case=case, reason="My brother serves in the brigade.")
    rnd = services.round_open(actor=people["chair"], case=case)
    assert rnd.eligible_count == 3 and not selectors.is_eligible(rnd, people["member2"])
    opened = AuditEvent.objects.get(action="round.opened")
    assert {"member": "member2", "reason": "conflict_declared"} in opened.after["recused"]
    event = AuditEvent.objects.get(action="conflict.declared")
    assert event.actor == people["member2"] and event.reason == "My brother serves in the brigade."
    with pytest.raises(Forbidden) as err:
        vote(people, rnd, "member2", "RU")
    assert "conflict" in err.value.message


def test_a_conflict_needs_a_reason_and_is_declared_once(people, case):
    with pytest.raises(ValidationError):
        services.conflict_declare(actor=people["member2"], case=case, reason="  ")
    first = services.conflict_declare(actor=people["member2"], case=case, reason="Family ties.")
    again = services.conflict_declare(actor=people["member2"], case=case, reason="Family ties.")
    assert again.pk == first.pk
    assert AuditEvent.objects.filter(action="conflict.declared").count() == 1


def test_only_members_declare_conflicts(people, case):
    with pytest.raises(Forbidden):
        services.conflict_declare(actor=people["chair"], case=case, reason="I am the chair.")


def test_declaring_a_conflict_before_voting_in_an_open_round_lowers_the_eligible_count(people, rnd, case):
    services.conflict_declare(actor=people["member3"], case=case, reason="Advised the party last year.")
    rnd.refresh_from_db()
    assert rnd.eligible_count == 3 and rnd.status == "open"
    recused = AuditEvent.objects.get(action="round.voter_recused")
    assert recused.before == {"eligible_count": 4} and recused.after["eligible_count"] == 3
    assert recused.reason == "Advised the party last year."
    with pytest.raises(Forbidden):
        vote(people, rnd, "member3", "RU")


def test_declaring_a_conflict_after_voting_is_a_conflict(people, rnd, case):
    vote(people, rnd, "member3", "RU")
    with pytest.raises(Conflict) as err:
        services.conflict_declare(actor=people["member3"], case=case, reason="Too late.")
    assert err.value.status_code == 409 and err.value.code == "already_voted"
    rnd.refresh_from_db()
    assert rnd.eligible_count == 4 and not AuditEvent.objects.filter(action="conflict.declared").exists()


def test_the_last_non_voter_recusing_closes_the_round(people, rnd, case):
    for who in ("member1", "member2", "member3"):
        vote(people, rnd, who, "RU")
    services.conflict_declare(actor=people["member4"], case=case, reason="Conflict of interest.")
    rnd.refresh_from_db()
    assert rnd.status == "closed" and rnd.closed_because == "all_voted" and rnd.outcome == "RU"


def test_eligible_voters_are_fixed_at_opening(people, rnd, delegations):
    newcomer = extra_member("member6", delegations["JP"])
    with pytest.raises(Forbidden) as err:
        services.ballot_cast(actor=newcomer, round=rnd, choice="RU", rationale="I joined yesterday.")
    assert "not a member when the round opened" in err.value.message
    rnd.refresh_from_db()
    assert rnd.eligible_count == 4


@pytest.mark.parametrize("who", ["chair", "verifier", "auditor", "monitor", "outsider"])
def test_only_members_vote(people, rnd, who):
    with pytest.raises(Forbidden):
        vote(people, rnd, who, "RU")


@pytest.mark.parametrize("who", ["verifier", "member1", "auditor"])
def test_only_the_chair_opens_a_round(people, case, who):
    with pytest.raises(Forbidden):
        services.round_open(actor=people[who], case=case)
    assert not Round.objects.exists()


def test_a_round_opens_only_in_attribution(people, case_in):
    with pytest.raises(Conflict):
        services.round_open(actor=people["chair"], case=case_in("verification"))


def test_one_round_at_a_time(people, rnd, case):
    with pytest.raises(Conflict):
        services.round_open(actor=people["chair"], case=case)


@pytest.mark.parametrize(("field", "kwargs"), [
    ("closes_at", {"closes_at": "tomorrow"}),
    ("closes_at", {"closes_at": timezone.now() - timedelta(minutes=1)}),
    ("quorum", {"quorum": 0}),
    ("quorum", {"quorum": "1.5"}),
    ("quorum", {"quorum": "half"}),
    ("quorum", {"quorum": "0.1234"}),
    ("threshold", {"threshold": "unanimous"}),
])
def test_round_settings_are_validated(people, case, field, kwargs):
    with pytest.raises(ValidationError) as err:
        services.round_open(actor=people["chair"], case=case, **kwargs)
    assert field in err.value.message_dict


# --- Ballots ---------------------------------------------------------------------------


@pytest.mark.parametrize("rationale", ["", "   ", None])
def test_a_rationale_is_required(people, rnd, rationale):
    with pytest.raises(ValidationError) as err:
        services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale=rationale)
    assert "rationale" in err.value.message_dict


@pytest.mark.parametrize("choice", ["", "ru", "XX", "tie", "no_quorum", None, 3])
def test_a_choice_is_a_party_code_undetermined_or_abstain(people, rnd, choice):
    with pytest.raises(ValidationError) as err:
        services.ballot_cast(actor=people["member1"], round=rnd, choice=choice, rationale="Because.")
    assert "choice" in err.value.message_dict
    assert not Ballot.objects.exists()


def test_a_changed_ballot_counts_once(people, rnd):
    for choice in ("UA", "undetermined", "UA", "RU"):
        receipt = vote(people, rnd, "member1", choice)
    assert receipt.changed
    assert Ballot.objects.filter(round=rnd, voter=people["member1"]).count() == 4
    assert Ballot.objects.filter(round=rnd, voter=people["member1"], superseded=False).count() == 1
    assert selectors.ballot_own(rnd, people["member1"])["choice"] == "RU"
    assert selectors.round_get_for(people["chair"], rnd.pk).ballots_cast == 1
    vote(people, rnd, "member2", "UA")
    vote(people, rnd, "member3", "RU")
    rnd = close_at_deadline(rnd)
    assert rnd.counts == {"RU": 2, "UA": 1} and rnd.outcome == "RU"


def test_ballot_events_commit_to_the_choice_without_revealing_it(people, rnd):
    for choice in ("UA", "RU", "UA"):
        vote(people, rnd, "member1", choice)
    events = list(AuditEvent.objects.filter(action__startswith="ballot.").order_by("id"))
    assert [e.action for e in events] == ["ballot.cast", "ballot.changed", "ballot.changed"]
    for event in events:
        assert set(event.after) == {"round", "voter", "commitment"} and event.before is None
        assert event.reason == "" and "UA" not in json.dumps(event.after) and "RU" not in json.dumps(event.after)
    assert len({e.after["commitment"] for e in events}) == 3


def test_resubmitting_the_same_ballot_changes_nothing(people, rnd):
    first = vote(people, rnd, "member1", "RU", "Radar tracks.")
    again = vote(people, rnd, "member1", "RU", "Radar tracks.")
    assert not first.changed and not again.changed and again.ballot.pk == first.ballot.pk
    assert Ballot.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="ballot.").count() == 1


def test_the_round_closes_early_when_every_eligible_member_has_voted(people, rnd, case):
    for who in ("member1", "member2", "member3"):
        assert vote(people, rnd, who, "RU").round.status == "open"
    last = vote(people, rnd, "member4", "UA")
    assert last.round.status == "closed"
    rnd.refresh_from_db()
    assert rnd.closed_because == "all_voted" and rnd.outcome == "RU" and rnd.counts == {"RU": 3, "UA": 1}
    assert Deadline.objects.get(round=rnd).status == "met"


def test_a_ballot_after_the_close_is_a_conflict(people, rnd):
    for who in VOTERS:
        vote(people, rnd, who, "RU")
    with pytest.raises(Conflict) as err:
        vote(people, rnd, "member1", "UA")
    assert err.value.status_code == 409 and err.value.code == "round_closed"
    assert Ballot.objects.count() == 4


def test_a_ballot_after_the_closing_time_is_refused_before_the_sweep_closes_the_round(people, case):
    # The clock is the test's: a ballot at the closing time itself, not a sleep through a sub-second window.
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1))
    vote(people, rnd, "member1", "RU")
    for late in (rnd.closes_at, rnd.closes_at + timedelta(microseconds=1)):
        with pytest.raises(Conflict):
            services.ballot_cast(actor=people["member2"], round=rnd, choice="RU", rationale="Too late.", now=late)
    rnd.refresh_from_db()
    assert rnd.status == "open"  # nobody swept yet
    assert services.round_close_due(round_id=rnd.pk, now=rnd.closes_at)
    rnd.refresh_from_db()
    assert rnd.status == "closed" and rnd.closed_because == "deadline" and rnd.counts == {"RU": 1}


def test_closing_due_is_done_once_and_not_before_the_closing_time(people, rnd):
    vote(people, rnd, "member1", "RU")
    assert not services.round_close_due(round_id=rnd.pk, now=rnd.closes_at - timedelta(seconds=1))
    assert services.round_close_due(round_id=rnd.pk, now=rnd.closes_at)
    assert not services.round_close_due(round_id=rnd.pk, now=rnd.closes_at + timedelta(hours=1))
    assert AuditEvent.objects.filter(action="round.tallied").count() == 1


# --- Outcomes -------------------------------------------------------------------------


def test_attribution_to_a_party_moves_the_case_to_measures(people, rnd, case, settings):
    for who, choice in zip(VOTERS, ["RU", "RU", "RU", "UA"], strict=True):
        vote(people, rnd, who, choice)
    case.refresh_from_db()
    rnd.refresh_from_db()
    assert case.stage == "measures" and case.attributed_party.code == "RU" and not case.flagged
    measures = Deadline.objects.get(case=case, kind="measures")
    assert measures.status == "pending" and measures.due_at == rnd.closed_at + settings.DEADLINE_MEASURES
    attributed = AuditEvent.objects.get(action="case.attributed")
    assert attributed.after == {"stage": "measures", "party": "RU", "round": rnd.pk}


def test_undetermined_closes_the_case(people, rnd, case):
    for who, choice in zip(VOTERS, ["undetermined", "undetermined", "undetermined", "RU"], strict=True):
        vote(people, rnd, who, choice)
    case.refresh_from_db()
    assert case.stage == "closed" and case.outcome == "undetermined" and case.attributed_party is None
    assert AuditEvent.objects.filter(action="case.closed", object_id=str(case.pk)).count() == 1


@pytest.mark.parametrize("ending", ["tie", "no_quorum"])
def test_a_tie_or_no_quorum_escalates_to_the_chair_who_may_open_round_two(people, rnd, case, ending):
    if ending == "tie":
        for who, choice in zip(VOTERS, ["RU", "RU", "UA", "UA"], strict=True):
            vote(people, rnd, who, choice)
        rnd.refresh_from_db()
    else:
        vote(people, rnd, "member1", "RU")
        rnd = close_at_deadline(rnd)
    assert rnd.status == "closed" and rnd.outcome == ending
    case.refresh_from_db()
    assert case.stage == "attribution" and case.flagged
    note = Notification.objects.get(kind="round_escalated")
    assert note.recipient == people["chair"] and (note.case_id, note.case_reference) == (case.pk, case.reference) and note.params["outcome"] == ending
    second = services.round_open(actor=people["chair"], case=case)
    assert second.number == 2 and second.eligible_count == 4
    case.refresh_from_db()
    assert not case.flagged  # the new round answers the escalation
    for who in VOTERS:
        vote(people, second, who, "RU")
    case.refresh_from_db()
    assert case.stage == "measures"


def test_exactly_at_quorum_the_round_decides(people, case):
    rnd = services.round_open(actor=people["chair"], case=case, quorum="0.5")
    vote(people, rnd, "member1", "RU")
    vote(people, rnd, "member2", "RU")
    assert close_at_deadline(rnd).outcome == "RU"


def test_one_ballot_under_quorum_is_no_quorum(people, case):
    rnd = services.round_open(actor=people["chair"], case=case, quorum="0.75")
    vote(people, rnd, "member1", "RU")
    vote(people, rnd, "member2", "RU")
    assert close_at_deadline(rnd).outcome == "no_quorum"


def test_abstentions_count_for_quorum_not_for_the_majority(people, case):
    rnd = services.round_open(actor=people["chair"], case=case, quorum="0.75")
    vote(people, rnd, "member1", "RU")
    vote(people, rnd, "member2", "RU")
    vote(people, rnd, "member3", "abstain")
    rnd = close_at_deadline(rnd)
    assert rnd.outcome == "RU" and rnd.counts == {"RU": 2, "abstain": 1}


def test_abstentions_do_not_make_a_majority(people, rnd):
    for who, choice in zip(VOTERS, ["RU", "UA", "abstain", "abstain"], strict=True):
        vote(people, rnd, who, choice)
    rnd.refresh_from_db()
    assert rnd.outcome == "tie"


@pytest.mark.parametrize(("choices", "expected"), [
    (["RU", "RU", "RU", "RU", "UA", "UA"], "RU"),  # 4 of 6: exactly two thirds
    (["RU", "RU", "RU", "UA", "UA", "abstain"], "tie"),  # 3 of 5: under two thirds
    (["RU", "RU", "UA", "abstain", "abstain", "abstain"], "RU"),  # 2 of 3 non-abstaining
])
def test_the_two_thirds_boundary(people, case, delegations, choices, expected):
    voters = [people[w] for w in VOTERS] + [extra_member("member6", delegations["JP"]),
                                             extra_member("member7", delegations["EU"])]
    rnd = services.round_open(actor=people["chair"], case=case, threshold="two_thirds")
    assert rnd.eligible_count == 6
    for voter, choice in zip(voters, choices, strict=True):
        services.ballot_cast(actor=voter, round=rnd, choice=choice, rationale="Weighed the evidence.")
    rnd.refresh_from_db()
    assert rnd.status == "closed" and rnd.outcome == expected


# --- What the tally records -------------------------------------------------------------


def test_the_tally_reveals_every_ballot_and_each_commitment_checks(people, rnd):
    vote(people, rnd, "member1", "UA", "First look.")
    vote(people, rnd, "member1", "RU", "Second look.")
    vote(people, rnd, "member2", "RU")
    vote(people, rnd, "member3", "abstain")
    rnd = close_at_deadline(rnd)
    tallied = AuditEvent.objects.get(action="round.tallied", object_id=str(rnd.pk))
    assert tallied.after["result"] == {"outcome": "RU", "counts": {"RU": 2, "abstain": 1}}
    revealed = tallied.after["ballots"]
    assert len(revealed) == 4 and sum(b["final"] for b in revealed) == 3
    for ballot in revealed:
        assert services.commitment(ballot["salt"], ballot["choice"], ballot["rationale"]) == ballot["commitment"]
    sealed = [e.after["commitment"] for e in AuditEvent.objects.filter(action__startswith="ballot.").order_by("id")]
    assert sealed == [b["commitment"] for b in revealed]
    assert [b for b in revealed if not b["final"]][0]["choice"] == "UA"


def test_the_auditors_script_recounts_a_whole_case_from_its_export(people, case, tmp_path):
    first = services.round_open(actor=people["chair"], case=case)
    for who, choice in zip(VOTERS, ["RU", "RU", "UA", "UA"], strict=True):
        vote(people, first, who, choice)
    second = services.round_open(actor=people["chair"], case=case, threshold="two_thirds")
    vote(people, second, "member1", "UA")
    vote(people, second, "member1", "RU", "Changed my mind after the radar data.")
    for who in ("member2", "member3", "member4"):
        vote(people, second, who, "RU")
    case.refresh_from_db()
    assert case.stage == "measures"
    services.case_close(actor=people["chair"], case=case, summary="Attributed to RU.")

    export = "".join(trail_export(case_reference=case.reference))
    events = lines(export)
    assert {"case.opened", "round.opened", "ballot.cast", "ballot.changed", "round.tallied",
            "case.attributed", "case.closed"} <= {e.get("action") for e in events}
    result = run_script(export, "--partial", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ballots: 2 tallies recounted" in result.stdout and result.stdout.strip().endswith("OK")

    whole = run_script("".join(trail_export()), tmp_path=tmp_path)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert "chain intact" in whole.stdout
    assert trail_verify().ok


def test_a_tampered_tally_is_caught_by_the_auditors_script(people, rnd, case, tmp_path):
    for who, choice in zip(VOTERS, ["RU", "RU", "RU", "UA"], strict=True):
        vote(people, rnd, who, choice)
    trail_seal()
    events = lines("".join(trail_export(case_reference=case.reference)))
    tallied = next(e for e in events if e.get("action") == "round.tallied")
    tallied["after"]["ballots"][3]["choice"] = "RU"  # claim the UA ballot was RU
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    result = run_script(text, "--partial", tmp_path=tmp_path)
    assert result.returncode == 1 and "FAILED" in result.stdout


def test_a_conflict_declared_after_the_closing_time_does_not_change_the_ended_round(people, case):
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1))
    for who in ("member1", "member2", "member3"):
        vote(people, rnd, who, "RU")
    services.conflict_declare(actor=people["member4"], case=case, reason="Declared after the vote ended.",
                              now=rnd.closes_at)
    rnd.refresh_from_db()
    assert rnd.status == "open" and rnd.eligible_count == 4  # the sweep, not the declaration, ends it
    assert not AuditEvent.objects.filter(action="round.voter_recused").exists()
    assert services.round_close_due(round_id=rnd.pk, now=rnd.closes_at)
    rnd.refresh_from_db()
    assert rnd.closed_because == "deadline" and rnd.outcome == "RU"


def test_a_member_may_revise_only_the_reasons_of_a_ballot_until_the_close(people, rnd):
    first = vote(people, rnd, "member1", "RU", rationale="Radar tracks.")
    again = vote(people, rnd, "member1", "RU", rationale="Radar tracks and the crater analysis.")
    assert again.changed and again.ballot.pk != first.ballot.pk
    changed = AuditEvent.objects.get(action="ballot.changed")
    assert changed.after["commitment"] == again.ballot.commitment != first.ballot.commitment
    current = Ballot.objects.get(round=rnd, voter=people["member1"], superseded=False)
    assert current.content().rationale == "Radar tracks and the crater analysis."
