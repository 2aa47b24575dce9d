"""Sealed ballots: the trail commits to each choice without revealing it, and
the tally's event reveals everything so that an auditor can recount."""

import importlib.util
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from audit.services import audit_record, trail_seal
from tests.audit.helpers import SCRIPT, commitment, new_salt, run_script

pytestmark = pytest.mark.django_db

ROUND = 11
RATIONALES = {
    "member1": "Radar tracks place the launch site behind RU lines",
    "member2a": "Crater orientation points west",
    "member2b": "On reflection the radar evidence is stronger",
    "member3": "Not enough to decide either way",
}


def _script_module():
    spec = importlib.util.spec_from_file_location("verify_trail", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ballot(people, who, choice, rationale_key, *, changed=False):
    salt = new_salt()
    rationale = RATIONALES[rationale_key]
    digest = commitment(salt, choice, rationale)
    with transaction.atomic():
        audit_record(actor=people[who], action="ballot.changed" if changed else "ballot.cast", object_type="ballot",
                     object_id=f"{ROUND}-{who}",
                     after={"round": ROUND, "voter": people[who].username, "commitment": digest})
    return {"voter": people[who].username, "choice": choice, "rationale": rationale, "salt": salt,
            "commitment": digest}


def _cast_round(people):
    with transaction.atomic():
        audit_record(actor=people["chair"], action="round.opened", object_type="round", object_id=ROUND,
                     after={"quorum": 0.5, "threshold": "simple", "eligible_count": 4})
    revealed = [
        _ballot(people, "member1", "RU", "member1"),
        _ballot(people, "member2", "UA", "member2a"),
        _ballot(people, "member2", "RU", "member2b", changed=True),
        _ballot(people, "member3", "abstain", "member3"),
    ]
    for ballot, final in zip(revealed, [True, False, True, True], strict=True):
        ballot["final"] = final
    return revealed


def _tally(revealed, *, outcome="RU", counts=None):
    with transaction.atomic():
        audit_record(actor=None, action="round.tallied", object_type="round", object_id=ROUND, after={
            "result": {"outcome": outcome, "counts": counts or {"RU": 2, "abstain": 1}},
            "threshold": "simple", "eligible_count": 4, "quorum": 0.5, "ballots": revealed})
    trail_seal()


def _export():
    trail_seal()
    out = StringIO()
    call_command("export_audit", stdout=out)
    return out.getvalue()


def test_ballot_events_reveal_nothing_before_the_tally(people, tmp_path):
    _cast_round(people)
    text = _export()
    for rationale in RATIONALES.values():
        assert rationale not in text
    for event in (json.loads(line) for line in text.splitlines()):
        if event["action"].startswith("ballot."):
            assert set(event["after"]) == {"round", "voter", "commitment"}
            assert "RU" not in json.dumps(event) and "UA" not in json.dumps(event)
    result = run_script(text, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout


def test_commitments_check_out_and_the_tally_recounts_after_it(people, tmp_path):
    revealed = _cast_round(people)
    _tally(revealed)
    result = run_script(_export(), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 tallies recounted" in result.stdout


def test_a_recorded_result_that_the_ballots_do_not_give_is_caught(people, tmp_path):
    revealed = _cast_round(people)
    _tally(revealed, outcome="UA", counts={"UA": 2, "abstain": 1})
    result = run_script(_export(), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "recount gives RU" in result.stdout


def test_a_reveal_that_differs_from_the_sealed_ballot_is_caught(people, tmp_path):
    revealed = _cast_round(people)
    revealed[0]["choice"] = "UA"  # the tally "reveals" another choice than the one committed to
    _tally(revealed, outcome="tie", counts={"RU": 1, "UA": 1, "abstain": 1})
    result = run_script(_export(), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "does not match its commitment" in result.stdout


def test_counting_an_earlier_version_of_a_changed_ballot_is_caught(people, tmp_path):
    revealed = _cast_round(people)
    revealed[1]["final"], revealed[2]["final"] = True, False  # member2's first ballot counted
    _tally(revealed, outcome="tie", counts={"RU": 1, "UA": 1, "abstain": 1})
    result = run_script(_export(), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "is not their last one" in result.stdout


def _b(*choices):
    return [{"choice": c} for c in choices]


@pytest.mark.parametrize(("ballots", "eligible", "quorum", "threshold", "outcome"), [
    (_b("RU", "RU", "UA"), 4, 0.5, "simple", "RU"),
    (_b("RU"), 4, 0.5, "simple", "no_quorum"),  # 1/4 < 0.5
    (_b("RU", "abstain"), 4, 0.5, "simple", "RU"),  # abstain counts toward quorum, not majority
    (_b("abstain", "abstain"), 4, 0.5, "simple", "undetermined"),
    (_b("RU", "UA"), 2, 0.5, "simple", "tie"),
    (_b("RU", "RU", "UA", "UA", "undetermined"), 5, 0.5, "simple", "tie"),
    (_b("RU", "RU", "RU", "UA", "UA", "undetermined", "undetermined"), 7, 0.5, "simple", "tie"),  # 3/7 not > 1/2
    (_b("RU", "RU", "UA"), 3, 0.5, "two_thirds", "RU"),  # 2/3 >= 2/3
    (_b("RU", "RU", "RU", "UA", "UA"), 5, 0.5, "two_thirds", "tie"),  # 3/5 < 2/3
    (_b("undetermined", "undetermined", "RU"), 3, 0.5, "simple", "undetermined"),
    (_b("RU", "RU"), 3, 2 / 3, "simple", "RU"),  # exactly the quorum
    (_b("RU"), 0, 0.5, "simple", "no_quorum"),
])
def test_the_documented_tally_rule(ballots, eligible, quorum, threshold, outcome):
    assert _script_module().tally(ballots, eligible=eligible, quorum=quorum, threshold=threshold)[0] == outcome
