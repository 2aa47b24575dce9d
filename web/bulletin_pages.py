"""The public bulletin, without signing in: the page, its JSON and its Atom
feed; and the chair's two controls (publish now, make a case's summary
public), which call the same services as the API."""

from django.contrib import messages
from django.contrib.syndication.views import Feed
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import CHAIR
from commission import services
from commission.selectors.bulletin import bulletin_dict, bulletin_get, bulletin_latest, bulletin_list
from config.errors import ApplicationError, Forbidden
from web.access import role_required
from web.commission_pages import case_or_404

EARLIER = 30
# Bulletins never change once published: a shared cache may keep the JSON and
# the feed for a while (the page is per language, and carries a CSRF token).
PUBLIC_CACHE = cache_control(public=True, max_age=300)


def _public_json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    # Anyone may fetch it from anywhere: it holds nothing that is not public.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def bulletin(request, pk: int | None = None):
    shown = bulletin_latest() if pk is None else bulletin_get(pk)
    if pk is not None and shown is None:
        raise Http404(_("No such bulletin."))
    earlier = [b for b in bulletin_list()[:EARLIER + 1] if shown is None or b.pk != shown.pk][:EARLIER]
    return render(request, "web/bulletin.html", {"bulletin": shown, "data": bulletin_dict(shown) if shown else None,
                                                 "earlier": earlier})


@require_GET
@PUBLIC_CACHE
def latest_json(request):
    shown = bulletin_latest()
    if shown is None:
        return _public_json({"detail": "No bulletin has been published yet."}, status=404)
    return _public_json(bulletin_dict(shown))


class BulletinFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Ceasefire commission: public bulletins")
    subtitle = gettext_lazy("Counts of reports, cases and measures, with locations coarsened and delayed.")

    def __call__(self, request, *args, **kwargs):
        return PUBLIC_CACHE(super().__call__)(request, *args, **kwargs)

    def link(self):
        return reverse("web:bulletin")

    def items(self):
        return bulletin_list()[:20]

    def item_title(self, item):
        return _("Bulletin for %(start)s to %(end)s (UTC)") % {
            "start": item.period_start.strftime("%Y-%m-%d %H:%M"), "end": item.period_end.strftime("%Y-%m-%d %H:%M")}

    def item_description(self, item):
        content = item.content
        return _("%(reports)d reports; %(opened)d cases opened, %(attributed)d attributed, %(closed)d closed; "
                 "%(adopted)d measures adopted.") % {
            "reports": content["reports"]["total"], "opened": content["cases"]["opened"],
            "attributed": content["cases"]["attributed"], "closed": content["cases"]["closed"],
            "adopted": content["measures"]["adopted"]}

    def item_link(self, item):
        return reverse("web:bulletin_detail", args=[item.pk])

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        # Immutable: updated is when it was published.
        return item.published_at


feed = BulletinFeed()


@role_required(CHAIR)
@require_POST
def publish(request):
    try:
        shown, created = services.bulletin_publish(actor=request.user, on_demand=True)
    except Forbidden as exc:
        raise PermissionDenied(exc.message)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("web:board")
    if created:
        messages.success(request, _("Bulletin published."))
    else:
        messages.info(request, _("Nothing new since the latest bulletin: it stands."))
    return redirect("web:bulletin_detail", pk=shown.pk)


@role_required(CHAIR)
@require_POST
def summary_public(request, pk: int):
    case = case_or_404(request.user, pk)
    public = request.POST.get("public", "1") != "0"
    try:
        services.case_summary_publish(actor=request.user, case=case, public=public)
    except Forbidden as exc:
        raise PermissionDenied(exc.message)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The summary will appear in the bulletin.") if public
                         else _("The summary will no longer appear in new bulletins."))
    return redirect("web:case_detail", pk=case.pk)
