from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One change of state, written in the same transaction as the change.

    Rows are append-only (database triggers refuse UPDATE and DELETE, except
    the one-time sealing of seq/prev_hash/hash). The hashed fields are exactly
    the ones export_audit writes; `id` and `actor` (the FK) are not hashed:
    `actor_username` is what the chain commits to.
    """

    # Written in the change's transaction.
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")

    # Written once, by the sealer, after the change committed (docs/audit.md).
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor_username", "at"], name="audit_actor_idx"),
            # The sealer's "what is pending?" must stay cheap on a trail of
            # millions of rows: only unsealed rows are in this index.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed_idx"),
        ]
        ordering = ["seq", "id"]
        # Reading the trail is view_auditevent; asking for a full pass on
        # demand (?full=1 on the verify API, every event from seq 1) is a
        # separate right, since it costs minutes at millions of events
        # (audit.permissions.can_verify_trail_in_full).
        permissions = [("verify_trail_in_full", "Can ask for a full verification pass of the trail")]

    def __str__(self) -> str:
        return f"#{self.seq or '-'} {self.action} {self.object_type}:{self.object_id}"


class Checkpoint(models.Model):
    """A signed tree head: "the trail's head was (seq, hash), its Merkle tree
    of tree_size leaves had root root_hash, at this time".

    The signature is Ed25519 over canonical({"seq", "hash", "at", "tree_size",
    "root_hash"}) (audit.chain.checkpoint_message). An auditor who saved one
    can later prove the trail was only appended to since (a consistency proof
    to a newer head), and that an event is in it (an inclusion proof).
    Checkpoints signed before audit 0006 have no tree_size/root_hash and a
    signature over (seq, hash, at) only. Append-only, like the events.
    """

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    signature = models.CharField(max_length=128)
    # The signer's Ed25519 public key (hex): it is the key's id, and lets a
    # rotated key's old checkpoints still be checked.
    public_key = models.CharField(max_length=64)
    # Leaf i is the event with seq i + 1, so tree_size equals seq; both are
    # kept because the RFC's tree head names one and the chain the other.
    tree_size = models.BigIntegerField(null=True, blank=True)
    root_hash = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.hash[:12]}"


class VerifiedPoint(models.Model):
    """"A full verification found seq 1..seq intact, ending in hash, at this
    time", signed with the commission's key (AUDIT_SIGNING_KEY).

    Written by a full pass only (beat's audit.tasks.verify_trail every
    AUDIT_VERIFY_INTERVAL, verify_audit, ?full=1); the trail page and the
    verify API then check only the events after the newest point, plus that
    the event at its seq still has the signed hash (docs/security.md says
    what that does not catch). The signature covers
    audit.chain.verified_point_message, which no checkpoint can be mistaken
    for. Append-only: the database refuses UPDATE, DELETE and TRUNCATE
    (audit.triggers.VERIFIED_POINTS, migration 0007).
    """

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    signature = models.CharField(max_length=128)
    public_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"verified through seq {self.seq}"
