"""The trail's writer, its sealer, and checkpoints (docs/audit.md explains the design).

Writing and sealing are split on purpose. audit_record inserts the event with
seq/prev_hash/hash NULL inside the change's own transaction, so a request never
waits on a global lock for the length of its transaction. After the commit,
trail_seal chains the committed events under one PostgreSQL advisory lock, in
a short transaction of its own: it reads them back from the database and
assigns seq, prev_hash and hash, so what is hashed is exactly what is stored.
"""

import atexit
import json
import logging
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from audit import chain, merkle
from audit.keys import (  # noqa: F401 (CheckpointsDisabled, signing_public_key_hex re-exported)
    CheckpointsDisabled,
    signing_key,
    signing_public_key_hex,
    trusted_public_key_hex,
)
from audit.models import AuditEvent, Checkpoint, VerifiedPoint
from audit.scopes import case_refs
from audit.selectors import export_lines, leaf_hashes
from audit.verification import TrailReport, chain_verify, verified_point_latest
from config.celery import app as celery_app
from config.db import array_cursor
from config.queue import publish

logger = logging.getLogger(__name__)

# pg advisory lock key ("audt"): one sealer at a time across all processes.
SEAL_LOCK_KEY = 0x61756474
SEAL_BATCH = 1000
# A sealer re-checks for events that committed while it held the lock (their
# own on-commit try-lock failed because of it); bounded so that a sealer under
# sustained load still returns. The beat task picks up anything left.
MAX_SEAL_ROUNDS = 20
# The benchmark switches this off to measure intake without on-commit sealing.
SEAL_ON_COMMIT = True


# json.dumps(data, cls=DjangoJSONEncoder) builds this same encoder on every
# call; one instance writes the same text (as audit.chain's canonical does).
_PLAIN_ENCODER = DjangoJSONEncoder()


def _plain(data):
    """JSON-safe copy (datetimes as ISO strings, decimals as strings), so the
    value hashed later is the value stored now."""
    if data is None:
        return None
    return json.loads(_PLAIN_ENCODER.encode(data))


def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Write one event for a change of state. Must run inside the change's
    transaction, so that the change and its event commit (or fail) together.

    `actor` is a user, or None for the system (the deadline sweep).
    `action` is a dotted name such as "report.submitted".
    The event is sealed (seq, prev_hash, hash) just after the commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the change's transaction")
    event = AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_plain(before),
        after=_plain(after),
        reason=reason or "",
    )
    _seal_after_commit_once()
    return event


def audit_record_many(*, actor, events: list[dict], seal: bool = True) -> int:
    """audit_record for many changes by one actor at once (a batch import):
    the events are streamed in with COPY (PostgreSQL) instead of an INSERT
    each. Each item holds audit_record's keyword arguments other than actor
    (action, object_type, object_id, and optionally before, after, reason).
    Same rules: inside the changes' transaction, sealed after the commit.
    Returns how many were written.

    seal=False: one batch written in several calls (an import written part
    by part) asks for its seal once, after the last call, with
    audit_seal_after_commit(rows=<all of them>): the batch's size, not a
    part's, decides who seals it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record_many must be called inside the change's transaction")
    if not events:
        return 0
    known = actor is not None and actor.is_authenticated
    at = timezone.now()
    # The columns audit_record fills, in _COPIED's order; before and after
    # as JSON text, encoded once, as _plain would encode them: the database
    # stores exactly that document, and the sealer hashes what it stores.
    rows = [
        (at, actor.pk if known else None, actor.get_username() if known else "", event["action"],
         event["object_type"], str(event["object_id"]), _json_text(event.get("before")),
         _json_text(event.get("after")), event.get("reason") or "")
        for event in events
    ]
    if connection.vendor == "postgresql":
        _copy_events(rows)
    else:
        AuditEvent.objects.bulk_create([AuditEvent(**_decoded(row)) for row in rows], batch_size=1000)
    if seal:
        audit_seal_after_commit(rows=len(rows))
    return len(rows)


def audit_seal_after_commit(*, rows: int) -> None:
    """The seal of `rows` events written in this transaction: by a worker
    for a large batch, else by this process (see below)."""
    if settings.AUDIT_SEAL_IN_WORKER_ROWS and rows >= settings.AUDIT_SEAL_IN_WORKER_ROWS:
        _seal_in_worker_after_commit()
    else:
        _seal_after_commit_once()


def _seal_in_worker_after_commit() -> None:
    """A large batch (an import of thousands of rows) is sealed by a Celery
    worker, not by the request that wrote it: hashing and chaining 10,000
    events takes about half a second of CPU, which the worker spends on the
    other core while the monitor already has the answer (and the next batch
    is being validated). The events are committed either way; only their seq
    and hash come a moment later, as they do under AUDIT_SEAL_COALESCE_MS.
    If the broker cannot take the task, the request seals them itself, as
    for a small change, rather than leaving them to beat."""
    if not SEAL_ON_COMMIT:
        return

    def _send() -> None:
        try:
            # By name: audit.tasks imports this module.
            publish(celery_app.signature("audit.tasks.seal_trail"))
        except Exception:
            logger.warning("could not enqueue the seal of a batch; sealing it here", exc_info=True)
            try:
                trail_seal(blocking=True)
            except Exception:  # committed all the same; beat seals what is left
                logger.warning("could not seal the trail after commit; the periodic seal will", exc_info=True)

    transaction.on_commit(_send)


# What audit_record_many writes of an event: everything but the id and the seal.
_COPIED = ("at", "actor_id", "actor_username", "action", "object_type", "object_id", "before", "after", "reason")


def _json_text(data) -> str | None:
    """_plain's encoding, as text; None (SQL NULL, as audit_record stores it) stays None."""
    return None if data is None else _PLAIN_ENCODER.encode(data)


