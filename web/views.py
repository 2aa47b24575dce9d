"""The pages. Each view checks the role (web.access), reads through the
selectors and writes through ONE service, exactly as the API does; the
only thing written here is how a page looks and where it goes next."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AUDITOR, CHAIR, MEMBER, MONITOR, VERIFIER, has_role, roles_of
from accounts.selectors import two_factor_required
from config.errors import ApplicationError, Forbidden
from config.uploads import body_limit
from reports import selectors as report_selectors
from reports import services as report_services
from reports.models import Evidence, ReportStatus
from web import pwa
from web.access import role_required
from web.forms import EvidenceForm, ReportForm, add_service_error, new_idempotency_key
from web.paging import keyset_page

ANY_READER = (MONITOR, VERIFIER, CHAIR, MEMBER, AUDITOR)


# --- Signing in and the home page ------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # Where REQUIRE_2FA is on, the password is only the first step.
        if two_factor_required(self.request.user):
            return redirect(reverse("web:two_factor_verify") + "?" + urlencode({"next": response.url}))
        return response


class LogoutView(auth_views.LogoutView):
    next_page = "web:login"


def home(request):
    if not request.user.is_authenticated:
        return redirect("web:login")
    user = request.user
    ctx = {"roles": sorted(roles_of(user))}
    if has_role(user, MONITOR):
        mine = report_selectors.report_list_for(user).filter(author=user)
        ctx["drafts"] = list(mine.filter(status=ReportStatus.DRAFT)[:20])
        ctx["returned"] = list(report_selectors.reports_returned_to(user)[:20])
        ctx["recent_reports"] = list(mine.filter(status=ReportStatus.SUBMITTED)[:5])
    ctx.update(_home_commission(user))
    return render(request, "web/home.html", ctx)


def _home_commission(user) -> dict:
    """What the commission's workflow asks of this person (filled in by the
    commission pages' helpers once those services exist)."""
    from web import commission_pages

    return commission_pages.home_context(user)


def permission_denied(request, exception=None):
    return render(request, "403.html", {"exception": exception}, status=403)


# --- Monitor: reports --------------------------------------------------------


@role_required(MONITOR)
def report_list(request):
    # The evidence count per listed report (a subquery on the page's rows),
    # not a join and GROUP BY over all of the monitor's reports.
    evidence = (Evidence.objects.filter(report=OuterRef("pk")).order_by().values("report")
                .annotate(n=Count("pk")).values("n"))
    reports = (report_selectors.report_list_for(request.user).filter(author=request.user)
               .annotate(evidence_count=Coalesce(Subquery(evidence), 0)))
    status = request.GET.get("status")
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    # Newest first by keyset (report_author_id_idx): no count, no offset.
    pager = keyset_page(request, reports, ordering=("-id",))
    return render(request, "web/report_list.html", {"reports": pager["items"], "pager": pager, "status": status})


def _report_form_max_bytes() -> int:
    return report_services.MAX_FORM_FILES * settings.EVIDENCE_MAX_BYTES + report_services.MULTIPART_OVERHEAD


def _report_form_too_large(request):
    return render(request, "web/message.html", {
        "title": _("Files too large"),
        "text": _("The files sent with a report are limited to %(size)s each. Nothing was stored; go back and "
                  "choose smaller files, or attach them on the report's page.")
        % {"size": filesizeformat(settings.EVIDENCE_MAX_BYTES)},
    }, status=413)


