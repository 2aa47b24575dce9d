"""Signed tree heads, inclusion and consistency proofs, and filing receipts,
checked offline by docs/verify_receipt.py (a separate process that imports
nothing of the project) on files written from the API's answers."""

import hashlib
import json
import subprocess
import sys

import pytest
from django.db import connection

from audit import chain, merkle, triggers
from audit.models import AuditEvent, Checkpoint
from audit.selectors import checkpoint_dict, event_export_dict, leaf_hashes
from audit.services import checkpoint_publish, trail_seal, trail_verify
from tests.audit.helpers import PUBLIC_KEY, ROOT, SIGNING_KEY, record
from tests.reports.conftest import body

pytestmark = pytest.mark.django_db

SCRIPT = ROOT / "docs" / "verify_receipt.py"
OTHER_KEY = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"  # RFC 8032 test 2


def verify(*args, tmp_path):
    return subprocess.run([sys.executable, "-I", str(SCRIPT), *args], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def signing(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY


def _head_json(api, auditor):
    """The newest signed tree head, as the checkpoints API lists it."""
    return api(auditor).get("/api/v1/audit/checkpoints/").json()["results"][0]


def test_the_script_does_not_import_the_project():
    source = SCRIPT.read_text()
    for name in ("django", "audit", "config", "commission", "reports", "accounts"):
        assert f"import {name}" not in source and f"from {name}" not in source


# --- Signed tree heads ------------------------------------------------------------


def test_a_checkpoint_is_a_signed_tree_head_over_the_trails_merkle_root(api, people, signing):
    record(7)
    checkpoint = checkpoint_publish()
    assert checkpoint.tree_size == checkpoint.seq == 7
    assert checkpoint.root_hash == merkle.root(leaf_hashes(tree_size=7)).hex()
    listed = _head_json(api, people["auditor"])
    assert listed == checkpoint_dict(checkpoint)
    assert {"tree_size", "root_hash", "at", "signature", "public_key", "seq", "hash"} <= listed.keys()
    assert trail_verify().ok


def test_a_checkpoint_signed_before_trees_still_verifies(signing):
    # A checkpoint from before audit 0006: no tree_size/root_hash, signature
    # over (seq, hash, at) only. The checks accept both forms.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.utils import timezone

    record(3)
    head = AuditEvent.objects.get(seq=3)
    at = timezone.now()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SIGNING_KEY))
    signature = key.sign(chain.checkpoint_message(seq=3, hash=head.hash, at=chain.format_at(at))).hex()
    Checkpoint.objects.create(seq=3, hash=head.hash, at=at, signature=signature, public_key=PUBLIC_KEY)
    record(2)
    checkpoint_publish()
    report = trail_verify()
    assert report.ok and report.checkpoints_checked == 2


def test_a_tree_head_whose_signed_root_was_swapped_fails_verification(signing):
    record(4)
    checkpoint = checkpoint_publish()
    triggers.drop(connection)  # as the tables' owner could; rolled back with the test
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_checkpoint SET root_hash = %s WHERE id = %s", ["ab" * 32, checkpoint.pk])
    report = trail_verify()
    assert not report.ok and "signature is invalid" in report.problem


# --- The proof endpoints ----------------------------------------------------------


def test_every_inclusion_proof_the_api_gives_verifies_against_the_tree_heads_root(api, people, signing):
    record(11)
    checkpoint = checkpoint_publish()
    client = api(people["auditor"])
    for seq in range(1, 12):
        proof = client.get(f"/api/v1/audit/proof/{seq}/?tree_size=11").json()
        assert proof["leaf_index"] == seq - 1 and proof["tree_size"] == 11
        leaf = merkle.leaf_hash(bytes.fromhex(AuditEvent.objects.get(seq=seq).hash))
        assert merkle.inclusion_verify(index=seq - 1, size=11, leaf=leaf,
                                       path=[bytes.fromhex(h) for h in proof["audit_path"]],
                                       root_hash=bytes.fromhex(checkpoint.root_hash))


