"""What the reports API takes and shows (reports.api holds the views).

ReportInputSerializer's validated_data is flat, the shape
reports.services.report_create takes; the output serializers build their
JSON from their declared fields, which are also the OpenAPI schema."""

import copy
import math
from collections.abc import Mapping

from django.conf import settings
from django.core.validators import URLValidator
from django.utils import timezone, translation
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.settings import api_settings

from reports import selectors, services
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
    place_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    admin1 = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   help_text="first-level administrative area (oblast)")


class CasualtiesSerializer(serializers.Serializer):
    civilian_killed = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    civilian_injured = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    military_killed = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    military_injured = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)


@extend_schema_field(OpenApiTypes.STR)
class PartyCodeField(serializers.Field):
    """A party by its code, from the per-process copy of the parties
    (reports.selectors.party_by_code): no query per report."""

    default_error_messages = {
        "invalid": "Invalid value.",
        "does_not_exist": "Object with code={value} does not exist.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        party = selectors.party_by_code(data)
        if party is None:
            self.fail("does_not_exist", value=data)
        return party

    def to_representation(self, value):
        return value.code


class _ObjectField(serializers.Field):
    """A JSON object checked key by key, with the error shape of a nested
    serializer ({"location": {"lat": ["..."]}}). The checks are the fields of
    `serializer_class`, built once per process: a nested Serializer would
    deep-copy its fields on every request, about 1 ms of intake CPU."""

    serializer_class: type[serializers.Serializer]
    default_error_messages = {"invalid": "Invalid data. Expected a dictionary, but got {datatype}."}
    _checks: dict[tuple[str, str], dict] = {}

    @classmethod
    def checks(cls) -> dict:
        # One set per language: DRF renders a validator's message (such as
        # "less than or equal to 90") once, in the language active when it is
        # first used, so a set shared across languages would answer an English
        # user in French after a French request.
        language = translation.get_language() or ""
        key = (cls.__name__, language)
        checks = _ObjectField._checks.get(key)
        if checks is None:
            # Bound to a throwaway, never partial, instance; they keep no
            # state between calls, so threads may share them.
            checks = _ObjectField._checks[key] = dict(cls.serializer_class().fields)
        return checks

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            message = self.error_messages["invalid"].format(datatype=type(data).__name__)
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]}, code="invalid")
        partial = getattr(self.root, "partial", False)
        out, errors = {}, {}
        for name, field in self.checks().items():
            if name not in data:
                if field.required and not partial:
                    errors[name] = [ErrorDetail(field.error_messages["required"], code="required")]
                continue
            try:
                out[name] = field.run_validation(data[name])
            except ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise ValidationError(errors)
        return out


@extend_schema_field(LocationSerializer)
class LocationField(_ObjectField):
    serializer_class = LocationSerializer


@extend_schema_field(CasualtiesSerializer)
class CasualtiesField(_ObjectField):
    serializer_class = CasualtiesSerializer


def _fresh(field: serializers.Field) -> serializers.Field:
    """An unbound shallow copy of a field (and of its list item's field)."""
    clone = copy.copy(field)
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        clone.child = _fresh(child)
        clone.child.parent = clone
    return clone


class _FieldsBuiltOnce:
    """A Serializer whose declared fields are built once per process and
    language, each instance binding shallow copies of them. DRF deep-copies
    every declared field per instance, re-running each field's __init__: for
    the report body that was 0.17 ms of CPU per report, half its validation.
    The copies share only what fields never change after __init__ (options,
    validators, error messages); what binding sets (name, parent, source) is
    the copy's own, so `partial` and the context are each instance's. One set
    per language, as for _ObjectField: a validator's message is rendered once,
    in the language active when it is first used."""

    _prototypes: dict[tuple[type, str], dict] = {}

    def get_fields(self):
        key = (type(self), translation.get_language() or "")
        prototypes = _FieldsBuiltOnce._prototypes.get(key)
        if prototypes is None:
            # Never bound themselves; threads may share them.
            prototypes = _FieldsBuiltOnce._prototypes[key] = super().get_fields()
        return {name: _fresh(field) for name, field in prototypes.items()}


def _not_in_future(value):
    if value is not None and value > timezone.now() + services.CLOCK_SKEW:
        raise serializers.ValidationError("Cannot be in the future.")
    return value


class ReportInputSerializer(_FieldsBuiltOnce, serializers.Serializer):
    """A report as a monitor files it. validated_data comes out flat (lat,
    lon, ..., civilian_killed, ...; alleged_party a Party), the shape
    reports.services.report_create takes."""

    occurred_at = serializers.DateTimeField(help_text="ISO 8601; not in the future (5 minutes of clock skew allowed)")
    occurred_until = serializers.DateTimeField(required=False, allow_null=True,
                                               help_text="end of a lasting incident; not before occurred_at")
    location = LocationField()
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField(help_text="required; at most REPORT_DESCRIPTION_MAX characters")
    alleged_party = PartyCodeField(required=False, allow_null=True, help_text="a party code (RU, UA) or null")
    source_type = serializers.ChoiceField(choices=SourceType.choices)
    casualties = CasualtiesField(required=False)
    weapons = serializers.CharField(max_length=500, required=False, allow_blank=True)
    severity = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    links = serializers.ListField(child=HttpUrlField(), max_length=services.MAX_LINKS, required=False)
    status = serializers.ChoiceField(choices=ReportStatus.choices, required=False,
                                     help_text='"draft" keeps a draft; default "submitted", which also sends a '
                                               'returned report back. "returned" is set by a verifier, never '
                                               "filed (400 from the service)")

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
    reference = serializers.CharField(help_text="e.g. RPT-2026-000123")
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    author = serializers.CharField(source="author.username", help_text="username")
    occurred_at = serializers.DateTimeField()
    occurred_until = serializers.DateTimeField(allow_null=True)
    location = LocationSerializer(source="*")
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField()
    alleged_party = serializers.CharField(source="alleged_party.code", allow_null=True)
    source_type = serializers.ChoiceField(choices=SourceType.choices)
    casualties = CasualtiesSerializer(source="*")
    weapons = serializers.CharField()
    severity = serializers.IntegerField(allow_null=True)
    links = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    returned_reason = serializers.CharField(help_text='while status is "returned": the question the monitor '
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
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    occurred_at = serializers.DateTimeField()
    occurred_until = serializers.DateTimeField(allow_null=True)
    alleged_party = serializers.CharField(source="alleged_party.code", allow_null=True)
    severity = serializers.IntegerField(allow_null=True)
    precision_m = serializers.IntegerField(allow_null=True)
    place_name = serializers.CharField()
    author = serializers.CharField(source="author.username")


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
    sha256 = serializers.CharField()
    size = serializers.IntegerField(help_text="bytes")
    content_type = serializers.CharField(help_text="detected from the file's bytes")
    original_name = serializers.CharField(help_text="as uploaded; informative only, never used on disk")
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    uploaded_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, evidence: Evidence) -> str:
        return f"/api/v1/evidence/{evidence.pk}/download/"


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG, WebP, PDF or MP4, recognised by content; at most EVIDENCE_MAX_BYTES")