# Refused from the Content-Length before the body is read (config.uploads).
@body_limit(_report_form_max_bytes, too_large=_report_form_too_large)
@role_required(MONITOR)
@require_http_methods(["GET", "POST"])
def report_new(request):
    # The device outbox (web/static/web/outbox.js) posts this same form and
    # asks for JSON: 201 with the reference, or 400 with the reasons.
    as_json = pwa.wants_json(request)
    if request.method == "POST":
        form = ReportForm(request.POST)
        draft = request.POST.get("action") == "draft"
        if form.is_valid():
            data = form.validated(draft=draft)
            if data is not None:
                data = dict(data)
                data["status"] = ReportStatus.DRAFT if draft else ReportStatus.SUBMITTED
                key = form.cleaned_data.get("idempotency_key") or request.headers.get("Idempotency-Key") or None
                try:
                    # The report and the files chosen in the form: all stored, or none.
                    report, created = report_services.report_create_with_evidence(
                        actor=request.user, data=data, uploads=request.FILES.getlist("evidence"),
                        idempotency_key=key)
                except (ValidationError, ApplicationError) as exc:
                    if isinstance(exc, Forbidden):
                        raise
                    add_service_error(form, exc)
                else:
                    if not created:
                        messages.info(request, _("This form was already sent: %(ref)s was filed once, here it is.")
                                      % {"ref": report.reference})
                    elif report.status == ReportStatus.DRAFT:
                        messages.success(request, _("Draft %(ref)s saved.") % {"ref": report.reference})
                    else:
                        messages.success(request, _("Report %(ref)s submitted.") % {"ref": report.reference})
                    if as_json:
                        return pwa.report_filed_json(report, created)
                    return redirect("web:report_detail", pk=report.pk)
        if as_json:
            return pwa.form_refused_json(form)
    else:
        form = ReportForm(initial={"idempotency_key": new_idempotency_key()})
    return render(request, "web/report_form.html", _form_context(form, None))


def _form_context(form, report) -> dict:
    return {"form": form, "report": report, "tile_url": settings.MAP_TILE_URL,
            "max_files": report_services.MAX_FORM_FILES}


@role_required(MONITOR)
@require_http_methods(["GET", "POST"])
def report_edit(request, pk: int):
    report = report_selectors.report_get_for(request.user, pk)
    if report is None or report.author_id != request.user.pk:
        raise Http404
    if report.status not in report_services.EDITABLE_STATUSES:
        messages.info(request, _("%(ref)s is submitted and can no longer be edited.") % {"ref": report.reference})
        return redirect("web:report_detail", pk=report.pk)
    returned = report.status == ReportStatus.RETURNED
    if request.method == "POST":
        form = ReportForm(request.POST)
        submitting = request.POST.get("action") != "draft"
        if form.is_valid():
            data = form.validated(draft=not submitting and not returned)
            if data is not None:
                data = dict(data)
                # "Save" on a returned report keeps it returned (it never goes
                # back to being a private draft).
                data["status"] = (ReportStatus.SUBMITTED if submitting
                                  else None if returned else ReportStatus.DRAFT)
                # Fields cleared in the form must be cleared in the draft too
                # (a draft keeps any subset; submitting checks they are all there).
                for key in ("occurred_at", "occurred_until", "lat", "lon", "precision_m", "severity",
                            "alleged_party"):
                    data.setdefault(key, None)
                for key in ("place_name", "admin1", "weapons", "category", "source_type", "description"):
                    data.setdefault(key, "")
                data.setdefault("links", [])
                try:
                    report = report_services.report_update(actor=request.user, report=report, data=data)
                except (ValidationError, ApplicationError) as exc:
                    if isinstance(exc, Forbidden):
                        raise
                    add_service_error(form, exc)
                else:
                    if submitting and returned:
                        messages.success(request, _("Report %(ref)s submitted again with your answer.")
                                         % {"ref": report.reference})
                    elif submitting:
                        messages.success(request, _("Report %(ref)s submitted.") % {"ref": report.reference})
                    elif returned:
                        messages.success(request, _("Changes to %(ref)s saved; submit it again when your answer "
                                                    "is complete.") % {"ref": report.reference})
                    else:
                        messages.success(request, _("Draft %(ref)s saved.") % {"ref": report.reference})
                    return redirect("web:report_detail", pk=report.pk)
    else:
        form = ReportForm(initial=ReportForm.initial_from_report(report))
    return render(request, "web/report_form.html", _form_context(form, report))


@role_required(*ANY_READER)
def report_detail(request, pk: int):
    report = report_selectors.report_get_for(request.user, pk)
    if report is None:
        raise Http404
    return _render_report(request, report, EvidenceForm())


