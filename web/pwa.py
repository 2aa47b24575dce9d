"""The report form as an installable, offline-capable app (issue 11, item 1):
the web app manifest, the service worker, the device outbox's page, and the
JSON answers the outbox reads when it sends a report the form page queued.

Nothing here writes: a queued report is filed by the same view and the same
service (reports.services.report_create, with the device's Idempotency-Key)
as a report sent by the plain form."""

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import MONITOR
from web.access import role_required

# What a monitor needs with no connection: the pages of offline_pages() (the
# form and the outbox) and every static file they load, which the worker
# finds in the pages themselves (so a script the form's template adds is kept
# too); this list is only what the worker needs before it has read a page.
PRECACHE_STATIC = ("web/outbox.js", "web/site.css")
THEME_COLOUR = "#1f3a5f"


def offline_pages() -> list[str]:
    return [reverse("web:report_new"), reverse("web:outbox")]


def wants_json(request) -> bool:
    """The outbox asks for JSON; a browser's own form post never does."""
    return "application/json" in request.headers.get("Accept", "")


def report_filed_json(report, created: bool) -> JsonResponse:
    """201 for the first send and for a resend with the same key: the device
    learns the one reference either way (a lost answer must not look like a
    refusal, or the monitor would file the report again by hand)."""
    return JsonResponse({"reference": report.reference, "url": reverse("web:report_detail", kwargs={"pk": report.pk}),
                         "created": created}, status=201)


def form_refused_json(form) -> JsonResponse:
    """400 with the form's messages per field, and the same messages as
    sentences ("Latitude: …") for the outbox, which shows them without the form."""
    errors = {field: [str(m) for m in msgs] for field, msgs in form.errors.items()}
    reasons = []
    for field, msgs in errors.items():
        label = form.fields[field].label if field in form.fields else None
        reasons.extend(f"{label}: {m}" if label else m for m in msgs)
    return JsonResponse({"errors": errors, "reasons": reasons}, status=400)


@require_GET
def manifest(request):
    body = {
        "name": _("Ceasefire commission"),
        "short_name": _("Ceasefire"),
        "description": _("File incident reports, also without a connection."),
        "start_url": reverse("web:report_new"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {"src": static("web/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("web/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        ],
    }
    response = JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=3600"
    return response


@lru_cache(maxsize=1)
def _static_version(names: tuple[str, ...]) -> str:
    # The worker's bytes change when a precached file changes, so browsers
    # install the new worker and drop the old cache. Cached per process: the
    # static files change only with a deployment.
    digest = hashlib.sha256()
    for name in names:
        path = finders.find(name)
        if path:
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:16]


@never_cache
@require_GET
def service_worker(request):
    """/sw.js: served from the root so that its scope covers the form and
    the outbox pages (a file under /static/ could control only /static/)."""
    # In development the files change without a restart: hashed on each request.
    version = _static_version.__wrapped__(PRECACHE_STATIC) if settings.DEBUG else _static_version(PRECACHE_STATIC)
    config = {
        "cache": f"ceasefire-{version}",
        "precache": [static(name) for name in PRECACHE_STATIC],
        "pages": offline_pages(),
        "staticPrefix": static(""),
        "signout": reverse("web:logout"),
    }
    response = render(request, "web/sw.js", {"config": json.dumps(config)},
                      content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@role_required(MONITOR)
def outbox(request):
    return render(request, "web/outbox.html")
