"""Forms of the pages. They render fields and carry what was typed; the
checking is the API's: report input goes through reports.api's
ReportInputSerializer, then the same service as the API, so a monitor sees
the very messages an API client gets, next to the field they concern."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Party
from config.errors import ApplicationError
from reports import geo
from reports.models import Category, SourceType
from web.labels import choices

CASUALTY_FIELDS = ("civilian_killed", "civilian_injured", "military_killed", "military_injured")
LOCATION_FIELDS = ("lat", "lon", "precision_m", "place_name", "admin1")


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value):
        if hasattr(value, "strftime"):
            return value.strftime("%Y-%m-%dT%H:%M")
        return value


def _text(**kwargs):
    # Every field is optional to Django: the serializer decides what is
    # required and says so in the API's words.
    kwargs.setdefault("required", False)
    kwargs.setdefault("strip", True)
    return forms.CharField(**kwargs)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


def _local_time_input():
    # data-local-time: web/static/web/localtime.js shows the value in the
    # device's zone (and fills `tz`); without JavaScript it stays UTC.
    return DateTimeLocal(attrs={"step": 60, "data-local-time": ""})


class ReportForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)
    # The device's IANA time zone (filled by localtime.js): the times typed
    # are wall-clock times there. Empty (no JavaScript): they are UTC.
    tz = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    occurred_at = _text(label=_("When it happened"), widget=_local_time_input())
    occurred_until = _text(label=_("Until (if it lasted)"), widget=_local_time_input())
    lat = _text(label=_("Latitude"), help_text=_("Decimal degrees, -90 to 90, e.g. 47.5689 or 47,5689"),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    lon = _text(label=_("Longitude"), help_text=_("Decimal degrees, -180 to 180, e.g. 35.8612 or 35,8612"),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    mgrs = _text(label=_("MGRS grid reference"), max_length=40,
                 help_text=_("Instead of latitude and longitude, e.g. 37U DQ 12345 67890"),
                 widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                               "spellcheck": "false"}))
    precision_m = _text(label=_("Precision (metres)"), widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    # Files sent with the report (the view reads request.FILES.getlist): the
    # field is here so that its refusal shows next to it.
    evidence = forms.FileField(
        label=_("Evidence"), required=False,
        help_text=_("Photos, videos or documents (JPEG, PNG, WebP, PDF, MP4); several may be chosen."),
        widget=MultipleFileInput(attrs={"multiple": True,
                                        "accept": "image/jpeg,image/png,image/webp,application/pdf,video/mp4"}))
    place_name = _text(label=_("Place name"))
    admin1 = _text(label=_("Region (oblast)"))
    # Selects that Django does not check: the serializer's "not a valid
    # choice" is the message a monitor must see, the API's.
    category = _text(label=_("Category"), widget=forms.Select)
    source_type = _text(label=_("Source"), widget=forms.Select)
    alleged_party = _text(label=_("Alleged party"), widget=forms.Select)
    description = _text(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 6}), strip=False)
    civilian_killed = _text(label=_("Civilians killed"), widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    civilian_injured = _text(label=_("Civilians injured"), widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    military_killed = _text(label=_("Military killed"), widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    military_injured = _text(label=_("Military injured"), widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    weapons = _text(label=_("Weapons"))
    severity = _text(label=_("Severity"), help_text=_("1 (minor) to 5 (grave)"),
                     widget=forms.Select(choices=[("", "—")] + [(str(i), str(i)) for i in range(1, 6)]))
    links = _text(label=_("Links"), help_text=_("One http(s) address per line"),
                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.choices = [("", "—")] + choices(Category.values)
        self.fields["source_type"].widget.choices = [("", "—")] + choices(SourceType.values)
        self.fields["alleged_party"].widget.choices = [("", _("Unknown / not alleged"))] + [
            (p.code, f"{p.code} · {p.name}") for p in Party.objects.order_by("code")]

    @classmethod
    def initial_from_report(cls, report) -> dict:
        initial = {field: getattr(report, field) for field in (
            "occurred_at", "occurred_until", *LOCATION_FIELDS, "category", "source_type", "description",
            *CASUALTY_FIELDS, "weapons", "severity")}
        initial["alleged_party"] = report.alleged_party.code if report.alleged_party_id else ""
        initial["links"] = "\n".join(report.links or [])
        return {k: ("" if v is None else v) for k, v in initial.items()}

    def clean_tz(self) -> str:
        name = self.cleaned_data.get("tz") or ""
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                # A device that names a zone this server does not know: the
                # times cannot be placed, so they are not guessed either.
                raise ValidationError(_("Unknown time zone %(tz)s.") % {"tz": name}) from None
        return name

    def clean(self):
        data = super().clean()
        for key in ("lat", "lon"):
            if data.get(key):
                data[key] = geo.parse_degrees(data[key])
        if data.get("mgrs"):
            try:
                data["lat"], data["lon"] = geo.mgrs_to_latlon(data["mgrs"])
            except ValueError:
                from reports.serializers import MGRS_INVALID

                self.add_error("mgrs", MGRS_INVALID)
        zone = ZoneInfo(data["tz"]) if data.get("tz") else UTC
        for key in ("occurred_at", "occurred_until"):
            data[key] = _as_utc(data.get(key), zone)
        return data

    def payload(self) -> dict:
        """The API's request body built from what was typed (blank = omitted)."""
        d = self.cleaned_data
        # A blank field is an omitted field: the API then says "This field
        # is required." where it is, and uses the default where it is not.
        body: dict = {}
        for key in ("occurred_at", "occurred_until", "category", "source_type"):
            if d.get(key):
                body[key] = d[key]
        if (d.get("description") or "").strip():
            body["description"] = d["description"]
        body["location"] = {k: d[k] for k in LOCATION_FIELDS if d.get(k) not in (None, "")}
        casualties = {k: d[k] for k in CASUALTY_FIELDS if d.get(k)}
        if casualties:
            body["casualties"] = casualties
        body["alleged_party"] = d.get("alleged_party") or None
        if d.get("weapons"):
            body["weapons"] = d["weapons"]
        if d.get("severity"):
            body["severity"] = d["severity"]
        links = [line.strip() for line in (d.get("links") or "").splitlines() if line.strip()]
        if links:
            body["links"] = links
        return body

    def validated(self, *, draft: bool = False) -> dict | None:
        """Run the API's serializer; copy its messages onto the fields. A
        draft is checked as the API checks one: only the fields given."""
        from reports.serializers import ReportInputSerializer

        body = self.payload()
        if draft:
            body["status"] = "draft"
        serializer = ReportInputSerializer(data=body)
        if serializer.is_valid():
            return serializer.validated_data
        add_api_errors(self, serializer.errors)
        return None