def test_a_consistency_proof_from_the_api_links_two_tree_heads(api, people, signing):
    record(5)
    first = checkpoint_publish()
    record(6)
    second = checkpoint_publish()
    proof = api(people["auditor"]).get(f"/api/v1/audit/consistency/?first={first.tree_size}&second={second.tree_size}")
    assert proof.status_code == 200
    data = proof.json()
    assert (data["first"], data["second"]) == (5, 11)
    assert merkle.consistency_verify(first=5, second=11, first_root=bytes.fromhex(first.root_hash),
                                     second_root=bytes.fromhex(second.root_hash),
                                     path=[bytes.fromhex(h) for h in data["consistency_path"]])


@pytest.mark.parametrize("url", [
    "/api/v1/audit/proof/3/?tree_size=9",  # a tree larger than the trail
    "/api/v1/audit/proof/6/?tree_size=5",  # a leaf outside the tree
    "/api/v1/audit/proof/0/?tree_size=5",
    "/api/v1/audit/proof/1/",  # tree_size is required
    "/api/v1/audit/proof/1/?tree_size=x",
    "/api/v1/audit/consistency/?first=4&second=3",
    "/api/v1/audit/consistency/?first=2&second=9",
    "/api/v1/audit/consistency/?first=0&second=3",
    "/api/v1/audit/consistency/?first=2",
])
def test_a_proof_that_cannot_exist_is_refused_with_400(api, people, url):
    record(5)
    response = api(people["auditor"]).get(url)
    assert response.status_code == 400, response.content


def test_proofs_need_a_sign_in_but_no_trail_reading_right(api, people):
    record(3)
    assert api().get("/api/v1/audit/proof/1/?tree_size=3").status_code == 401
    assert api().get("/api/v1/audit/consistency/?first=1&second=3").status_code == 401
    # Hashes only: a monitor proves their own report is in the trail.
    assert api(people["monitor"]).get("/api/v1/audit/proof/1/?tree_size=3").status_code == 200
    assert api(people["monitor"]).get("/api/v1/audit/consistency/?first=1&second=3").status_code == 200


# --- Receipts ---------------------------------------------------------------------


