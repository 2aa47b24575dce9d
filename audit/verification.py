"""The trail's verification: the whole chain (a full pass from seq 1), or
only what follows the newest signed verified point (the incremental check),
then the stored checkpoints against the chain and the registered content
checks (audit/checks.py). audit.services.trail_verify runs it and signs the
verified point a full pass found intact; docs/security.md says what the
incremental check does not catch."""

import os
from collections.abc import Iterable, Iterator

from django.db import connection

from audit import chain, fastverify
from audit.models import AuditEvent, Checkpoint, VerifiedPoint
from audit.selectors import checkpoint_signature_ok

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


class TrailReport:
    """The outcome of a whole-chain check."""

    def __init__(self, *, ok: bool, checked: int, first_bad_seq: int | None, problem: str,
                 head_seq: int | None, head_hash: str | None, checkpoints_checked: int = 0):
        self.ok = ok
        self.checked = checked
        self.checkpoints_checked = checkpoints_checked
        # The registered content checks (audit/checks.py), in the order they ran.
        self.checks: list = []
        # Set when the chain was checked after this signed verified point
        # only (incremental); None for a full pass.
        self.verified_point: VerifiedPoint | None = None
        self.first_bad_seq = first_bad_seq
        self.problem = problem
        self.head_seq = head_seq
        self.head_hash = head_hash

    @property
    def incremental(self) -> bool:
        return self.verified_point is not None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "checkpoints_checked": self.checkpoints_checked,
            "incremental": self.incremental,
            "verified_point": ({"seq": self.verified_point.seq, "hash": self.verified_point.hash,
                                "at": chain.format_at(self.verified_point.at)}
                               if self.verified_point is not None else None),
            "checks": [{"name": c.name, "checked": c.checked, "ok": c.ok, "first_bad_seq": c.first_bad_seq,
                        "problem": c.problem or None, "skipped": c.skipped} for c in self.checks],
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem or None,
            "head": {"seq": self.head_seq, "hash": self.head_hash} if self.head_seq is not None else None,
        }


def chain_check(rows: Iterable[tuple]) -> TrailReport:
    """Check rows (chain.COLUMNS) in seq order; stop at the first bad one.
    The portable path (SQLite); PostgreSQL uses chain_verify's fast one."""
    expected = 1
    prev_hash = chain.ZERO_HASH
    checked = 0
    for row in rows:
        seq, row_prev, row_hash = row[1], row[-2], row[-1]
        if seq != expected:
            problem = f"seq {expected} is missing (found {seq} next)" if seq > expected else f"seq {seq} out of order"
            return TrailReport(ok=False, checked=checked, first_bad_seq=expected, problem=problem,
                               head_seq=expected - 1 if expected > 1 else None,
                               head_hash=prev_hash if expected > 1 else None)
        if row_prev != prev_hash:
            return TrailReport(ok=False, checked=checked, first_bad_seq=seq,
                               problem=f"seq {seq}: prev_hash does not match the hash of seq {seq - 1}",
                               head_seq=seq - 1 or None, head_hash=prev_hash if seq > 1 else None)
        if chain.event_hash(row_prev, chain.obj_from_row(row)) != row_hash:
            return TrailReport(ok=False, checked=checked, first_bad_seq=seq,
                               problem=f"seq {seq}: hash does not match its content (altered)",
                               head_seq=seq - 1 or None, head_hash=prev_hash if seq > 1 else None)
        prev_hash = row_hash
        checked += 1
        expected += 1
    head_seq = expected - 1
    return TrailReport(ok=True, checked=checked, first_bad_seq=None, problem="",
                       head_seq=head_seq or None, head_hash=prev_hash if head_seq else None)


def _conninfo() -> str:
    # The workers of fastverify run without Django: they get the same
    # connection parameters Django uses, as a libpq string.
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    keep = {"dbname", "user", "password", "host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey",
            "options", "application_name"}
    return make_conninfo(**{k: v for k, v in params.items() if k in keep and v not in (None, "")})


