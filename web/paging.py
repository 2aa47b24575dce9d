"""The pages' pager: keyset ("newer"/"older" links), the same DRF cursor
pagination as the API's lists (config.api.CursorPage), so a page of a list
of a million rows is one indexed range scan from where the last page
stopped, never a COUNT(*) nor an OFFSET over every row before it (only
over the rows tied with the cursor's value: config.api.CursorTies).
The links keep the page's other parameters (filters, search, sort)."""

from urllib.parse import urlsplit

from django.http import Http404
from rest_framework import exceptions, pagination
from rest_framework.request import Request

from config.api import CursorTies

PAGE_SIZE = 50


class _Pager(CursorTies, pagination.CursorPagination):
    pass


def _relative(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def keyset_page(request, queryset, *, ordering: tuple[str, ...], size: int | None = None) -> dict:
    """{"items": this page's rows, "newer"/"older": the links (None at an
    end)}. `ordering` must have an index behind it (see the apps'
    migrations) and end in a unique field, e.g. ("-id",) or ("submitted_at", "id")."""
    pager = _Pager()
    pager.ordering = ordering
    pager.page_size = size or PAGE_SIZE
    try:
        items = list(pager.paginate_queryset(queryset, Request(request)))
    except exceptions.NotFound:
        # A cursor the page did not give (edited by hand): no such page.
        raise Http404
    earlier, later = _relative(pager.get_previous_link()), _relative(pager.get_next_link())
    # The links read "newer"/"older" whichever way the list runs.
    descending = ordering[0].startswith("-")
    return {"items": items, "newer": earlier if descending else later, "older": later if descending else earlier}
