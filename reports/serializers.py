"""What the reports API takes and shows (reports.api holds the views).

ReportInputSerializer's validated_data is flat, the shape
reports.services.report_create takes; the output serializers build their
JSON from their declared fields, which are also the OpenAPI schema."""

import math

from django.conf import settings
from django.core.validators import URLValidator
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Party
from config.api import StrictCharField
from reports import services
from reports.models import Category, Evidence, Report, ReportStatus, SourceType


class FiniteFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class HttpUrlField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)
        self.validators.append(URLValidator(schemes=["http", "https"], message="Enter a valid http(s) URL."))


class LocationSerializer(serializers.Serializer):
    lat = FiniteFloatField(min_value=-90, max_value=90)
    lon = FiniteFloatField(min_value=-180, max_value=180)
    precision_m = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, allow_null=True,
                                           help_text="radius of uncertainty, metres")
    place_name = StrictCharField(max_length=200, required=False, allow_blank=True)
    admin1 = StrictCharField(max_length=200, required=False, allow_blank=True,
                                   help_text="first-level administrative area (oblast)")


class CasualtiesSerializer(serializers.Serializer):
    civilian_killed = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    civilian_injured = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    military_killed = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    military_injured = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)


class PartyCodeField(serializers.SlugRelatedField):
    """A party by its code. A batch import passes the parties it loaded once
    (context["parties"]: code -> Party) instead of a query per row; the rule,
    "a known code or null", is the same either way."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Party.objects.all(), **kwargs)

    def to_internal_value(self, data):
        parties = self.context.get("parties")
        if parties is None:
            return super().to_internal_value(data)
        if not isinstance(data, str):
            self.fail("invalid")
        party = parties.get(data)
        if party is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return party


@extend_schema_field(OpenApiTypes.STR)
def _not_in_future(value):
    if value is not None and value > timezone.now() + services.CLOCK_SKEW:
        raise serializers.ValidationError("Cannot be in the future.")
    return value


class ReportInputSerializer(serializers.Serializer):
    """A report as a monitor files it. validated_data comes out flat (lat,
    lon, ..., civilian_killed, ...; alleged_party a Party), the shape
    reports.services.report_create takes."""

    occurred_at = serializers.DateTimeField(help_text="ISO 8601; not in the future (5 minutes of clock skew allowed)")
    occurred_until = serializers.DateTimeField(required=False, allow_null=True,
                                               help_text="end of a lasting incident; not before occurred_at")
    location = LocationSerializer()
    category = serializers.ChoiceField(choices=Category.choices)
    description = StrictCharField(help_text="required; at most REPORT_DESCRIPTION_MAX characters")
    alleged_party = PartyCodeField(required=False, allow_null=True, help_text="a party code (RU, UA) or null")
    source_type = serializers.ChoiceField(choices=SourceType.choices)
    casualties = CasualtiesSerializer(required=False)
    weapons = StrictCharField(max_length=500, required=False, allow_blank=True)
    severity = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    links = serializers.ListField(child=HttpUrlField(), max_length=services.MAX_LINKS, required=False)
    # Only what a monitor may file: "returned" is set by a verifier, never filed
    # (the service refuses it too), so the schema does not offer it.
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in services.FILING_STATUSES], required=False,
                                     help_text='"draft" keeps a draft; default "submitted", which also sends a '
                                               "returned report back")

    def validate_occurred_at(self, value):
        return _not_in_future(value)

    def validate_occurred_until(self, value):
        return _not_in_future(value)

    def validate_description(self, value):
        # Read at call time (not as max_length at import) so the setting can change.
        limit = settings.REPORT_DESCRIPTION_MAX
        if len(value) > limit:
            raise serializers.ValidationError(f"Ensure this field has no more than {limit} characters.")
        return value

    def validate(self, attrs):
        start, end = attrs.get("occurred_at"), attrs.get("occurred_until")
        if start and end and end < start:
            raise serializers.ValidationError({"occurred_until": ["Cannot be before occurred_at."]})
        flat = dict(attrs)
        flat.update(flat.pop("location", None) or {})
        flat.update(flat.pop("casualties", None) or {})
        return flat


class ReportSerializer(serializers.Serializer):
    """A report as the API shows it."""

    id = serializers.IntegerField()
    reference = StrictCharField(help_text="e.g. RPT-2026-000123")
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    author = StrictCharField(source="author.username", help_text="username")
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
    links = serializers.ListField(child=StrictCharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    returned_reason = StrictCharField(help_text='while status is "returned": the question the monitor '
                                                      'answers by editing and submitting again; else ""')
    returned_at = serializers.DateTimeField(allow_null=True)


class SimilarReportSerializer(ReportSerializer):
    distance_m = serializers.SerializerMethodField(help_text="great-circle distance from the report, metres")

    def get_distance_m(self, r: Report) -> float:
        return round(r.distance_m, 1)


class ConstantField(serializers.Field):
    """A fixed value, such as GeoJSON's "type": "Feature"."""

    def __init__(self, value: str, **kwargs):
        self.value = value
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, _instance):
        return self.value


