"""The case page's forms: each POST validates its form, calls one commission
service and redirects (or re-renders the case page with the service's
refusal). What each form may do is the services' rule; which forms the page
shows is commission.selectors.case_actions (web.commission_pages)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Party
from accounts.roles import CHAIR, MEMBER, VERIFIER
from commission import selectors as commission_selectors
from commission import services
from config.errors import ApplicationError, Conflict, Forbidden
from reports import selectors as report_selectors
from web import commission_reads as reads
from web import forms as f
from web.access import role_required
from web.commission_pages import case_detail, case_or_404, form_auto_id


def _case_action(request, pk, key, form, call, success, anchor=""):
    """POST handler shape shared by the case page's forms: validate the
    form's shape, run one service, redirect (PRG) or re-render with errors."""
    case = case_or_404(request.user, pk)
    status = 400
    if form.is_valid():
        try:
            call(case, form.cleaned_data)
        except Forbidden as exc:
            raise PermissionDenied(exc.message)
        except Conflict as exc:
            # The case moved on (a round closed, someone acted first): the
            # form this came from may not even be on the page any more, so a
            # conflict about the case itself is said at the top of the page.
            status = 409
            if exc.field and exc.field in form.fields:
                f.add_service_error(form, exc)
            else:
                messages.error(request, exc.message)
        except (ValidationError, ApplicationError) as exc:
            f.add_service_error(form, exc)
        else:
            messages.success(request, success)
            return redirect(reverse("web:case_detail", args=[case.pk]) + anchor)
    return case_detail(request, pk, forms={key: form}, status=status)


# The confirmation page's forms carry this hidden field: a POST without it
# comes from the case page and is answered with the confirmation page.
CONFIRMING = "confirming"


def _confirmed(request, case, *, key, page, call, form, confirm_form, auto_id, initial, success, anchor=""):
    """An irreversible action in two steps. GET, or the case page's POST:
    the confirmation page (what will happen, a box to tick). The
    confirmation page's POST: the service, then back to the case."""
    if request.method == "GET":
        return page(confirm_form(initial=initial, auto_id=auto_id))
    if not request.POST.get(CONFIRMING):
        shaped = form(request.POST, auto_id=auto_id)
        if not shaped.is_valid():
            # A missing summary or reason is said on the case page, next to its form.
            return case_detail(request, case.pk, forms={key: shaped}, status=400)
        return page(confirm_form(initial=shaped.cleaned_data, auto_id=auto_id))
    confirming = confirm_form(request.POST, auto_id=auto_id)
    if not confirming.is_valid():
        return page(confirming, status=400)
    try:
        call(confirming.cleaned_data)
    except Forbidden as exc:
        raise PermissionDenied(exc.message)
    except Conflict as exc:
        # Someone acted first (the case closed, the measure was decided): said on the page, nothing changed.
        f.add_service_error(confirming, exc)
        return page(confirming, status=409)
    except (ValidationError, ApplicationError) as exc:
        f.add_service_error(confirming, exc)
        return page(confirming, status=400)
    messages.success(request, success)
    return redirect(reverse("web:case_detail", args=[case.pk]) + anchor)


@role_required(VERIFIER, CHAIR)
@require_POST
def case_link(request, pk: int):
    def call(case, data):
        report = reads.report_by_reference(request.user, data["report"])
        if report is None:
            raise ValidationError({"report": [_("No submitted report with this reference.")]})
        return services.case_link_reports(actor=request.user, case=case, reports=[report])

    return _case_action(request, pk, "link", f.LinkReportForm(request.POST, auto_id=form_auto_id("link")), call, _("Report linked."), "#h-reports")


