"""Ballots that cannot be forged in place, or read before the close.

Ballot rows are append-only in the database; their choice, rationale and salt
are sealed at rest with BALLOT_SEALING_KEY; and the tally checks every stored
ballot against the commitment the trail recorded when it was cast, holding
the round (nothing counted, nothing revealed) when one does not match. The
forger runs as the database's owner and drops the triggers first."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from commission import services, triggers
from commission.models import Ballot
from commission.sealing import seal
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
    """As the tables' owner: drop the ballots' triggers, then write. The test's
    transaction rolls the dropped triggers back afterwards."""
    triggers.drop(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _reseal(ballot, **changes):
    """What someone holding BALLOT_SEALING_KEY could write: a new sealed value."""
    opened = ballot.content()
    values = {"choice": opened.choice, "rationale": opened.rationale, "salt": opened.salt, **changes}
    return seal(**values), values


# --- At rest ------------------------------------------------------------------------


def test_a_database_reader_sees_neither_choice_nor_rationale_nor_salt(people, tied_round):
    _case, rnd = tied_round
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM commission_ballot WHERE round_id = %s", [rnd.pk])
        rows = " ".join(str(value) for row in cursor.fetchall() for value in row)
    for ballot in Ballot.objects.filter(round=rnd):
        opened = ballot.content()
        assert opened.rationale not in rows and opened.salt not in rows
        assert f'"choice": "{opened.choice}"' not in rows


@pytest.mark.parametrize("sql", [
    "UPDATE commission_ballot SET commitment = 'x' WHERE id = %s",
    "UPDATE commission_ballot SET sealed = 'x' WHERE id = %s",
    "UPDATE commission_ballot SET superseded = true, commitment = 'x' WHERE id = %s",
    "DELETE FROM commission_ballot WHERE id = %s",
])
def test_ballot_rows_are_append_only_for_the_application(people, tied_round, sql):
    _case, rnd = tied_round
    ballot = Ballot.objects.filter(round=rnd).first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.replace("true", "1") if connection.vendor == "sqlite" else sql, [ballot.pk])
    assert Ballot.objects.get(pk=ballot.pk).commitment == ballot.commitment


def test_superseding_a_ballot_is_the_one_update_allowed(people, tied_round):
    _case, rnd = tied_round
    services.ballot_cast(actor=people["member1"], round=rnd, choice="UA", rationale="On reflection.")
    assert Ballot.objects.filter(round=rnd, voter=people["member1"]).count() == 2
    assert Ballot.objects.filter(round=rnd, voter=people["member1"], superseded=False).count() == 1


# --- Forged behind the application's back ------------------------------------------------


def test_a_sealed_value_altered_in_place_does_not_open_and_holds_the_round(people, tied_round):
    case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member3"])
    _forge("UPDATE commission_ballot SET sealed = %s WHERE id = %s", [forged.sealed[:-4] + "AAAA", forged.pk])
    rnd = _close(rnd)
    assert rnd.status == "held" and rnd.outcome == "" and not rnd.counts
    case.refresh_from_db()
    assert case.stage == "attribution" and case.flagged and case.attributed_party is None
    held = AuditEvent.objects.get(action="round.held")
    assert held.after["ballots_not_matching"] == [forged.pk]
    # Nothing is revealed: no tally event.
    assert not AuditEvent.objects.filter(action="round.tallied").exists()
    told = set(Notification.objects.filter(kind="round_held").values_list("recipient__username", flat=True))
    assert told == {"chair", "auditor1"}


def test_a_choice_resealed_with_the_key_holds_the_round_instead_of_deciding_it(people, tied_round):
    case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member3"])
    sealed, _values = _reseal(forged, choice="RU")
    _forge("UPDATE commission_ballot SET sealed = %s WHERE id = %s", [sealed, forged.pk])
    rnd = _close(rnd)
    assert rnd.status == "held"
    assert AuditEvent.objects.get(action="round.held").after["ballots_not_matching"] == [forged.pk]


def test_a_forger_who_also_recomputes_the_rows_commitment_is_caught_by_the_trails_copy(people, tied_round):
    _case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member3"])
    sealed, values = _reseal(forged, choice="RU")
    _forge("UPDATE commission_ballot SET sealed = %s, commitment = %s WHERE id = %s",
           [sealed, commitment(values["salt"], "RU", values["rationale"]), forged.pk])
    rnd = _close(rnd)
    assert rnd.status == "held"
    assert AuditEvent.objects.get(action="round.held").after["ballots_not_matching"] == [forged.pk]


def test_a_rationale_rewritten_with_the_key_also_holds_the_round(people, tied_round):
    _case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member1"])
    sealed, _values = _reseal(forged, rationale="Orders from my capital.")
    _forge("UPDATE commission_ballot SET sealed = %s WHERE id = %s", [sealed, forged.pk])
    assert _close(rnd).status == "held"


def test_after_a_held_round_the_chair_may_open_a_new_one(people, tied_round):
    case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member3"])
    _forge("UPDATE commission_ballot SET sealed = %s WHERE id = %s", [_reseal(forged, choice="RU")[0], forged.pk])
    _close(rnd)
    second = services.round_open(actor=people["chair"], case=case)
    assert second.number == 2 and second.status == "open"


def test_untouched_ballots_are_counted_as_before(people, tied_round):
    _case, rnd = tied_round
    rnd = _close(rnd)
    assert rnd.status == "closed" and rnd.outcome == "RU" and rnd.counts == {"RU": 2, "UA": 1}


def test_the_api_and_the_case_page_show_a_held_round_without_a_result(people, tied_round, api, client):
    case, rnd = tied_round
    forged = Ballot.objects.get(round=rnd, voter=people["member3"])
    _forge("UPDATE commission_ballot SET sealed = %s WHERE id = %s", [_reseal(forged, choice="RU")[0], forged.pk])
    _close(rnd)
    body = api(people["member1"]).get(f"/api/v1/rounds/{rnd.pk}/").json()
    assert body["status"] == "held" and body["result"] is None and body["closed_because"] == "deadline"
    client.force_login(people["chair"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Held" in page and "no longer match the commitments" in page
