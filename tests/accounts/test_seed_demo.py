from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts import roles
from accounts.management.commands.seed_demo import DEFAULT_PASSWORD
from accounts.models import Delegation, Party, User
from audit.models import AuditEvent
from reports.models import Report

EXPECTED_USERS = {
    "monitor1": ("TR", roles.MONITOR),
    "monitor2": ("UK", roles.MONITOR),
    "verifier1": ("US", roles.VERIFIER),
    "chair": ("FR", roles.CHAIR),
    "member1": ("FR", roles.MEMBER),
    "member2": ("UK", roles.MEMBER),
    "member3": ("US", roles.MEMBER),
    "member4": ("DE", roles.MEMBER),
    "member5": ("UA", roles.MEMBER),
    "auditor1": ("JP", roles.AUDITOR),
}


@pytest.fixture(autouse=True)
def demo_settings(settings):
    # pytest-django turns DEBUG off; the published password is only for DEBUG.
    settings.DEBUG = True
    # A fast hasher: the command checks every password on every run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return {
        "delegations": list(Delegation.objects.order_by("code").values_list("code", "name")),
        "parties": list(Party.objects.order_by("code").values_list("code", "name", "delegation__code")),
        "groups": sorted(Group.objects.values_list("name", flat=True)),
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "password", "delegation__code", "is_staff", "is_superuser", "email"
            )
        ),
        "memberships": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        "reports": Report.objects.count(),
        "events": AuditEvent.objects.count(),
    }


@pytest.mark.django_db
def test_running_it_twice_changes_nothing():
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first


@pytest.mark.django_db
def test_it_creates_the_delegations_and_links_party_ua_to_the_ua_delegation():
    seed()
    assert set(Delegation.objects.values_list("code", flat=True)) == {
        "FR", "UK", "US", "UA", "EU", "NATO", "TR", "JP", "DE"
    }
    assert all(Delegation.objects.values_list("name", flat=True))
    assert Party.objects.get(code="UA").delegation.code == "UA"
    assert Party.objects.get(code="RU").delegation is None


@pytest.mark.django_db
def test_each_demo_user_has_exactly_their_role_and_delegation():
    seed()
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)
    for username, (delegation, role) in EXPECTED_USERS.items():
        user = User.objects.get(username=username)
        assert user.delegation.code == delegation, username
        assert list(user.groups.values_list("name", flat=True)) == [role], username
        assert not user.is_staff, username
        assert authenticate(username=username, password=DEFAULT_PASSWORD) == user


@pytest.mark.django_db
def test_a_rerun_restores_a_demo_user_whose_role_or_delegation_was_changed():
    seed()
    member5 = User.objects.get(username="member5")
    member5.groups.set([Group.objects.get(name=roles.CHAIR)])
    member5.delegation = Delegation.objects.get(code="FR")
    member5.save()
    seed()
    member5.refresh_from_db()
    assert member5.delegation.code == "UA"
    assert list(member5.groups.values_list("name", flat=True)) == [roles.MEMBER]


@pytest.mark.django_db
def test_the_admin_is_staff_with_the_same_password():
    seed()
    admin = authenticate(username="admin", password=DEFAULT_PASSWORD)
    assert admin is not None and admin.is_staff and admin.is_superuser


@pytest.mark.django_db
def test_the_password_option_sets_every_password_and_a_rerun_resets_it():
    seed("--password", "another-secret-1")
    for username in [*EXPECTED_USERS, "admin"]:
        assert authenticate(username=username, password="another-secret-1") is not None, username
        assert authenticate(username=username, password=DEFAULT_PASSWORD) is None, username
    seed()
    assert authenticate(username="chair", password=DEFAULT_PASSWORD) is not None
    assert authenticate(username="chair", password="another-secret-1") is None


@pytest.mark.django_db
def test_it_refuses_the_published_password_when_debug_is_off(demo_settings):
    demo_settings.DEBUG = False
    with pytest.raises(CommandError, match="--password"):
        seed()
    assert not User.objects.exists()
    seed("--password", "a-chosen-secret")
    assert authenticate(username="monitor1", password="a-chosen-secret") is not None


@pytest.mark.django_db
def test_it_prints_the_demo_credentials():
    out = seed()
    assert DEFAULT_PASSWORD in out
    for username in [*EXPECTED_USERS, "admin"]:
        assert f"  {username} " in out


@pytest.mark.django_db
def test_it_files_the_sample_reports_once_with_their_audit_events():
    pytest.importorskip("reports.services", reason="the reports service is not there yet")
    seed()
    reports = Report.objects.count()
    assert reports >= 3
    assert set(Report.objects.values_list("author__username", flat=True)) <= {"monitor1", "monitor2"}
    assert AuditEvent.objects.filter(object_type="report").count() >= reports
    seed()
    assert Report.objects.count() == reports