@role_required(VERIFIER, CHAIR)
@require_POST
def case_detach(request, pk: int):

    def call(case, data):
        report = report_selectors.report_get_for(request.user, data["report"])
        if report is None:
            raise ValidationError({"report": [_("No such report.")]})
        return services.case_detach_report(actor=request.user, case=case, report=report, reason=data["reason"])

    report_pk = request.POST.get("report") or ""
    key = ("detach", int(report_pk) if report_pk.isdigit() else 0)
    form = f.DetachReportForm(request.POST, auto_id=form_auto_id(key))
    return _case_action(request, pk, key, form, call, _("Report detached."), "#h-reports")


@role_required(VERIFIER, CHAIR)
@require_POST
def case_verify(request, pk: int):
    def call(case, data):
        return services.verification_record(actor=request.user, case=case, outcome=data["outcome"],
                                            findings=data["findings"])

    return _case_action(request, pk, "verify", f.VerificationForm(request.POST, auto_id=form_auto_id("verify")), call, _("Findings recorded."),
                        "#h-verification")


@role_required(CHAIR)
@require_POST
def round_open(request, pk: int):
    def call(case, data):
        # The form's percentage is the service's fraction: 50 -> 0.5.
        return services.round_open(actor=request.user, case=case, closes_at=data.get("closes_at"),
                                   quorum=data["quorum"] / 100, threshold=data["threshold"],
                                   override_reason=data.get("override_reason") or "")

    return _case_action(request, pk, "round", f.RoundOpenForm(request.POST, auto_id=form_auto_id("round")), call, _("Voting round opened."),
                        "#h-attribution")


@role_required(VERIFIER, CHAIR, MEMBER)
@require_POST
def comment_post(request, pk: int):
    def call(case, data):
        return services.comment_post(actor=request.user, case=case, body=data["body"], parent=data.get("parent"))

    return _case_action(request, pk, "comment", f.CommentForm(request.POST, auto_id=form_auto_id("comment")), call,
                        _("Comment added to the discussion."), "#h-discussion")


@role_required(MEMBER)
@require_POST
def ballot_cast(request, pk: int):
    parties = list(Party.objects.order_by("code"))

    def call(case, data):
        # The page posts to the case; the ballot goes to its open round.
        rnd = commission_selectors.round_open_for_case(case)
        if rnd is None:
            raise Conflict(_("No voting round is open on this case."), code="round_closed")
        return services.ballot_cast(actor=request.user, round=rnd, choice=data["choice"],
                                    rationale=data["rationale"])

    return _case_action(request, pk, "ballot", f.BallotForm(request.POST, parties=parties, auto_id=form_auto_id("ballot")), call,
                        _("Your sealed ballot is recorded."), "#h-attribution")


@role_required(MEMBER)
@require_POST
def conflict_declare(request, pk: int):
    def call(case, data):
        return services.conflict_declare(actor=request.user, case=case, reason=data["reason"])

    return _case_action(request, pk, "conflict", f.ConflictForm(request.POST, auto_id=form_auto_id("conflict")), call,
                        _("Your conflict of interest is recorded."), "#h-attribution")


@role_required(MEMBER)
@require_POST
def measure_propose(request, pk: int):
    parties = list(Party.objects.order_by("code"))

    def call(case, data):
        return services.measure_propose(actor=request.user, case=case, kind=data["kind"],
                                        addressee=data["addressee"], description=data["description"],
                                        compliance_due_at=data.get("compliance_due_at"))

    return _case_action(request, pk, "measure", f.MeasureForm(request.POST, parties=parties, auto_id=form_auto_id("measure")), call,
                        _("Measure proposed."), "#h-measures")


