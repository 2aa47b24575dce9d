"""The fast verifier (PostgreSQL, text rows, worker processes) and the portable
check use the one recipe in audit.chain: both accept what the sealer wrote,
down to awkward text, and both name the same first bad seq when it is altered."""

import pytest
from django.db import connection, transaction

from audit import chain, checks, fastverify, triggers
from audit.services import audit_record, trail_seal
from audit.verification import _conninfo, chain_check, chain_verify, sealed_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

AWKWARD = ["plain", 'quote " and \\ backslash', "line\nbreak\ttab\x01\x1f", "Київ ✓ 🇺🇦", ""]


@pytest.fixture
def awkward_trail():
    if connection.vendor != "postgresql":
        pytest.skip("the fast verifier reads PostgreSQL's text rows")
    for i, text in enumerate(AWKWARD):
        with transaction.atomic():
            audit_record(actor=None, action=f"test.{i}", object_type="thing", object_id=i, reason=text,
                         after={"z": [1, 2.5, None, text], "a": {"é": True}, "text": text})
    trail_seal(blocking=True)
    return len(AWKWARD)


def _fast(head, workers=1):
    return fastverify.verify_chain(_conninfo(), head, workers=workers)


def test_the_fast_and_the_portable_check_accept_what_the_sealer_hashed(awkward_trail):
    fast = _fast(awkward_trail)
    portable = chain_check(sealed_rows())
    assert fast["ok"] and fast["checked"] == awkward_trail
    assert portable.ok and portable.checked == awkward_trail
    assert fast["head_hash"] == portable.head_hash


def test_split_into_ranges_it_checks_the_joints_as_one_pass_would(awkward_trail, monkeypatch):
    monkeypatch.setattr(fastverify, "PARALLEL_MIN_EVENTS", 1)
    assert _fast(awkward_trail, workers=2)["ok"]


