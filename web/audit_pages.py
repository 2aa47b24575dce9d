"""The auditor's pages: integrity of the trail, its events as a timeline,
and the exports (JSON Lines through audit.services.trail_export, CSV of the
reports through reports.selectors.report_list_for)."""

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import AUDITOR, CHAIR
from audit import selectors as audit_selectors
from audit import services as audit_services
from audit.scopes import case_refs
from config.errors import ApplicationError
from reports import exports as report_exports
from reports import selectors as report_selectors
from reports.serializers import ExportParamsSerializer
from web.access import role_required, trail_reader_required
from web.forms import TrailFilterForm
from web.labels import action_choices
from web.paging import keyset_page

EVENTS_PER_PAGE = 50


def integrity_context() -> dict:
    """The chain check and the latest signed checkpoint, for display."""
    # Incremental: a page view does not re-verify a million events; the full
    # pass (verify_audit, the daily task) records the head it found intact.
    report = audit_services.trail_verify(full=False)
    checkpoint = audit_selectors.checkpoint_latest()
    return {
        "verify": report,
        "checkpoint": checkpoint,
        "checkpoint_on_chain": bool(
            checkpoint and report.ok and report.head_seq is not None and checkpoint.seq <= report.head_seq),
    }


def trail_filters(request, *, case_fixed: bool = False):
    """The trail's filters from the query string, as the selector's
    arguments; None when they are not valid (the page answers 400)."""
    filters = TrailFilterForm(request.GET)
    if not filters.is_valid():
        return filters, None
    after, before = filters.window()
    return filters, {"actor": filters.cleaned_data["actor"] or None, "action": filters.cleaned_data["action"] or None,
                     "after": after, "before": before}


def filter_context(filters) -> dict:
    data = filters.cleaned_data
    known = action_choices()
    action = data.get("action") or ""
    if action and action not in {code for code, _text in known}:
        known = [(action, action), *known]
    return {"actor": data.get("actor") or "", "action": action, "case_ref": data.get("case") or "",
            "date_from": data.get("date_from") or "", "date_to": data.get("date_to") or "",
            "action_choices": known, "query": filters.query()}


@trail_reader_required
def trail(request):
    """The whole trail, newest first, filtered like the API's event list
    (in the database, a page at a time)."""
    filters, where = trail_filters(request)
    if where is None:
        return render(request, "web/message.html", {"title": _("Trail"), "text": _("These filters are not valid.")},
                      status=400)
    case = filters.cleaned_data["case"] or None
    error = None
    refs = None
    if case:
        try:
            refs = case_refs(case)
        except ApplicationError as exc:
            error = exc.message
            refs = set()
    events = audit_selectors.event_list(refs=refs, **where)
    ctx = {**trail_page(request, events, newest_first=True), "filter_error": error, **filter_context(filters),
           **integrity_context()}
    return render(request, "web/trail.html", ctx)


def trail_page(request, events, *, newest_first: bool) -> dict:
    """{"events", "pager"}: a keyset page of `events` along seq (web.paging:
    one range of the seq index from where the last page stopped, never a
    COUNT(*) nor an OFFSET over millions of events), and, at the newest end,
    the few events not sealed yet (they have no seq until the seal, a moment
    after their commit), newest first like the rest."""
    pager = keyset_page(request, events.filter(seq__isnull=False), ordering=("-seq",) if newest_first else ("seq",),
                        size=EVENTS_PER_PAGE)
    items = pager["items"]
    if pager["newer"] is None:
        waiting = list(events.filter(seq__isnull=True).order_by("-id" if newest_first else "id")[:EVENTS_PER_PAGE])
        items = waiting + items if newest_first else items + waiting
    return {"events": items, "pager": pager}


def event_rows(events) -> list[dict]:
    return [audit_selectors.event_export_dict(e) for e in events]


@trail_reader_required
def trail_export(request):
    """JSON Lines of the trail (or one case's: ?case=REF), ending with the
    latest signed checkpoint: the audit service's export, as a download."""
    filters = TrailFilterForm(request.GET)
    if not filters.is_valid():
        return render(request, "web/message.html", {"title": _("Export"), "text": _("These filters are not valid.")},
                      status=400)
    case = filters.cleaned_data["case"] or None
    try:
        lines = audit_services.trail_export(case_reference=case, actor=request.user)
    except ApplicationError as exc:
        return render(request, "web/message.html", {"title": _("Export"), "text": exc.message}, status=400)
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
    name = f"trail-{case}" if case else "trail"
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.now():%Y%m%dT%H%M%SZ}.jsonl"'
    return response


@role_required(AUDITOR, CHAIR)
def reports_csv(request):
    """Every report the person may see (report_list_for), one row each, in id
    order; ?after_id=N resumes an interrupted download after report N (the
    rest of the same file, without the header)."""
    params = ExportParamsSerializer(data=request.GET)
    if not params.is_valid():
        return render(request, "web/message.html", {"title": _("Export"), "text": _("These filters are not valid.")},
                      status=400)
    reports = report_selectors.report_list_for(request.user)
    rows = report_exports.reports_csv(reports, after_id=params.validated_data["after_id"])
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reports-{timezone.now():%Y%m%dT%H%M%SZ}.csv"'
    return response
