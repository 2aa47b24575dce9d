"""Reads of the trail: listings, export lines, checkpoints, proofs (the
chain's verification is audit.verification)."""

import json
from collections.abc import Iterable, Iterator
from datetime import UTC

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast

from audit import chain, merkle
from audit.models import AuditEvent, Checkpoint
from config.db import keyset_batches, utc_text, writes_text_in_database
from config.errors import ApplicationError

_CHUNK = 5000


def trail_head() -> tuple[int, str] | None:
    row = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    return tuple(row) if row else None


def _refs_q(refs: set[tuple[str, str]]) -> Q:
    by_type: dict[str, list[str]] = {}
    for object_type, object_id in refs:
        by_type.setdefault(object_type, []).append(object_id)
    q = Q(pk__in=[])
    for object_type, ids in sorted(by_type.items()):
        q |= Q(object_type=object_type, object_id__in=sorted(ids))
    return q


def event_list(*, refs: set[tuple[str, str]] | None = None, actor: str | None = None, action: str | None = None,
               after=None, before=None) -> QuerySet[AuditEvent]:
    """Events in chain order (the few not sealed yet last), filtered."""
    qs = AuditEvent.objects.all()
    if refs is not None:
        qs = qs.filter(_refs_q(refs))
    if actor:
        qs = qs.filter(actor_username=actor)
    if action:
        qs = qs.filter(action=action)
    if after is not None:
        qs = qs.filter(at__gte=after)
    if before is not None:
        qs = qs.filter(at__lt=before)
    return qs.order_by("seq", "id")


def newest_end(events, *, after_seq: int, size: int) -> list:
    """What follows the newest sealed page (whose last seq is after_seq):
    events sealed since that page was read, in seq order, then events still
    waiting for their seq, oldest first; at most `size`. One statement, one
    snapshot: an event sealed between the page's read and this one is listed
    once, with its seq, rather than missed by both."""
    later = events.filter(Q(seq__gt=after_seq) | Q(seq__isnull=True))
    return list(later.order_by(F("seq").asc(nulls_last=True), "id")[:size])


def event_export_dict(event: AuditEvent) -> dict:
    obj = chain.event_obj(seq=event.seq, at=event.at, actor_username=event.actor_username, action=event.action,
                          object_type=event.object_type, object_id=event.object_id, before=event.before,
                          after=event.after, reason=event.reason, prev_hash=event.prev_hash)
    obj["hash"] = event.hash
    return obj


# --- Export -------------------------------------------------------------------


def checkpoint_dict(checkpoint: Checkpoint) -> dict:
    """The signed tree head in its published form (tree_size and root_hash
    are null for a checkpoint signed before they existed)."""
    return {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "at": chain.format_at(checkpoint.at),
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
    }


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-seq").first()


def checkpoint_list() -> QuerySet[Checkpoint]:
    return Checkpoint.objects.order_by("-seq")


