"""What the public bulletin's API answers (commission.selectors.bulletin says
what is in a bulletin and what never is)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# --- The public bulletin (commission.selectors.bulletin_content says what is in it) ---


class _CountSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=0)


class CategoryCountSerializer(_CountSerializer):
    category = serializers.CharField()


class RegionCountSerializer(_CountSerializer):
    region = serializers.CharField(allow_null=True, help_text="admin1 as recorded; null when none was")


class DayCountSerializer(_CountSerializer):
    day = serializers.DateField(help_text="day of occurrence (UTC)")


class CellCountSerializer(_CountSerializer):
    lat = serializers.FloatField(help_text="centre of the grid cell, never a report's point")
    lon = serializers.FloatField(help_text="centre of the grid cell, never a report's point")


class PartyCountSerializer(_CountSerializer):
    party = serializers.CharField()


class OutcomeCountSerializer(_CountSerializer):
    outcome = serializers.CharField()


class KindCountSerializer(_CountSerializer):
    kind = serializers.CharField()


class ComplianceCountSerializer(_CountSerializer):
    compliance = serializers.CharField()


class PublicSummarySerializer(serializers.Serializer):
    case = serializers.CharField(help_text="the case's reference")
    outcome = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    summary = serializers.CharField(help_text="the closing summary the chair made public")


class BulletinPeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="exclusive; at least BULLETIN_DELAY before publication")


class BulletinReportsSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, help_text="filed reports (not drafts) that occurred in the period")
    by_category = CategoryCountSerializer(many=True)
    by_region = RegionCountSerializer(many=True)
    by_day = DayCountSerializer(many=True)
    cells = CellCountSerializer(many=True, help_text="reports per grid cell of grid_km")


class BulletinCasesSerializer(serializers.Serializer):
    opened = serializers.IntegerField(min_value=0)
    attributed = serializers.IntegerField(min_value=0, help_text="rounds closed in the period with a party found responsible")
    attributed_to = PartyCountSerializer(many=True)
    closed = serializers.IntegerField(min_value=0)
    closed_by_outcome = OutcomeCountSerializer(many=True)
    public_summaries = PublicSummarySerializer(many=True)


class BulletinMeasuresSerializer(serializers.Serializer):
    adopted = serializers.IntegerField(min_value=0)
    adopted_by_kind = KindCountSerializer(many=True)
    adopted_by_addressee = PartyCountSerializer(many=True)
    compliance = ComplianceCountSerializer(many=True, help_text="measures adopted up to the period's end, by compliance when published")


class BulletinContentSerializer(serializers.Serializer):
    period = BulletinPeriodSerializer()
    grid_km = serializers.FloatField()
    reports = BulletinReportsSerializer()
    cases = BulletinCasesSerializer()
    measures = BulletinMeasuresSerializer()


@extend_schema_field({
    "type": "object", "nullable": True,
    "description": "the signed tree head (audit.selectors.checkpoint_dict) of the trail the bulletin was made "
                   "from; null only if the trail was empty. Further fields (tree_size, root_hash) may follow.",
    "properties": {
        "seq": {"type": "integer", "description": "the last event it covers"},
        "hash": {"type": "string", "description": "that event's chain hash"},
        "at": {"type": "string"},
        "signature": {"type": "string", "description": "Ed25519, hex"},
        "public_key": {"type": "string"},
    },
    "required": ["seq", "hash", "at", "signature", "public_key"],
    "additionalProperties": True,
})
class TreeHeadField(serializers.JSONField):
    pass


class BulletinSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = BulletinPeriodSerializer()
    published_at = serializers.DateTimeField()
    on_demand = serializers.BooleanField(help_text="asked for by the chair, rather than the daily schedule")
    content = BulletinContentSerializer()
    content_sha256 = serializers.CharField(help_text="of the content's canonical JSON; the trail's "
                                                     "bulletin.published event records the same")
    tree_head = TreeHeadField(allow_null=True)
