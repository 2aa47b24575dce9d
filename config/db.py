"""Database helpers shared by the apps."""

from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections
from django.utils import timezone


def array_cursor():
    """A cursor for statements that pass whole columns as array parameters
    (`unnest(%b::type[], ...)`: a batch's INSERT, the seal's UPDATE).

    On PostgreSQL, Django's psycopg cursor binds client-side: every element
    of every array is quoted into the statement's text in Python, and parsed
    back by the server. This cursor, on the same connection (so in the same
    transaction), binds server-side, and `%b` sends the arrays in binary.
    Elsewhere (SQLite) it is Django's own cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def keyset_batches(queryset, *, key: str, after: int, fields: tuple[str, ...], batch_size: int,
                   prefetch: bool = False):
    """Rows of `queryset` (as tuples of `fields`, the first being `key`) with
    key > after, in key order, one list of at most batch_size rows at a time.

    Keyset pagination (WHERE key > last ORDER BY key LIMIT n) on a unique,
    indexed key: every batch is one short query that starts where the last
    one ended, whatever the offset (OFFSET would re-read all it skips), and
    no transaction or server-side cursor stays open while a slow client
    downloads. Memory holds one batch. A row that is added meanwhile with a
    greater key is seen; one with a smaller key belongs to the next export.

    prefetch=True: the next batch's query runs while the caller encodes this
    one (_prefetched_batches), on PostgreSQL outside a transaction; the same
    batches otherwise."""
    def fetch(last):
        return list(queryset.filter(**{f"{key}__gt": last}).order_by(key).values_list(*fields)[:batch_size])

    if prefetch and _can_prefetch(queryset.db):
        yield from _prefetched_batches(fetch, after=after, batch_size=batch_size, alias=queryset.db)
        return
    last = after
    while True:
        rows = fetch(last)
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][0]


def _can_prefetch(alias: str) -> bool:
    """Another thread reads through its own connection: it cannot see what
    the caller's open transaction wrote (a test's transaction, an atomic
    block), so the batches would differ. SQLite's connections (a test's
    in-memory database, a file's write lock) are not worth the risk."""
    db = connections[alias]
    return db.vendor == "postgresql" and not db.in_atomic_block


def _prefetched_batches(fetch, *, after: int, batch_size: int, alias: str):
    """keyset_batches' loop, with the query for batch N+1 sent as soon as
    batch N's last key is known, before batch N is yielded.

    Without it the two sides take turns: PostgreSQL is idle while Python
    encodes a batch, and Python waits while PostgreSQL reads the next. One
    worker thread runs the queries: psycopg releases the GIL while it waits
    on the socket, so the encoding goes on meanwhile. A thread, not a
    process: the rows come back as Python objects, with no pickling, and
    nothing is started but one thread per export. Each batch is still one
    short query in autocommit, at most two batches are in memory (the one
    being encoded, the one being read), and the batches are the same.

    Django gives the worker thread its own connection; it is closed by the
    last task that thread runs, whether the export ends, the caller closes
    the generator early (a client that went away) or a query fails. The
    caller's time zone goes along: a queryset is compiled where it runs."""
    zone = timezone.get_current_timezone()

    def fetch_in_zone(last):
        with timezone.override(zone):
            return fetch(last)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyset-prefetch")
    pending = pool.submit(fetch_in_zone, after)
    try:
        while True:
            rows = pending.result()
            if len(rows) < batch_size:
                if rows:
                    yield rows
                return
            pending = pool.submit(fetch_in_zone, rows[-1][0])
            yield rows
    finally:
        pending.cancel()  # not started yet: never sent. Running: waited for below.
        pool.submit(_close_connection, alias)
        pool.shutdown(wait=True)


def _close_connection(alias: str) -> None:
    # Looked up in the thread that runs it: `connections` is per thread.
    connections[alias].close()


def utc_text(field: str, *, style: str):
    """A timestamp column as text, formatted by PostgreSQL in UTC, for the
    exports: Django's own timestamptz loader parses each value in Python
    (a regex per value), the largest single cost of an export row.

    style "recipe": the trail's form, chain.format_at's (six fractional
    digits and "Z"); style "isoformat": datetime.isoformat() of the UTC
    value ("+00:00"; the fraction only when not zero); style "drf": the same
    with "Z" for "+00:00", as DRF's DateTimeField writes a UTC time. Callers
    fall back to the datetime itself on other databases (tests prove both
    the same)."""
    from django.db.models import CharField, Func

    if style == "recipe":
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    else:
        # One to_char (most of a time's cost), then the fraction dropped
        # when zero: ".000000" can only be the fraction.
        offset = {"isoformat": "+00:00", "drf": "Z"}[style]
        template = ("(replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
                    f" '.000000', '') || '{offset}')")
    return Func(field, template=template, output_field=CharField())


def writes_text_in_database() -> bool:
    """Whether the exports have the database write their text (times with
    utc_text, the reports' CSV lines and GeoJSON features): PostgreSQL's
    functions do; elsewhere Python writes the same bytes from the values."""
    return connection.vendor == "postgresql"
