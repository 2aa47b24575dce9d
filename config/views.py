"""What Django answers when no view does: unmatched paths and uncaught errors.

Under /api/ the answer is JSON, like every other API answer, so a client
never has to parse an HTML error page. A database that is down (or refusing
connections) is a 503 with Retry-After, not a 500: the request may simply be
tried again. Pages get HTML; the 503 page stands alone, since the usual
layout would ask the unreachable database who is signed in.
"""

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 30


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def unavailable_response(request) -> HttpResponse:
    if _is_api(request):
        response = JsonResponse({"detail": _("The service is briefly unavailable; try again shortly."),
                                 "code": "unavailable"}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html", request=None), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    # Django calls this from inside its `except`: the exception is still current.
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    if _is_api(request):
        return JsonResponse({"detail": _("Server error."), "code": "server_error"}, status=500)
    return defaults.server_error(request)


def signin_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a sign-in refused by the lockout: 429 with
    Retry-After (the whole lockout: each further try restarts it), JSON under
    /api/, a page elsewhere (the sign-in page, the admin's login)."""
    seconds = int(settings.SIGNIN_LOCKOUT.total_seconds())
    message = _("Too many failed sign-in attempts: try again in %(minutes)d minutes.") % {
        "minutes": max(1, round(seconds / 60))}
    if _is_api(request):
        response = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response
