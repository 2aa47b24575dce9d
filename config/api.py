from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, parsers, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError
from config.views import RETRY_AFTER_SECONDS, database_unavailable


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than Python's recursion limit
    is a 400 like any other malformed JSON, not a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.")


def exception_handler(exc, context):
    """DRF's handler, plus the services' own errors in DRF's usual JSON shape,
    and a database that is down as 503 with Retry-After."""
    if database_unavailable(exc):
        response = Response({"detail": "The service is briefly unavailable; try again shortly.",
                             "code": "unavailable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    if isinstance(exc, ApplicationError):
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        body["code"] = exc.code
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)
