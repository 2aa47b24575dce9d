"""Database triggers that make the trail append-only (installed by migration 0003, the
update check rewritten by 0004).

The only UPDATE ever allowed on an event is its one-time sealing: seq,
prev_hash and hash go from NULL to values, and nothing else changes.
Checkpoints allow no UPDATE at all. DELETE (and on PostgreSQL TRUNCATE) are
refused on both tables. These guard against the application and anyone
using its database role; the owner of the tables can still drop triggers,
which is why production runs the application as a role that does not own
them (docs/audit.md, "Production: database roles"), and why the hash chain
exists at all.
"""

from dataclasses import dataclass

# The seal-only condition, checked by the trigger's WHEN clause: the check is
# an expression evaluated in the executor, and the refusing function is only
# called for an UPDATE that is refused. (Until audit 0004 a PL/pgSQL function
# ran for every row and compared to_jsonb(NEW) with to_jsonb(OLD), which cost
# about 40 µs per sealed event; this costs about 6.) "Every other column
# unchanged" is NEW with its three seal columns put back to NULL compared, as a
# whole row, with OLD: it covers any column added later, and compares each
# column with its type's own equality, as the jsonb comparison did.
_POSTGRES_SEAL_ONLY = (
    "OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL"
    " AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL"
    """ AND jsonb_populate_record(NEW, '{"seq": null, "prev_hash": null, "hash": null}') IS NOT DISTINCT FROM OLD"""
)

POSTGRES_INSTALL = [
    # Its only user was the update trigger before audit 0004.
    "DROP FUNCTION IF EXISTS audit_event_guard();",
    r"""
    CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$;
    """,
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent"
    f" FOR EACH ROW WHEN (NOT ({_POSTGRES_SEAL_ONLY})) EXECUTE FUNCTION audit_append_only();",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
    "CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
    "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
    "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
]

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent;",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update ON audit_checkpoint;",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete ON audit_checkpoint;",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_checkpoint;",
]
POSTGRES_DROP_FUNCTIONS = [
    "DROP FUNCTION IF EXISTS audit_event_guard();",
    "DROP FUNCTION IF EXISTS audit_append_only();",
]

_SQLITE_SEAL_ONLY = (
    "OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL"
    " AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL"
    " AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id"
    " AND NEW.actor_username IS OLD.actor_username AND NEW.action IS OLD.action"
    " AND NEW.object_type IS OLD.object_type AND NEW.object_id IS OLD.object_id"
    " AND NEW.before IS OLD.before AND NEW.after IS OLD.after AND NEW.reason IS OLD.reason"
)

SQLITE_INSTALL = [
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent"
    f" WHEN NOT ({_SQLITE_SEAL_ONLY})"
    " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE on audit_auditevent refused'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent"
    " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: DELETE on audit_auditevent refused'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint"
    " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE on audit_checkpoint refused'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint"
    " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: DELETE on audit_checkpoint refused'); END;",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete;",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update;",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete;",
]


@dataclass(frozen=True)
class TriggerSet:
    """The SQL that makes some tables append-only, per database, and the two
    ways to apply it. The trail's set is below; other apps write their own
    (commission/triggers.py, the ballots) and apply it the same way."""

    postgres_install: list[str]
    postgres_drop: list[str]
    postgres_drop_functions: list[str]
    sqlite_install: list[str]
    sqlite_drop: list[str]

    def install(self, connection) -> None:
        """(Re)install the triggers; idempotent."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for sql in self.postgres_drop + self.postgres_install:
                    cursor.execute(sql)
            elif connection.vendor == "sqlite":
                for sql in self.sqlite_install:
                    cursor.execute(sql)
            else:
                raise NotImplementedError(f"append-only triggers are not written for {connection.vendor}")

    def drop(self, connection, *, functions: bool = False) -> None:
        """Remove the triggers. Only a migration's reverse and the test suite
        (to flush between transactional tests, and to tamper on purpose) do this."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for sql in self.postgres_drop + (self.postgres_drop_functions if functions else []):
                    cursor.execute(sql)
            elif connection.vendor == "sqlite":
                for sql in self.sqlite_drop:
                    cursor.execute(sql)


def refusing_every_change(*, table: str, function: str, message: str) -> TriggerSet:
    """The set for a table whose rows, once written, never change: UPDATE,
    DELETE and (on PostgreSQL) TRUNCATE refused, each with `message`
    ("<message>: UPDATE on <table> refused"). The trail and the ballots allow
    one narrow UPDATE each and write their sets by hand above and in
    commission/triggers.py."""
    verbs = (("update", "UPDATE", "ROW"), ("delete", "DELETE", "ROW"), ("truncate", "TRUNCATE", "STATEMENT"))
    postgres_install = [
        f"""
    CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{message}: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$;
    """,
        *(f"CREATE TRIGGER {table}_no_{name} BEFORE {verb} ON {table} FOR EACH {each} EXECUTE FUNCTION {function}();"
          for name, verb, each in verbs),
    ]
    return TriggerSet(
        postgres_install=postgres_install,
        postgres_drop=[f"DROP TRIGGER IF EXISTS {table}_no_{name} ON {table};" for name, _, _ in verbs],
        postgres_drop_functions=[f"DROP FUNCTION IF EXISTS {function}();"],
        sqlite_install=[
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{name} BEFORE {verb} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{message}: {verb} on {table} refused'); END;"
            for name, verb, _ in verbs[:2]
        ],
        sqlite_drop=[f"DROP TRIGGER IF EXISTS {table}_no_{name};" for name, _, _ in verbs[:2]],
    )


# A verified point, once signed, never changes (migration 0007): the page and
# the API trust everything before the newest one.
VERIFIED_POINTS = refusing_every_change(table="audit_verifiedpoint", function="audit_verified_point_append_only",
                                        message="verified points are append-only")

TRAIL = TriggerSet(postgres_install=POSTGRES_INSTALL, postgres_drop=POSTGRES_DROP,
                   postgres_drop_functions=POSTGRES_DROP_FUNCTIONS, sqlite_install=SQLITE_INSTALL,
                   sqlite_drop=SQLITE_DROP)
install = TRAIL.install
drop = TRAIL.drop


def installed(connection) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_event_no_truncate' AND NOT tgisinternal"
            )
        else:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_event_no_delete'")
        return cursor.fetchone()[0] > 0
