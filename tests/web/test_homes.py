"""Each person's home lists exactly what waits for them, from the same
predicates the services check."""

import pytest

from commission import services

pytestmark = pytest.mark.django_db


def home(web, user, language="en") -> str:
    return web(user).get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_the_chairs_home_lists_a_verified_case_waiting_for_a_round(people, case_in, web):
    case = case_in("attribution")
    page = home(web, people["chair"])
    assert "Verified cases waiting for a round" in page and case.reference in page and "a round may open" in page
    services.round_open(actor=people["chair"], case=case)
    assert "Verified cases waiting for a round" not in home(web, people["chair"])


def test_a_case_held_back_by_the_reply_window_says_so_on_the_chairs_home(people, representatives, case_naming, web):
    case = case_naming("RU")
    page = home(web, people["chair"])
    assert case.reference in page and "held back by the parties' reply window until" in page


def test_each_case_waiting_for_a_round_shows_its_own_reply_window(people, representatives, case_naming, web):
    # The windows of the listed cases are read in one query: each must land on its own case.
    free = case_naming("RU", title="Shelling of Kupiansk")
    services.reply_submit(actor=representatives["RU"], case=free, text="We deny it.")  # the window closes early
    held = case_naming("RU", title="Strikes on Huliaipole")
    page = home(web, people["chair"])
    items = {ref: page[page.index(ref):].split("</li>", 1)[0] for ref in (free.reference, held.reference)}
    assert "a round may open" in items[free.reference]
    assert "held back by the parties' reply window until" in items[held.reference]


def test_nobody_but_the_chair_is_shown_cases_waiting_for_a_round(people, case_in, web):
    case_in("attribution")
    for who in ("member1", "verifier", "auditor"):
        assert "Verified cases waiting for a round" not in home(web, people[who])


def test_a_recused_member_is_not_asked_to_vote(people, case_in, web):
    rnd = services.round_open(actor=people["chair"], case=case_in("attribution"))
    recused = home(web, people["member5"])
    assert "Rounds awaiting your ballot" not in recused
    assert "Deadlines coming" not in recused  # no "Vote, due in 6 days"
    voter = home(web, people["member1"])
    assert "Rounds awaiting your ballot" in voter and "Deadlines coming" in voter
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="radar tracks")
    voted = home(web, people["member1"])
    assert "Rounds awaiting your ballot" not in voted and "Deadlines coming" not in voted


def test_a_verifier_is_not_shown_the_votes_deadlines(people, case_in, web):
    services.round_open(actor=people["chair"], case=case_in("attribution"))
    assert "Deadlines coming" not in home(web, people["verifier"])
    case_in("verification")
    assert "Deadlines coming" in home(web, people["verifier"])


def test_the_chairs_home_lists_measures_awaiting_a_decision(people, case_in, web):
    case = case_in("measures")
    services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                             description="Targeted sanctions on the battery's unit.")
    page = home(web, people["chair"])
    assert "Measures awaiting your decision" in page and "Targeted sanctions on the battery" in page
    assert "Measures awaiting your decision" not in home(web, people["member1"])


def test_the_home_lists_notifications_in_the_readers_language(people, case_in, web):
    case = case_in("attribution")
    services.round_open(actor=people["chair"], case=case)
    page = home(web, people["member2"], "uk")
    assert f"{case.reference}: раунд 1 відкрито" in page


def test_a_case_where_every_member_declared_a_conflict_says_no_member_is_eligible(people, case_in, web):
    # The eligibility of the listed cases is read for all of them at once: each case keeps its own conflicts.
    conflicted, free = case_in("attribution"), case_in("attribution")
    for name in ("member1", "member2", "member3", "member4"):  # member5 is UA's: recused already
        services.conflict_declare(actor=people[name], case=conflicted, reason="I served on this sector.")
    page = home(web, people["chair"])
    items = {case.reference: page[page.index(case.reference):].split("</li>", 1)[0] for case in (conflicted, free)}
    assert "No member is eligible to vote on this case." in items[conflicted.reference]
    assert "a round may open" in items[free.reference]


def test_the_chairs_home_costs_the_same_queries_for_one_or_ten_cases_waiting_for_a_round(people, case_in, web):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web(people["chair"])

    def queries() -> int:
        client.get("/")
        with CaptureQueriesContext(connection) as ctx:
            client.get("/")
        return len(ctx.captured_queries)

    case_in("attribution")
    one = queries()
    for _ in range(9):
        case_in("attribution")
    assert home(web, people["chair"]).count("a round may open") == 10
    assert queries() == one
