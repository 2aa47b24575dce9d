"""Database helpers shared by the apps."""

from django.db import connection


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


def keyset_batches(queryset, *, key: str, after: int, fields: tuple[str, ...], batch_size: int):
    """Rows of `queryset` (as tuples of `fields`, the first being `key`) with
    key > after, in key order, one list of at most batch_size rows at a time.

    Keyset pagination (WHERE key > last ORDER BY key LIMIT n) on a unique,
    indexed key: every batch is one short query that starts where the last
    one ended, whatever the offset (OFFSET would re-read all it skips), and
    no transaction or server-side cursor stays open while a slow client
    downloads. Memory holds one batch. A row that is added meanwhile with a
    greater key is seen; one with a smaller key belongs to the next export."""
    last = after
    while True:
        rows = list(queryset.filter(**{f"{key}__gt": last}).order_by(key).values_list(*fields)[:batch_size])
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][0]


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


def formats_time_in_database() -> bool:
    return connection.vendor == "postgresql"