def _decoded(row: tuple) -> dict:
    """A COPY row as AuditEvent's keyword arguments (the ORM path, SQLite)."""
    fields = dict(zip(_COPIED, row, strict=True))
    for name in ("before", "after"):
        fields[name] = None if fields[name] is None else json.loads(fields[name])
    return fields


def _copy_events(rows: list[tuple]) -> None:
    """COPY the events in (PostgreSQL): a multi-row INSERT of thousands of
    JSON documents spends longer in building and parsing its statement than
    in writing; COPY streams them (JSON columns as their text)."""
    by_attname = {f.attname: f for f in AuditEvent._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(by_attname[name].column) for name in _COPIED)
    connection.ensure_connection()
    # The raw psycopg connection: Django's cursor wrapper has no COPY. Same
    # connection, so the same transaction as the change.
    with connection.connection.cursor() as cursor, cursor.copy(
            f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


class _Coalescer:
    """Per-process state of the on-commit seal. A seal takes every committed,
    unsealed event of every process, so under load one seal per process per
    AUDIT_SEAL_COALESCE_MS is enough: the commits in between leave their
    events to the next seal (in any process), to this process's exit, or to
    beat. That saves a seal transaction (8 statements) on most requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last = float("-inf")  # time.monotonic() of the last seal started here
        self.owed = False  # a commit here skipped its seal since the last one
        self.exit_hook = False

    def due(self) -> bool:
        """True if this commit should seal now; else note the debt."""
        gap = settings.AUDIT_SEAL_COALESCE_MS / 1000
        with self.lock:
            now = time.monotonic()
            if now - self.last >= gap:
                self.last, self.owed = now, False
                return True
            self.owed = True
            if not self.exit_hook:
                self.exit_hook = True
                atexit.register(_seal_at_exit)
            return False

    def reset(self) -> None:
        with self.lock:
            self.last, self.owed = float("-inf"), False


_coalescer = _Coalescer()


# Set by every event recorded in this thread, cleared by the first on-commit
# seal that runs after it: a transaction that wrote several events registers
# a seal for each, and the first one to run seals them all, so the others
# return at once. A flag left set by a rolled-back transaction only makes the
# next commit's seal run, which it would anyway.
_seal_requested = threading.local()


def _seal_after_commit() -> None:
    if not getattr(_seal_requested, "flag", False):
        return  # an earlier seal after this same commit took our events
    _seal_requested.flag = False
    if not settings.AUDIT_SEAL_COALESCE_MS:
        # Every commit seals, re-checking for events that committed while
        # the lock was held (docs/audit.md, "Re-check").
        _coalescer.owed = False
        try:
            trail_seal()
        except Exception:  # the change is committed; the beat task seals what we could not
            logger.warning("could not seal the trail after commit; the periodic seal will", exc_info=True)
        return
    if not _coalescer.due():
        return
    try:
        # One transaction, no re-check rounds: under load there is always
        # something newly committed, and a sealer that re-checked would go
        # round (a commit each time) for every process. What it leaves is
        # taken by the next seal, in this process or another, once their gap
        # has passed.
        with transaction.atomic(), connection.cursor() as cursor:
            if not _lock(cursor, blocking=False):
                # Another process is sealing; if our event committed after it
                # read the pending rows, it is left for a later seal: owe one,
                # so that this process's exit pays it at the latest.
                _coalescer.owed = True
                return
            _seal_locked(cursor)
    except Exception:  # the change is committed; the beat task seals what we could not
        _coalescer.owed = True
        logger.warning("could not seal the trail after commit; the periodic seal will", exc_info=True)


def _seal_at_exit() -> None:
    """A process that skipped seals does not leave its last events to beat
    when it exits normally (a gunicorn worker restarting, a script ending)."""
    if not _coalescer.owed:
        return
    try:
        trail_seal(blocking=True)
        _coalescer.owed = False
    except Exception:
        logger.warning("could not seal the trail at exit; the periodic seal will", exc_info=True)


def _seal_after_commit_once() -> None:
    """One seal per transaction however many events it wrote (the sealer
    takes them all). Every event registers its own callback, so that a
    savepoint rolled back with its callback leaves the others in place;
    _seal_after_commit skips all but the first."""
    if not SEAL_ON_COMMIT:
        return
    _seal_requested.flag = True
    transaction.on_commit(_seal_after_commit)


def _lock(cursor, *, blocking: bool) -> bool:
    """Take the sealer's lock for the current transaction. On SQLite the
    transaction itself is the lock (BEGIN IMMEDIATE: one writer at a time)."""
    if connection.vendor != "postgresql":
        return True
    if blocking:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        return True
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
    return bool(cursor.fetchone()[0])


_HEAD_SQL = "SELECT seq, hash FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
_PENDING_SQL = (
    f"SELECT {', '.join(chain.COLUMNS)} FROM audit_auditevent WHERE seq IS NULL ORDER BY id LIMIT {SEAL_BATCH}"  # noqa: S608 (constants only)
)


def _write_seals(updates: list[tuple[int, str, str, int]]) -> None:
    """Store (seq, prev_hash, hash, id) for each event, all or nothing: one
    statement per batch, on still-unsealed rows only."""
    if connection.vendor == "postgresql":
        # UPDATE ... FROM unnest(arrays): four parameters however many rows.
        # The ORM's bulk_update builds a CASE per column with a branch per
        # row, which cost most of a 10,000-row import's time (BENCHMARKS.md).
        # The arrays in binary, bound server-side (config.db.array_cursor).
        with array_cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
                "FROM unnest(%b::bigint[], %b::varchar[], %b::varchar[], %b::bigint[]) AS v(seq, prev_hash, hash, id) "
                "WHERE e.id = v.id AND e.seq IS NULL",
                [list(column) for column in zip(*updates, strict=True)])
            written = cursor.rowcount
    else:
        events = [AuditEvent(pk=pk, seq=seq, prev_hash=prev_hash, hash=digest)
                  for seq, prev_hash, digest, pk in updates]
        written = AuditEvent.objects.filter(seq__isnull=True).bulk_update(events, ["seq", "prev_hash", "hash"])
    if written != len(updates):
        # Cannot happen while we hold the lock; if it ever did, a seq would be
        # missing from the chain. Raising rolls the whole seal back.
        raise RuntimeError(f"sealed {written} of {len(updates)} events; seal rolled back")


def _seal_locked(cursor) -> int:
    """Chain every committed, unsealed event, in id order. The caller holds
    the lock, so nobody else is assigning seq numbers meanwhile."""
    cursor.execute(_HEAD_SQL)
    head = cursor.fetchone()
    seq, prev_hash = (head[0], head[1]) if head else (0, chain.ZERO_HASH)
    sealed = 0
    while True:
        # Only committed rows are visible here. A row with a lower id whose
        # transaction commits after this SELECT is simply sealed by a later
        # round with a higher seq: seq is the chain's order, id is not.
        cursor.execute(_PENDING_SQL)
        rows = cursor.fetchall()
        if not rows:
            return sealed
        updates = []
        for row in rows:
            seq += 1
            obj = chain.obj_from_row(row)
            obj["seq"] = seq
            obj["prev_hash"] = prev_hash
            digest = chain.event_hash(prev_hash, obj)
            updates.append((seq, prev_hash, digest, row[0]))
            prev_hash = digest
        _write_seals(updates)
        sealed += len(updates)
        if len(rows) < SEAL_BATCH:
            # That was all of them (a commit since is the next seal's).
            return sealed


def _pending_exists() -> bool:
    return AuditEvent.objects.filter(seq__isnull=True).exists()


def trail_seal(*, blocking: bool = False) -> int:
    """Seal every committed event that is not sealed yet; return how many.

    blocking=False (after each commit): if another process holds the lock,
    return at once; that sealer re-checks after its commit, and the beat
    task seals anything left. blocking=True (beat, verify, export, checkpoint):
    wait for the lock, so everything committed before the call is sealed.
    """
    total = 0
    for _round in range(MAX_SEAL_ROUNDS):
        with transaction.atomic(), connection.cursor() as cursor:
            if not _lock(cursor, blocking=blocking):
                return total
            total += _seal_locked(cursor)
        # Events that committed while we held the lock failed their own
        # try-lock: look again now that it is released.
        if connection.in_atomic_block or not _pending_exists():
            return total
    return total


# --- Verification -----------------------------------------------------------


def trail_verify(*, seal: bool = True, workers: int | None = None, full: bool = True) -> TrailReport:
    """Seal what is pending, then check the trail (verification.chain_verify).
    full=False (the trail page, the verify API) checks the chain only after
    the newest signed verified point; a full pass that finds the trail
    intact signs a new point at the head it verified (when
    AUDIT_SIGNING_KEY is set; without it every check is full)."""
    if seal:
        trail_seal(blocking=True)
    report = chain_verify(workers=workers, trusted_key=trusted_public_key_hex(), full=full)
    if full and report.ok and report.head_seq and settings.AUDIT_SIGNING_KEY:
        verified_point_record(seq=report.head_seq, digest=report.head_hash)
    return report


def verified_point_record(*, seq: int, digest: str) -> VerifiedPoint:
    """Sign "seq 1..seq were found intact, ending in digest" (only a full
    pass calls this, after it found them so). Idempotent: nothing new when
    a point at or beyond seq exists."""
    latest = verified_point_latest()
    if latest is not None and latest.seq >= seq:
        return latest
    at = timezone.now()
    signature = signing_key().sign(chain.verified_point_message(seq=seq, hash=digest, at=chain.format_at(at))).hex()
    # Two full passes may end at the same head at once: the second insert
    # is dropped by ON CONFLICT (an INSERT, so the append-only trigger has
    # nothing to refuse) and both return the stored point.
    VerifiedPoint.objects.bulk_create(
        [VerifiedPoint(seq=seq, hash=digest, at=at, signature=signature, public_key=signing_public_key_hex())],
        ignore_conflicts=True)
    return VerifiedPoint.objects.get(seq=seq)


# --- Checkpoints ------------------------------------------------------------


def checkpoint_publish(*, actor=None) -> Checkpoint | None:
    """Sign the trail's current head, unless the latest checkpoint already
    covers it (idempotent: beat and "after a case closes" may both call it).

    Publishing writes no audit event: the event would move the head and the
    checkpoint would be stale at once. Checkpoints are signed and append-only
    in their own right. `actor` is who asked (None: beat), for the log only.
    """
    key = signing_key()
    public_key = signing_public_key_hex()
    with transaction.atomic(), connection.cursor() as cursor:
        # The sealer's lock: the head cannot move while we sign it, and two
        # publishers cannot sign the same head twice.
        _lock(cursor, blocking=True)
        _seal_locked(cursor)
        cursor.execute(_HEAD_SQL)
        head = cursor.fetchone()
        if head is None:
            return None
        latest = Checkpoint.objects.order_by("-seq").first()
        if latest is not None and latest.seq >= head[0]:
            return latest
        at = timezone.now()
        at_text = chain.format_at(at)
        # The Merkle root over every sealed event (docs/audit.md, "Proofs"):
        # one ordered read of the hashes, about 2n SHA-256, under the lock so
        # the head cannot move meanwhile.
        tree_size = head[0]
        root_hash = merkle.root(leaf_hashes(tree_size=tree_size)).hex()
        signature = key.sign(chain.checkpoint_message(seq=head[0], hash=head[1], at=at_text, tree_size=tree_size,
                                                      root_hash=root_hash)).hex()
        checkpoint = Checkpoint.objects.create(seq=head[0], hash=head[1], at=at, signature=signature,
                                               public_key=public_key, tree_size=tree_size, root_hash=root_hash)
    logger.info("published checkpoint seq=%s (asked by %s)", checkpoint.seq,
                actor.get_username() if actor is not None else "the system")
    return checkpoint


# --- Export -----------------------------------------------------------------


def trail_export(*, case_reference: str | None = None, after_seq: int = 0, actor=None) -> Iterator[str]:
    """JSON Lines of the trail (or of one case's events), ending with the
    latest checkpoint. Seals first; a full export also publishes a fresh
    checkpoint when a signing key is configured, so it is covered to its end.
    after_seq: only the events after it (an interrupted export resumed from
    the last seq it received). Errors (an unknown case) are raised here,
    before any line is produced."""
    refs = case_refs(case_reference) if case_reference else None
    trail_seal(blocking=True)
    if refs is None and settings.AUDIT_SIGNING_KEY:
        checkpoint_publish(actor=actor)
    return export_lines(refs=refs, after_seq=after_seq)
