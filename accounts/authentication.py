"""Token authentication that loads the user's roles with the token.

A hand-written path kept on trial (issue 9, "Tricks that pay, fenced"): it
stays only if bench/intake.py, run back to back against DRF's own
TokenAuthentication (the commit before the one that brought this back),
shows at least 10 % more reports/s. tests/accounts/test_token_lookup.py
proves on PostgreSQL that it answers exactly as DRF's class followed by
accounts.roles.roles_of. Going back to stock: set DRF's class in
settings.REST_FRAMEWORK and delete this module and that test.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


def _token_sql() -> tuple[str, list[str], list[str]]:
    """One statement: the token, its user, and the user's group names.
    Written once from the models' metadata (not by the ORM per request:
    compiling the query cost more CPU than running it)."""
    user_model = get_user_model()
    user_fields = [f.attname for f in user_model._meta.concrete_fields]
    token_fields = [f.attname for f in Token._meta.concrete_fields]
    qn = connection.ops.quote_name
    user_table, token_table = qn(user_model._meta.db_table), qn(Token._meta.db_table)
    groups = user_model._meta.get_field("groups")
    through = groups.remote_field.through._meta
    group_model = groups.remote_field.model._meta
    user_fk = qn(groups.m2m_column_name())
    group_fk = qn(groups.m2m_reverse_name())
    columns = [f"t.{qn(Token._meta.get_field(a).column)}" for a in token_fields]
    columns += [f"u.{qn(user_model._meta.get_field(a).column)}" for a in user_fields]
    sql = (
        f"SELECT {', '.join(columns)}, "  # noqa: S608 (names from the models, the key is a parameter)
        f"ARRAY(SELECT g.{qn('name')} FROM {qn(group_model.db_table)} g "
        f"JOIN {qn(through.db_table)} ug ON ug.{group_fk} = g.{qn(group_model.pk.column)} "
        f"WHERE ug.{user_fk} = u.{qn(user_model._meta.pk.column)}) "
        f"FROM {token_table} t JOIN {user_table} u "
        f"ON u.{qn(user_model._meta.pk.column)} = t.{qn(Token._meta.get_field('user').column)} "
        f"WHERE t.{qn(Token._meta.pk.column)} = %s"
    )
    return sql, token_fields, user_fields


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check (same header, same errors, inactive users refused),
    but on PostgreSQL the token, its user and the user's role names come back
    in one statement: every API request asks for the roles next
    (accounts.roles), and each statement saved is CPU on both sides. Roles are
    read fresh on every request, never cached across requests, so revoking one
    takes effect at once."""

    _sql = None

    def authenticate_credentials(self, key):
        if connection.vendor != "postgresql" or self.get_model() is not Token:
            return super().authenticate_credentials(key)
        if TokenAuthentication._sql is None:
            TokenAuthentication._sql = _token_sql()
        sql, token_fields, user_fields = TokenAuthentication._sql
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        n = len(token_fields)
        user = get_user_model().from_db(connection.alias, user_fields, row[n:n + len(user_fields)])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(connection.alias, token_fields, row[:n])
        token.user = user
        # What accounts.roles.roles_of would otherwise query.
        user._role_cache = frozenset(row[-1])
        return user, token
