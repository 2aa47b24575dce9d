"""The tally rule, table by table (commission.tally.tally is pure: no database).

The same rule is written in docs/audit.md and repeated by docs/verify_trail.py;
the last test checks that the auditor's copy agrees on every row here."""

import importlib.util
from decimal import Decimal

import pytest

from commission.tally import tally
from tests.audit.helpers import SCRIPT

RU, UA, UND, ABS = "RU", "UA", "undetermined", "abstain"

CASES = [
    # (choices, eligible, quorum, threshold, expected outcome)
    pytest.param([RU, RU, RU], 4, "0.5", "simple", RU, id="a_clear_majority_wins"),
    pytest.param([RU, RU, UA], 4, "0.5", "simple", RU, id="two_of_three_is_more_than_half"),
    pytest.param([RU, UA], 4, "0.5", "simple", "tie", id="one_each_is_a_tie"),
    pytest.param([RU, RU, UA, UA], 4, "0.5", "simple", "tie", id="two_each_is_a_tie"),
    pytest.param([RU, RU, UA, UND], 4, "0.5", "simple", "tie", id="a_plurality_short_of_half_is_a_tie"),
    pytest.param([UND, UND, RU], 4, "0.5", "simple", UND, id="undetermined_can_win_like_a_party"),
    # Quorum: the share of eligible voters who cast a ballot (abstentions included).
    pytest.param([RU, RU], 4, "0.5", "simple", RU, id="exactly_at_quorum_passes"),
    pytest.param([RU], 4, "0.5", "simple", "no_quorum", id="one_under_quorum_fails"),
    pytest.param([RU, RU, RU], 4, "0.75", "simple", RU, id="exactly_three_quarters_passes"),
    pytest.param([RU, RU], 4, "0.75", "simple", "no_quorum", id="one_under_three_quarters_fails"),
    pytest.param([RU, RU, ABS], 4, "0.75", "simple", RU, id="abstentions_count_for_quorum"),
    pytest.param([RU, ABS, ABS], 4, "0.75", "simple", RU, id="abstentions_do_not_count_for_the_majority"),
    pytest.param([RU, UA, ABS, ABS, ABS], 5, "0.5", "simple", "tie", id="abstentions_do_not_break_a_tie"),
    pytest.param([ABS, ABS, ABS], 4, "0.5", "simple", UND, id="all_abstaining_is_undetermined"),
    pytest.param([], 4, "0.5", "simple", "no_quorum", id="no_ballot_is_no_quorum"),
    pytest.param([], 0, "0.5", "simple", "no_quorum", id="nobody_eligible_is_no_quorum"),
    pytest.param([RU], 1, "1", "simple", RU, id="quorum_of_one_hundred_percent"),
    pytest.param([RU] * 2, 3, "0.667", "simple", "no_quorum", id="two_of_three_is_under_0_667"),
    pytest.param([RU] * 2, 3, "0.666", "simple", RU, id="two_of_three_is_over_0_666"),
    # Two thirds: at least 2/3 of the non-abstaining ballots, compared exactly.
    pytest.param([RU, RU, UA], 3, "0.5", "two_thirds", RU, id="exactly_two_thirds_wins"),
    pytest.param([RU] * 4 + [UA] * 2, 6, "0.5", "two_thirds", RU, id="four_of_six_is_exactly_two_thirds"),
    pytest.param([RU] * 3 + [UA] * 2, 5, "0.5", "two_thirds", "tie", id="three_fifths_is_under_two_thirds"),
    pytest.param([RU] * 7 + [UA] * 4, 11, "0.5", "two_thirds", "tie", id="seven_elevenths_is_just_under"),
    pytest.param([RU] * 200 + [UA] * 101, 301, "0.5", "two_thirds", "tie", id="200_of_301_is_just_under"),
    pytest.param([RU] * 200 + [UA] * 100, 300, "0.5", "two_thirds", RU, id="200_of_300_is_exactly"),
    pytest.param([RU, RU, UA, ABS, ABS], 5, "0.5", "two_thirds", RU, id="two_thirds_ignores_abstentions"),
    pytest.param([RU, RU, UA, UA], 4, "0.5", "two_thirds", "tie", id="two_thirds_tie"),
]


@pytest.mark.parametrize(("choices", "eligible", "quorum", "threshold", "expected"), CASES)
def test_the_tally_follows_the_rule(choices, eligible, quorum, threshold, expected):
    outcome, counts = tally(choices, eligible=eligible, quorum=Decimal(quorum), threshold=threshold)
    assert outcome == expected
    assert sum(counts.values()) == len(choices)
    for choice in set(choices):
        assert counts[choice] == choices.count(choice)


def test_the_counts_list_every_choice_cast_including_abstentions():
    _outcome, counts = tally([RU, ABS, UA, RU, UND], eligible=5, quorum=Decimal("0.5"), threshold="simple")
    assert counts == {RU: 2, UA: 1, UND: 1, ABS: 1}


def test_the_order_of_ballots_does_not_change_the_outcome():
    choices = [RU, UA, RU, ABS, UND, RU, UA]
    results = {tally(order, eligible=7, quorum=Decimal("0.5"), threshold="simple")[0]
               for order in (choices, list(reversed(choices)), sorted(choices))}
    assert results == {"tie"}  # 3 of 6 non-abstaining: not more than half


def test_quorum_as_a_float_string_or_decimal_compares_the_same():
    for quorum in ("0.5", Decimal("0.500"), 0.5):
        assert tally([RU, RU], eligible=4, quorum=quorum, threshold="simple")[0] == RU


@pytest.mark.parametrize(("choices", "eligible", "quorum", "threshold", "expected"), CASES)
def test_the_auditors_script_recounts_the_same(choices, eligible, quorum, threshold, expected):
    spec = importlib.util.spec_from_file_location("verify_trail_copy", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    ballots = [{"choice": c} for c in choices]
    assert script.tally(ballots, eligible=eligible, quorum=quorum, threshold=threshold) == tally(
        choices, eligible=eligible, quorum=Decimal(quorum), threshold=threshold)
