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
import os
import sys
from collections import Counter
from fractions import Fraction

ZERO = "0" * 64
FIELDS = {"seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "reason", "prev_hash"}


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


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
    fields = {"seq": cp["seq"], "hash": cp["hash"], "at": cp["at"]}
    if cp.get("root_hash") is not None:
        # A signed tree head also covers its Merkle tree (checkpoints from
        # before trees have no root_hash and sign the three fields above).
        fields.update(tree_size=cp["tree_size"], root_hash=cp["root_hash"])
    message = canonical(fields)
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(cp["signature"]), message)
    except (InvalidSignature, ValueError):
        raise Failure(f"checkpoint seq {cp['seq']}: signature is invalid (forged or altered)")


class Trail:
    """What the checks after the chain need, kept small enough for millions
    of events: the hashes at the seqs that checkpoints name, ballot and tally
    events, evidence hashes."""

    def __init__(self):
        self.count = 0
        self.last = None
        self.partial = False
        self.hashes = {}
        self.ballot_events = []
        self.tallies = []
        self.evidence = {}
        self.authority = []

    def hash_at(self, seq):
        return self.hashes.get(seq)


def _chunk(path, start, end, wanted):
    """Check the lines that begin in [start, end) of the file on their own:
    each event's hash, and the links between consecutive seqs inside it."""
    out = {"count": 0, "first": None, "last": None, "gaps": [], "failure": None, "checkpoint": None,
           "after_checkpoint": None, "hashes": {}, "ballots": [], "tallies": [], "evidence": [], "authority": []}
    loads, encode, sha256 = json.loads, _ENCODE, hashlib.sha256
    prev_seq = prev_hash = None
    with open(path, "rb") as handle:
        if start:
            # Lines belong to the chunk they begin in: skip to the first line
            # that begins at or after `start`.
            handle.seek(start - 1)
            handle.readline()
        while handle.tell() < end or (start == end == 0):
            raw = handle.readline()
            if not raw:
                break
            if not raw.strip():
                continue
            event = loads(raw)
            if "checkpoint" in event:
                out["checkpoint"] = event["checkpoint"]
                continue
            if out["checkpoint"] is not None:
                out["after_checkpoint"] = event.get("seq")
                break
            digest = event.pop("hash", None)
            if event.keys() != FIELDS:
                out["failure"] = (event.get("seq"), f"fields {sorted(set(event) ^ FIELDS)} differ from the recipe")
                break
            seq = event["seq"]
            if prev_seq is None:
                out["first"] = (seq, event["prev_hash"])
            elif seq <= prev_seq:
                out["failure"] = (seq, f"out of order or duplicated after seq {prev_seq}")
                break
            elif seq == prev_seq + 1:
                if event["prev_hash"] != prev_hash:
                    out["failure"] = (seq, f"prev_hash does not match the hash of seq {prev_seq}")
                    break
            else:
                out["gaps"].append((prev_seq, seq))
            body = encode(event).encode("utf-8")
            if sha256(event["prev_hash"].encode("ascii") + b"\n" + body).hexdigest() != digest:
                out["failure"] = (seq, "hash does not match its content (altered)")
                break
            if seq in wanted:
                out["hashes"][seq] = digest
            action = event["action"]
            # Only what later checks need goes back to the parent (small tuples).
            if action in ("ballot.cast", "ballot.changed"):
                after = event["after"] or {}
                out["ballots"].append((seq, str(after.get("round")), after.get("voter"), after.get("commitment"),
                                       tuple(sorted({"choice", "rationale", "salt"} & set(after)))))
            elif action == "round.tallied":
                out["tallies"].append(event)
            elif action in AUTHORITY_ACTIONS:
                out["authority"].append((seq, action, event["after"] or {}))
            elif action == "evidence.uploaded":
                out["evidence"].append(((event["after"] or {}).get("sha256"), seq, event["object_type"],
                                        event["object_id"]))
            out["count"] += 1
            prev_seq, prev_hash = seq, digest
            out["last"] = (seq, digest)
    return out


