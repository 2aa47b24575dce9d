"""What the reports API takes and shows (reports.api holds the views; the
map's GeoJSON, reports and clusters, is reports.map_serializers).

ReportInputSerializer's validated_data is flat, the shape
reports.services.report_create takes; the output serializers build their
JSON from their declared fields, which are also the OpenAPI schema."""

import math

from django.conf import settings
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Party
from audit.serializers import CheckpointSerializer, EventSerializer, InclusionProofSerializer
from config.api import ResumeAfterField, StrictCharField
from reports import geo, selectors, services
from reports.models import Category, Evidence, Report, ReportStatus, SourceType

MGRS_INVALID = gettext_lazy("Not an MGRS grid reference: zone, band, square, then easting and northing of equal "
                             "length, e.g. 37U DQ 12345 67890.")


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
    # Optional and nullable for a draft; a submitted report has both (checked
    # in ReportInputSerializer.validate and reports.services).
    lat = FiniteFloatField(min_value=-90, max_value=90, required=False, allow_null=True,
                           help_text="decimal degrees, WGS 84; required to submit")
    lon = FiniteFloatField(min_value=-180, max_value=180, required=False, allow_null=True,
                           help_text="decimal degrees, WGS 84; required to submit")
    precision_m = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, allow_null=True,
                                           help_text="radius of uncertainty, metres")
    place_name = StrictCharField(max_length=200, required=False, allow_blank=True)
    admin1 = StrictCharField(max_length=200, required=False, allow_blank=True,
                                   help_text="first-level administrative area (oblast)")
    # Input only: the report stores (and shows) lat and lon.
    mgrs = StrictCharField(write_only=True, required=False, max_length=40,
                           help_text="instead of lat and lon: an MGRS grid reference such as "
                                     '"37U DQ 12345 67890" (spaces optional), converted to lat/lon')

    def validate(self, attrs):
        grid = attrs.pop("mgrs", None)
        if grid:
            if attrs.get("lat") is not None or attrs.get("lon") is not None:
                raise serializers.ValidationError({"mgrs": [_("Give either lat and lon or mgrs, not both.")]})
            try:
                attrs["lat"], attrs["lon"] = geo.mgrs_to_latlon(grid)
            except ValueError:
                raise serializers.ValidationError({"mgrs": [MGRS_INVALID]}) from None
        return attrs


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
    reports.services.report_create takes.

    A draft may carry any subset of the fields (each checked for its type and
    range only); filing a report (status "submitted", the default) requires
    REQUIRED_TO_SUBMIT, every missing one named in the 400."""

    occurred_at = serializers.DateTimeField(
        required=False, allow_null=True,
        help_text="ISO 8601 with offset; not in the future (5 minutes of clock skew allowed); required to submit")
    occurred_until = serializers.DateTimeField(required=False, allow_null=True,
                                               help_text="end of a lasting incident; not before occurred_at")
    location = LocationSerializer(required=False, help_text="lat and lon required to submit")
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True,
                                       help_text="required to submit")
    description = StrictCharField(required=False, allow_blank=True,
                                  help_text="required to submit; at most REPORT_DESCRIPTION_MAX characters")
    alleged_party = PartyCodeField(required=False, allow_null=True, help_text="a party code (RU, UA) or null")
    source_type = serializers.ChoiceField(choices=SourceType.choices, required=False, allow_blank=True,
                                          help_text="required to submit")
    casualties = CasualtiesSerializer(required=False)
    weapons = StrictCharField(max_length=500, required=False, allow_blank=True)
    severity = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    links = serializers.ListField(child=HttpUrlField(), max_length=services.MAX_LINKS, required=False)
    # Only what a monitor may file: "returned" is set by a verifier, never filed
    # (the service refuses it too), so the schema does not offer it.
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in services.FILING_STATUSES], required=False,
                                     help_text='"draft" keeps a draft; default "submitted", which also sends a '
                                               "returned report back")

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # A body with a wrong field AND missing ones: name them all in one
            # answer (validate() below only runs once every field is valid).
            if self.partial or not isinstance(data, dict) or not isinstance(exc.detail, dict):
                raise
            if data.get("status", ReportStatus.SUBMITTED) != ReportStatus.SUBMITTED:
                raise
            detail = dict(exc.detail)
            raw = dict(data)
            if not isinstance(raw.get("location"), dict):
                raw["location"] = {}
            for key, value in _missing_to_submit(raw).items():
                if key not in detail:
                    detail[key] = value
                elif key == "location" and isinstance(detail[key], dict):
                    detail[key] = {**value, **detail[key]}
            raise serializers.ValidationError(detail) from exc

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
        if not self.partial and attrs.get("status", ReportStatus.SUBMITTED) == ReportStatus.SUBMITTED:
            # A PATCH is checked by the service instead, on the report as it
            # would be after the change (the body alone cannot tell).
            missing = _missing_to_submit(attrs)
            if missing:
                raise serializers.ValidationError(missing)
        flat = dict(attrs)
        flat.update(flat.pop("location", None) or {})
        flat.update(flat.pop("casualties", None) or {})
        return flat



def _missing_to_submit(attrs: dict) -> dict:
    """Every field a submitted report needs that the body lacks, in the
    body's nested shape (location.lat), with DRF's own "required" message."""
    missing: dict = {}
    location = dict(attrs.get("location") or {})
    if location.get("mgrs"):  # a grid reference gives both (or its own error)
        location.setdefault("lat", 0.0)
        location.setdefault("lon", 0.0)
    for field in services.REQUIRED_TO_SUBMIT:
        value = location.get(field) if field in services.LOCATION_FIELDS else attrs.get(field)
        if value is None or value == "":
            # Translated only when something is missing (most bodies lack nothing).
            message = str(serializers.Field.default_error_messages["required"])
            if field in services.LOCATION_FIELDS:
                missing.setdefault("location", {})[field] = [message]
            else:
                missing[field] = [message]
    return missing


class ReportSerializer(serializers.Serializer):
    """A report as the API shows it."""

    id = serializers.IntegerField()
    reference = StrictCharField(help_text="e.g. RPT-2026-000123")
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    author = StrictCharField(source="author.username", help_text="username")
    occurred_at = serializers.DateTimeField(allow_null=True, help_text="null only in a draft")
    occurred_until = serializers.DateTimeField(allow_null=True)
    location = LocationSerializer(source="*")
    category = serializers.ChoiceField(choices=Category.choices, allow_blank=True, help_text='"" only in a draft')
    description = StrictCharField(allow_blank=True)
    alleged_party = StrictCharField(source="alleged_party.code", allow_null=True)
    source_type = serializers.ChoiceField(choices=SourceType.choices, allow_blank=True, help_text='"" only in a draft')
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


class ReceiptSerializer(serializers.Serializer):
    """The service's signed receipt for a filed report (docs/audit.md, "Receipts")."""

    reference = StrictCharField()
    sha256 = StrictCharField(help_text="SHA-256 of the report as filed (its canonical form: docs/audit.md), hex")
    at = StrictCharField(help_text="when it was filed, ISO 8601 UTC with microseconds")
    signature = StrictCharField(help_text="Ed25519 over canonical({reference, sha256, at}), hex")
    public_key = StrictCharField(help_text="the service's Ed25519 public key, hex")


