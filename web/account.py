"""The person's own account: their API tokens (list, revoke one, revoke all)
and how they are notified.

Reads through accounts.selectors, writes through accounts.services, as the
API's /api/v1/auth/tokens/ does."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from notifications.models import EmailMode
from notifications.selectors import notification_preferences_of
from notifications.services import notification_preferences_set


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


@login_required
def notification_preferences(request):
    """Which notifications are emailed (at once, in the daily digest, or not)
    and the emails' language: the same services as
    PUT /api/v1/notifications/preferences/."""
    kinds = notification_preferences_of(request.user)
    if request.method == "POST":
        email = {k["kind"]: request.POST.get(f"email-{k['kind']}", k["email"]) for k in kinds}
        try:
            with transaction.atomic():
                services.user_language_set(actor=request.user, language=request.POST.get("language", ""))
                notification_preferences_set(actor=request.user, email=email)
        except ValidationError as error:
            messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
        else:
            messages.success(request, _("Your notification settings were saved."))
            return redirect("web:notification_preferences")
    return render(request, "web/notification_preferences.html", {
        "pref_kinds": kinds, "email_modes": EmailMode.choices, "email_languages": settings.LANGUAGES,
        "email_language": request.user.language})
