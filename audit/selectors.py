"""Reads of the trail: the chain check, listings, export lines, checkpoints."""

import hashlib
import json
from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import Q, QuerySet

from audit import chain
from audit.models import AuditEvent, Checkpoint
from config.errors import ApplicationError

_SEALED_SQL = f"SELECT {', '.join(chain.COLUMNS)} FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY seq"  # noqa: S608 (constants only)
_CHUNK = 5000


def sealed_rows() -> Iterator[tuple]:
    """Every sealed event in seq order, as raw rows (chain.COLUMNS), streamed
    through a server-side cursor on PostgreSQL so a million rows never sit in
    memory at once."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(_SEALED_SQL)
        while True:
            rows = cursor.fetchmany(_CHUNK)
            if not rows:
                return
            yield from rows


def chain_check(rows: Iterable[tuple]):
    """Check rows in seq order; stop at the first bad one."""
    from audit.services import TrailReport

    expected = 1
    prev_hash = chain.ZERO_HASH
    checked = 0
    # Inlined hot loop (docs/audit.md's benchmark): this is the whole cost.
    dumps = json.dumps
    loads = json.loads
    sha256 = hashlib.sha256
    format_at = chain.format_at
    for row in rows:
        _id, seq, at, actor, action, object_type, object_id, before, after, reason, row_prev, row_hash = row
        if seq != expected:
            problem = f"seq {expected} is missing (found {seq} next)" if seq > expected else f"seq {seq} out of order"
            return TrailReport(ok=False, checked=checked, first_bad_seq=expected, problem=problem,
                               head_seq=expected - 1 if expected > 1 else None,
                               head_hash=prev_hash if expected > 1 else None)
        if row_prev != prev_hash:
            return TrailReport(ok=False, checked=checked, first_bad_seq=seq,
                               problem=f"seq {seq}: prev_hash does not match the hash of seq {seq - 1}",
                               head_seq=seq - 1 or None, head_hash=prev_hash if seq > 1 else None)
        obj = {
            "seq": seq,
            "at": format_at(at) if not isinstance(at, str) else chain._at_value(at),
            "actor": actor or None,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "before": loads(before) if isinstance(before, str) else before,
            "after": loads(after) if isinstance(after, str) else after,
            "reason": reason,
            "prev_hash": row_prev,
        }
        payload = dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if sha256(row_prev.encode("ascii") + b"\n" + payload).hexdigest() != row_hash:
            return TrailReport(ok=False, checked=checked, first_bad_seq=seq,
                               problem=f"seq {seq}: hash does not match its content (altered)",
                               head_seq=seq - 1 or None, head_hash=prev_hash if seq > 1 else None)
        prev_hash = row_hash
        checked += 1
        expected += 1
    head_seq = expected - 1
    return TrailReport(ok=True, checked=checked, first_bad_seq=None, problem="",
                       head_seq=head_seq or None, head_hash=prev_hash if head_seq else None)


def trail_head() -> tuple[int, str] | None:
    row = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    return tuple(row) if row else None


# --- Case filter (the commission app provides the refs) ----------------------


def _case_by_reference(reference: str):
    from commission.models import Case

    return Case.objects.filter(reference=reference).first()


def case_refs(case_reference: str) -> set[tuple[str, str]]:
    """(object_type, object_id) pairs belonging to a case: the case, its
    reports, rounds, ballots, measures, deadlines, evidence. The commission
    app knows which they are (commission.selectors.case_object_refs)."""
    unavailable = ApplicationError(
        "Filtering the trail by case is not available (commission.selectors.case_object_refs is missing).",
        field="case", code="unavailable")
    try:
        from commission.selectors import case_object_refs
    except ImportError:
        raise unavailable
    try:
        case = _case_by_reference(case_reference)
    except ImportError:
        raise unavailable
    if case is None:
        raise ApplicationError(f"No case with reference {case_reference}.", field="case", code="not_found")
    return {(str(t), str(i)) for t, i in case_object_refs(case)}


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


def event_export_dict(event: AuditEvent) -> dict:
    obj = chain.event_obj(seq=event.seq, at=event.at, actor_username=event.actor_username, action=event.action,
                          object_type=event.object_type, object_id=event.object_id, before=event.before,
                          after=event.after, reason=event.reason, prev_hash=event.prev_hash)
    obj["hash"] = event.hash
    return obj


# --- Export -------------------------------------------------------------------


def checkpoint_dict(checkpoint: Checkpoint) -> dict:
    return {
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


def export_lines(*, refs: set[tuple[str, str]] | None = None) -> Iterator[str]:
    """One line per sealed event in seq order (the recipe's form plus "hash"),
    then {"checkpoint": {...}} with the latest checkpoint, if any."""
    if refs is None:
        rows = sealed_rows()
    else:
        rows = (
            AuditEvent.objects.filter(seq__isnull=False)
            .filter(_refs_q(refs))
            .order_by("seq")
            .values_list(*chain.COLUMNS)
            .iterator(chunk_size=_CHUNK)
        )
    for row in rows:
        obj = chain.obj_from_row(row)
        obj["hash"] = row[-1]
        yield _dump_line(obj)
    checkpoint = checkpoint_latest()
    if checkpoint is not None:
        yield _dump_line({"checkpoint": checkpoint_dict(checkpoint)})


# --- Checking a saved checkpoint ----------------------------------------------


def checkpoint_signature_ok(data: dict, public_key_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(data["signature"]),
                   chain.checkpoint_message(seq=data["seq"], hash=data["hash"], at=data["at"]))
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
