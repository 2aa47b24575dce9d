"""The public recipe of the hash chain (docs/audit.md), in one place.

Everything that is hashed is built here, from values as read back from the
database, so that what the sealer hashes, what verify_audit recomputes and what
export_audit writes are the same bytes. docs/verify_trail.py re-implements this
without importing the project; tests keep the two in step.
"""

import hashlib
import json
from datetime import UTC, datetime

import orjson

ZERO_HASH = "0" * 64

# The exported (and hashed) fields, plus "hash". Nothing else leaves the table.
EVENT_FIELDS = ("seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "reason", "prev_hash")

# One exact form for times: UTC, always six fractional digits, "Z" suffix.
# (datetime.isoformat() drops the fraction when it is zero, which would make
# the same instant hash two ways.)
AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_at(value: datetime) -> str:
    if value.tzinfo is None:
        # SQLite's raw rows come back naive; Django stores them in UTC.
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():
        value = value.astimezone(UTC)
    return value.strftime(AT_FORMAT)


# json.dumps(obj, **options) builds this same encoder on every call; one
# instance gives the same bytes without that cost per event.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(obj) -> bytes:
    return _ENCODER.encode(obj).encode("utf-8")


# The same canonical form as text (what an export line carries).
canonical_text = _ENCODER.encode


# Where orjson's output can differ from the stdlib encoder's, it holds one
# of these: a float below 1e-4 (orjson 0.00001 or 7.2e-9, the stdlib 1e-05,
# 7.2e-09) or an integer beyond 64 bits (orjson reads it as a float, 1.8e+19).
# They may also occur inside a string ("re-open"): that only sends the text
# to the stdlib, never a wrong byte. Three substring searches, not a regular
# expression: the expression cost as much as the rest of the check.
def _orjson_may_differ(fast: bytes) -> bool:
    return b"e-" in fast or b"e+" in fast or b"0.0000" in fast


def canonical_of_json(text: str) -> str:
    """canonical_text(json.loads(text)), the same text, faster: the chain's
    check and the trail's export decode and re-encode every event's before
    and after, their largest cost (BENCHMARKS.md, "Verification that stays
    cheap").

    orjson parses and writes sorted compact JSON about five times faster.
    Where it may not give the stdlib's bytes, the stdlib does the work: when
    orjson refuses the text (NaN, a lone surrogate, nesting past 1024, which
    jsonb cannot hold anyway) or when its output holds an exponent or a
    0.0000... number (_orjson_may_differ). Keys sort the same: by code
    point in the stdlib, by UTF-8 bytes in orjson, one order.
    tests/audit/test_canonical.py holds the two to the same bytes on awkward
    and random documents; docs/verify_trail.py keeps the stdlib alone."""
    try:
        fast = orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)
    except (ValueError, TypeError):  # orjson.JSONDecodeError and JSONEncodeError are these
        return _ENCODER.encode(json.loads(text))
    if _orjson_may_differ(fast):
        return _ENCODER.encode(json.loads(text))
    return fast.decode()


def _json_value(value):
    # JSONField values come back as text on PostgreSQL (Django's loader) and
    # on SQLite; decoding here means we hash the stored value, not the one
    # the caller once passed in.
    if isinstance(value, (str, bytes, bytearray)):
        return json.loads(value)
    return value


def event_obj(*, seq, at, actor_username, action, object_type, object_id, before, after, reason, prev_hash) -> dict:
    """The exported form of one event, without its hash."""
    return {
        "seq": seq,
        "at": at if isinstance(at, str) else format_at(at),
        "actor": actor_username or None,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }


def event_hash(prev_hash: str, obj: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(obj)).hexdigest()


# Column order used by every raw read of the trail (seal, verify, export).
COLUMNS = ("id", "seq", "at", "actor_username", "action", "object_type", "object_id", "before", "after", "reason",
           "prev_hash", "hash")


def _at_value(at) -> str:
    if isinstance(at, str):
        # SQLite hands back naive "YYYY-MM-DD HH:MM:SS[.ffffff]" text, in UTC.
        at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    return format_at(at)


def obj_from_row(row) -> dict:
    """A row in COLUMNS order (as read from the database) -> exported form."""
    _id, seq, at, actor_username, action, object_type, object_id, before, after, reason, prev_hash, _hash = row
    return {
        "seq": seq,
        "at": _at_value(at),
        "actor": actor_username or None,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": _json_value(before),
        "after": _json_value(after),
        "reason": reason,
        "prev_hash": prev_hash,
    }


def checkpoint_message(*, seq: int, hash: str, at: str, tree_size: int | None = None,  # noqa: A002 (the recipe's field name)
                       root_hash: str | None = None) -> bytes:
    """The bytes a checkpoint signature covers. A signed tree head (every
    checkpoint since audit 0006) also covers the Merkle tree's size and root;
    a checkpoint signed before then covers (seq, hash, at) only."""
    if root_hash is None:
        return canonical({"seq": seq, "hash": hash, "at": at})
    return canonical({"seq": seq, "hash": hash, "at": at, "tree_size": tree_size, "root_hash": root_hash})


def verified_point_message(*, seq: int, hash: str, at: str) -> bytes:  # noqa: A002 (the recipe's field name)
    """The bytes a verified point's signature covers. "kind" keeps it apart
    from a checkpoint's message: a signature over one is never valid for
    the other."""
    return canonical({"kind": "verified_point", "seq": seq, "hash": hash, "at": at})


def receipt_message(*, reference: str, sha256: str, at: str) -> bytes:
    """The bytes a filing receipt's signature covers (docs/audit.md, "Receipts")."""
    return canonical({"reference": reference, "sha256": sha256, "at": at})
