"""A ballot edited in the database does not decide a round: the tally checks
every stored ballot against the commitment the trail recorded when it was
cast, and holds the round (nothing counted, nothing revealed) when one does
not match. The forger runs as the database's owner."""

from datetime import timedelta

import pytest
from django.db import connection

from audit.models import AuditEvent
from commission import services
from commission.models import Ballot
from commission.tally import commitment
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def tied_round(people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    for who, choice in (("member1", "RU"), ("member2", "RU"), ("member3", "UA")):
        services.ballot_cast(actor=people[who], round=rnd, choice=choice, rationale=f"{who}: my reasons.")
    return case, rnd


def _close(rnd):
    assert services.round_close_due(round_id=rnd.pk, now=rnd.closes_at + timedelta(seconds=1))
    rnd.refresh_from_db()
    return rnd


def _forge(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_choice_changed_in_the_database_holds_the_round_instead_of_deciding_it(people, tied_round):
    case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member3"])
    _forge("UPDATE commission_ballot SET choice = 'RU' WHERE id = %s", [forged.pk])
    rnd = _close(rnd)
    assert rnd.status == "held" and rnd.outcome == "" and not rnd.counts
    case.refresh_from_db()
    assert case.stage == "attribution" and case.flagged and case.attributed_party is None
    held = AuditEvent.objects.get(action="round.held")
    assert held.after["ballots_not_matching"] == [forged.pk]
    # Nothing is revealed: no tally event, no choice in the trail.
    assert not AuditEvent.objects.filter(action="round.tallied").exists()
    assert "RU" not in str(held.after)
    told = set(Notification.objects.filter(kind="round_held").values_list("recipient__username", flat=True))
    assert told == {"chair", "auditor1"}


def test_a_forger_who_also_recomputes_the_rows_commitment_is_caught_by_the_trails_copy(people, tied_round):
    _case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member3"])
    _forge("UPDATE commission_ballot SET choice = 'RU', commitment = %s WHERE id = %s",
           [commitment(forged.salt, "RU", forged.rationale), forged.pk])
    rnd = _close(rnd)
    assert rnd.status == "held"
    assert AuditEvent.objects.get(action="round.held").after["ballots_not_matching"] == [forged.pk]


def test_a_rationale_rewritten_in_the_database_also_holds_the_round(people, tied_round):
    _case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member1"])
    _forge("UPDATE commission_ballot SET rationale = 'Orders from my capital.' WHERE id = %s", [forged.pk])
    assert _close(rnd).status == "held"


def test_after_a_held_round_the_chair_may_open_a_new_one(people, tied_round):
    case, rnd = tied_round
    _forge("UPDATE commission_ballot SET choice = 'RU' WHERE round_id = %s AND voter_id = %s",
           [rnd.pk, people["member3"].pk])
    _close(rnd)
    second = services.round_open(actor=people["chair"], case=case)
    assert second.number == 2 and second.status == "open"


def test_untouched_ballots_are_counted_as_before(people, tied_round):
    _case, rnd = tied_round
    rnd = _close(rnd)
    assert rnd.status == "closed" and rnd.outcome == "RU" and rnd.counts == {"RU": 2, "UA": 1}


def test_the_api_and_the_case_page_show_a_held_round_without_a_result(people, tied_round, api, client):
    case, rnd = tied_round
    _forge("UPDATE commission_ballot SET choice = 'RU' WHERE round_id = %s AND voter_id = %s",
           [rnd.pk, people["member3"].pk])
    _close(rnd)
    body = api(people["member1"]).get(f"/api/v1/rounds/{rnd.pk}/").json()
    assert body["status"] == "held" and body["result"] is None and body["closed_because"] == "deadline"
    client.force_login(people["chair"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Held" in page and "no longer match the commitments" in page