def _chain_only(*, workers: int | None, meanwhile=None) -> tuple[TrailReport, object]:
    """The sealed chain alone: seq gap-free from 1, each prev_hash equal to
    the previous hash, each hash recomputed (audit.chain's recipe). Returns
    the report and what `meanwhile` (a callable, or None) returned or
    raised (fastverify.run_meanwhile): it runs in this process while worker
    processes check the chain, else after the chain, if it held."""
    if connection.vendor != "postgresql":
        report = chain_check(sealed_rows())
        return report, fastverify.run_meanwhile_after(meanwhile, chain_ok=report.ok)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_auditevent")
        head = cursor.fetchone()[0]
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    if connection.in_atomic_block or workers <= 1 or head < fastverify.PARALLEL_MIN_EVENTS:
        # Same connection (it may see rows its own transaction wrote), one pass.
        with connection.chunked_cursor() as cursor:
            result = fastverify.check_rows(fastverify.range_rows(cursor, 1, head), 1, chain.ZERO_HASH)
        if result["bad"] is None and result["end"] != head:
            result.update(bad=result["end"] + 1, problem=f"seq {result['end'] + 1} is missing")
        ok = result["bad"] is None
        outcome = {"ok": ok, "checked": result["checked"], "first_bad_seq": result["bad"],
                   "problem": result["problem"], "head_hash": result["last_hash"],
                   "meanwhile": fastverify.run_meanwhile_after(meanwhile, chain_ok=ok)}
    else:
        # Rows 1..head are sealed and immutable: separate snapshots agree.
        outcome = fastverify.verify_chain(_conninfo(), head, workers=workers, meanwhile=meanwhile)
    if outcome["ok"]:
        report = TrailReport(ok=True, checked=outcome["checked"], first_bad_seq=None, problem="",
                             head_seq=head or None, head_hash=outcome["head_hash"] if head else None)
    else:
        report = TrailReport(ok=False, checked=outcome["checked"], first_bad_seq=outcome["first_bad_seq"],
                             problem=outcome["problem"], head_seq=None, head_hash=None)
    return report, outcome["meanwhile"]


def stored_checkpoints_check(*, head_seq: int | None, trusted_key: str | None,
                             after_seq: int = 0) -> tuple[int, int | None, str]:
    """Every stored checkpoint against the chain: signed by the commission's
    key (any key that verifies, when none is configured), and the chain's hash
    at its seq equal to the signed one. A forger who edits an event and
    re-hashes everything after it yields a valid-looking chain; only a
    signature over an old head shows it. after_seq: only the checkpoints
    beyond it (the incremental check: the full pass that signed the point
    at after_seq checked the others). Returns (checked, bad seq, problem)."""
    checked = 0
    checkpoints = Checkpoint.objects.filter(seq__gt=after_seq).order_by("seq").values_list("seq", "hash", "at", "signature", "public_key",
                                                                 "tree_size", "root_hash")
    for batch in _batches(checkpoints.iterator(chunk_size=_CHUNK), _CHUNK):
        on_chain = dict(AuditEvent.objects.filter(seq__in=[c[0] for c in batch]).values_list("seq", "hash"))
        for seq, digest, at, signature, public_key, tree_size, root_hash in batch:
            if trusted_key is not None and public_key != trusted_key:
                return checked, seq, f"checkpoint at seq {seq} was signed by another key than the commission's"
            data = {"seq": seq, "hash": digest, "at": chain.format_at(at), "signature": signature,
                    "tree_size": tree_size, "root_hash": root_hash}
            if root_hash is not None and tree_size != seq:
                return checked, seq, f"checkpoint at seq {seq}: its tree size {tree_size} is not its seq"
            # The root is not recomputed here: it is a function of the hashes
            # of seq 1..tree_size, which the chain's hash at seq already fixes.
            if not checkpoint_signature_ok(data, public_key):
                return checked, seq, f"checkpoint at seq {seq}: signature is invalid (forged or altered)"
            if head_seq is None or seq > head_seq:
                return checked, seq, (f"checkpoint at seq {seq} is beyond the chain's head "
                                      f"({head_seq or 'empty'}): the tail was removed")
            if on_chain.get(seq) != digest:
                return checked, seq, (f"checkpoint at seq {seq}: the chain's hash there is not the signed one "
                                      "(the trail was rewritten)")
            checked += 1
    return checked, None, ""


def _batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def verified_point_latest() -> VerifiedPoint | None:
    return VerifiedPoint.objects.order_by("-seq").first()


def _head_seq() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_auditevent")
        return cursor.fetchone()[0]


def verified_point_signature_ok(point: VerifiedPoint) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(point.public_key))
        key.verify(bytes.fromhex(point.signature),
                   chain.verified_point_message(seq=point.seq, hash=point.hash, at=chain.format_at(point.at)))
    except (InvalidSignature, ValueError):
        return False
    return True


def _point_problem(point: VerifiedPoint, trusted_key: str) -> str:
    """Is the point the commission's, and is its event still the one it signed?"""
    if point.public_key != trusted_key:
        return f"verified point at seq {point.seq} was signed by another key than the commission's"
    if not verified_point_signature_ok(point):
        return f"verified point at seq {point.seq}: signature is invalid (forged or altered)"
    on_chain = AuditEvent.objects.filter(seq=point.seq).values_list("hash", flat=True).first()
    if on_chain is None:
        return f"seq {point.seq}, the last verified point, is no longer on the trail (removed)"
    if on_chain != point.hash:
        return (f"seq {point.seq}: its hash is not the one the last full pass verified and signed "
                "(the trail was rewritten)")
    return ""


