"""The hash chain: the public recipe, verification, checkpoints."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from audit import triggers
from audit.models import AuditEvent
from audit.services import CheckpointsDisabled, audit_record, checkpoint_publish, trail_seal, trail_verify
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY, record

pytestmark = pytest.mark.django_db


def _tamper(sql, params=()):
    """Change the trail behind the triggers' back, as the tables' owner could.
    The test's transaction rolls the dropped triggers back afterwards."""
    triggers.drop(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify_fails():
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())
    return str(failure.value)


def test_sealing_gives_gap_free_seq_and_links_each_event_to_the_one_before():
    record(5, seal=False)
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 5
    assert trail_seal() == 5
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert trail_seal() == 0


def test_the_hash_is_the_public_recipe_over_the_exported_fields(people):
    with transaction.atomic():
        audit_record(actor=people["verifier"], action="case.opened", object_type="case", object_id=42,
                     after={"title": "Shelling near Kupiansk", "n": 1.5, "ok": True}, reason="triage")
    trail_seal()
    out = StringIO()
    call_command("export_audit", stdout=out)
    line = json.loads(out.getvalue().splitlines()[0])
    assert set(line) == {"seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "reason",
                         "prev_hash", "hash"}
    assert line["actor"] == "verifier1" and line["object_id"] == "42" and line["before"] is None
    assert line["at"].endswith("Z") and len(line["at"]) == len("2026-11-24T10:00:00.123456Z")
    body = {k: v for k, v in line.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert line["hash"] == hashlib.sha256(("0" * 64 + "\n").encode() + canonical).hexdigest()


def test_verify_audit_passes_on_an_intact_trail():
    record(3)
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "trail intact: 3 events checked" in out.getvalue()
    report = trail_verify()
    assert report.ok and report.checked == 3 and report.head_seq == 3


def test_an_event_altered_behind_the_triggers_back_is_caught_naming_its_seq():
    record(5)
    _tamper("UPDATE audit_auditevent SET after = %s WHERE seq = 3", ['{"i": 2, "note": "rewritten"}'])
    message = _verify_fails()
    assert "first bad seq 3" in message and "altered" in message


def test_an_event_removed_from_the_middle_is_caught():
    record(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 2")
    assert "first bad seq 2" in _verify_fails()


def test_a_rehashed_event_is_caught_by_the_next_link():
    record(4)
    # The forger recomputes seq 2's own hash, but cannot fix seq 3's prev_hash
    # without rewriting every later event (and every saved checkpoint).
    event = AuditEvent.objects.get(seq=2)
    _tamper("UPDATE audit_auditevent SET reason = 'forged', hash = %s WHERE seq = 2", ["b" * 64])
    assert event.hash != "b" * 64
    assert "first bad seq 2" in _verify_fails()


def test_a_removed_tail_is_caught_against_a_saved_checkpoint(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(6)
    saved = tmp_path / "checkpoint.json"
    out = StringIO()
    call_command("export_audit", stdout=out)
    saved.write_text(out.getvalue().splitlines()[-1])
    call_command("verify_audit", "--checkpoint", str(saved), "--public-key", PUBLIC_KEY, stdout=StringIO())

    _tamper("DELETE FROM audit_auditevent WHERE seq >= 5")
    # What is left is a valid chain on its own, but the checkpoint the export
    # stored says it used to be longer ...
    report = trail_verify()
    assert not report.ok and report.first_bad_seq == 6 and "tail was removed" in report.problem
    # ... and so does the one the auditor kept.
    with pytest.raises(CommandError, match="tail was removed"):
        call_command("verify_audit", "--checkpoint", str(saved), "--public-key", PUBLIC_KEY, stdout=StringIO())


def test_a_rewritten_tail_is_caught_against_a_saved_checkpoint(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(3)
    checkpoint = checkpoint_publish()
    saved = tmp_path / "checkpoint.json"
    saved.write_text(json.dumps({"seq": checkpoint.seq, "hash": checkpoint.hash, "at": "x", "signature": "y"}))
    genuine = tmp_path / "genuine.json"
    from audit.selectors import checkpoint_dict
    genuine.write_text(json.dumps(checkpoint_dict(checkpoint)))
    # Rewrite seq 3 with a consistent new hash: the chain alone cannot tell.
    row = AuditEvent.objects.get(seq=3)
    from audit.chain import event_hash
    from audit.selectors import event_export_dict
    obj = event_export_dict(row)
    obj.pop("hash")
    obj["reason"] = "rewritten"
    _tamper("UPDATE audit_auditevent SET reason = 'rewritten', hash = %s WHERE seq = 3",
            [event_hash(obj["prev_hash"], obj)])
    # The chain alone holds; the stored checkpoint signed its old hash.
    report = trail_verify()
    assert not report.ok and report.first_bad_seq == 3 and "rewritten" in report.problem
    with pytest.raises(CommandError, match="rewritten"):
        call_command("verify_audit", "--checkpoint", str(genuine), stdout=StringIO())


def test_a_forged_checkpoint_signature_is_refused(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(2)
    checkpoint = checkpoint_publish()
    from audit.selectors import checkpoint_dict
    data = checkpoint_dict(checkpoint)
    forged = dict(data, signature=("00" if data["signature"][:2] != "00" else "11") + data["signature"][2:])
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="signature is invalid"):
        call_command("verify_audit", "--checkpoint", str(path), stdout=StringIO())
    # A checkpoint signed by some other key is refused too, even if its own
    # signature is fine: only the commission's key counts.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from audit.chain import checkpoint_message
    other = Ed25519PrivateKey.generate()
    impostor = dict(data, signature=other.sign(checkpoint_message(seq=data["seq"], hash=data["hash"],
                                                                  at=data["at"])).hex(),
                    public_key=other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex())
    path.write_text(json.dumps(impostor))
    with pytest.raises(CommandError, match="another key"):
        call_command("verify_audit", "--checkpoint", str(path), stdout=StringIO())


def test_checkpoints_are_signed_once_per_head_and_refused_without_a_key(settings):
    settings.AUDIT_SIGNING_KEY = None
    record(1)
    with pytest.raises(CheckpointsDisabled, match="AUDIT_SIGNING_KEY"):
        checkpoint_publish()
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    first = checkpoint_publish()
    assert checkpoint_publish().pk == first.pk
    record(1, seal=False)
    second = checkpoint_publish()  # seals what is pending before signing
    assert (first.seq, second.seq) == (1, 2)
    assert second.public_key == PUBLIC_KEY


def test_the_beat_tasks_seal_and_publish(settings):
    from audit.tasks import publish_checkpoint, seal_trail

    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(3, seal=False)
    assert seal_trail.apply().get() == 3
    assert publish_checkpoint.apply().get() == 3
    settings.AUDIT_SIGNING_KEY = None
    assert publish_checkpoint.apply().get() is None


@pytest.fixture
def fresh_sealer():
    """This process has not sealed lately (another test may just have)."""
    from audit.services import _coalescer

    _coalescer.reset()
    yield _coalescer
    _coalescer.reset()


def _commit_one(action):
    # A real commit (the tests below are transactional): its on-commit seal runs.
    with transaction.atomic():
        audit_record(actor=None, action=action, object_type="t", object_id=1)


@pytest.mark.parametrize("coalesce_ms", [100, 0])
def test_an_event_is_sealed_right_after_its_transaction_commits(django_capture_on_commit_callbacks, fresh_sealer,
                                                                 monkeypatch, settings, coalesce_ms):
    from audit import services

    settings.AUDIT_SEAL_COALESCE_MS = coalesce_ms
    seals = []
    seal_locked = services._seal_locked
    monkeypatch.setattr(services, "_seal_locked", lambda cursor: seals.append(1) or seal_locked(cursor))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        audit_record(actor=None, action="a.one", object_type="t", object_id=1)
        audit_record(actor=None, action="a.two", object_type="t", object_id=2)
    assert len(seals) == 1  # one seal per transaction, however many events
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "action")) == [(1, "a.one"), (2, "a.two")]


def test_an_event_rolled_back_with_its_savepoint_does_not_cost_the_others_their_seal(
        django_capture_on_commit_callbacks, fresh_sealer):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            audit_record(actor=None, action="a.undone", object_type="t", object_id=1)
            1 / 0  # noqa: B018 (the savepoint fails, its on-commit seal goes with it)
        audit_record(actor=None, action="a.kept", object_type="t", object_id=2)
    assert list(AuditEvent.objects.values_list("seq", "action")) == [(1, "a.kept")]


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit_record(actor=None, action="x", object_type="t", object_id=1)


@pytest.mark.django_db(transaction=True)
def test_commits_within_the_coalescing_gap_leave_their_events_to_the_next_seal(fresh_sealer, settings):
    settings.AUDIT_SEAL_COALESCE_MS = 60_000
    _commit_one("a.first")
    _commit_one("a.second")
    _commit_one("a.third")
    # The first commit sealed; the next two waited, and this process owes a seal.
    assert list(AuditEvent.objects.order_by("id").values_list("action", "seq")) == [
        ("a.first", 1), ("a.second", None), ("a.third", None)]
    assert fresh_sealer.owed
    # Once the gap has passed, the next commit's seal takes everything pending, in order.
    fresh_sealer.last -= 60  # as if a minute had gone by
    _commit_one("a.fourth")
    assert list(AuditEvent.objects.order_by("seq").values_list("action", "seq")) == [
        ("a.first", 1), ("a.second", 2), ("a.third", 3), ("a.fourth", 4)]
    assert not fresh_sealer.owed
    assert trail_verify().ok


@pytest.mark.django_db(transaction=True)
def test_beat_seals_what_a_coalesced_commit_left(fresh_sealer, settings):
    from audit.tasks import seal_trail

    settings.AUDIT_SEAL_COALESCE_MS = 60_000
    _commit_one("a.first")
    _commit_one("a.second")
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 1
    assert seal_trail.apply().get() == 1
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_with_no_coalescing_gap_every_commit_seals(fresh_sealer, settings):
    settings.AUDIT_SEAL_COALESCE_MS = 0
    for i in range(3):
        _commit_one(f"a.{i}")
        assert AuditEvent.objects.filter(seq__isnull=True).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_commit_that_finds_another_sealer_at_work_owes_a_seal_and_pays_it_at_exit(fresh_sealer):
    if connection.vendor != "postgresql":
        pytest.skip("the sealer's lock is a PostgreSQL advisory lock")
    import psycopg

    from audit.services import SEAL_LOCK_KEY, _seal_at_exit
    from audit.verification import _conninfo

    with psycopg.connect(_conninfo()) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])  # another sealer, mid-seal
        _commit_one("a.blocked")
        assert AuditEvent.objects.get().seq is None
        assert fresh_sealer.owed
        other.rollback()
    _seal_at_exit()
    assert AuditEvent.objects.get().seq == 1
    assert not fresh_sealer.owed


