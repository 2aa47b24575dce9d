"""Whole-chain verification on PostgreSQL, fast enough for millions of events.

Each sealed row carries its own prev_hash, so every row's hash can be
recomputed independently and the links checked afterwards: the seq range is
split between worker processes (each with its own connection), and the
parent checks the joints between ranges. Stdlib + psycopg only, so that the
spawned workers start without Django.

Each row's hash is recomputed with audit.chain's recipe (stdlib only, so the
workers can import it): the one recipe the sealer and every check share.
"""

import hashlib
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from audit import chain

ZERO_HASH = chain.ZERO_HASH
# Workers pay a process start-up; below this a single pass is faster.
PARALLEL_MIN_EVENTS = 200_000

RANGE_SQL = (
    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor_username, action,"
    " object_type, object_id, before::text, after::text, reason, prev_hash, hash"
    " FROM audit_auditevent WHERE seq BETWEEN %s AND %s ORDER BY seq"
)

def stock_bytes(seq, at, actor, action, object_type, object_id, before, after, reason, prev_hash) -> bytes:
    """The recipe's bytes the stock way: the exported dict, then canonical()."""
    loads = json.loads
    return chain.canonical(chain.event_obj(
        seq=seq, at=at, actor_username=actor, action=action, object_type=object_type, object_id=object_id,
        before=None if before is None else loads(before), after=None if after is None else loads(after),
        reason=reason, prev_hash=prev_hash))


_string = json.encoder.encode_basestring  # what the canonical encoder (ensure_ascii=False) writes a str with
_canonical = chain.canonical_of_json  # the canonical text of a JSON text (before, after)


def _text(value) -> str:
    return "null" if value is None else _string(value)


def row_bytes(seq, at, actor, action, object_type, object_id, before, after, reason, prev_hash) -> bytes:
    """The same bytes as stock_bytes, written directly: the ten keys are fixed,
    so their sorted order is too ("action" < "actor" < "after" < "at" < ...),
    and each value is written by the very functions the canonical encoder
    uses (its string writer, int's repr; for before and after, the
    encoder's own bytes through chain.canonical_of_json). It skips building
    a dict and sorting it per event: the full pass's largest cost after the
    nested JSON (BENCHMARKS.md, "Verification that stays cheap");
    tests/audit/test_fastverify.py holds it to stock_bytes on awkward and
    tampered rows."""
    return (
        f'{{"action":{_text(action)},"actor":{_text(actor or None)},'
        f'"after":{"null" if after is None else _canonical(after)},"at":{_text(at)},'
        f'"before":{"null" if before is None else _canonical(before)},'
        f'"object_id":{_text(object_id)},"object_type":{_text(object_type)},"prev_hash":{_text(prev_hash)},'
        f'"reason":{_text(reason)},"seq":{"null" if seq is None else int.__repr__(seq)}}}'
    ).encode()


def check_rows(rows, first_seq: int, prev_hash: str | None, *, encode=row_bytes) -> dict:
    """Check rows (RANGE_SQL's columns) that should be seq first_seq, first_seq+1, ...
    prev_hash None: accept the first row's prev_hash (the parent checks that joint).
    encode: row_bytes, or stock_bytes (the benchmark's and the tests' yardstick)."""
    expected = first_seq
    first_prev = None
    checked = 0
    sha256 = hashlib.sha256
    for seq, at, actor, action, object_type, object_id, before, after, reason, row_prev, row_hash in rows:
        if seq != expected:
            return {"checked": checked, "bad": expected, "first_prev": first_prev, "last_hash": prev_hash,
                    "problem": f"seq {expected} is missing (found {seq} next)"}
        if first_prev is None:
            first_prev = row_prev
            if prev_hash is None:
                prev_hash = row_prev
        if row_prev != prev_hash:
            return {"checked": checked, "bad": seq, "first_prev": first_prev, "last_hash": prev_hash,
                    "problem": f"seq {seq}: prev_hash does not match the hash of seq {seq - 1}"}
        # chain.event_hash, inlined: sha256(prev_hash + "\n" + canonical).
        data = encode(seq, at, actor, action, object_type, object_id, before, after, reason, row_prev)
        if sha256(row_prev.encode("ascii") + b"\n" + data).hexdigest() != row_hash:
            return {"checked": checked, "bad": seq, "first_prev": first_prev, "last_hash": prev_hash,
                    "problem": f"seq {seq}: hash does not match its content (altered)"}
        prev_hash = row_hash
        checked += 1
        expected += 1
    return {"checked": checked, "bad": None, "first_prev": first_prev, "last_hash": prev_hash, "problem": "",
            "end": expected - 1}