def test_both_name_the_same_first_bad_seq_when_an_event_is_altered(awkward_trail):
    triggers.drop(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 4")
        fast = _fast(awkward_trail)
        portable = chain_check(sealed_rows())
    finally:
        triggers.install(connection)
    assert not fast["ok"] and fast["first_bad_seq"] == 4 and "altered" in fast["problem"]
    assert not portable.ok and portable.first_bad_seq == 4 and "altered" in portable.problem



def _rows():
    with connection.cursor() as cursor:
        cursor.execute(fastverify.RANGE_SQL, (1, 10**9))
        return cursor.fetchall()


def test_the_hand_written_bytes_are_the_recipes_bytes_on_every_awkward_row(awkward_trail):
    rows = _rows()
    assert len(rows) == awkward_trail
    for row in rows:
        assert fastverify.row_bytes(*row[:-1]) == fastverify.stock_bytes(*row[:-1])


TAMPERING = [
    "UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 3",
    "UPDATE audit_auditevent SET after = '{\"z\": [1, 2.50, null], \"a\": 1e16, \"b\": -0.0}' WHERE seq = 2",
    "UPDATE audit_auditevent SET before = '\"a bare string\"' WHERE seq = 4",
    "UPDATE audit_auditevent SET before = '[1, \"\\u00e9\", {\"k\": false}]' WHERE seq = 1",
    "UPDATE audit_auditevent SET reason = '' WHERE seq = 1",
    "UPDATE audit_auditevent SET actor_username = 'someone \"else\"' WHERE seq = 2",
    "UPDATE audit_auditevent SET object_id = 'x\\ny' WHERE seq = 3",
    "UPDATE audit_auditevent SET after = NULL WHERE seq = 4",
    "UPDATE audit_auditevent SET prev_hash = repeat('0', 64) WHERE seq = 3",
    "UPDATE audit_auditevent SET at = at + interval '1 microsecond' WHERE seq = 5",
    "DELETE FROM audit_auditevent WHERE seq = 2",
    "UPDATE audit_auditevent SET seq = 9 WHERE seq = 5",
]


@pytest.mark.parametrize("sql", TAMPERING)
def test_the_hand_written_path_reaches_the_stock_verdict_on_a_tampered_trail(awkward_trail, sql):
    triggers.drop(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
        rows = _rows()
        stock = fastverify.check_rows(iter(rows), 1, chain.ZERO_HASH, encode=fastverify.stock_bytes)
        hand = fastverify.check_rows(iter(rows), 1, chain.ZERO_HASH, encode=fastverify.row_bytes)
        portable = chain_check(sealed_rows())
    finally:
        triggers.install(connection)
    assert hand == stock
    assert stock["bad"] is not None
    assert hand["bad"] == portable.first_bad_seq


# --- The content checks run beside the chain's workers ------------------------------


@pytest.fixture
def a_failing_check(monkeypatch):
    """A registered content check that fails at seq 2, and counts its runs."""
    runs = []

    def check():
        runs.append(1)
        return checks.CheckOutcome("probe", 1, first_bad_seq=2, problem="seq 2: made to fail")

    monkeypatch.setitem(checks._checks, "probe", (check, None))
    return runs


def test_a_parallel_full_pass_runs_each_content_check_once_and_reports_it(awkward_trail, a_failing_check,
                                                                          monkeypatch):
    monkeypatch.setattr(fastverify, "PARALLEL_MIN_EVENTS", 1)
    report = chain_verify(workers=2)
    assert a_failing_check == [1]
    assert not report.ok and report.first_bad_seq == 2 and report.problem == "probe: seq 2: made to fail"
    assert report.checked == awkward_trail  # the chain itself was checked, and held
    assert {c.name for c in report.checks} >= {"probe", "ballots", "eligibility"}


def test_a_parallel_full_pass_names_a_broken_chain_before_a_failing_content_check(awkward_trail, a_failing_check,
                                                                                 monkeypatch):
    monkeypatch.setattr(fastverify, "PARALLEL_MIN_EVENTS", 1)
    triggers.drop(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 4")
        report = chain_verify(workers=2)
    finally:
        triggers.install(connection)
    assert not report.ok and report.first_bad_seq == 4 and "altered" in report.problem


def _a_trail_whose_first_event_is_an_account():
    with transaction.atomic():
        audit_record(actor=None, action="user.created", object_type="user", object_id=1,
                     after={"username": "m1", "roles": ["member"], "delegation": None, "is_active": True})
    for i in range(3):
        with transaction.atomic():
            audit_record(actor=None, action="test.changed", object_type="thing", object_id=i, after={"i": i})
    trail_seal(blocking=True)


@pytest.mark.parametrize("parallel", [False, True])
def test_a_payload_rewritten_so_that_a_content_check_breaks_is_named_where_it_was_altered(parallel, monkeypatch):
    """The content checks run beside the chain: one that cannot read a
    rewritten payload must not hide the chain's verdict behind an error."""
    if connection.vendor != "postgresql":
        pytest.skip("the fast verifier reads PostgreSQL's text rows")
    _a_trail_whose_first_event_is_an_account()
    if parallel:
        monkeypatch.setattr(fastverify, "PARALLEL_MIN_EVENTS", 1)
    assert chain_verify(workers=2).ok
    triggers.drop(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("""UPDATE audit_auditevent SET after = '{"roles": ["member"]}' WHERE seq = 1""")
        report = chain_verify(workers=2)
    finally:
        triggers.install(connection)
    assert not report.ok and report.first_bad_seq == 1 and "altered" in report.problem


def test_a_content_check_that_breaks_on_an_intact_chain_still_raises(awkward_trail, monkeypatch):
    def broken():
        raise KeyError("username")

    monkeypatch.setitem(checks._checks, "broken", (broken, None))
    monkeypatch.setattr(fastverify, "PARALLEL_MIN_EVENTS", 1)
    with pytest.raises(KeyError):
        chain_verify(workers=2)