def _as_utc(text, zone) -> str:
    """A datetime-local value ("2026-01-01T10:00") read as wall-clock time
    in `zone`, as an ISO 8601 instant in UTC for the API. Anything that is
    not such a value goes on unchanged, for the API's message."""
    if not text:
        return text
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        return text
    if naive.tzinfo is not None:
        return naive.astimezone(UTC).isoformat()
    # fold=0: a time that a DST change repeats is read as the first of the two.
    return naive.replace(tzinfo=zone).astimezone(UTC).isoformat()


def add_api_errors(form: forms.Form, errors, parent: str | None = None) -> None:
    """DRF's error shape -> form errors: nested objects land on their leaf
    field (location.lat -> lat); list items keep their position."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):
                for message in _messages(value):
                    _add(form, parent, _("Item %(n)s: %(message)s") % {"n": key + 1, "message": message})
            elif isinstance(value, dict):
                add_api_errors(form, value, parent=key)
            else:
                field = key if key in form.fields else parent
                for message in _messages(value):
                    _add(form, field if field != "non_field_errors" else None, message)
    else:
        for message in _messages(errors):
            _add(form, parent, message)


def _messages(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(_messages(item))
        return out
    if isinstance(value, dict):
        out = []
        for item in value.values():
            out.extend(_messages(item))
        return out
    return [str(value)]


def _add(form: forms.Form, field: str | None, message: str) -> None:
    if field is not None and field not in form.fields:
        message = f"{field}: {message}"
        field = None
    form.add_error(field, message)


def add_service_error(form: forms.Form, exc: Exception) -> None:
    """A service's refusal on the form: Django ValidationError per field, or
    ApplicationError (with its field when it names one). The messages are
    also kept on form.service_errors, so that a page which no longer shows
    this form can still say the service's reason."""
    form.service_errors = [*getattr(form, "service_errors", []),
                           *(exc.messages if isinstance(exc, ValidationError) else [getattr(exc, "message", str(exc))])]
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            add_api_errors(form, {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()})
        else:
            for message in exc.messages:
                form.add_error(None, message)
    elif isinstance(exc, ApplicationError):
        _add(form, exc.field, exc.message)
    else:
        raise exc


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Your party's reply"), widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_("One reply per party: it cannot be changed once submitted."))
    files = MultipleFileField(label=_("Evidence files"), required=False,
                              help_text=_("Optional, up to 10: JPEG, PNG, WebP, PDF or MP4."))


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("File"), required=False,
                           help_text=_("Photo, video or document: JPEG, PNG, WebP, PDF or MP4."))

    def validated(self) -> dict | None:
        from reports.serializers import EvidenceUploadSerializer

        serializer = EvidenceUploadSerializer(data={"file": self.files.get("file")} if self.files.get("file") else {})
        if serializer.is_valid():
            return serializer.validated_data
        add_api_errors(self, serializer.errors)
        return None


# Imported last: they use the serializers above.
from web.forms.commission import (  # noqa: E402
    BallotForm,
    CaseCloseConfirmForm,
    CaseCloseForm,
    CaseOpenForm,
    CommentForm,
    ComplianceForm,
    ConflictForm,
    DeadlineExtendForm,
    DeadlinePauseForm,
    DeadlineResumeForm,
    DetachReportForm,
    InboxBulkLinkForm,
    InboxBulkReturnForm,
    InboxFilterForm,
    LinkReportForm,
    MeasureDecisionConfirmForm,
    MeasureDecisionForm,
    MeasureForm,
    ReportReturnForm,
    RoundOpenForm,
    TrailFilterForm,
    VerificationForm,
)

__all__ = [
    "BallotForm",
    "CaseCloseConfirmForm",
    "CaseCloseForm",
    "CaseOpenForm",
    "CommentForm",
    "ComplianceForm",
    "ConflictForm",
    "DeadlineExtendForm",
    "DeadlinePauseForm",
    "DeadlineResumeForm",
    "DetachReportForm",
    "InboxBulkLinkForm",
    "InboxBulkReturnForm",
    "InboxFilterForm",
    "LinkReportForm",
    "MeasureDecisionConfirmForm",
    "MeasureDecisionForm",
    "MeasureForm",
    "ReportReturnForm",
    "RoundOpenForm",
    "TrailFilterForm",
    "VerificationForm",
]
