"""The person's own account: their API tokens (list, revoke one, revoke all).

Reads through accounts.selectors, writes through accounts.services, as the
API's /api/v1/auth/tokens/ does."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services


@login_required
def tokens(request):
    return render(request, "web/tokens.html", {"tokens": selectors.tokens_of(request.user)})


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(selectors.tokens_of(request.user), pk=pk)
    services.token_revoke(actor=request.user, token=token, reason="revoked on the tokens page")
    messages.success(request, _("The token was revoked."))
    return redirect("web:tokens")


@login_required
@require_POST
def tokens_revoke_all(request):
    count = services.tokens_revoke_all(actor=request.user, user=request.user, cause="signed_out_everywhere")
    if count:
        messages.success(request, _("Every token of yours was revoked."))
    return redirect("web:tokens")
