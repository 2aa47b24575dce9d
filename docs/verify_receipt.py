#!/usr/bin/env python3
"""Check a filing receipt, an inclusion proof and a consistency proof, offline.

Standard library plus `cryptography` (for Ed25519). It imports nothing of the
commission's code: the recipes are public (docs/audit.md, "Receipts" and
"Proofs") and the Merkle verification below is RFC 9162's, section 2.1.

    python verify_receipt.py receipt RECEIPT.json --public-key HEX
    python verify_receipt.py inclusion --event EVENT.json --proof PROOF.json --tree-head STH.json \\
        --public-key HEX [--receipt RECEIPT.json]
    python verify_receipt.py inclusion --bundle BUNDLE.json --public-key HEX
    python verify_receipt.py consistency --first STH1.json --second STH2.json --proof PROOF.json --public-key HEX

RECEIPT.json is the `receipt` of a filed report; BUNDLE.json the answer of
GET /api/v1/reports/{id}/receipt/ (receipt, event, tree head, proof); EVENT.json an event as the
export writes it (one line of export_audit, or the answer of the events API);
PROOF.json the answer of /api/v1/audit/proof/{seq}/?tree_size=N or of
/api/v1/audit/consistency/?first=M&second=N; STH.json a signed tree head (a
checkpoint, as listed at /api/v1/audit/checkpoints/, in an export's last
line, or in a bulletin's `tree_head`). Exit 0 when everything holds, else 1
with the reason.
"""

import argparse
import hashlib
import json
import sys