class ConstantFieldExtension(OpenApiSerializerFieldExtension):
    target_class = ConstantField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": [self.target.value]}


class PointSerializer(serializers.Serializer):
    type = ConstantField("Point")
    coordinates = serializers.SerializerMethodField(help_text="[lon, lat], WGS 84")

    @extend_schema_field({"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2})
    def get_coordinates(self, r: Report) -> list[float]:
        return [r.lon, r.lat]


class FeaturePropertiesSerializer(serializers.Serializer):
    reference = StrictCharField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    occurred_at = serializers.DateTimeField()
    occurred_until = serializers.DateTimeField(allow_null=True)
    alleged_party = StrictCharField(source="alleged_party.code", allow_null=True)
    severity = serializers.IntegerField(allow_null=True)
    precision_m = serializers.IntegerField(allow_null=True)
    place_name = StrictCharField()
    author = StrictCharField(source="author.username")


class FeatureSerializer(serializers.Serializer):
    type = ConstantField("Feature")
    id = serializers.IntegerField()
    geometry = PointSerializer(source="*")
    properties = FeaturePropertiesSerializer(source="*")


class FeatureCollectionSerializer(serializers.Serializer):
    """Reports as a GeoJSON FeatureCollection (RFC 7946); the instance is the reports."""

    type = ConstantField("FeatureCollection")
    features = FeatureSerializer(source="*", many=True)


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    report = serializers.IntegerField(source="report_id")
    sha256 = StrictCharField()
    size = serializers.IntegerField(help_text="bytes")
    content_type = StrictCharField(help_text="detected from the file's bytes")
    original_name = StrictCharField(help_text="as uploaded; informative only, never used on disk")
    uploaded_by = StrictCharField(source="uploaded_by.username")
    uploaded_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, evidence: Evidence) -> str:
        return f"/api/v1/evidence/{evidence.pk}/download/"


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG, WebP, PDF or MP4, recognised by content; at most EVIDENCE_MAX_BYTES")


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based number of the record in the file (the header is not counted)")
    status = serializers.ChoiceField(choices=["filed", "duplicate", "refused"])
    reference = StrictCharField(allow_null=True, help_text="filed: the new report; duplicate: the report filed "
                                                           "before with the same source id (or content); refused: null")
    errors = serializers.DictField(child=serializers.ListField(child=StrictCharField()),
                                   help_text="refused: messages by source column (the mapping's names); else {}")


class ImportResultSerializer(serializers.Serializer):
    mapping = serializers.ChoiceField(choices=["acled", "cir", "native"], help_text="the mapping used (given or guessed)")
    filed = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    refused = serializers.IntegerField()
    rows = ImportRowSerializer(many=True)
