"""The right of reply's page: a party representative reads the case's
findings and its reports' facts and submits their party's one reply; the
commission reads the same page. What each may see and do is
commission.selectors.hearing (the API's GET /cases/{id}/replies/); the one
write is commission.services.reply_submit (the API's POST)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.roles import AUDITOR, CHAIR, MEMBER, PARTY_REPRESENTATIVE, VERIFIER
from commission import selectors, services
from config.errors import ApplicationError, Forbidden
from config.uploads import body_limit
from reports.services import MULTIPART_OVERHEAD
from web import forms as f
from web.access import role_required


def _max_request_bytes() -> int:
    return (settings.EVIDENCE_MAX_BYTES + MULTIPART_OVERHEAD) * services.MAX_REPLY_FILES


def _too_large(request, pk: int):
    return render(request, "web/message.html", {
        "title": _("Files too large"),
        "text": _("Evidence files are limited to %(size)s each. Nothing was stored; go back and choose smaller "
                  "files.") % {"size": filesizeformat(settings.EVIDENCE_MAX_BYTES)},
    }, status=413)


@body_limit(_max_request_bytes, too_large=_too_large)
@role_required(PARTY_REPRESENTATIVE, VERIFIER, CHAIR, MEMBER, AUDITOR)
@require_http_methods(["GET", "POST"])
def case_reply(request, pk: int):
    # A case that does not name the representative's party is "not found", like one that does not exist.
    case = selectors.case_get_for_hearing(request.user, pk)
    if case is None:
        raise Http404
    status = 200
    form = f.ReplyForm()
    if request.method == "POST":
        form = f.ReplyForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                services.reply_submit(actor=request.user, case=case, text=form.cleaned_data["text"],
                                      files=form.cleaned_data["files"])
            except Forbidden as exc:
                raise PermissionDenied(exc.message)
            except (ValidationError, ApplicationError) as exc:
                f.add_service_error(form, exc)
                status = getattr(exc, "status_code", 400)
            else:
                messages.success(request, _("Your party's reply is recorded."))
                return redirect("web:case_reply", pk=case.pk)
    hearing = selectors.hearing(case, request.user)
    return render(request, "web/case_reply.html", {"case": case, "hearing": hearing, "form": form}, status=status)
