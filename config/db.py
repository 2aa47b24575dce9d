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
