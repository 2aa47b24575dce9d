"""Browser-only middleware, skipped for API calls that carry a token.

Sessions, the session's user and flash messages serve people in a browser
(the web pages, the admin, and the API used from a signed-in browser, which
DRF authenticates by session and CSRF token). An API call with an
`Authorization: Token …` header needs none of them: DRF's token
authentication answers it (or refuses it with 401) before session
authentication is ever tried, and sets `request.user` itself. Skipping the
three for such calls saves their work on every request of a token client
(the intake path above all) and changes no answer: untouched, they add no
header and no cookie.

Anything else — no Authorization header, another scheme, or a path outside
the API — goes through them exactly as before, in the same order.
"""

from django.contrib.auth.middleware import AuthenticationMiddleware as _AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as _SessionMiddleware

from accounts.authentication import TokenAuthentication

API_PREFIX = "/api/v1/"  # our own DRF views, every one of them with token authentication
# The keyword our token authentication reads, compared as DRF compares it
# (case-insensitively). Other spacing after it ("Token<TAB>…") just takes the
# browser path, as before.
_TOKEN_PREFIX = TokenAuthentication.keyword.lower() + " "


def is_token_api_call(request) -> bool:
    """An API request that DRF will authenticate by its token, never by session."""
    return request.path_info.startswith(API_PREFIX) and request.META.get(
        "HTTP_AUTHORIZATION", ""
    )[: len(_TOKEN_PREFIX)].lower() == _TOKEN_PREFIX


class _SkipForTokenApi:
    # Subclasses of Django's own, so that the admin's checks (E408-E410)
    # still find them.
    def __call__(self, request):
        if is_token_api_call(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_SkipForTokenApi, _SessionMiddleware):
    """Django's, except for token API calls."""


class AuthenticationMiddleware(_SkipForTokenApi, _AuthenticationMiddleware):
    """Django's, except for token API calls (DRF sets request.user)."""


class MessageMiddleware(_SkipForTokenApi, _MessageMiddleware):
    """Django's, except for token API calls."""
