"""Two-factor sign-in pages: the code step after the password, enrolment
(QR code and the secret to type, confirmed by a first code, then recovery
codes shown once) and the QR code itself, drawn here (no outside service).

Reads through accounts.selectors, writes through accounts.services."""

import base64
from io import BytesIO
from urllib.parse import quote, urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.util import random_hex

from accounts import selectors, services

PENDING_KEY = "two_factor_pending_key"


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, target: str) -> str:
    return reverse(name) + "?" + urlencode({"next": target})


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of signing in: a code from the authenticator, or a recovery code."""
    target = _next(request)
    if request.user.is_verified() or not selectors.two_factor_required(request.user):
        return redirect(target)
    if not selectors.two_factor_enrolled(request.user):
        return redirect(_with_next("web:two_factor_setup", target))
    error = None
    if request.method == "POST":
        code = request.POST.get("code", "")
        if not code.strip():
            error = _("Enter the code your authenticator app shows, or one of your recovery codes.")
        else:
            device = services.second_factor_check(actor=request.user, code=code, via="signin")
            if device is not None:
                django_otp.login(request, device)
                if isinstance(device, StaticDevice):
                    messages.warning(request, _("You signed in with a recovery code; %(left)d are left.")
                                     % {"left": selectors.recovery_codes_left(request.user)})
                return redirect(target)
            error = _("This code is wrong or already used. Wait for the next code and try again.")
    return render(request, "web/two_factor_verify.html", {"next": target, "error": error},
                  status=400 if error else 200)


def _pending_key(request) -> str:
    key = request.session.get(PENDING_KEY)
    if not key:
        key = random_hex(20)
        request.session[PENDING_KEY] = key
    return key


def _otpauth_url(user, key: str) -> str:
    issuer = settings.OTP_TOTP_ISSUER
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    label = quote(f"{issuer}:{user.get_username()}")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": issuer, "digits": 6, "period": 30})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Enrolment: scan the QR code (or type the secret), confirm with a first code."""
    target = _next(request)
    user = request.user
    if selectors.two_factor_enrolled(user):
        if selectors.two_factor_required(user) and not user.is_verified():
            return redirect(_with_next("web:two_factor_verify", target))
        return render(request, "web/two_factor_status.html",
                      {"recovery_codes_left": selectors.recovery_codes_left(user)})
    key = _pending_key(request)
    error = None
    if request.method == "POST":
        try:
            device, codes = services.two_factor_enrol(actor=user, key=key, code=request.POST.get("code", ""))
        except ValidationError as exc:
            error = " ".join(exc.message_dict.get("code", exc.messages))
        else:
            request.session.pop(PENDING_KEY, None)
            django_otp.login(request, device)
            return render(request, "web/two_factor_codes.html", {"codes": codes, "next": target})
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    return render(request, "web/two_factor_setup.html", {
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "next": target, "error": error,
    }, status=400 if error else 200)


@login_required
def qr(request):
    """The QR code of the authenticator being set up, as SVG (the secret is
    in the session only until enrolment is confirmed)."""
    key = request.session.get(PENDING_KEY)
    if not key or selectors.two_factor_enrolled(request.user):
        raise Http404
    out = BytesIO()
    qrcode.make(_otpauth_url(request.user, key), image_factory=qrcode.image.svg.SvgPathImage, box_size=10).save(out)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