def _last_line(path):
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 4096))
        lines = [line for line in handle.read().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def read_and_check_chain(path, allow_partial, wanted, jobs, chunk_bytes=8 << 20):
    """The whole export: every event's own hash, the links between
    consecutive seqs; a full export must also start at 1 with no gap. Large
    files are split between `jobs` processes at line boundaries."""
    size = os.path.getsize(path)
    jobs = max(1, min(jobs, size // chunk_bytes + 1))  # small files: one process is faster
    bounds = [(size * k // jobs, size * (k + 1) // jobs) for k in range(jobs)]
    if jobs == 1:
        parts = [_chunk(path, 0, size, wanted)]
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            parts = pool.starmap(_chunk, [(path, a, b, wanted) for a, b in bounds])
    trail = Trail()
    checkpoint = None
    for part in parts:
        if checkpoint is not None and part["first"] is not None:
            raise Failure(f"seq {part['first'][0]}: an event after the checkpoint line")
        if part["first"] is not None:
            seq, prev_hash = part["first"]
            if trail.last is None:
                if seq != 1:
                    if not allow_partial:
                        raise Failure(f"seq 1 is missing (the export starts at seq {seq}); "
                                      "use --partial for a case export")
                    trail.partial = True
                elif prev_hash != ZERO:
                    raise Failure("seq 1: prev_hash is not 64 zeros")
            elif seq <= trail.last[0]:
                raise Failure(f"seq {seq}: out of order or duplicated after seq {trail.last[0]}")
            elif seq == trail.last[0] + 1:
                if prev_hash != trail.last[1]:
                    raise Failure(f"seq {seq}: prev_hash does not match the hash of seq {trail.last[0]}")
            else:
                part["gaps"].insert(0, (trail.last[0], seq))
        if part["gaps"]:
            if not allow_partial:
                before, after = part["gaps"][0]
                raise Failure(f"seq {before + 1} is missing (next is seq {after}); use --partial for a case export")
            trail.partial = True
        if part["failure"] is not None:
            raise Failure(f"seq {part['failure'][0]}: {part['failure'][1]}")
        if part["after_checkpoint"] is not None:
            raise Failure(f"seq {part['after_checkpoint']}: an event after the checkpoint line")
        trail.count += part["count"]
        trail.last = part["last"] or trail.last
        trail.hashes.update(part["hashes"])
        trail.ballot_events += part["ballots"]
        trail.tallies += part["tallies"]
        trail.authority += part["authority"]
        for sha, seq, object_type, object_id in part["evidence"]:
            trail.evidence.setdefault(sha, []).append((seq, object_type, object_id))
        checkpoint = part["checkpoint"] or checkpoint
    return trail, checkpoint


def check_ballots(trail):
    """Each ballot event's commitment against the tally's revealed ballots,
    then a recount of the tally from the final ones."""
    partial = trail.partial
    ballots_by_round = {}
    for seq, round_id, voter, sealed, leaked in trail.ballot_events:
        if leaked:
            raise Failure(f"seq {seq}: ballot event reveals {list(leaked)} before the tally")
        ballots_by_round.setdefault(round_id, []).append((seq, voter, sealed))
    rounds = 0
    for event in trail.tallies:
        rounds += 1
        seq, after, round_id = event["seq"], event["after"], str(event["object_id"])
        revealed = after["ballots"]
        by_commitment = {}
        for ballot in revealed:
            if commitment(ballot["salt"], ballot["choice"], ballot["rationale"]) != ballot["commitment"]:
                raise Failure(f"seq {seq}: revealed ballot of {ballot['voter']} does not match its commitment")
            by_commitment[ballot["commitment"]] = ballot
        last_by_voter = {}
        cast_events = [b for b in ballots_by_round.get(round_id, []) if b[0] < seq]
        for ballot_seq, voter, sealed in cast_events:
            match = by_commitment.get(sealed)
            if match is None or match["voter"] != voter:
                raise Failure(f"seq {ballot_seq}: ballot commitment is not among the tally's revealed ballots")
            last_by_voter[voter] = sealed
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


# Who may vote is decided by these events: accounts' roles, delegations and
# flags, parties' links to delegations, conflicts declared on a case.
AUTHORITY_ACTIONS = frozenset({"user.created", "user.roles_changed", "user.delegation_changed", "user.flags_changed",
                               "party.created", "party.delegation_changed", "conflict.declared", "round.opened"})


def check_eligibility(trail):
    """Replay the authority events and, at each round's opening, recompute who
    was eligible and who was recused (and why); they must be what the round's
    event says. Returns the number of rounds checked, or None when the trail
    holds no account history to replay (a trail begun before authority
    changes were audited, or a partial export)."""
    if trail.partial or not any(action.startswith("user.") for _s, action, _a in trail.authority):
        return None
    users, parties, conflicts, rounds = {}, {}, set(), 0
    for seq, action, after in trail.authority:
        if action.startswith("user."):
            user = users.setdefault(after["username"], {"roles": set(), "delegation": None, "is_active": True})
            if "roles" in after:
                user["roles"] = set(after["roles"])
            if action in ("user.created", "user.delegation_changed"):
                user["delegation"] = after["delegation"]
            if "is_active" in after:
                user["is_active"] = after["is_active"]
        elif action.startswith("party."):
            parties[after["party"]] = after["delegation"]
        elif action == "conflict.declared":
            conflicts.add((after["case"], after["member"]))
        elif action == "round.opened":
            rounds += 1
            party_of = {delegation: party for party, delegation in parties.items() if delegation}
            eligible, recused = set(), {}
            for name, user in users.items():
                if "member" not in user["roles"] or not user["is_active"]:
                    continue
                if user["delegation"] in party_of:
                    recused[name] = {"member": name, "reason": "party_delegation", "party": party_of[user["delegation"]]}
                elif (after["case"], name) in conflicts:
                    recused[name] = {"member": name, "reason": "conflict_declared"}
                else:
                    eligible.add(name)
            said_eligible = set(after.get("eligible", []))
            said_recused = {r["member"]: r for r in after.get("recused", [])}
            unknown = (said_eligible | set(said_recused)) - set(users)
            if unknown:
                raise Failure(f"seq {seq}: round names {sorted(unknown)}, whom the trail never gave an account")
            if said_eligible != eligible:
                raise Failure(f"seq {seq}: the round lets {sorted(said_eligible)} vote; the trail's authority "
                              f"events give {sorted(eligible)}")
            if said_recused != recused:
                raise Failure(f"seq {seq}: the round recuses {sorted(said_recused.values(), key=str)}; the trail's "
                              f"authority events give {sorted(recused.values(), key=str)}")
    return rounds


def merkle_roots(path, sizes):
    """RFC 9162 roots of the export's first `size` events, for each size, in
    one pass: leaf input = the 32 bytes of an event's hash, leaf hash
    SHA-256(0x00||input), node SHA-256(0x01||left||right), the largest power
    of two below n on the left (docs/audit.md, "Proofs")."""
    wanted, roots, stack, count = sorted(set(sizes)), {}, [], 0
    with open(path, "rb") as handle:
        for raw in handle:
            if not wanted or count >= wanted[-1]:
                break
            if not raw.strip():
                continue
            event = json.loads(raw)
            if "checkpoint" in event:
                break
            size, node = 1, hashlib.sha256(b"\x00" + bytes.fromhex(event["hash"])).digest()
            while stack and stack[-1][0] == size:
                size, node = size * 2, hashlib.sha256(b"\x01" + stack.pop()[1] + node).digest()
            stack.append((size, node))
            count += 1
            if count in wanted:
                root = stack[-1][1]
                for _size, left in reversed(stack[:-1]):
                    root = hashlib.sha256(b"\x01" + left + root).digest()
                roots[count] = root.hex()
    return roots


def check_checkpoint(cp, trail, public_key, label, roots=None):
    trusted = public_key or cp.get("public_key")
    if not trusted:
        raise Failure(f"{label}: no public key to check it with")
    if public_key and cp.get("public_key") and cp["public_key"] != public_key:
        raise Failure(f"{label}: signed by another key than the one given")
    verify_signature(cp, trusted)
    known = trail.hash_at(cp["seq"])
    if known is not None:
        if known != cp["hash"]:
            raise Failure(f"{label}: seq {cp['seq']} has another hash in this export (rewritten)")
        if cp.get("root_hash") is not None and roots is not None:
            if cp.get("tree_size") != cp["seq"] or roots.get(cp["seq"]) != cp["root_hash"]:
                raise Failure(f"{label}: its Merkle root is not the export's at tree size {cp.get('tree_size')}")
            return f"{label} seq {cp['seq']} matches the export (and its Merkle root {cp['root_hash'][:16]}…)"
        return f"{label} seq {cp['seq']} matches the export"
    last_seq = trail.last[0] if trail.last else 0
    if not trail.partial and cp["seq"] > last_seq:
        raise Failure(f"{label}: seq {cp['seq']} is beyond the export's last seq {last_seq} (the tail was removed)")
    return f"{label} seq {cp['seq']} is not in this partial export (signature only)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export")
    parser.add_argument("--partial", action="store_true",
                        help="the export is filtered (export_audit --case): accept gaps between seqs")
    parser.add_argument("--public-key", help="the commission's Ed25519 public key (hex), obtained separately")
    parser.add_argument("--checkpoint", action="append", default=[], help="a checkpoint saved earlier (JSON)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes to share a large export between (default: one per CPU)")
    parser.add_argument("--chunk-bytes", type=int, default=8 << 20, help=argparse.SUPPRESS)
    parser.add_argument("--evidence", action="append", default=[], help="a downloaded evidence file to check")
    args = parser.parse_args(argv)
    public_key = args.public_key.strip().lower() if args.public_key else None
    try:
        saved = []
        for path in args.checkpoint:
            with open(path, encoding="utf-8") as handle:
                data = json.loads(handle.read().strip().splitlines()[-1])
            saved.append((path, data.get("checkpoint", data)))
        final = _last_line(args.export)
        wanted = {cp["seq"] for _path, cp in saved}
        if final and "checkpoint" in final:
            wanted.add(final["checkpoint"]["seq"])
        trail, checkpoint = read_and_check_chain(args.export, args.partial, wanted, args.jobs, args.chunk_bytes)
        head = f"head seq {trail.last[0]} {trail.last[1]}" if trail.last else "empty"
        if trail.partial:
            # A case's export ends with the case's last event: the head its
            # decision record cites (compare the two hashes).
            print(f"partial export: {trail.count} events, each hash and every consecutive link checked, {head}")
        else:
            print(f"chain intact: {trail.count} events, {head}")
        rounds = check_ballots(trail)
        if rounds:
            print(f"ballots: {rounds} tallies recounted, every commitment checked")
        opened = check_eligibility(trail)
        if opened is None:
            if not trail.partial:
                print("eligibility: not recomputed (the export holds no account history)")
        elif opened:
            print(f"eligibility: {opened} rounds' eligible and recused members recomputed from the trail")
        roots = None
        if not trail.partial:
            roots = merkle_roots(args.export, [cp["seq"] for cp in [checkpoint, *(c for _p, c in saved)]
                                               if cp is not None and cp.get("root_hash") is not None])
        if checkpoint is not None:
            print(check_checkpoint(checkpoint, trail, public_key, "final checkpoint", roots))
            if not public_key:
                print(f"note: checked against the key in the export ({checkpoint.get('public_key')}); "
                      "compare it with the commission's published key, or pass --public-key")
        for path, cp in saved:
            print(check_checkpoint(cp, trail, public_key, f"checkpoint {path}", roots))
        for path in args.evidence:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            matches = trail.evidence.get(digest.hexdigest())
            if not matches:
                raise Failure(f"evidence {path}: sha256 {digest.hexdigest()} matches no evidence.uploaded event")
            print(f"evidence {path}: matches " + ", ".join(
                f"seq {seq} ({object_type} {object_id})" for seq, object_type, object_id in matches))
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