class ReceiptProofSerializer(serializers.Serializer):
    """A receipt with what proves it offline (docs/verify_receipt.py inclusion --bundle)."""

    receipt = ReceiptSerializer()
    event = EventSerializer(allow_null=True, help_text="the filing event; null until it is sealed")
    tree_head = CheckpointSerializer(allow_null=True,
                                     help_text="the newest signed tree head; null until one covers the event")
    proof = InclusionProofSerializer(allow_null=True, help_text="the event's inclusion proof in tree_head")


class FiledReportSerializer(ReportSerializer):
    """A report with its receipt, for its author (null for anyone else, for a
    draft, or when the service has no signing key). The view passes the
    receipt in the context (reports.selectors.report_receipt_for)."""

    receipt = serializers.SerializerMethodField()

    @extend_schema_field(ReceiptSerializer(allow_null=True))
    def get_receipt(self, _report: Report) -> dict | None:
        return self.context.get("receipt")


class SimilarReportSerializer(ReportSerializer):
    distance_m = serializers.SerializerMethodField(help_text="great-circle distance from the report, metres")

    def get_distance_m(self, r: Report) -> float:
        return round(r.distance_m, 1)




class ExportParamsSerializer(serializers.Serializer):
    """Where the reports' CSV and GeoJSON exports resume."""

    after_id = ResumeAfterField(
        required=False, default=0,
        help_text="resume an interrupted export: only reports with a greater id (the last id received; in the "
                  "CSV, the number that ends a reference)")


class EvidenceExifSerializer(serializers.Serializer):
    """The capture time and position the camera wrote in the original's EXIF,
    compared with the report's occurred_at(/occurred_until) and location."""

    taken_at = serializers.DateTimeField(allow_null=True, help_text="EXIF DateTimeOriginal, in UTC")
    taken_at_has_offset = serializers.BooleanField(
        help_text="false: the camera wrote no time zone (OffsetTimeOriginal), so taken_at is its local clock read "
                  "as UTC")
    lat = serializers.FloatField(allow_null=True, help_text="EXIF GPS latitude, decimal degrees")
    lon = serializers.FloatField(allow_null=True, help_text="EXIF GPS longitude, decimal degrees")
    distance_km = serializers.FloatField(allow_null=True, help_text="from the report's location")
    hours_apart = serializers.FloatField(
        allow_null=True, help_text="from the report's time (0 within occurred_at..occurred_until)")
    far_in_space = serializers.BooleanField(help_text="distance_km over 5")
    far_in_time = serializers.BooleanField(help_text="hours_apart over 24")


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
    thumbnail_url = serializers.SerializerMethodField(
        help_text="a JPEG of at most 320 px with no metadata, made by the server from an image; null for other "
                  "files and images it could not read")
    thumbnail_width = serializers.IntegerField(allow_null=True)
    thumbnail_height = serializers.IntegerField(allow_null=True)
    exif = serializers.SerializerMethodField(
        help_text="for verifiers, the chair and the uploader only (a photo's GPS is where a monitor stood); "
                  "null otherwise, and when the original has no EXIF time or position")

    def get_download_url(self, evidence: Evidence) -> str:
        return f"/api/v1/evidence/{evidence.pk}/download/"

    def get_thumbnail_url(self, evidence: Evidence) -> str | None:
        return f"/api/v1/evidence/{evidence.pk}/thumbnail/" if evidence.thumbnail else None

    @extend_schema_field(EvidenceExifSerializer(allow_null=True))
    def get_exif(self, evidence: Evidence):
        request = self.context.get("request")
        exif = selectors.evidence_exif_for(request.user, evidence) if request is not None else None
        return None if exif is None else EvidenceExifSerializer(exif).data


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
