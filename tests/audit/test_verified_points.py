"""Verification that stays cheap: a full pass signs a verified point; the
trail page and the verify API check only what follows the newest point, plus
that the point's own event still has the signed hash (docs/security.md,
"What the incremental check does not catch")."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import chain, triggers
from audit.models import AuditEvent, VerifiedPoint
from audit.services import trail_verify
from audit.tasks import verify_trail
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY, record

pytestmark = pytest.mark.django_db

OTHER_KEY = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"  # RFC 8032 test 2


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY


def _tamper(sql, params=()):
    """Change the trail behind the triggers' back, as the tables' owner could
    (rolled back with the test's transaction)."""
    triggers.drop(connection)
    triggers.VERIFIED_POINTS.drop(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rehash_from(seq):
    """A forger with the owner's rights re-hashes from `seq` to the head."""
    from audit.selectors import event_export_dict

    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else chain.ZERO_HASH
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        obj = event_export_dict(event)
        obj.pop("hash")
        obj["prev_hash"] = prev
        prev = chain.event_hash(prev, obj)
        _tamper("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s", [obj["prev_hash"], prev,
                                                                                          event.seq])


def test_a_full_pass_signs_a_verified_point_at_the_head_it_found_intact():
    record(5)
    assert trail_verify(full=True).ok
    point = VerifiedPoint.objects.get()
    assert (point.seq, point.hash) == (5, AuditEvent.objects.get(seq=5).hash)
    assert point.public_key == PUBLIC_KEY
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(bytes.fromhex(PUBLIC_KEY)).verify(
        bytes.fromhex(point.signature),
        chain.verified_point_message(seq=5, hash=point.hash, at=chain.format_at(point.at)))
    assert trail_verify(full=True).ok
    assert VerifiedPoint.objects.count() == 1  # the head did not move: nothing new signed


def test_beat_runs_the_full_pass_and_signs_the_point():
    record(3)
    assert verify_trail() is True
    assert VerifiedPoint.objects.get().seq == 3


def test_after_a_full_pass_the_incremental_check_reads_only_what_follows_the_point():
    record(5)
    trail_verify(full=True)
    record(2)
    report = trail_verify(full=False)
    assert report.ok and report.incremental and report.checked == 2 and report.head_seq == 7
    assert report.as_dict()["verified_point"]["seq"] == 5


def test_the_incremental_check_catches_an_event_altered_after_the_point():
    record(5)
    trail_verify(full=True)
    record(3)
    _tamper("UPDATE audit_auditevent SET reason = 'forged' WHERE seq = 7")
    report = trail_verify(full=False)
    assert report.incremental and not report.ok
    assert report.first_bad_seq == 7 and "altered" in report.problem


def test_the_incremental_check_catches_an_event_removed_after_the_point():
    record(5)
    trail_verify(full=True)
    record(3)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 6")
    report = trail_verify(full=False)
    assert not report.ok and report.first_bad_seq == 6 and "missing" in report.problem


def test_the_incremental_check_catches_a_rewrite_that_moves_the_points_event():
    record(5)
    trail_verify(full=True)
    record(2)
    _tamper("UPDATE audit_auditevent SET reason = 'forged' WHERE seq = 2")
    _rehash_from(2)  # consistent again, but seq 5's hash is no longer the signed one
    report = trail_verify(full=False)
    assert not report.ok and report.first_bad_seq == 5 and "rewritten" in report.problem


def test_the_incremental_check_catches_the_points_own_event_altered_without_rehashing():
    # Its stored hash is still the signed one; its content no longer hashes to it.
    record(5)
    trail_verify(full=True)
    record(1)
    _tamper("UPDATE audit_auditevent SET reason = 'forged' WHERE seq = 5")
    report = trail_verify(full=False)
    assert report.incremental and not report.ok
    assert report.first_bad_seq == 5 and "altered" in report.problem


def test_an_edit_before_the_point_escapes_the_incremental_check_and_fails_the_full_pass():
    # The limit docs/security.md states: the incremental check does not
    # re-read what lies before the point; the full pass (beat, ?full=1) does.
    record(5)
    trail_verify(full=True)
    record(1)
    _tamper("UPDATE audit_auditevent SET reason = 'forged' WHERE seq = 2")
    assert trail_verify(full=False).ok
    full = trail_verify(full=True)
    assert not full.ok and full.first_bad_seq == 2 and "altered" in full.problem
    assert VerifiedPoint.objects.count() == 1  # a failed pass signs nothing


def test_a_point_not_signed_by_the_commissions_key_is_refused():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    record(5)
    trail_verify(full=True)
    record(1)
    # An operator inserts a point further on, signed with a key of their own.
    other = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(OTHER_KEY))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    digest = AuditEvent.objects.get(seq=6).hash
    VerifiedPoint.objects.create(
        seq=6, hash=digest, at=at, public_key=PUBLIC_KEY,
        signature=other.sign(chain.verified_point_message(seq=6, hash=digest, at=chain.format_at(at))).hex())
    report = trail_verify(full=False)
    assert not report.ok and report.first_bad_seq == 6 and "signature is invalid" in report.problem


def test_a_checkpoint_message_signature_is_no_verified_point_signature():
    from audit.keys import signing_key

    record(3)
    digest, at = AuditEvent.objects.get(seq=3).hash, datetime(2026, 1, 1, tzinfo=UTC)
    signature = signing_key().sign(chain.checkpoint_message(seq=3, hash=digest, at=chain.format_at(at))).hex()
    VerifiedPoint.objects.create(seq=3, hash=digest, at=at, public_key=PUBLIC_KEY, signature=signature)
    assert not trail_verify(full=False).ok


@pytest.mark.parametrize("sql", [
    "UPDATE audit_verifiedpoint SET seq = 1",
    "UPDATE audit_verifiedpoint SET hash = repeat('a', 64)",
    "DELETE FROM audit_verifiedpoint",
    pytest.param("TRUNCATE audit_verifiedpoint", marks=pytest.mark.postgres),  # SQLite has no TRUNCATE
])
def test_the_database_refuses_to_change_or_remove_a_verified_point(sql):
    record(3)
    trail_verify(full=True)
    with pytest.raises(DatabaseError, match="verified points are append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(sql)
    assert VerifiedPoint.objects.get().seq == 3


def test_without_a_signing_key_no_point_is_signed_and_every_check_is_full(settings):
    settings.AUDIT_SIGNING_KEY = None
    record(3)
    assert trail_verify(full=True).ok
    assert not VerifiedPoint.objects.exists()
    report = trail_verify(full=False)
    assert report.ok and not report.incremental and report.checked == 3


def _queries(call):
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_the_incremental_check_takes_as_many_queries_for_1_as_for_50_new_events():
    record(5)
    trail_verify(full=True)
    record(1)
    one = _queries(lambda: trail_verify(full=False))
    record(49)
    assert _queries(lambda: trail_verify(full=False)) == one
    assert one <= 20


def test_the_incremental_check_recounts_a_tally_rewritten_and_rehashed_after_the_point(people, case_in):
    import json

    from commission import services

    case = case_in("attribution")
    trail_verify(full=True)  # the point: before the round
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in ("member1", "member2", "member3"):
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale="Radar tracks.")
    services.ballot_cast(actor=people["member4"], round=rnd, choice="UA", rationale="Crater shape.")
    from audit.services import trail_seal

    trail_seal()
    tallied = AuditEvent.objects.get(action="round.tallied")
    after = dict(tallied.after, result={"outcome": "UA", "counts": {"RU": 1, "UA": 3}})
    _tamper("UPDATE audit_auditevent SET after = %s WHERE seq = %s", [json.dumps(after), tallied.seq])
    _rehash_from(tallied.seq)
    report = trail_verify(full=False)
    assert report.incremental and not report.ok
    assert report.first_bad_seq == tallied.seq and "recount gives RU" in report.problem


def test_the_incremental_check_skips_content_checks_no_new_event_feeds():
    record(3)
    trail_verify(full=True)
    record(2)
    report = trail_verify(full=False)
    assert report.ok and {c.name: c.skipped for c in report.checks} == {"ballots": True, "eligibility": True}
    assert {c.name: c.skipped for c in trail_verify(full=True).checks} == {"ballots": False, "eligibility": False}


def test_the_incremental_check_reads_each_new_action_once_not_each_new_event():
    """Which content checks to run is asked of the actions after the point:
    one row per action, whatever the number of events (the model's ordering
    must not join the DISTINCT)."""
    record(5)
    trail_verify(full=True)
    record(49)
    record(1, action="test.other")
    with CaptureQueriesContext(connection) as queries:
        assert trail_verify(full=False).ok
    [asked] = [q["sql"] for q in queries if "DISTINCT" in q["sql"] and '"action"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(asked)
        assert sorted(row[0] for row in cursor.fetchall()) == ["test.changed", "test.other"]
