"""Token authentication that loads the user's roles with the token."""

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import OuterRef
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check (same header, same errors, inactive users refused),
    but on PostgreSQL the token, its user and the user's role names come back
    in one query: every API request asks for the roles next (accounts.roles),
    and each statement saved is CPU on both sides. Roles are read fresh on
    every request, never cached across requests, so revoking one takes effect
    at once."""

    def authenticate_credentials(self, key):
        if connection.vendor != "postgresql":
            return super().authenticate_credentials(key)
        from django.contrib.postgres.expressions import ArraySubquery

        roles = Group.objects.filter(user=OuterRef("user_id")).values("name")
        try:
            token = (self.get_model().objects.select_related("user")
                     .annotate(role_names=ArraySubquery(roles)).get(key=key))
        except self.get_model().DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        # What accounts.roles.roles_of would otherwise query.
        token.user._role_cache = frozenset(token.role_names)
        return token.user, token
