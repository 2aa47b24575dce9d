"""The decision record of a case: a printable page (/cases/{id}/record/) and
the same document as a PDF (GET /api/v1/cases/{id}/record.pdf), both from
one template (web/_record.html), so that what a delegation signs is what the
page shows.

The content is commission.selectors.case_record; before it is read,
commission.services.case_record_prepare seals the case's events and makes
sure a signed checkpoint covers its head. Readers are the case page's
(commission.api.base.READ): party representatives and monitors are not.
"""

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.roles import AUDITOR, CHAIR, MEMBER, VERIFIER
from commission import selectors as commission_selectors
from commission import services
from commission.api.base import READ, errors
from web.access import role_required

RECORD_READERS = (VERIFIER, CHAIR, MEMBER, AUDITOR)


def record_context(user, case) -> dict:
    services.case_record_prepare(actor=user, case=case)
    record = commission_selectors.case_record(case)
    return {**record, "generated_at": timezone.now(), "generated_by": user.username}


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_css(record: dict) -> str:
    """The PDF's page boxes: A4, the case reference and "page x of y" in the
    footer (in the reader's language), "interim" in the header of every page
    of a record of an open case. Only the PDF renders margin boxes."""
    reference = record["case"].reference
    # Split around the counters, so that each language orders the words its own way.
    footer = _("%(reference)s — page %(page)s of %(pages)s") % {
        "reference": reference, "page": "\x00page\x00", "pages": "\x00pages\x00"}
    parts = []
    for piece in footer.split("\x00"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    header = _("INTERIM — NOT A DECISION") if record["interim"] else _("Decision record")
    return (
        "@page { size: A4; margin: 20mm 16mm 20mm 16mm;"
        f" @top-left {{ content: {_css_string(reference)}; font-size: 8pt; color: #333; }}"
        f" @top-right {{ content: {_css_string(header)}; font-size: 8pt;"
        f" {'color: #a00; font-weight: bold;' if record['interim'] else 'color: #333;'} }}"
        f" @bottom-center {{ content: {' '.join(parts)}; font-size: 8pt; color: #333; }} }}"
    )


def record_pdf(record: dict, *, base_url: str) -> bytes:
    """The record as a PDF (WeasyPrint): the page's template in a bare
    document, with the record's stylesheet and the page boxes."""
    import weasyprint  # imported here: only this path needs pango and its libraries

    html = render_to_string("web/record_pdf.html", record)
    stylesheets = [weasyprint.CSS(filename=finders.find("web/record.css")), weasyprint.CSS(string=page_css(record))]
    return weasyprint.HTML(string=html, base_url=base_url).write_pdf(stylesheets=stylesheets)


def _case_or_404(user, pk):
    case = commission_selectors.case_get_for(user, pk)
    if case is None:
        raise Http404
    return case


@role_required(*RECORD_READERS)
def case_record(request, pk: int):
    case = _case_or_404(request.user, pk)
    return render(request, "web/record.html", record_context(request.user, case))


class CaseRecordPdfApi(APIView):
    permission_classes = READ

    def perform_content_negotiation(self, request, force=False):
        # The answer is the PDF's bytes (an HttpResponse, not rendered), so a
        # client that sends `Accept: application/pdf` is served, not refused
        # with 406; errors are rendered as JSON, as everywhere in the API.
        return JSONRenderer(), "application/json"

    @extend_schema(
        operation_id="cases_record_pdf",
        summary="The case's decision record as a PDF (verifiers, the chair, members, auditors)",
        description="Reports (without who filed them), findings, replies, each round with its revealed ballots "
                    "and rationales, measures and compliance, deadlines, and the case's trail head with the "
                    "latest signed checkpoint covering it (docs/audit.md, \"Checking a decision record\"). "
                    "For a case not yet closed, every page says it is interim, not a decision.",
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="the PDF"),
                   **errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = commission_selectors.case_get_for(request.user, pk)
        if case is None:
            raise NotFound("No such case.")
        pdf = record_pdf(record_context(request.user, case), base_url=request.build_absolute_uri("/"))
        response = HttpResponse(pdf, content_type="application/pdf")
        kind = "interim" if case.stage != "closed" else "record"
        response["Content-Disposition"] = f'attachment; filename="{case.reference}-{kind}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response