def _file(api, monitor, **overrides):
    response = api(monitor).post("/api/v1/reports/", body(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_filing_a_report_answers_a_signed_receipt_that_its_event_carries(api, people, signing):
    report = _file(api, people["monitor"])
    receipt = report["receipt"]
    assert set(receipt) == {"reference", "sha256", "at", "signature", "public_key"}
    assert receipt["reference"] == report["reference"] and receipt["public_key"] == PUBLIC_KEY
    event = AuditEvent.objects.get(action="report.submitted", object_id=str(report["id"]))
    assert event.after["sha256"] == receipt["sha256"] and chain.format_at(event.at) == receipt["at"]
    filed = {k: v for k, v in event.after.items() if k != "sha256"}
    assert hashlib.sha256(chain.canonical(filed)).hexdigest() == receipt["sha256"]
    # Shown again to its author, the same receipt (Ed25519 is deterministic) ...
    again = api(people["monitor"]).get(f"/api/v1/reports/{report['id']}/").json()["receipt"]
    assert again == receipt
    # ... and to nobody else.
    assert api(people["verifier"]).get(f"/api/v1/reports/{report['id']}/").json()["receipt"] is None


def test_a_draft_has_no_receipt_until_it_is_submitted(api, people, signing):
    draft = _file(api, people["monitor"], status="draft")
    assert draft["receipt"] is None
    submitted = api(people["monitor"]).patch(f"/api/v1/reports/{draft['id']}/", {"status": "submitted"},
                                             format="json")
    receipt = submitted.json()["receipt"]
    event = AuditEvent.objects.get(action="report.submitted", object_id=str(draft["id"]))
    assert receipt["sha256"] == event.after["sha256"]


def test_without_a_signing_key_a_report_is_filed_with_no_receipt(api, people, settings):
    settings.AUDIT_SIGNING_KEY = None
    report = _file(api, people["monitor"])
    assert report["receipt"] is None
    # The event still carries the report's hash, for a receipt shown later.
    assert AuditEvent.objects.get(action="report.submitted", object_id=str(report["id"])).after["sha256"]


# --- The offline checks, by the documented script only -----------------------------


def test_a_receipts_signature_verifies_offline_and_a_forged_one_does_not(api, people, signing, tmp_path):
    receipt = _file(api, people["monitor"])["receipt"]
    good = write(tmp_path, "receipt.json", receipt)
    result = verify("receipt", good, "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature good" in result.stdout
    forged = write(tmp_path, "forged.json", {**receipt, "sha256": "0" * 64})
    result = verify("receipt", forged, "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 1 and "signature is invalid" in result.stdout
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    other = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(OTHER_KEY)).public_key()
    result = verify("receipt", good, "--public-key", other.public_bytes(Encoding.Raw, PublicFormat.Raw).hex(),
                    tmp_path=tmp_path)
    assert result.returncode == 1 and "another key" in result.stdout


def test_a_receipts_report_is_proved_inside_a_published_tree_head(api, people, signing, tmp_path):
    record(3, actor=people["chair"])
    report = _file(api, people["monitor"])
    record(4, actor=people["chair"])  # the trail moves on; the proof still finds the report
    checkpoint_publish()
    auditor = api(people["auditor"])
    head = _head_json(api, people["auditor"])
    events = auditor.get("/api/v1/audit/events/?action=report.submitted").json()["results"]
    event = next(e for e in events if e["object_id"] == str(report["id"]))
    proof = auditor.get(f"/api/v1/audit/proof/{event['seq']}/?tree_size={head['tree_size']}").json()
    files = {"--receipt": write(tmp_path, "receipt.json", report["receipt"]),
             "--event": write(tmp_path, "event.json", event),
             "--proof": write(tmp_path, "proof.json", proof),
             "--tree-head": write(tmp_path, "head.json", head)}
    args = ["inclusion", *[x for pair in files.items() for x in pair], "--public-key", PUBLIC_KEY]
    result = verify(*args, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"event seq {event['seq']}" in result.stdout and "in the signed tree of 8 events" in result.stdout
    assert "vouches for is event seq" in result.stdout

    # Another report's receipt does not match this event.
    other = _file(api, people["monitor"], description="Another incident, elsewhere.")
    files["--receipt"] = write(tmp_path, "other.json", other["receipt"])
    result = verify(*["inclusion", *[x for pair in files.items() for x in pair], "--public-key", PUBLIC_KEY],
                    tmp_path=tmp_path)
    assert result.returncode == 1 and "is not the filing of" in result.stdout

    # An event altered after the fact (its sha256 replaced, hash recomputed)
    # is not the leaf the tree head signed.
    forged = dict(event, after={**event["after"], "description": "Nothing happened."})
    obj = {k: forged[k] for k in chain.EVENT_FIELDS}
    forged["hash"] = chain.event_hash(forged["prev_hash"], obj)
    files["--receipt"] = write(tmp_path, "receipt.json", report["receipt"])
    files["--event"] = write(tmp_path, "forged.json", forged)
    result = verify(*["inclusion", *[x for pair in files.items() for x in pair], "--public-key", PUBLIC_KEY],
                    tmp_path=tmp_path)
    assert result.returncode == 1 and "NOT in the signed tree" in result.stdout


def test_two_signed_tree_heads_are_proved_consistent_offline(api, people, signing, tmp_path):
    record(6)
    checkpoint_publish()
    first = _head_json(api, people["auditor"])
    record(7)
    checkpoint_publish()
    second = _head_json(api, people["auditor"])
    proof = api(people["auditor"]).get(
        f"/api/v1/audit/consistency/?first={first['tree_size']}&second={second['tree_size']}").json()
    args = ["consistency", "--first", write(tmp_path, "first.json", first),
            "--second", write(tmp_path, "second.json", second), "--proof", write(tmp_path, "proof.json", proof),
            "--public-key", PUBLIC_KEY]
    result = verify(*args, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "consistent: the tree of 13 events extends the tree of 6 events" in result.stdout
    # A tree head whose root was changed is refused on its signature.
    forged = write(tmp_path, "forged.json", {**second, "root_hash": first["root_hash"]})
    result = verify("consistency", "--first", args[2], "--second", forged, "--proof", args[6],
                    "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 1 and "signature is invalid" in result.stdout


def _rewrite_from(seq):
    """Edit event `seq` behind the triggers' back and re-hash it and every
    later event, so that the chain on its own looks valid (what a forger with
    the tables' owner rights would do)."""
    triggers.drop(connection)  # rolled back with the test's transaction
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else chain.ZERO_HASH
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        obj = event_export_dict(event)
        obj.pop("hash")
        if event.seq == seq:
            obj["after"] = {**(obj["after"] or {}), "note": "rewritten"}
        obj["prev_hash"] = prev
        digest = chain.event_hash(prev, obj)
        AuditEvent.objects.filter(pk=event.pk).update(after=obj["after"], prev_hash=prev, hash=digest)
        prev = digest


def test_a_trail_rewritten_behind_the_services_back_fails_the_consistency_proof(api, people, signing, tmp_path):
    record(6)
    checkpoint_publish()
    old_head = _head_json(api, people["auditor"])  # the auditor keeps this file
    _rewrite_from(3)
    # The chain on its own holds (only the stored checkpoint gives it away) ...
    assert trail_verify(seal=False).problem.endswith("(the trail was rewritten)")
    record(3)
    trail_seal()
    # ... and the service, none the wiser, signs the rewritten trail's new head.
    checkpoint_publish()
    new_head = _head_json(api, people["auditor"])
    assert new_head["tree_size"] == 9
    proof = api(people["auditor"]).get("/api/v1/audit/consistency/?first=6&second=9").json()
    result = verify("consistency", "--first", write(tmp_path, "old.json", old_head),
                    "--second", write(tmp_path, "new.json", new_head), "--proof", write(tmp_path, "proof.json", proof),
                    "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "does NOT extend the tree of 6 events: the trail was rewritten" in result.stdout


def test_the_author_gets_receipt_event_tree_head_and_proof_in_one_answer_that_verifies(api, people, signing,
                                                                                        tmp_path):
    report = _file(api, people["monitor"])
    url = f"/api/v1/reports/{report['id']}/receipt/"
    trail_seal()
    before = api(people["monitor"]).get(url).json()
    # Sealed, but no signed tree head covers it yet.
    assert before["receipt"] == report["receipt"] and before["event"]["seq"] is not None
    assert before["tree_head"] is None and before["proof"] is None
    result = verify("inclusion", "--bundle", write(tmp_path, "early.json", before), "--public-key", PUBLIC_KEY,
                    tmp_path=tmp_path)
    assert result.returncode == 1 and "missing proof, tree_head" in result.stdout
    record(2)
    checkpoint_publish()
    bundle = api(people["monitor"]).get(url).json()
    assert bundle["tree_head"]["tree_size"] == 3 and bundle["proof"]["leaf_index"] == bundle["event"]["seq"] - 1
    result = verify("inclusion", "--bundle", write(tmp_path, "bundle.json", bundle), "--public-key", PUBLIC_KEY,
                    tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vouches for is event seq" in result.stdout
    # The event's hash alone proves a leaf, not what it records.
    result = verify("inclusion", "--hash", bundle["event"]["hash"], "--proof", write(tmp_path, "p.json", bundle["proof"]),
                    "--tree-head", write(tmp_path, "h.json", bundle["tree_head"]), "--public-key", PUBLIC_KEY,
                    tmp_path=tmp_path)
    assert result.returncode == 0 and "is leaf 0 (seq 1)" in result.stdout
    # Nobody but the author.
    assert api(people["verifier"]).get(url).status_code == 404
    assert api(people["monitor2"]).get(url).status_code == 404
    assert api().get(url).status_code == 401
