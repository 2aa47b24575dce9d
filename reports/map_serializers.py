"""The map's GeoJSON (RFC 7946): the reports as a FeatureCollection (the
reports' GeoJSON export, the case page's map) and the clusters of
GET /api/v1/map/clusters/, cells of reports.mapgrid. Their declared fields
are also the OpenAPI schema."""

from datetime import UTC

from django import forms
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import StrictCharField
from reports import mapgrid
from reports.filters import BBoxField
from reports.models import Category, Report, ReportStatus


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
    # A monitor's own drafts are mapped too once they have a position.
    category = serializers.ChoiceField(choices=Category.choices, allow_blank=True)
    occurred_at = serializers.DateTimeField(allow_null=True)
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


# --- The map's clusters (GET /api/v1/map/clusters/) --------------------------------


class MapClustersQuerySerializer(serializers.Serializer):
    """The query of GET /api/v1/map/clusters/."""

    zoom = serializers.IntegerField(min_value=0, max_value=mapgrid.MAX_MAP_ZOOM,
                                    help_text="the map's zoom (Web Mercator, as Leaflet's getZoom())")
    bbox = serializers.CharField(required=False, help_text="west,south,east,north (WGS 84, GeoJSON order); "
                                 "west > east crosses the antimeridian; default: the whole world")
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    status = serializers.ChoiceField(choices=ReportStatus.choices, required=False,
                                     help_text="default: every report you may see")
    occurred_after = serializers.DateTimeField(required=False, help_text="incidents at or after this time")
    occurred_before = serializers.DateTimeField(required=False, help_text="incidents at or before this time")

    def validate_bbox(self, value):
        try:
            return BBoxField().clean(value)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate(self, attrs):
        # Compared in UTC, as the report list's filters do (reports.filters.UTCDateTimeFilter).
        for name in ("occurred_after", "occurred_before"):
            if attrs.get(name) is not None:
                attrs[name] = attrs[name].astimezone(UTC)
        return attrs


class ClusterPropertiesSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="reports in the cell")
    cell = StrictCharField(help_text="the grid cell as zoom/x/y (Web Mercator tile numbering)")
    bbox = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4,
                                 help_text="the cell's west, south, east, north: pass it as the report list's "
                                           "`bbox` for the cell's reports")
    id = serializers.IntegerField(required=False, help_text="the report, when the cell holds one")
    reference = StrictCharField(required=False, help_text="the report's reference, when the cell holds one")


class ClusterGeometrySerializer(serializers.Serializer):
    type = ConstantField("Point")
    coordinates = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2,
                                        help_text="lon, lat: the mean position of the cell's reports")


class ClusterFeatureSerializer(serializers.Serializer):
    type = ConstantField("Feature")
    geometry = ClusterGeometrySerializer()
    properties = ClusterPropertiesSerializer()


class ClusterCollectionSerializer(serializers.Serializer):
    type = ConstantField("FeatureCollection")
    zoom = serializers.IntegerField()
    cell_zoom = serializers.IntegerField(help_text="the grid's zoom: zoom + 2 (64-pixel cells), less when the box "
                                                   "would hold more than 4096 cells")
    source = serializers.ChoiceField(choices=["cells", "reports"],
                                     help_text="cells: the counts kept on write; reports: grouped from the reports")
    features = ClusterFeatureSerializer(many=True)
