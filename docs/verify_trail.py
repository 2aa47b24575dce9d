#!/usr/bin/env python3
"""Verify an export of the commission's decision trail, independently.

Standard library only (plus `cryptography`, and only to check a checkpoint's
Ed25519 signature). It does not import the commission's code: the recipe is
public (docs/audit.md) and this is one implementation of it.

    python verify_trail.py export.jsonl [--partial] [--public-key HEX] [--checkpoint FILE] [--evidence FILE ...]

Exit status 0 when everything checks out, 1 otherwise (the first problem is
named, with its seq).
"""

import argparse
import hashlib
import json
import sys
from collections import Counter
from fractions import Fraction

ZERO = "0" * 64
FIELDS = {"seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "reason", "prev_hash"}


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def event_hash(event):
    body = {k: event[k] for k in FIELDS}
    return sha256_hex(event["prev_hash"].encode("ascii") + b"\n" + canonical(body))


def commitment(salt, choice, rationale):
    return sha256_hex((salt + "\n" + choice + "\n" + rationale).encode("utf-8"))


def tally(ballots, *, eligible, quorum, threshold):
    """The recount rule of docs/audit.md, on the final ballots."""
    counts = Counter(b["choice"] for b in ballots)
    cast = sum(counts.values())
    if eligible <= 0 or Fraction(cast, eligible) < Fraction(str(quorum)):
        return "no_quorum", dict(counts)
    votes = {c: n for c, n in counts.items() if c != "abstain"}
    total = sum(votes.values())
    if total == 0:
        return "undetermined", dict(counts)
    top = max(votes.values())
    leaders = [c for c, n in votes.items() if n == top]
    if len(leaders) > 1:
        return "tie", dict(counts)
    decisive = top * 2 > total if threshold == "simple" else top * 3 >= total * 2
    return (leaders[0] if decisive else "tie"), dict(counts)


class Failure(Exception):
    pass


def verify_signature(cp, public_key_hex):
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        print("warning: `cryptography` is not installed; checkpoint signature NOT checked")
        return
    message = canonical({"seq": cp["seq"], "hash": cp["hash"], "at": cp["at"]})
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(cp["signature"]), message)
    except (InvalidSignature, ValueError):
        raise Failure(f"checkpoint seq {cp['seq']}: signature is invalid (forged or altered)")


def read_export(path):
    events, checkpoint = [], None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "checkpoint" in obj:
                checkpoint = obj["checkpoint"]
            elif checkpoint is not None:
                raise Failure(f"line {number}: an event after the checkpoint line")
            else:
                events.append(obj)
    return events, checkpoint


def check_chain(events, allow_partial):
    """Every event's own hash; links between consecutive seqs; a full
    export must also start at 1 with no gap."""
    partial = False
    prev = None
    for event in events:
        keys = set(event) - {"hash"}
        if keys != FIELDS:
            raise Failure(f"seq {event.get('seq')}: fields {sorted(keys ^ FIELDS)} differ from the recipe")
        seq = event["seq"]
        if prev is None:
            if seq != 1:
                if not allow_partial:
                    raise Failure(f"seq 1 is missing (the export starts at seq {seq}); use --partial for a case export")
                partial = True
            elif event["prev_hash"] != ZERO:
                raise Failure("seq 1: prev_hash is not 64 zeros")
        elif seq <= prev["seq"]:
            raise Failure(f"seq {seq}: out of order or duplicated after seq {prev['seq']}")
        elif seq == prev["seq"] + 1:
            if event["prev_hash"] != prev["hash"]:
                raise Failure(f"seq {seq}: prev_hash does not match the hash of seq {prev['seq']}")
        else:
            if not allow_partial:
                raise Failure(f"seq {prev['seq'] + 1} is missing (next is seq {seq}); use --partial for a case export")
            partial = True
        if event_hash(event) != event["hash"]:
            raise Failure(f"seq {seq}: hash does not match its content (altered)")
        prev = event
    return partial