def _render_report(request, report, evidence_form, status=200):
    from web import commission_pages

    ctx = {
        "report": report,
        "evidence": report_selectors.evidence_shown_to(request.user, report),
        "evidence_form": evidence_form,
        "may_upload": report_services.evidence_may_upload(request.user, report),
        "may_edit": (report.status in report_services.EDITABLE_STATUSES and report.author_id == request.user.pk
                     and has_role(request.user, MONITOR)),
        "case": commission_pages.case_of_report(request.user, report),
        "receipt": report_selectors.report_receipt_for(request.user, report),
    }
    return render(request, "web/report_detail.html", ctx, status=status)


@role_required(MONITOR)
def report_receipt(request, pk: int):
    """The filing receipt as a JSON file for its author to keep and check
    offline (docs/verify_receipt.py); with ?proof=1 also the filing event,
    the newest signed tree head and the inclusion proof (the API's
    /reports/{id}/receipt/ answer). 404 for anyone else or with none."""
    from reports.serializers import ReceiptProofSerializer

    report = report_selectors.report_get_for(request.user, pk)
    if report is None:
        raise Http404
    if request.GET.get("proof"):
        bundle = report_selectors.report_receipt_proof_for(request.user, report)
        data, name = (ReceiptProofSerializer(bundle).data if bundle else None), "receipt-proof"
    else:
        data, name = report_selectors.report_receipt_for(request.user, report), "receipt"
    if data is None:
        raise Http404
    response = JsonResponse(data, json_dumps_params={"indent": 2, "sort_keys": True, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{name}-{report.reference}.json"'
    return response


def _evidence_too_large(request, pk: int):
    return render(request, "web/message.html", {
        "title": _("File too large"),
        "text": _("Evidence files are limited to %(size)s. Nothing was stored; go back and choose a smaller file.")
        % {"size": filesizeformat(settings.EVIDENCE_MAX_BYTES)},
    }, status=413)


# Refused from the Content-Length before the body is read (config.uploads).
@body_limit(report_services.evidence_max_request_bytes, too_large=_evidence_too_large)
@role_required(MONITOR, VERIFIER, CHAIR)
@require_POST
def evidence_add(request, pk: int):
    report = report_selectors.report_get_for(request.user, pk)
    if report is None:
        raise Http404
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.validated()
        if data is not None:
            try:
                report_services.evidence_add(actor=request.user, report=report, upload=data["file"])
            except (ValidationError, ApplicationError) as exc:
                if isinstance(exc, Forbidden):
                    raise
                add_service_error(form, exc)
            else:
                messages.success(request, _("Evidence attached to %(ref)s.") % {"ref": report.reference})
                return redirect(reverse("web:report_detail", kwargs={"pk": report.pk}) + "#evidence")
    return _render_report(request, report, form, status=400)


@role_required(*ANY_READER)
def evidence_thumbnail(request, pk: int):
    """The server-made thumbnail (no metadata) that pages show in place of
    the original: the same access rule as a download, no trail event."""
    evidence = report_selectors.evidence_thumbnail_for(request.user, pk)
    if evidence is None:
        raise Http404
    response = FileResponse(report_selectors.evidence_open_thumbnail(evidence), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@role_required(*ANY_READER)
def evidence_preview(request, pk: int):
    """The original image, shown in the browser (not as an attachment) when
    someone opens a thumbnail. A read of the original, EXIF and all, so it is
    recorded like a download (evidence.downloaded): pages embed only
    thumbnails, so this is one event per deliberate look, not per page view."""
    evidence = report_selectors.evidence_preview_for(request.user, pk)
    if evidence is None:
        raise Http404
    handle = report_services.evidence_open_for_download(actor=request.user, evidence=evidence)
    response = FileResponse(handle, content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Every look is a recorded read: no copy kept in the browser's cache.
    response["Cache-Control"] = "private, no-store"
    # Opened on its own, the image can run nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
