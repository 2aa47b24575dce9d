"""API token authentication: knox's hashed tokens, with the user's roles.

The header is `Authorization: Token <key>`. Only a SHA-512 digest of each key
is stored (accounts.models.AuthToken), so neither the database nor the admin
can hand one out again; a token past its expiry is refused and deleted.

knox's own check, with two differences: the user's role names come back in
the same statement as the token on PostgreSQL (every API request asks for
them next, accounts.roles), and only the presented token's expiry is looked
at (knox also sweeps the user's other tokens on every request, a query each
time; accounts.services purges expired tokens when one is issued). Roles are
read fresh on every request, never cached across requests, so taking one
away counts from the very next request.
"""

import binascii
from hmac import compare_digest

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import authentication, exceptions

from accounts.models import AuthToken
from accounts.selectors import two_factor_required


def _candidates(key: str):
    tokens = AuthToken.objects.filter(token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user")
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        names = Group.objects.filter(user=OuterRef("user_id")).values("name")
        tokens = tokens.annotate(role_names=ArraySubquery(names))
    return tokens


class TokenAuthentication(knox_auth.TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        message = _("Invalid token.")
        try:
            key = token.decode("utf-8")
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(message) from None
        now = timezone.now()
        for auth_token in _candidates(key):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry <= now:
                auth_token.delete()
                raise exceptions.AuthenticationFailed(_("Token expired."))
            user, auth_token = self.validate_user(auth_token)
            if hasattr(auth_token, "role_names"):
                # What accounts.roles.roles_of would otherwise query.
                user._role_cache = frozenset(auth_token.role_names)
            return user, auth_token
        raise exceptions.AuthenticationFailed(message)


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for it stays `tokenAuth` (the README's "Authorize")."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix=self.target.authenticate_header(None))


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, except that a session which has passed
    the password but still owes its second factor (REQUIRE_2FA,
    accounts.selectors.two_factor_required) authenticates nobody: the API
    answers it as it answers a stranger."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = getattr(request._request, "user", None)
        if two_factor_required(result[0]) and not getattr(user, "is_verified", lambda: False)():
            return None
        return result


class SessionScheme(OpenApiAuthenticationExtension):
    """The schema's name for it stays `cookieAuth`, as for DRF's own."""

    target_class = SessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
