"""The right of reply: what a party's representative sends and reads."""

from rest_framework import serializers

from commission.models import (
    DeadlineStatus,
    Stage,
)
from commission.serializers import (  # defined first in the package, which imports this module last
    NamedChoiceField,
    _text,
)
from config.api import StrictCharField
from reports.models import Category, SourceType
from reports.serializers import CasualtiesSerializer, LocationSerializer

# --- The right of reply ----------------------------------------------------------------


class ReplyInputSerializer(serializers.Serializer):
    text = _text(help_text="the party's reply")
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                  help_text="evidence: JPEG, PNG, WebP, PDF or MP4 (by content), at most "
                                            "EVIDENCE_MAX_BYTES each, at most 10")


class ReplyTextSerializer(serializers.Serializer):
    """A reply of text alone, as JSON."""

    text = _text(help_text="the party's reply")


class FactsReportSerializer(serializers.Serializer):
    """A report's facts, as a party's representative reads them: no author,
    no evidence uploader, no links (which may lead to sources)."""

    reference = StrictCharField()
    occurred_at = serializers.DateTimeField()
    occurred_until = serializers.DateTimeField(allow_null=True)
    location = LocationSerializer(source="*")
    category = serializers.ChoiceField(choices=Category.choices)
    description = StrictCharField()
    alleged_party = StrictCharField(source="alleged_party.code", allow_null=True)
    source_type = serializers.ChoiceField(choices=SourceType.choices)
    casualties = CasualtiesSerializer(source="*")
    weapons = StrictCharField()
    severity = serializers.IntegerField(allow_null=True)


class HearingCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = StrictCharField()
    title = StrictCharField()
    stage = serializers.ChoiceField(choices=Stage.choices)
    verification_outcome = StrictCharField()
    findings = StrictCharField()
    verified_at = serializers.DateTimeField(allow_null=True)
    reports = FactsReportSerializer(many=True, help_text="the facts of the reports linked now")


class ReplyWindowSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField()
    status = NamedChoiceField(choices=DeadlineStatus.choices, enum_name="DeadlineStatus")
    open = serializers.BooleanField(help_text="replies are accepted now")
    closed_at = serializers.DateTimeField(allow_null=True, help_text="when it closed: early once every called "
                                                                     "party replied; null while open")


class ReplyPartySerializer(serializers.Serializer):
    party = StrictCharField(help_text="party code")
    name = StrictCharField()
    notified_at = serializers.DateTimeField()
    replied = serializers.BooleanField()
    replied_at = serializers.DateTimeField(allow_null=True)


class ReplyEvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    content_type = StrictCharField()
    size = serializers.IntegerField()
    sha256 = StrictCharField()


class ReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    party = StrictCharField(source="party.code")
    author = StrictCharField(source="author.username", help_text="the representative who submitted it")
    text = StrictCharField()
    submitted_at = serializers.DateTimeField()
    evidence = ReplyEvidenceSerializer(source="evidence.all", many=True)


class HearingSerializer(serializers.Serializer):
    """The dict of commission.selectors.hearing."""

    case = HearingCaseSerializer()
    window = ReplyWindowSerializer(allow_null=True, help_text="null when no party could be called")
    parties = ReplyPartySerializer(many=True, help_text="the parties called to reply")
    replies = ReplySerializer(many=True, help_text="all replies for the commission; a representative sees "
                                                   "only their own party's")
    can_reply = serializers.BooleanField(help_text="whether you may submit your party's reply now")
