"""Role groups and the permissions they carry (accounts.roles.ROLE_PERMISSIONS)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from accounts import roles

pytestmark = pytest.mark.django_db


def _perms(role):
    return {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=role).permissions.all()}


def test_after_migrate_every_role_group_exists_and_only_auditor_and_chair_read_the_trail():
    assert {g.name for g in Group.objects.all()} >= set(roles.ALL_ROLES)
    # Only the auditors also ask for a full verification pass on demand.
    assert _perms(roles.AUDITOR) == {"audit.view_auditevent", "audit.verify_trail_in_full"}
    assert _perms(roles.CHAIR) == {"audit.view_auditevent"}
    for role in (roles.MONITOR, roles.VERIFIER, roles.MEMBER):
        assert _perms(role) == set()


def test_a_permission_granted_to_a_role_group_by_hand_is_taken_back_at_the_next_migrate():
    member = Group.objects.get(name=roles.MEMBER)
    member.permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    call_command("migrate", verbosity=0)
    assert _perms(roles.MEMBER) == set()


def test_the_auditor_and_the_chair_hold_the_trail_permission_and_a_member_does_not(people):
    assert people["auditor"].has_perm("audit.view_auditevent")
    assert people["chair"].has_perm("audit.view_auditevent")
    assert not people["member1"].has_perm("audit.view_auditevent")
    assert not people["outsider"].has_perm("audit.view_auditevent")


def test_only_the_auditor_holds_the_full_verification_permission(people):
    assert people["auditor"].has_perm("audit.verify_trail_in_full")
    for who in ("chair", "member1", "verifier", "monitor", "outsider"):
        assert not people[who].has_perm("audit.verify_trail_in_full")
