"""Shared personas: one user per role, plus an outsider with no role.

Delegations and parties mirror seed_demo: RU and UA are parties, UA's party
is linked to the UA delegation, so member5 (UA) is recused from attribution.
"""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import Delegation, Party, User

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def delegations(db):
    codes = {"FR": "France", "UK": "United Kingdom", "US": "United States", "UA": "Ukraine",
             "DE": "Germany", "EU": "European Union", "NATO": "NATO", "TR": "Türkiye", "JP": "Japan"}
    return {code: Delegation.objects.create(code=code, name=name) for code, name in codes.items()}


@pytest.fixture
def parties(delegations):
    return {
        "RU": Party.objects.create(code="RU", name="Russian Federation"),
        "UA": Party.objects.create(code="UA", name="Ukraine", delegation=delegations["UA"]),
    }


def _user(username, delegation, *role_names):
    user = User.objects.create_user(username=username, password=PASSWORD, delegation=delegation,
                                    email=f"{username}@example.org")
    for name in role_names:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def people(delegations, parties):
    d = delegations
    return {
        "monitor": _user("monitor1", d["TR"], roles.MONITOR),
        "monitor2": _user("monitor2", d["UK"], roles.MONITOR),
        "verifier": _user("verifier1", d["US"], roles.VERIFIER),
        "chair": _user("chair", d["FR"], roles.CHAIR),
        "member1": _user("member1", d["FR"], roles.MEMBER),
        "member2": _user("member2", d["UK"], roles.MEMBER),
        "member3": _user("member3", d["US"], roles.MEMBER),
        "member4": _user("member4", d["DE"], roles.MEMBER),
        "member5": _user("member5", d["UA"], roles.MEMBER),
        "auditor": _user("auditor1", d["JP"], roles.AUDITOR),
        "outsider": _user("outsider", d["EU"]),
    }


@pytest.fixture
def api():
    """api(user) -> an APIClient signed in as that user (None: anonymous)."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
