"""The verifier's inbox: triage of the submitted reports that are in no case
yet, with their duplicate candidates, and what a verifier or the chair does
from it (open a case, add a report to its duplicate's case, return a report
to its monitor, bulk return or link). Reads go through commission.selectors,
every change through ONE commission service (the API's), called with the
signed-in person as actor; the service decides what is allowed and its
refusal is shown on the form or, when someone acted first, at the top of
the page with 409."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.roles import CHAIR, VERIFIER
from commission import selectors as commission_selectors
from commission import services
from config.errors import ApplicationError, Conflict, Forbidden
from reports import selectors as report_selectors
from reports.exports import geojson_of
from web import commission_reads as reads
from web import forms as f
from web.access import role_required
from web.paging import keyset_page


def _service(form, call, *args, **kwargs):
    """Run one service; its refusal goes onto the form. Returns (ok, result)."""
    try:
        return True, call(*args, **kwargs)
    except Forbidden as exc:
        raise PermissionDenied(exc.message)
    except (ValidationError, ApplicationError) as exc:
        f.add_service_error(form, exc)
        return False, None


def _service_said_at_top(request, form, call, *args, **kwargs):
    """_service for the inbox's actions, where a conflict (someone acted
    first) is said at the top of the page with 409, not by a field.
    Returns (ok, result, status)."""
    try:
        return True, call(*args, **kwargs), 200
    except Conflict as exc:
        messages.error(request, exc.message)
        return False, None, 409
    except Forbidden as exc:
        raise PermissionDenied(exc.message)
    except (ValidationError, ApplicationError) as exc:
        f.add_service_error(form, exc)
        return False, None, 400


# --- The inbox and what is done from it -----------------------------------------


@role_required(VERIFIER, CHAIR)
def inbox(request, open_form=None, status=200, return_form=None, bulk_return_form=None, bulk_link_form=None):
    """The triage inbox: sorted and filtered as asked (InboxFilterForm, GET;
    a bad value is dropped, the rest still applies), the map showing exactly
    the listed reports, each with its duplicate candidates and, when one is
    already in a case in verification, a one-click "add to that case"."""
    filters = f.InboxFilterForm(request.GET)
    wanted = filters.cleaned_data if filters.is_valid() else {
        k: v for k, v in filters.cleaned_data.items() if k not in filters.errors}
    sort = wanted.get("sort") or "oldest"
    narrowed = commission_selectors.inbox_narrowed(
        reads.inbox_reports(request.user), sort=sort,
        **{k: wanted.get(k) or "" for k in ("category", "party", "admin1", "search")})
    # A page by keyset in the order asked (each order has its index: reports 0007).
    pager = keyset_page(request, narrowed, ordering=commission_selectors.inbox_ordering(sort))
    reports = pager["items"]
    visible = report_selectors.report_list_for(request.user)
    items = []
    for r, similar in zip(reports, reads.similar_with_cases(reports, visible), strict=True):
        if wanted.get("duplicates") and not similar:
            continue
        # The cases the report could join in one click: those its candidates are in, still taking reports.
        join = list({s.case.pk: s.case for s in similar if s.case is not None and s.case.stage == "verification"}
                    .values())
        items.append({"report": r, "similar": similar, "join": join,
                      "return_form": (return_form if return_form is not None and return_form.report_pk == r.pk
                                      else f.ReportReturnForm(report_pk=r.pk))})
    form = open_form or f.CaseOpenForm()
    selected = request.POST.getlist("reports") if request.method == "POST" else request.GET.getlist("report")
    filtered = any(request.GET.get(k) for k in ("search", "category", "party", "admin1", "duplicates"))
    return render(request, "web/inbox.html", {
        "items": items, "open_form": form, "selected": selected, "filters": filters, "filtered": filtered,
        "pager": pager,
        "bulk_return_form": bulk_return_form or f.InboxBulkReturnForm(),
        "bulk_link_form": bulk_link_form or f.InboxBulkLinkForm(),
        "map_points": _feature_collection([item["report"] for item in items]),
        "similar_limit": settings.SIMILAR_LIMIT, "tile_url": settings.MAP_TILE_URL}, status=status)


def _selected_reports(request) -> list:
    ids = [int(v) for v in request.POST.getlist("reports") if v.isdigit()]
    return list(report_selectors.report_list_for(request.user).filter(pk__in=ids)) if ids else []


def _bulk(request, form, call, success):
    """A bulk action of the inbox: one service call, all or nothing. Nothing
    selected or a bad field: 400 by the bulk bar; a report someone else
    already moved: 409, said at the top, nothing done."""
    status = 400
    reports = _selected_reports(request)
    if form.is_valid():
        if not reports:
            form.add_error(None, _("Select at least one report."))
        else:
            ok, done, status = _service_said_at_top(request, form, call, reports, form.cleaned_data)
            if ok:
                messages.success(request, success(done, reports))
                return None, status
    return form, status


@role_required(VERIFIER, CHAIR)
@require_POST
def inbox_bulk_return(request):
    """Return every selected report with one question:
    commission.services.report_return_many (all or nothing)."""
    def call(reports, data):
        return services.report_return_many(actor=request.user, reports=reports, reason=data["bulk_reason"])

    form, status = _bulk(request, f.InboxBulkReturnForm(request.POST), call,
                         lambda done, reports: ngettext("%(n)d report was returned to its monitor.",
                                                        "%(n)d reports were returned to their monitors.",
                                                        len(done)) % {"n": len(done)})
    if form is None:
        return redirect("web:inbox")
    return inbox(request, status=status, bulk_return_form=form)


@role_required(VERIFIER, CHAIR)
@require_POST
def inbox_bulk_link(request):
    """Link every selected report to an existing case, by its reference:
    commission.services.case_link_reports (one transaction, all or nothing)."""
    found = {}

    def call(reports, data):
        case = commission_selectors.case_by_reference(request.user, data["bulk_case"])
        if case is None:
            raise ValidationError({"bulk_case": [_("No case with this reference.")]})
        found["case"] = case
        return services.case_link_reports(actor=request.user, case=case, reports=reports)

    form, status = _bulk(request, f.InboxBulkLinkForm(request.POST), call,
                         lambda case, reports: ngettext("%(n)d report was linked to %(ref)s.",
                                                        "%(n)d reports were linked to %(ref)s.",
                                                        len(reports)) % {"n": len(reports), "ref": case.reference})
    if form is None:
        return redirect("web:case_detail", pk=found["case"].pk)
    return inbox(request, status=status, bulk_link_form=form)


@role_required(VERIFIER, CHAIR)
@require_POST
def inbox_add_to_case(request, pk: int, case_pk: int):
    """The card's one click: add the report to the case its duplicate
    candidate is already in (commission.services.case_link_reports, the
    case page's own link)."""
    report = report_selectors.report_get_for(request.user, pk)
    case = commission_selectors.case_get_for(request.user, case_pk)
    if report is None or case is None:
        raise Http404
    try:
        services.case_link_reports(actor=request.user, case=case, reports=[report])
    except Forbidden as exc:
        raise PermissionDenied(exc.message)
    except (ValidationError, ApplicationError) as exc:
        for message in (exc.messages if isinstance(exc, ValidationError) else [exc.message]):
            messages.error(request, message)
        return inbox(request, status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, _("%(report)s was added to %(case)s.") % {"report": report.reference,
                                                                       "case": case.reference})
    return redirect("web:inbox")


def _feature_collection(reports) -> str:
    """The inbox's reports as GeoJSON text for its small map (the API's
    shape, reports.exports.geojson_of), carried in an attribute of the map
    (the policy allows no inline script, not even JSON): the map shows what
    the list shows, no more."""
    return geojson_of(r for r in reports if r.lat is not None and r.lon is not None)


@role_required(VERIFIER, CHAIR)
@require_POST
def case_open(request):
    form = f.CaseOpenForm(request.POST)
    form.fields["reports"].choices = [(v, v) for v in request.POST.getlist("reports")]
    if form.is_valid():
        ids = [int(v) for v in form.cleaned_data["reports"] if v.isdigit()]
        reports = list(report_selectors.report_list_for(request.user).filter(pk__in=ids))
        if not reports:
            form.add_error("reports", _("Select at least one report."))
        else:
            ok, case = _service(form, services.case_open, actor=request.user, title=form.cleaned_data["title"],
                                reports=reports)
            if ok:
                messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
                return redirect("web:case_detail", pk=case.pk)
    return inbox(request, open_form=form, status=400)


@role_required(VERIFIER, CHAIR)
@require_POST
def report_return(request, pk: int):
    """Send a report back to its monitor with a question. The one write is
    commission.services.report_return (the API's). No question: the message by
    the card's field, 400. The report already in a case or returned (someone
    acted first): said at the top of the inbox, 409."""
    report = report_selectors.report_get_for(request.user, pk)
    if report is None:
        raise Http404
    form = f.ReportReturnForm(request.POST, report_pk=report.pk)
    status = 400
    if form.is_valid():
        ok, _returned, status = _service_said_at_top(request, form, services.report_return, actor=request.user,
                                                     report=report, reason=form.cleaned_data["reason"])
        if ok:
            messages.success(request, _("%(ref)s was returned to its monitor with your question.")
                             % {"ref": report.reference})
            return redirect("web:inbox")
    return inbox(request, status=status, return_form=form)
