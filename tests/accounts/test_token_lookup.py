"""The one-statement token lookup (accounts.authentication) answers exactly
as DRF's own TokenAuthentication followed by accounts.roles.roles_of: the
same user and token, field by field, the same roles, the same refusals. On
PostgreSQL, where it runs; elsewhere the class is DRF's."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework import authentication as drf
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from accounts import authentication as ours
from accounts.models import User
from accounts.roles import roles_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement lookup is PostgreSQL's")


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _answer(authenticator, key):
    """What a view would get: user, token and roles, or the refusal."""
    try:
        user, token = authenticator.authenticate_credentials(key)
    except AuthenticationFailed as exc:
        return ("refused", str(exc.detail), exc.detail.code, exc.status_code)
    assert token.user is user
    assert not user._state.adding and user._state.db == "default"
    return (_fields(user), _fields(token), roles_of(user))


def _both(key):
    stock, mine = _answer(drf.TokenAuthentication(), key), _answer(ours.TokenAuthentication(), key)
    assert mine == stock
    return mine


def test_a_user_with_several_roles_and_a_delegation(people):
    user = people["chair"]
    user.groups.add(Group.objects.get_or_create(name="auditor")[0])
    user.first_name, user.last_name, user.email = "Olena", "Kovalenko-Müller", "chair@example.org"
    user.save()
    answer = _both(Token.objects.create(user=user).key)
    assert answer[2] == {"chair", "auditor"}
    assert answer[0]["delegation_id"] == user.delegation_id


def test_a_user_without_a_role_or_a_delegation(db):
    user = User.objects.create_user("nobody", password="x")  # noqa: S106 (a test password)
    answer = _both(Token.objects.create(user=user).key)
    assert answer[2] == frozenset()
    assert answer[0]["delegation_id"] is None


def test_an_inactive_user_is_refused_alike(people):
    token = Token.objects.create(user=people["monitor"])
    people["monitor"].is_active = False
    people["monitor"].save()
    assert _both(token.key)[0] == "refused"


@pytest.mark.parametrize("key", ["0123456789abcdef0123456789abcdef01234567", "", "x" * 200, "'; --"])
def test_an_unknown_key_is_refused_alike(db, key):
    assert _both(key)[0] == "refused"


def test_roles_are_read_afresh_by_each_request(people):
    key = Token.objects.create(user=people["member1"]).key
    assert _both(key)[2] == {"member"}
    people["member1"].groups.clear()
    assert _both(key)[2] == frozenset()