def _chain_after_point(point: VerifiedPoint, trusted_key: str) -> TrailReport:
    """The incremental check: the point itself (signature, and its event's
    hash unchanged), then each later event's link and hash, chained from the
    point's signed hash. Nothing before the point is read."""
    problem = _point_problem(point, trusted_key)
    if problem:
        return TrailReport(ok=False, checked=0, first_bad_seq=point.seq, problem=problem, head_seq=None,
                           head_hash=None)
    head = _head_seq()
    # From the point's own event, not the one after it: _point_problem saw
    # that its stored hash is still the signed one, but an edit of its
    # content that left the hash column alone would pass that; re-hashing it
    # from its stored prev_hash catches it (the link to seq N-1 is the full
    # pass's to check, as for every event before N).
    first = point.seq
    prev_of_point = AuditEvent.objects.filter(seq=point.seq).values_list("prev_hash", flat=True).first()
    if connection.vendor == "postgresql":
        with connection.chunked_cursor() as cursor:
            result = fastverify.check_rows(fastverify.range_rows(cursor, first, head), first, prev_of_point)
    else:
        rows = (AuditEvent.objects.filter(seq__gte=point.seq).order_by("seq").values_list(*chain.COLUMNS)
                .iterator(chunk_size=_CHUNK))
        result = _check_portable(rows, first, prev_of_point)
    # `checked` counts the events after the point; re-hashing the point's
    # own is part of checking the point.
    result["checked"] = max(result["checked"] - 1, 0)
    if result["bad"] is None and result["end"] != head:
        result.update(bad=result["end"] + 1, problem=f"seq {result['end'] + 1} is missing")
    if result["bad"] is not None:
        return TrailReport(ok=False, checked=result["checked"], first_bad_seq=result["bad"],
                           problem=result["problem"], head_seq=None, head_hash=None)
    return TrailReport(ok=True, checked=result["checked"], first_bad_seq=None, problem="", head_seq=head,
                       head_hash=result["last_hash"])


def _check_portable(rows, first: int, prev_hash: str) -> dict:
    """fastverify.check_rows's answer for rows in chain.COLUMNS (SQLite)."""
    expected, checked = first, 0
    for row in rows:
        row_seq, row_prev, row_hash = row[1], row[-2], row[-1]
        bad = None
        if row_seq != expected:
            bad, problem = expected, f"seq {expected} is missing (found {row_seq} next)"
        elif row_prev != prev_hash:
            bad, problem = row_seq, f"seq {row_seq}: prev_hash does not match the hash of seq {row_seq - 1}"
        elif chain.event_hash(row_prev, chain.obj_from_row(row)) != row_hash:
            bad, problem = row_seq, f"seq {row_seq}: hash does not match its content (altered)"
        if bad is not None:
            return {"checked": checked, "bad": bad, "problem": problem, "last_hash": prev_hash}
        prev_hash, expected, checked = row_hash, expected + 1, checked + 1
    return {"checked": checked, "bad": None, "problem": "", "last_hash": prev_hash, "end": expected - 1}


def chain_verify(*, workers: int | None = None, trusted_key: str | None = None, full: bool = True) -> TrailReport:
    """The whole trail's check: the chain, then the stored signed checkpoints
    compared with it, then the registered content checks (ballots, tallies,
    eligibility; in a full pass they run while the chain's worker processes
    work). `ok` only when all hold; a bad chain is named first.

    full=True reads every event. full=False, when a key is configured and a
    full pass signed a verified point, reads only what follows the newest
    point (and the checkpoints beyond it): see _chain_after_point, and
    docs/security.md for what that does not catch."""
    from audit.checks import trail_checks_run

    point = verified_point_latest() if not full and trusted_key is not None else None
    checks = None
    if point is not None:
        report = _chain_after_point(point, trusted_key)
        report.verified_point = point
    else:
        # The content checks run beside the chain's worker processes.
        report, checks = _chain_only(workers=workers, meanwhile=trail_checks_run)
    if not report.ok:
        return report
    checked, bad_seq, problem = stored_checkpoints_check(head_seq=report.head_seq, trusted_key=trusted_key,
                                                         after_seq=point.seq if point is not None else 0)
    report.checkpoints_checked = checked
    if bad_seq is not None:
        report.ok, report.first_bad_seq, report.problem = False, bad_seq, problem
        return report
    if isinstance(checks, Exception):
        # A content check broke on the trail's content while the chain and
        # the checkpoints held: raised as it was before they ran beside the chain.
        raise checks
    if checks is None:
        # Incremental: the content checks re-read every event of their kinds
        # (a million ballot events at five million): run only those for which
        # an event of those kinds arrived after the point (the tail is small).
        # order_by(): the model's ordering (seq, id) would join the DISTINCT,
        # one row per event instead of one per action.
        new_actions = set(AuditEvent.objects.filter(seq__gt=point.seq).order_by()
                          .values_list("action", flat=True).distinct())
        checks = trail_checks_run(new_actions=new_actions)
    report.checks = checks
    for outcome in report.checks:
        if not outcome.ok:
            report.ok, report.first_bad_seq = False, outcome.first_bad_seq
            report.problem = f"{outcome.name}: {outcome.problem}"
            break
    return report