def _dump_line(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


# One exported event: the recipe's canonical JSON of the event plus "hash",
# keys already in sorted order, so a line is one %-format instead of a dict,
# a sort and a fresh json.dumps encoder per event (tests/audit/
# test_export_resume.py proves the bytes equal _dump_line's; BENCHMARKS.md,
# "Exports", what it gains).
_EVENT_LINE = ('{"action":%s,"actor":%s,"after":%s,"at":"%s","before":%s,"hash":%s,"object_id":%s,'
               '"object_type":%s,"prev_hash":%s,"reason":%s,"seq":%d}\n')
_EXPORT_COLUMNS = ("seq", "at", "actor_username", "action", "object_type", "object_id", "before", "after", "reason",
                   "prev_hash", "hash")
# The exact string encoder json.dumps(ensure_ascii=False) uses for strings (C).
_string = json.encoder.encode_basestring


def _at_text(at) -> str:
    if at.__class__ is str:
        return at  # made by PostgreSQL (config.db.utc_text), as fastverify reads it
    # chain.format_at's bytes ("%Y-%m-%dT%H:%M:%S.%fZ") without strftime,
    # which cost more than the rest of the line: isoformat() with its
    # microseconds is the same text for the 4-digit years the trail holds.
    if at.utcoffset():
        at = at.astimezone(UTC)
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def event_lines(rows: Iterable[tuple]) -> str:
    """Export lines of rows in _EXPORT_COLUMNS order, before and after as
    the database's JSON text (export_lines reads them so): re-encoded by
    chain.canonical_of_json, without Django decoding them first."""
    encode = chain.canonical_of_json
    string = _string
    return "".join([
        _EVENT_LINE % (string(action), string(actor) if actor else "null",
                       "null" if after is None else encode(after), _at_text(at),
                       "null" if before is None else encode(before), string(digest), string(object_id),
                       string(object_type), string(prev_hash), string(reason), seq)
        for seq, at, actor, action, object_type, object_id, before, after, reason, prev_hash, digest in rows])


def export_lines(*, refs: set[tuple[str, str]] | None = None, after_seq: int = 0,
                 batch_size: int | None = None) -> Iterator[str]:
    """One line per sealed event with seq > after_seq, in seq order (the
    recipe's form plus "hash"), then {"checkpoint": {...}}: the latest
    checkpoint that the export covers, if any.

    Keyset batches (WHERE seq > last ORDER BY seq LIMIT n) through the
    unique index on seq: each batch is one short query, so memory holds at
    most two batches of EXPORT_BATCH_SIZE rows and no transaction or
    server-side cursor is kept open while a slow client downloads. The next
    batch is read while this one is encoded (keyset_batches' prefetch): the
    encoding is most of the time here, and the overlap paid 27-29 % back to
    back (300,000 events, in-process and over HTTP, on 2 cores). Sealed
    rows never change and seq is gap-free, so the batches are one
    consistent sequence even though each sees its own snapshot; the export
    stops at the head it found when it started (events sealed meanwhile
    belong to the next export, which can start from the last seq received).
    Yields one string per batch: a WSGI server writes each yielded string on
    its own, so a line per yield would cost a write per event."""
    batch_size = batch_size or settings.EXPORT_BATCH_SIZE
    head = trail_head()
    head_seq = head[0] if head else 0
    # before and after as JSON text, not decoded by the JSONField: event_lines
    # writes them with chain.canonical_of_json, which parses them itself.
    events = AuditEvent.objects.filter(seq__lte=head_seq).annotate(
        before_text=Cast("before", TextField()), after_text=Cast("after", TextField()))
    fields = tuple(f"{name}_text" if name in ("before", "after") else name for name in _EXPORT_COLUMNS)
    if writes_text_in_database():
        # Django parses each timestamptz in Python: the row's largest cost.
        events = events.annotate(at_text=utc_text("at", style="recipe"))
        fields = tuple("at_text" if name == "at" else name for name in fields)
    if refs is not None:
        events = events.filter(_refs_q(refs))
    for rows in keyset_batches(events, key="seq", after=after_seq, fields=fields, batch_size=batch_size,
                               prefetch=True):
        yield event_lines(rows)
    checkpoint = Checkpoint.objects.filter(seq__lte=head_seq).order_by("-seq").first()
    if checkpoint is not None:
        yield _dump_line({"checkpoint": checkpoint_dict(checkpoint)})


# --- Checking a saved checkpoint ----------------------------------------------


def checkpoint_signature_ok(data: dict, public_key_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(data["signature"]),
                   chain.checkpoint_message(seq=data["seq"], hash=data["hash"], at=data["at"],
                                            tree_size=data.get("tree_size"), root_hash=data.get("root_hash")))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def checkpoint_check(data: dict, *, public_key_hex: str) -> tuple[bool, str]:
    """Is this saved checkpoint genuine, and is (seq, hash) still on the chain?
    The key is the one the auditor trusts, never the one written in the file."""
    if isinstance(data, dict) and "checkpoint" in data:
        data = data["checkpoint"]
    if not isinstance(data, dict) or not {"seq", "hash", "at", "signature"} <= data.keys():
        return False, "not a checkpoint (needs seq, hash, at, signature)"
    if data.get("public_key") and data["public_key"] != public_key_hex:
        return False, "checkpoint was signed by another key than the commission's"
    if not checkpoint_signature_ok(data, public_key_hex):
        return False, "checkpoint signature is invalid (forged or altered)"
    row = AuditEvent.objects.filter(seq=data["seq"]).values_list("hash", flat=True).first()
    if row is None:
        head = trail_head()
        return False, (f"checkpoint seq {data['seq']} is no longer on the trail (head is "
                       f"{head[0] if head else 'empty'}): the tail was removed")
    if row != data["hash"]:
        return False, f"seq {data['seq']} has another hash than the checkpoint: the trail was rewritten"
    return True, f"checkpoint seq {data['seq']} is on the chain"


# --- Proofs (RFC 9162; docs/audit.md, "Proofs") ---------------------------------


class ProofUnavailable(ApplicationError):
    """A proof for a tree larger than the sealed trail, or a leaf outside it."""

    status_code = 400
    default_code = "proof_unavailable"


_LEAF_SQL = "SELECT seq, hash FROM audit_auditevent WHERE seq IS NOT NULL AND seq <= %s ORDER BY seq"


def leaf_hashes(*, tree_size: int) -> list[bytes]:
    """The Merkle leaf hashes of events 1..tree_size: one ordered read of the
    stored chain hashes (32 bytes each in memory, about 70 MB for a million),
    refused if a seq is missing so that leaf i is always seq i + 1."""
    head = trail_head()
    if head is None or head[0] < tree_size:
        # Refused before reading anything.
        raise ProofUnavailable(
            f"the trail has {head[0] if head else 0} sealed events; no tree of size {tree_size} exists yet")
    leaf, fromhex = merkle.leaf_hash, bytes.fromhex
    out: list[bytes] = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(_LEAF_SQL, [tree_size])
        while True:
            rows = cursor.fetchmany(_CHUNK)
            if not rows:
                break
            for seq, digest in rows:
                if seq != len(out) + 1:
                    raise ProofUnavailable(f"seq {len(out) + 1} is missing from the trail")
                out.append(leaf(fromhex(digest)))
    if len(out) != tree_size:
        raise ProofUnavailable(
            f"the trail has {len(out)} sealed events; no tree of size {tree_size} exists yet")
    return out


def inclusion_proof(*, seq: int, tree_size: int) -> dict:
    """The audit path of the event `seq` (leaf seq - 1) in the tree of
    `tree_size` leaves, e.g. a signed tree head's."""
    if not 1 <= seq <= tree_size:
        raise ProofUnavailable(f"seq {seq} is not in a tree of size {tree_size} (1 <= seq <= tree_size)")
    leaves = leaf_hashes(tree_size=tree_size)
    return {"leaf_index": seq - 1, "tree_size": tree_size,
            "audit_path": [h.hex() for h in merkle.inclusion_path(seq - 1, leaves)]}


def consistency_proof(*, first: int, second: int) -> dict:
    """The proof that the tree of `second` leaves extends the one of `first`."""
    if not 1 <= first <= second:
        raise ProofUnavailable(f"need 1 <= first <= second (got first={first}, second={second})")
    leaves = leaf_hashes(tree_size=second)
    return {"first": first, "second": second,
            "consistency_path": [h.hex() for h in merkle.consistency_path(first, leaves)]}


def event_latest(*, object_type: str, object_id, actions: tuple[str, ...]) -> AuditEvent | None:
    """The latest event of one of `actions` on one object (e.g. the filing
    a receipt vouches for); uses the (object_type, object_id) index."""
    return (AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id), action__in=actions)
            .order_by("-at", "-id").first())
