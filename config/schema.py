"""The OpenAPI pieces every app's API shares: the shape of an error body.

config.api.exception_handler writes every error in DRF's usual shape:
{"detail": "..."} or a list of messages per field ({"reports": ["..."]},
nested for nested fields: {"location": {"lat": ["..."]}}), plus the service's
"code" when a service refused. The views document each error status with
`error_responses`, so the schema names that body instead of leaving it out.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Never serializes anything: it only names the error body in the schema
    (the shape is written by hand below, since it is keyed by field name)."""


class ErrorSerializerExtension(OpenApiSerializerExtension):
    target_class = ErrorSerializer

    def get_name(self, auto_schema, direction):
        return "Error"

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": 'DRF\'s error shape: {"detail": "..."}, or a list of messages per field (an object '
                           'for a nested field, keyed by position for a list); "code" names a service\'s reason.',
            "properties": {
                "detail": {"type": "string"},
                "code": {"type": "string", "description": "machine-readable reason, when a service refused"},
            },
            "additionalProperties": {"oneOf": [
                {"type": "array", "items": {}},
                {"type": "object"},
            ]},
        }


def error_responses(texts: dict[int, str], *codes: int) -> dict[int, OpenApiResponse]:
    """{status: its description and the error body} for the given statuses."""
    return {code: OpenApiResponse(response=ErrorSerializer, description=texts[code]) for code in codes}


PAGE_NOT_FOUND = "A page number past the last page (or not a number)."
CURSOR_NOT_FOUND = "A `cursor` this list did not give (\"Invalid cursor\")."


def document_empty_query_values(result, generator, request, public):
    """drf-spectacular postprocessing hook: an optional query parameter sent
    empty (`?stage=`) means "not given", as in an HTML form (django-filter and
    DRF both read it so). `allowEmptyValue` says so in the schema, so that a
    client (and schemathesis) knows an empty value is accepted, not refused."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result