def check_ballots(events, partial):
    """Each ballot event's commitment against the tally's revealed ballots,
    then a recount of the tally from the final ones."""
    ballots_by_round = {}
    for event in events:
        if event["action"] in ("ballot.cast", "ballot.changed"):
            after = event["after"] or {}
            leaked = {"choice", "rationale", "salt"} & set(after)
            if leaked:
                raise Failure(f"seq {event['seq']}: ballot event reveals {sorted(leaked)} before the tally")
            ballots_by_round.setdefault(str(after.get("round")), []).append(event)
    rounds = 0
    for event in events:
        if event["action"] != "round.tallied":
            continue
        rounds += 1
        seq, after, round_id = event["seq"], event["after"], str(event["object_id"])
        revealed = after["ballots"]
        by_commitment = {}
        for ballot in revealed:
            if commitment(ballot["salt"], ballot["choice"], ballot["rationale"]) != ballot["commitment"]:
                raise Failure(f"seq {seq}: revealed ballot of {ballot['voter']} does not match its commitment")
            by_commitment[ballot["commitment"]] = ballot
        last_by_voter = {}
        cast_events = [e for e in ballots_by_round.get(round_id, []) if e["seq"] < seq]
        for ballot_event in cast_events:
            sealed = ballot_event["after"]
            match = by_commitment.get(sealed["commitment"])
            if match is None or match["voter"] != sealed["voter"]:
                raise Failure(f"seq {ballot_event['seq']}: ballot commitment is not among the tally's revealed ballots")
            last_by_voter[sealed["voter"]] = sealed["commitment"]
        finals = [b for b in revealed if b["final"]]
        voters = [b["voter"] for b in finals]
        if len(voters) != len(set(voters)):
            raise Failure(f"seq {seq}: a voter has more than one final ballot")
        if not partial:
            if len(cast_events) != len(revealed):
                raise Failure(f"seq {seq}: {len(revealed)} ballots revealed but {len(cast_events)} were cast")
            for b in finals:
                if last_by_voter.get(b["voter"]) != b["commitment"]:
                    raise Failure(f"seq {seq}: the ballot counted for {b['voter']} is not their last one")
        outcome, counts = tally(finals, eligible=after["eligible_count"], quorum=after["quorum"],
                                threshold=after["threshold"])
        result = after["result"]
        if result.get("outcome") != outcome or {k: v for k, v in result.get("counts", {}).items() if v} != counts:
            raise Failure(f"seq {seq}: recount gives {outcome} {counts}, the trail says "
                          f"{result.get('outcome')} {result.get('counts')}")
    return rounds


def check_checkpoint(cp, events, public_key, partial, label):
    trusted = public_key or cp.get("public_key")
    if not trusted:
        raise Failure(f"{label}: no public key to check it with")
    if public_key and cp.get("public_key") and cp["public_key"] != public_key:
        raise Failure(f"{label}: signed by another key than the one given")
    verify_signature(cp, trusted)
    by_seq = {e["seq"]: e for e in events}
    if cp["seq"] in by_seq:
        if by_seq[cp["seq"]]["hash"] != cp["hash"]:
            raise Failure(f"{label}: seq {cp['seq']} has another hash in this export (rewritten)")
        return f"{label} seq {cp['seq']} matches the export"
    if not partial and (not events or cp["seq"] > events[-1]["seq"]):
        raise Failure(f"{label}: seq {cp['seq']} is beyond the export's last seq "
                      f"{events[-1]['seq'] if events else 0} (the tail was removed)")
    return f"{label} seq {cp['seq']} is not in this partial export (signature only)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export")
    parser.add_argument("--partial", action="store_true",
                        help="the export is filtered (export_audit --case): accept gaps between seqs")
    parser.add_argument("--public-key", help="the commission's Ed25519 public key (hex), obtained separately")
    parser.add_argument("--checkpoint", action="append", default=[], help="a checkpoint saved earlier (JSON)")
    parser.add_argument("--evidence", action="append", default=[], help="a downloaded evidence file to check")
    args = parser.parse_args(argv)
    public_key = args.public_key.strip().lower() if args.public_key else None
    try:
        events, checkpoint = read_export(args.export)
        partial = check_chain(events, args.partial)
        if partial:
            print(f"partial export: {len(events)} events, each hash and every consecutive link checked")
        else:
            head = f"head seq {events[-1]['seq']} {events[-1]['hash']}" if events else "empty"
            print(f"chain intact: {len(events)} events, {head}")
        rounds = check_ballots(events, partial)
        if rounds:
            print(f"ballots: {rounds} tallies recounted, every commitment checked")
        if checkpoint is not None:
            print(check_checkpoint(checkpoint, events, public_key, partial, "final checkpoint"))
            if not public_key:
                print(f"note: checked against the key in the export ({checkpoint.get('public_key')}); "
                      "compare it with the commission's published key, or pass --public-key")
        for path in args.checkpoint:
            with open(path, encoding="utf-8") as handle:
                saved = json.loads(handle.read().strip().splitlines()[-1])
            print(check_checkpoint(saved.get("checkpoint", saved), events, public_key, partial, f"checkpoint {path}"))
        for path in args.evidence:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            matches = [e for e in events if e["action"] == "evidence.uploaded"
                       and (e["after"] or {}).get("sha256") == digest.hexdigest()]
            if not matches:
                raise Failure(f"evidence {path}: sha256 {digest.hexdigest()} matches no evidence.uploaded event")
            print(f"evidence {path}: matches " + ", ".join(
                f"seq {e['seq']} ({e['object_type']} {e['object_id']})" for e in matches))
    except Failure as failure:
        print(f"FAILED: {failure}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"FAILED: unreadable export or checkpoint: {exc!r}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
