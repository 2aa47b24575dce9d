"""Refusing a request body by its Content-Length before anything reads it.

Django parses a multipart body the first time someone touches request.POST,
and CsrfViewMiddleware does so before the view runs: a view cannot refuse a
60 MB upload itself without having read it. A view marked with
@body_limit(...) is refused here instead, from the header alone, by the
middleware (placed before CsrfViewMiddleware in settings)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


def body_limit(max_bytes: Callable[[], int], too_large: Callable[..., HttpResponse]):
    """Mark a view: a request whose Content-Length exceeds max_bytes() gets
    too_large(request, *args, **kwargs) and its body is never read.
    max_bytes is called per request, so that settings may change."""

    def decorate(view):
        view.body_limit = (max_bytes, too_large)
        return view

    return decorate


def content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class BodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        marked = getattr(view_func, "body_limit", None)
        if marked is None:
            return None
        max_bytes, too_large = marked
        if content_length(request) > max_bytes():
            return too_large(request, *view_args, **view_kwargs)
        return None
