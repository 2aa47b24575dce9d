"""A closed round's result says what happened (issue 12, item 3): it names
the party, says why the round closed (early, at its deadline, without
quorum), how many had to vote, and reveals each counted member's ballot with
its rationale. Before the close, no ballot leaves through the API."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from commission import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(case_in):
    return case_in("attribution")


def vote(people, rnd, who, choice, rationale=None):
    services.ballot_cast(actor=people[who], round=rnd, choice=choice,
                         rationale=rationale or f"{who}'s reasons for {choice}.")


def round_json(api, user, rnd) -> dict:
    response = api(user).get(f"/api/v1/rounds/{rnd.pk}/")
    assert response.status_code == 200
    return response.json()


def test_a_round_closed_early_names_the_party_and_says_everyone_voted(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case)
    for who, choice in (("member1", "RU"), ("member2", "RU"), ("member3", "RU"), ("member4", "UA")):
        vote(people, rnd, who, choice)
    result = round_json(api, people["member1"], rnd)["result"]
    assert result["outcome"] == "RU" and result["outcome_name"] == "Russian Federation"
    assert result["closed_because"] == "all_voted"
    assert result["quorum_needed"] == 2 and result["counts"] == {"RU": 3, "UA": 1}


def test_the_revealed_ballots_carry_each_members_choice_and_rationale(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case)
    vote(people, rnd, "member1", "UA", "First thoughts.")
    vote(people, rnd, "member1", "RU", "Changed after the radar log.")  # supersedes the first
    vote(people, rnd, "member2", "RU", "The fragments.")
    vote(people, rnd, "member3", "abstain", "Not enough evidence for me.")
    vote(people, rnd, "member4", "RU", "The launch site.")
    ballots = round_json(api, people["auditor"], rnd)["result"]["ballots"]
    assert [(b["voter"], b["choice"], b["choice_name"], b["rationale"]) for b in ballots] == [
        ("member1", "RU", "Russian Federation", "Changed after the radar log."),
        ("member2", "RU", "Russian Federation", "The fragments."),
        ("member3", "abstain", "Abstain", "Not enough evidence for me."),
        ("member4", "RU", "Russian Federation", "The launch site."),
    ]
    # The superseded ballot is not the result.
    assert "First thoughts." not in json.dumps(ballots)


def test_a_round_closed_at_its_deadline_says_so(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1))
    for who in ("member1", "member2"):
        vote(people, rnd, who, "UA")
    assert services.round_close_due(round_id=rnd.pk, now=rnd.closes_at)
    result = round_json(api, people["chair"], rnd)["result"]
    assert result["closed_because"] == "deadline" and result["outcome_name"] == "Ukraine"
    assert [b["voter"] for b in result["ballots"]] == ["member1", "member2"]


def test_a_round_without_quorum_says_so_in_words(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1),
                              quorum="0.75")
    vote(people, rnd, "member1", "RU")
    assert services.round_close_due(round_id=rnd.pk, now=rnd.closes_at)
    body = round_json(api, people["member2"], rnd)
    assert body["closed_because"] == "deadline"  # the round's own field: when it closed
    result = body["result"]
    assert result["outcome"] == "no_quorum" and result["outcome_name"] == "No quorum"
    assert result["closed_because"] == "no_quorum" and result["quorum_needed"] == 3
    assert body["ballots_cast"] == 1 and body["eligible_count"] == 4


def test_an_undetermined_outcome_is_named_in_the_readers_language(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in ("member1", "member2", "member3", "member4"):
        vote(people, rnd, who, "undetermined")
    client = api(people["member1"])
    assert client.get(f"/api/v1/rounds/{rnd.pk}/").json()["result"]["outcome_name"] == "Undetermined"
    french = client.get(f"/api/v1/rounds/{rnd.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()["result"]
    assert french["outcome_name"] != "Undetermined" and french["ballots"][0]["choice_name"] == french["outcome_name"]


def test_before_the_close_the_api_reveals_no_ballot(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case)
    vote(people, rnd, "member1", "UA", "A secret rationale.")
    vote(people, rnd, "member2", "RU", "Another secret rationale.")
    for who in ("member2", "member3", "chair", "auditor", "verifier"):
        client = api(people[who])
        for url in (f"/api/v1/rounds/{rnd.pk}/", f"/api/v1/cases/{case.pk}/"):
            text = json.dumps(client.get(url).json())
            assert "A secret rationale." not in text, (who, url)
        assert client.get(f"/api/v1/rounds/{rnd.pk}/").json()["result"] is None


def test_the_case_answer_carries_the_revealed_result_too(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in ("member1", "member2", "member3", "member4"):
        vote(people, rnd, who, "RU")
    rounds = api(people["member1"]).get(f"/api/v1/cases/{case.pk}/").json()["rounds"]
    assert rounds[0]["result"]["outcome_name"] == "Russian Federation" and len(rounds[0]["result"]["ballots"]) == 4


def test_a_recused_members_ballot_is_not_revealed_as_counted(api, people, case):
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(hours=1))
    services.conflict_declare(actor=people["member4"], case=case, reason="Advised the party.")
    for who in ("member1", "member2", "member3"):
        vote(people, rnd, who, "RU")
    result = round_json(api, people["member1"], rnd)["result"]
    assert result["closed_because"] == "all_voted" and [b["voter"] for b in result["ballots"]] == [
        "member1", "member2", "member3"]