def range_rows(cursor, first: int, last: int):
    cursor.execute(RANGE_SQL, (first, last))
    while True:
        rows = cursor.fetchmany(10_000)
        if not rows:
            return
        yield from rows


def verify_range(conninfo: str, first: int, last: int, prev_hash: str | None) -> dict:
    import psycopg

    with psycopg.connect(conninfo) as conn, conn.cursor(name="audit_verify") as cursor:
        result = check_rows(range_rows(cursor, first, last), first, prev_hash)
    if result["bad"] is None and result["end"] != last:
        result.update(bad=result["end"] + 1, problem=f"seq {result['end'] + 1} is missing")
    return result


def verify_chain(conninfo: str, head: int, *, workers: int = 1, meanwhile=None) -> dict:
    """Verify seq 1..head. Returns {ok, checked, first_bad_seq, problem,
    head_hash, meanwhile}.

    meanwhile: a callable run in this process while the workers check their
    ranges; what it returned, or the exception it raised, is returned under
    "meanwhile" (the caller decides, once it knows the chain held: a
    tampered payload may well break the content checks that run there, and
    the chain's verdict names where it was altered). The trail's content
    checks run there: they read other events' payloads and wait on the
    database a third of their time, so beside the workers they cost the
    pass little (BENCHMARKS.md, "Verification that stays cheap")."""
    if workers <= 1 or head < PARALLEL_MIN_EVENTS:
        outcome = _joined([verify_range(conninfo, 1, head, ZERO_HASH)] if head > 0 else [])
        return {**outcome, "meanwhile": run_meanwhile_after(meanwhile, chain_ok=outcome["ok"])}
    step = -(-head // workers)
    bounds = [(a, min(a + step - 1, head)) for a in range(1, head + 1, step)]
    with ProcessPoolExecutor(max_workers=len(bounds), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(verify_range, conninfo, a, b, ZERO_HASH if a == 1 else None) for a, b in bounds]
        side = run_meanwhile(meanwhile)
        parts = [f.result() for f in futures]
    return {**_joined(parts), "meanwhile": side}


def run_meanwhile_after(meanwhile, *, chain_ok: bool):
    """In one process, the side work runs after the chain, and only if it held."""
    return run_meanwhile(meanwhile) if chain_ok else None


def run_meanwhile(meanwhile):
    """meanwhile() (None: nothing), or the exception it raised."""
    if meanwhile is None:
        return None
    try:
        return meanwhile()
    except Exception as exc:  # noqa: BLE001 (handed to the caller, raised there if the chain held)
        return exc


def _joined(parts: list[dict]) -> dict:
    """The ranges' results as one pass's: each range's first prev_hash must
    be the hash its predecessor ended on."""
    checked = 0
    prev_hash = ZERO_HASH
    first = 1
    for part in parts:
        if part["first_prev"] is not None and part["first_prev"] != prev_hash and first > 1:
            return {"ok": False, "checked": checked, "first_bad_seq": first, "head_hash": None,
                    "problem": f"seq {first}: prev_hash does not match the hash of seq {first - 1}"}
        checked += part["checked"]
        if part["bad"] is not None:
            return {"ok": False, "checked": checked, "first_bad_seq": part["bad"], "problem": part["problem"],
                    "head_hash": None}
        prev_hash = part["last_hash"]
        first = part["end"] + 1
    return {"ok": True, "checked": checked, "first_bad_seq": None, "problem": "",
            "head_hash": prev_hash if parts else None}
