"""Ballots are append-only in the database, as the trail is (audit/triggers.py):
the only UPDATE allowed is superseding a current ballot (superseded false ->
true, nothing else changed); DELETE and TRUNCATE are refused. Installed by
migration 0006. The owner of the tables can still drop the triggers: the tally
then still compares every ballot with the commitment the trail recorded when
it was cast (commission.selectors.ballots_not_matching_trail).
"""

from audit.triggers import TriggerSet, refusing_every_change

_POSTGRES_SUPERSEDE_ONLY = (
    "OLD.superseded = false AND NEW.superseded = true"
    """ AND jsonb_populate_record(NEW, '{"superseded": false}') IS NOT DISTINCT FROM OLD"""
)

POSTGRES_INSTALL = [
    r"""
    CREATE OR REPLACE FUNCTION commission_ballot_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ballots are append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$;
    """,
    "CREATE TRIGGER commission_ballot_no_update BEFORE UPDATE ON commission_ballot"
    f" FOR EACH ROW WHEN (NOT ({_POSTGRES_SUPERSEDE_ONLY})) EXECUTE FUNCTION commission_ballot_append_only();",
    "CREATE TRIGGER commission_ballot_no_delete BEFORE DELETE ON commission_ballot"
    " FOR EACH ROW EXECUTE FUNCTION commission_ballot_append_only();",
    "CREATE TRIGGER commission_ballot_no_truncate BEFORE TRUNCATE ON commission_ballot"
    " FOR EACH STATEMENT EXECUTE FUNCTION commission_ballot_append_only();",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS commission_ballot_no_update ON commission_ballot;",
    "DROP TRIGGER IF EXISTS commission_ballot_no_delete ON commission_ballot;",
    "DROP TRIGGER IF EXISTS commission_ballot_no_truncate ON commission_ballot;",
]
POSTGRES_DROP_FUNCTIONS = ["DROP FUNCTION IF EXISTS commission_ballot_append_only();"]

_SQLITE_SUPERSEDE_ONLY = (
    "OLD.superseded = 0 AND NEW.superseded = 1 AND NEW.id IS OLD.id AND NEW.round_id IS OLD.round_id"
    " AND NEW.voter_id IS OLD.voter_id AND NEW.sealed IS OLD.sealed AND NEW.commitment IS OLD.commitment"
    " AND NEW.cast_at IS OLD.cast_at"
)
SQLITE_INSTALL = [
    "CREATE TRIGGER IF NOT EXISTS commission_ballot_no_update BEFORE UPDATE ON commission_ballot"
    f" WHEN NOT ({_SQLITE_SUPERSEDE_ONLY})"
    " BEGIN SELECT RAISE(ABORT, 'ballots are append-only: UPDATE on commission_ballot refused'); END;",
    "CREATE TRIGGER IF NOT EXISTS commission_ballot_no_delete BEFORE DELETE ON commission_ballot"
    " BEGIN SELECT RAISE(ABORT, 'ballots are append-only: DELETE on commission_ballot refused'); END;",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS commission_ballot_no_update;",
    "DROP TRIGGER IF EXISTS commission_ballot_no_delete;",
]


BALLOTS = TriggerSet(postgres_install=POSTGRES_INSTALL, postgres_drop=POSTGRES_DROP,
                     postgres_drop_functions=POSTGRES_DROP_FUNCTIONS, sqlite_install=SQLITE_INSTALL,
                     sqlite_drop=SQLITE_DROP)
install = BALLOTS.install
drop = BALLOTS.drop


# Published bulletins are immutable: no UPDATE at all, no DELETE or TRUNCATE
# (migration 0008). A bulletin that was wrong is followed by a new one, never
# rewritten: whoever kept a copy can hold the commission to it.
BULLETINS = refusing_every_change(table="commission_bulletin", function="commission_bulletin_immutable",
                                  message="published bulletins are immutable")

# The case's discussion is append-only (migration 0011): no UPDATE, DELETE or
# TRUNCATE of a comment. What was said before a vote stays as it was said;
# a correction is a new comment, and the trail holds every body.
COMMENTS = refusing_every_change(table="commission_comment", function="commission_comment_append_only",
                                 message="comments are append-only")

# A party's reply and its files are never edited (migration 0012): the
# members vote on what the party said, as it said it.
REPLIES = refusing_every_change(table="commission_reply", function="commission_reply_immutable",
                                message="replies are immutable")
REPLY_EVIDENCE = refusing_every_change(table="commission_replyevidence",
                                       function="commission_replyevidence_immutable",
                                       message="reply evidence is immutable")

# Every set above but the ballots' (whose install/drop are this module's own).
NEVER_CHANGED = (BULLETINS, COMMENTS, REPLIES, REPLY_EVIDENCE)
