"""Two-factor sign-in where settings.REQUIRE_2FA is on.

A person who must pass a second factor (accounts.selectors.two_factor_required:
the chair, members, auditors and staff) and whose session has only passed the
password reaches no page, the admin's included: every page sends them to the
code step (or, without an authenticator yet, to its enrolment), then back.
The API is guarded by its own authentication (accounts.authentication: such a
session authenticates nobody; a token needs the code to be issued).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import two_factor_required

# Reachable before the second factor: signing in and out, the code step and
# enrolment, the language switch, static files, the public bulletin; the API
# answers for itself.
OPEN_NAMES = ("web:login", "web:logout", "web:two_factor_verify", "web:two_factor_setup", "web:two_factor_qr")
OPEN_PREFIXES = ("/api/", "/i18n/", "/bulletin/", "/" + settings.STATIC_URL.lstrip("/"))


def needs_second_factor(request) -> bool:
    user = request.user
    return two_factor_required(user) and not user.is_verified()


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.REQUIRE_2FA and not self._open(request.path_info) and needs_second_factor(request):
            return redirect(reverse("web:two_factor_verify") + "?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        return path.startswith(OPEN_PREFIXES) or path in {reverse(name) for name in OPEN_NAMES}
