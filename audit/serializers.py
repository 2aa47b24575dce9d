"""What the auditors' API shows and takes (audit.api holds the views)."""

from rest_framework import serializers

from audit import selectors
from config.api import ResumeAfterField, StrictCharField


class EventSerializer(serializers.Serializer):
    """An event in the export's form (docs/audit.md); seq/prev_hash/hash are
    null for the few milliseconds between its commit and its sealing."""

    seq = serializers.IntegerField(allow_null=True)
    at = StrictCharField(help_text="ISO 8601 UTC, microseconds, e.g. 2026-11-24T10:00:00.123456Z")
    actor = StrictCharField(allow_null=True, help_text="username; null for the system")
    action = StrictCharField()
    object_type = StrictCharField()
    object_id = StrictCharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    reason = StrictCharField()
    prev_hash = StrictCharField(allow_null=True)
    hash = StrictCharField(allow_null=True)

    def to_representation(self, instance):
        return selectors.event_export_dict(instance)


class CheckpointSerializer(serializers.Serializer):
    """A signed tree head (docs/audit.md, "Checkpoints" and "Proofs")."""

    tree_size = serializers.IntegerField(
        allow_null=True, help_text="leaves of the Merkle tree (= seq); null on a checkpoint signed before trees")
    root_hash = StrictCharField(allow_null=True, help_text="the tree's RFC 9162 root, hex; null as tree_size")
    seq = serializers.IntegerField()
    hash = StrictCharField()
    at = StrictCharField()
    signature = StrictCharField(
        help_text="Ed25519 over canonical({seq, hash, at, tree_size, root_hash}) (without the last two when null), hex")
    public_key = StrictCharField(help_text="the signer's Ed25519 public key, hex")

    def to_representation(self, instance):
        return selectors.checkpoint_dict(instance)


class EventWhereSerializer(serializers.Serializer):
    """Filters of any list of events (the whole trail's, one case's)."""

    actor = StrictCharField(required=False, help_text="username")
    action = StrictCharField(required=False, help_text='e.g. "ballot.cast"')
    after = serializers.DateTimeField(required=False, help_text="events at or after this time")
    before = serializers.DateTimeField(required=False, help_text="events before this time")


class EventFilterSerializer(EventWhereSerializer):
    case = StrictCharField(required=False, help_text="case reference, e.g. CASE-2026-000001")


class ExportFilterSerializer(serializers.Serializer):
    # A CharField refuses NUL characters (DRF's validator): PostgreSQL cannot
    # compare with them, and the query would fail instead of the input.
    case = StrictCharField(required=False, max_length=64, help_text="only this case's events (its reference)")
    after_seq = ResumeAfterField(
        required=False, default=0,
        help_text="resume an interrupted export: only events with a greater seq (the last seq received)")


class TrailHeadSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = StrictCharField()


class VerifyParamsSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        default=False, help_text="check the whole chain (seconds per million events) instead of what follows the "
                                 "newest verified point a full pass signed; content checks run either way. "
                                 "Auditors only: anyone else who asks gets 403")


class TrailCheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    checked = serializers.IntegerField()
    ok = serializers.BooleanField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_null=True)
    skipped = serializers.BooleanField(
        help_text="true: incremental, and no event this check reads arrived after the verified point (the full "
                  "pass that signed it ran the check)")


class VerifiedPointSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = StrictCharField()
    at = StrictCharField()


class TrailVerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField(help_text="events whose hash and link were recomputed")
    checkpoints_checked = serializers.IntegerField(
        help_text="stored signed checkpoints found equal to the chain at their seq")
    incremental = serializers.BooleanField(
        help_text="true: the chain was checked after `verified_point` only (?full=true for all)")
    verified_point = VerifiedPointSerializer(
        allow_null=True, help_text="the signed point a full pass found the trail intact up to, that this check "
                                   "started from; null for a full check")
    checks = TrailCheckSerializer(many=True, help_text="ballots against commitments, recounts, eligibility")
    first_bad_seq = serializers.IntegerField(allow_null=True)
    problem = StrictCharField(allow_null=True)
    head = TrailHeadSerializer(allow_null=True)


class CheckpointKeySerializer(serializers.Serializer):
    algorithm = StrictCharField()
    public_key = StrictCharField()


class InclusionParamsSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField(min_value=1, help_text="the size of the tree (a signed tree head's tree_size)")


class InclusionProofSerializer(serializers.Serializer):
    leaf_index = serializers.IntegerField(help_text="seq - 1")
    tree_size = serializers.IntegerField()
    audit_path = serializers.ListField(child=StrictCharField(), help_text="RFC 9162 PATH, bottom-up, hex")


class ConsistencyParamsSerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=1, help_text="the older tree's size")
    second = serializers.IntegerField(min_value=1, help_text="the newer tree's size")


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    consistency_path = serializers.ListField(child=StrictCharField(), help_text="RFC 9162 PROOF, hex")
