from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination, parsers, serializers
from rest_framework.response import Response

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


def drf_datetime(value, zone) -> str | None:
    """What DRF's DateTimeField.to_representation writes, with the default
    ISO 8601 format and USE_TZ, for what writes DRF's output directly
    (commission.serializers.DeadlineSerializer, the reports' GeoJSON written
    in Python, reports.exports): None for no time,
    else the time in `zone` (the current time zone, as DRF's
    enforce_timezone puts it), "Z" for UTC."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class StrictCharField(serializers.CharField):
    """DRF's CharField takes a number too (0 becomes "0"); the schema says
    string, so a number is refused like any other wrong type."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ResumeAfterField(serializers.IntegerField):
    """Where an interrupted export resumes (`after_seq`, `after_id`): a whole
    number from 0 to the largest bigint, written in digits. DRF's
    IntegerField would also take "5.0"; a value beyond bigint would reach
    PostgreSQL and fail there (500) instead of in the input (400)."""

    BIGINT_MAX = 2**63 - 1

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=self.BIGINT_MAX, **kwargs)

    def to_internal_value(self, data):
        text = data if isinstance(data, str) else ""
        if not (text.isascii() and text.removeprefix("-").isdigit()):
            self.fail("invalid")
        return super().to_internal_value(text)


class _ClientPageSize:
    """The client may choose the page size (`page_size`, up to 500). A page
    size that is not a positive whole number is a 400, not quietly the
    default: the client asked for something it will not get."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw not in (None, ""):
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if size < 1:
                raise exceptions.ValidationError({self.page_size_query_param: ["A positive whole number."]})
        return super().get_page_size(request)

    def _document_page_size(self, parameters):
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                # No maximum: a larger size is read as the largest (DRF's max_page_size), not refused.
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
                parameter["description"] = f"Results per page; at most {self.max_page_size} (more is read as that)."
        return parameters


class PageSizePagination(_ClientPageSize, pagination.PageNumberPagination):
    """Numbered pages (with `count`) whose size the client may choose."""

    def get_schema_operation_parameters(self, view):
        return self._document_page_size(super().get_schema_operation_parameters(view))


def _is_unique(model, name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # not a field's name (pk, an annotation)
        return False
    return bool(field.unique)


class CursorTies:
    """For a cursor pager (the API's lists and the pages' keyset pagers):

    - ties: DRF's cursor holds the first ordering field's value and, for
      rows sharing it, an OFFSET among them. DRF caps that offset at 1,000,
      after which `next` gives the same page again forever; but an import
      files 10,000 reports with one `submitted_at`, a CIR date is a whole
      day, and the inbox sorts by category. The cap is raised to a
      mission's size: the offset of a cursor the list gave counts only the
      rows tied with its value (the position filter comes first), so its
      cost is bounded by the largest tie. A hand-made cursor can ask for
      more, up to the cap; where the first field is unique (-id, seq) the
      list never gives an offset, and the cap is one row;
    - a cursor whose position is not a value of its field (a hand-made one)
      is the 404 of an unknown cursor, not a 500."""

    offset_cutoff = 1_000_000

    def paginate_queryset(self, queryset, request, view=None):
        # Ordered by a unique field first (-id, seq), no two rows tie: a
        # cursor this list gives never carries an offset, and a hand-made one
        # (o=999999) would make PostgreSQL step over a million index entries
        # for any signed-in reader. Capped at one row there; the cap above
        # stays for orders whose first field ties.
        lead = self.get_ordering(request, queryset, view)[0].lstrip("-")
        if _is_unique(queryset.model, lead):
            self.offset_cutoff = 1
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError):
            # The position is filtered on (`field__gt=position`) when the
            # queryset is narrowed, before any query runs.
            raise exceptions.NotFound(self.invalid_cursor_message) from None


class CursorPage(_ClientPageSize, CursorTies, pagination.CursorPagination):
    """DRF's cursor pagination for the lists that grow without end (reports,
    cases, deadlines, notifications): each page is one indexed range scan
    from where the last one stopped (`next`, `previous` links), with no
    COUNT(*) over the whole filtered set, which at a million reports cost
    more than the page itself; and a row filed meanwhile neither repeats nor
    hides one. Each list names its `ordering` (a supporting index in the
    app's migrations). A search narrows the list and keeps its order
    (config.search)."""

    ordering = ("-id",)
    PAGE_REFUSAL = "This list pages by cursor: follow the `next` and `previous` links (`page` is not used here)."

    def paginate_queryset(self, queryset, request, view=None):
        # A client written for numbered pages would otherwise get page one
        # again and again, quietly: say what to do instead.
        if "page" in request.query_params:
            raise exceptions.ValidationError({"page": [self.PAGE_REFUSAL]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return self._document_page_size(super().get_schema_operation_parameters(view))


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
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which
    # names this module's JSONParser, so importing it at the top made any
    # first import of config.api (a command that loads a serializer before
    # the URLs) a circular import.
    from rest_framework.views import exception_handler as drf_exception_handler

    return drf_exception_handler(exc, context)