FIELDS = ("seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "reason", "prev_hash")
FILING_ACTIONS = ("report.submitted", "report.resubmitted")


class Failure(Exception):
    pass


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def load(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read().strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = json.loads(text.splitlines()[-1])  # a JSON Lines file: its last line
    for wrapper in ("checkpoint", "tree_head", "receipt"):
        if isinstance(data, dict) and isinstance(data.get(wrapper), dict):
            data = data[wrapper]
    return data


def verify_ed25519(public_key_hex, signature_hex, message, what):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError, TypeError):
        raise Failure(f"{what}: signature is invalid (forged or altered)")


def trusted_key(given, data, what):
    if given:
        if data.get("public_key") and data["public_key"] != given:
            raise Failure(f"{what}: signed by another key than the one given")
        return given
    if not data.get("public_key"):
        raise Failure(f"{what}: no public key to check it with (pass --public-key)")
    print(f"note: {what} checked against the key written in it ({data['public_key']}); "
          "compare it with the commission's published key, or pass --public-key")
    return data["public_key"]


def check_receipt(receipt, public_key):
    key = trusted_key(public_key, receipt, "receipt")
    message = canonical({"reference": receipt["reference"], "sha256": receipt["sha256"], "at": receipt["at"]})
    verify_ed25519(key, receipt["signature"], message, "receipt")
    return f"receipt {receipt['reference']}: signature good; filed {receipt['at']}, sha256 {receipt['sha256']}"


def check_tree_head(head, public_key, what):
    if head.get("root_hash") is None or head.get("tree_size") is None:
        raise Failure(f"{what}: not a signed tree head (no tree_size/root_hash; signed before trees existed)")
    key = trusted_key(public_key, head, what)
    message = canonical({"seq": head["seq"], "hash": head["hash"], "at": head["at"],
                         "tree_size": head["tree_size"], "root_hash": head["root_hash"]})
    verify_ed25519(key, head["signature"], message, what)
    return head["tree_size"], bytes.fromhex(head["root_hash"])


# --- RFC 9162, 2.1 ---------------------------------------------------------------


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_ok(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def consistency_ok(first, second, first_root, second_root, path):
    """RFC 9162 2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


# --- Commands ------------------------------------------------------------------


def cmd_receipt(args):
    print(check_receipt(load(args.receipt), args.public_key))


def _inclusion_inputs(args):
    """The event, proof, tree head and receipt: from --bundle (the answer of
    GET /api/v1/reports/{id}/receipt/), each overridden by its own option."""
    bundle = {}
    if args.bundle:
        with open(args.bundle, encoding="utf-8") as handle:
            bundle = json.load(handle)
    inputs = {}
    for name, option in (("event", args.event), ("proof", args.proof), ("tree_head", args.tree_head),
                         ("receipt", args.receipt)):
        inputs[name] = load(option) if option else bundle.get(name)
    missing = [name for name in ("proof", "tree_head") if not inputs[name]]
    if not inputs["event"] and not args.hash:
        missing.insert(0, "event (or --hash)")
    if missing:
        raise Failure(f"missing {', '.join(missing)} (a receipt's event is sealed at once; its tree head and proof "
                      "exist once a signed tree head covers it, within the checkpoint interval)")
    return inputs


def cmd_inclusion(args):
    inputs = _inclusion_inputs(args)
    size, root = check_tree_head(inputs["tree_head"], args.public_key, "tree head")
    print(f"tree head: signature good; {size} events, root {root.hex()}")
    proof = inputs["proof"]
    if proof.get("tree_size") != size:
        raise Failure(f"the proof is for a tree of {proof.get('tree_size')} events, the tree head has {size}")
    if not inputs["event"]:
        # Only an event's hash: it is in the tree, but what it records is unknown here.
        leaf = hashlib.sha256(b"\x00" + bytes.fromhex(args.hash)).digest()
        if not inclusion_ok(proof["leaf_index"], size, leaf, [bytes.fromhex(h) for h in proof["audit_path"]], root):
            raise Failure(f"hash {args.hash} is NOT leaf {proof['leaf_index']} of the signed tree of {size} events")
        print(f"hash {args.hash} is leaf {proof['leaf_index']} (seq {proof['leaf_index'] + 1}) of the signed tree "
              f"of {size} events")
        if inputs["receipt"]:
            raise Failure("a receipt is matched against the event itself: pass --event, not --hash")
        return
    event = inputs["event"]
    # The event's hash is recomputed from its content (the trail's recipe),
    # so the leaf is this very event, not merely a hash someone supplied.
    body = {k: event[k] for k in FIELDS}
    digest = hashlib.sha256(event["prev_hash"].encode("ascii") + b"\n" + canonical(body)).hexdigest()
    if digest != event.get("hash"):
        raise Failure(f"event seq {event['seq']}: its hash does not match its content (altered)")
    if proof.get("leaf_index") != event["seq"] - 1:
        raise Failure(f"the proof is for leaf {proof.get('leaf_index')}, event seq {event['seq']} is leaf "
                      f"{event['seq'] - 1}")
    leaf = hashlib.sha256(b"\x00" + bytes.fromhex(digest)).digest()
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    if not inclusion_ok(proof["leaf_index"], size, leaf, path, root):
        raise Failure(f"event seq {event['seq']} is NOT in the signed tree of {size} events (proof does not verify)")
    print(f"event seq {event['seq']} ({event['action']} {event['object_type']} {event['object_id']}) is in the "
          f"signed tree of {size} events")
    if inputs["receipt"]:
        receipt = inputs["receipt"]
        print(check_receipt(receipt, args.public_key))
        after = event.get("after") or {}
        if event["action"] not in FILING_ACTIONS or after.get("reference") != receipt["reference"]:
            raise Failure(f"event seq {event['seq']} is not the filing of {receipt['reference']}")
        if after.get("sha256") != receipt["sha256"]:
            raise Failure(f"event seq {event['seq']} carries sha256 {after.get('sha256')}, the receipt "
                          f"{receipt['sha256']}")
        filed = {k: v for k, v in after.items() if k != "sha256"}
        if hashlib.sha256(canonical(filed)).hexdigest() != receipt["sha256"]:
            raise Failure(f"event seq {event['seq']}: the report it records does not hash to the receipt's sha256")
        print(f"receipt {receipt['reference']}: the report it vouches for is event seq {event['seq']}, in the "
              "signed tree")


def cmd_consistency(args):
    first, first_root = check_tree_head(load(args.first), args.public_key, "first tree head")
    second, second_root = check_tree_head(load(args.second), args.public_key, "second tree head")
    print(f"tree heads: signatures good; {first} events (root {first_root.hex()[:16]}…), "
          f"{second} events (root {second_root.hex()[:16]}…)")
    proof = load(args.proof)
    if (proof.get("first"), proof.get("second")) != (first, second):
        raise Failure(f"the proof is between {proof.get('first')} and {proof.get('second')} events, the tree heads "
                      f"have {first} and {second}")
    path = [bytes.fromhex(h) for h in proof["consistency_path"]]
    if not consistency_ok(first, second, first_root, second_root, path):
        raise Failure(f"the tree of {second} events does NOT extend the tree of {first} events: the trail was "
                      "rewritten (or the proof is wrong)")
    print(f"consistent: the tree of {second} events extends the tree of {first} events (appended to only)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    receipt = commands.add_parser("receipt", help="check a receipt's signature")
    receipt.add_argument("receipt")
    inclusion = commands.add_parser("inclusion", help="check that an event is in a signed tree head")
    inclusion.add_argument("--bundle", help="GET /api/v1/reports/{id}/receipt/'s answer: event, proof, tree head, "
                                            "receipt in one file")
    inclusion.add_argument("--event", help="the event (export form)")
    inclusion.add_argument("--hash", help="instead of --event: the event's hash alone (hex)")
    inclusion.add_argument("--proof")
    inclusion.add_argument("--tree-head")
    inclusion.add_argument("--receipt", help="also check that the event is this receipt's report")
    consistency = commands.add_parser("consistency", help="check that a newer tree head extends an older one")
    consistency.add_argument("--first", required=True)
    consistency.add_argument("--second", required=True)
    consistency.add_argument("--proof", required=True)
    for sub in (receipt, inclusion, consistency):
        sub.add_argument("--public-key", help="the commission's Ed25519 public key (hex), obtained separately")
    args = parser.parse_args(argv)
    if args.public_key:
        args.public_key = args.public_key.strip().lower()
    try:
        {"receipt": cmd_receipt, "inclusion": cmd_inclusion, "consistency": cmd_consistency}[args.command](args)
    except Failure as failure:
        print(f"FAILED: {failure}")
        return 1
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        print(f"FAILED: unreadable input: {exc!r}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