def _rehash_from(seq):
    """Re-hash the chain from `seq` to the head, as a forger with the
    database's owner rights would after editing an event."""
    from audit.chain import event_hash
    from audit.selectors import event_export_dict

    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        obj = event_export_dict(event)
        obj.pop("hash")
        obj["prev_hash"] = prev
        prev = event_hash(prev, obj)
        _tamper("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s", [obj["prev_hash"], prev, event.seq])


def test_a_rehashed_chain_fails_the_apps_own_check_at_the_first_stored_checkpoint_it_breaks(settings, api, people):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(4)
    checkpoint_publish()  # signs seq 4
    record(3)
    checkpoint_publish()  # signs seq 7
    _tamper("UPDATE audit_auditevent SET reason = 'forged' WHERE seq = 2")
    _rehash_from(2)
    report = trail_verify()
    assert not report.ok and report.first_bad_seq == 4 and "rewritten" in report.problem
    assert "first bad seq 4" in _verify_fails()
    body = api(people["auditor"]).get("/api/v1/audit/verify/").json()
    assert body["ok"] is False and body["first_bad_seq"] == 4


def test_an_intact_trail_reports_how_many_stored_checkpoints_match(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(2)
    checkpoint_publish()
    record(1)
    checkpoint_publish()
    report = trail_verify()
    assert report.ok and report.checkpoints_checked == 2
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "2 stored signed checkpoints match the chain" in out.getvalue()


def test_a_checkpoint_row_signed_with_another_key_is_refused(settings):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from audit.chain import checkpoint_message, format_at
    from audit.models import Checkpoint

    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(3)
    head = AuditEvent.objects.get(seq=3)
    # An operator mints a key of their own and signs the head they want.
    forger = Ed25519PrivateKey.generate()
    at = head.at
    _tamper("INSERT INTO audit_checkpoint (seq, hash, at, signature, public_key) VALUES (%s, %s, %s, %s, %s)", [
        3, head.hash, at,
        forger.sign(checkpoint_message(seq=3, hash=head.hash, at=format_at(at))).hex(),
        forger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()])
    assert Checkpoint.objects.count() == 1
    report = trail_verify()
    assert not report.ok and "another key" in report.problem


def test_a_checkpoint_row_whose_signature_was_altered_is_refused(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(2)
    checkpoint_publish()
    _tamper("UPDATE audit_checkpoint SET signature = %s", ["00" * 64])
    report = trail_verify()
    assert not report.ok and report.first_bad_seq == 2 and "signature is invalid" in report.problem


def test_a_tally_rewritten_and_rehashed_after_the_last_checkpoint_fails_the_recount(people, case_in):
    # No checkpoint covers it, so the chain alone cannot tell; the recount can.
    from commission import services

    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    for who in ("member1", "member2", "member3"):
        services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale="Radar tracks.")
    services.ballot_cast(actor=people["member4"], round=rnd, choice="UA", rationale="Crater shape.")
    trail_seal()
    tallied = AuditEvent.objects.get(action="round.tallied")
    after = dict(tallied.after, result={"outcome": "UA", "counts": {"RU": 1, "UA": 3}})
    _tamper("UPDATE audit_auditevent SET after = %s WHERE seq = %s", [json.dumps(after), tallied.seq])
    _rehash_from(tallied.seq)
    report = trail_verify()
    assert not report.ok and report.first_bad_seq == tallied.seq and report.problem.startswith("ballots:")
    assert "recount gives RU" in report.problem