@role_required(CHAIR)
@require_http_methods(["GET", "POST"])
def measure_decide(request, pk: int, measure_pk: int):
    """Adopting or rejecting a measure cannot be undone: the case page's form
    (or the link ?decision=adopt|reject) leads to a confirmation page, and
    only its POST, with the box ticked, decides."""
    case = case_or_404(request.user, pk)
    measure = reads.measure_get(case, measure_pk)
    auto_id = form_auto_id(("decide", measure_pk))

    def page(form, status=200):
        decision = form.data.get("decision") if form.is_bound else form.initial.get("decision")
        if decision not in ("adopt", "reject"):
            raise Http404
        preview = commission_selectors.measure_decision_preview(measure, adopt=decision == "adopt")
        return render(request, "web/confirm.html", {
            "case": case, "measure": measure, "preview": preview, "form": form, "what": decision,
            "action": reverse("web:measure_decide", args=[case.pk, measure.pk]),
        }, status=status)

    def call(data):
        return services.measure_decide(actor=request.user, measure=measure, adopt=data["decision"] == "adopt",
                                       reason=data["reason"])

    return _confirmed(request, case, key=("decide", measure_pk), page=page, call=call,
                      form=f.MeasureDecisionForm, confirm_form=f.MeasureDecisionConfirmForm, auto_id=auto_id,
                      initial={"decision": request.GET.get("decision")},
                      success=_("Decision recorded."), anchor="#h-measures")


@role_required(CHAIR)
@require_POST
def measure_compliance(request, pk: int, measure_pk: int):
    def call(case, data):
        measure = reads.measure_get(case, measure_pk)
        return services.measure_compliance_record(actor=request.user, measure=measure, compliance=data["compliance"],
                                           note=data["note"])

    return _case_action(request, pk, ("comply", measure_pk), f.ComplianceForm(request.POST, auto_id=form_auto_id(("comply", measure_pk))), call,
                        _("Compliance recorded."), "#h-measures")


@role_required(CHAIR)
@require_POST
def deadline_extend(request, pk: int, deadline_pk: int):
    def call(case, data):
        deadline = reads.deadline_get(case, deadline_pk)
        return services.deadline_extend(actor=request.user, deadline=deadline, due_at=data["due_at"],
                                        reason=data["reason"])

    return _case_action(request, pk, ("extend", deadline_pk), f.DeadlineExtendForm(request.POST, auto_id=form_auto_id(("extend", deadline_pk))), call,
                        _("Deadline extended."), "#h-deadlines")


@role_required(CHAIR)
@require_POST
def deadline_pause(request, pk: int, deadline_pk: int):
    def call(case, data):
        deadline = reads.deadline_get(case, deadline_pk)
        return services.deadline_pause(actor=request.user, deadline=deadline, reason=data["reason"])

    key = ("pause", deadline_pk)
    return _case_action(request, pk, key, f.DeadlinePauseForm(request.POST, auto_id=form_auto_id(key)), call,
                        _("Deadline paused."), "#h-deadlines")


@role_required(CHAIR)
@require_POST
def deadline_resume(request, pk: int, deadline_pk: int):
    def call(case, data):
        deadline = reads.deadline_get(case, deadline_pk)
        return services.deadline_resume(actor=request.user, deadline=deadline, reason=data["reason"])

    key = ("resume", deadline_pk)
    return _case_action(request, pk, key, f.DeadlineResumeForm(request.POST, auto_id=form_auto_id(key)), call,
                        _("Deadline resumed."), "#h-deadlines")


@role_required(CHAIR)
@require_http_methods(["GET", "POST"])
def case_close(request, pk: int):
    """Closing cannot be undone: the case page's form leads to a confirmation
    page saying what the close will settle; its POST, box ticked, closes."""
    case = case_or_404(request.user, pk)

    def page(form, status=200):
        return render(request, "web/confirm.html", {
            "case": case, "preview": commission_selectors.case_close_preview(case), "form": form, "what": "close",
            "action": reverse("web:case_close", args=[case.pk]),
        }, status=status)

    def call(data):
        return services.case_close(actor=request.user, case=case, summary=data["summary"])

    return _confirmed(request, case, key="close", page=page, call=call, form=f.CaseCloseForm,
                      confirm_form=f.CaseCloseConfirmForm, auto_id=form_auto_id("close"), initial={},
                      success=_("Case closed."))
