"""Changes of authority are audited decisions: roles, delegations, a party's
delegation (recusal) and account flags change only through accounts.services,
each with its event; the admin calls those services and refuses a change
without a reason; role groups' permissions cannot be edited in the admin."""

import pytest
from django.core.exceptions import ValidationError

from accounts import roles, services
from accounts.models import User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_granting_a_role_writes_who_granted_it_with_before_and_after(people):
    services.user_authority_set(actor=people["chair"], user=people["auditor"], roles=[roles.AUDITOR, roles.CHAIR],
                                reason="Acting chair during the recess.")
    assert people["auditor"].groups.filter(name=roles.CHAIR).exists()
    [event] = events("user.roles_changed")
    assert event.actor == people["chair"] and event.object_id == str(people["auditor"].pk)
    assert event.before["roles"] == ["auditor"] and event.after["roles"] == ["auditor", "chair"]
    assert event.reason == "Acting chair during the recess."


def test_setting_what_is_already_so_writes_nothing(people):
    services.user_authority_set(actor=None, user=people["member1"], roles=[roles.MEMBER],
                                delegation=people["member1"].delegation, flags={"is_active": True})
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_an_unknown_role_is_refused_and_nothing_changes(people):
    with pytest.raises(ValidationError):
        services.user_authority_set(actor=None, user=people["member1"], roles=["member", "king"])
    assert list(people["member1"].groups.values_list("name", flat=True)) == ["member"]
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_moving_a_member_between_delegations_is_audited(people, delegations):
    services.user_authority_set(actor=None, user=people["member1"], delegation=delegations["UA"], reason="Seconded.")
    people["member1"].refresh_from_db()
    assert people["member1"].delegation == delegations["UA"]
    [event] = events("user.delegation_changed")
    assert (event.before["delegation"], event.after["delegation"]) == ("FR", "UA")


def test_deactivating_an_account_is_audited(people):
    services.user_authority_set(actor=people["chair"], user=people["member2"], flags={"is_active": False},
                                reason="Left the commission.")
    assert not User.objects.get(pk=people["member2"].pk).is_active
    [event] = events("user.flags_changed")
    assert event.before["is_active"] is True and event.after["is_active"] is False


def test_unlinking_a_party_from_its_delegation_is_audited(people, parties):
    services.party_delegation_set(actor=None, party=parties["UA"], delegation=None, reason="Test of the rule.")
    parties["UA"].refresh_from_db()
    assert parties["UA"].delegation is None
    [event] = events("party.delegation_changed")
    assert (event.before, event.after) == ({"party": "UA", "delegation": "UA"}, {"party": "UA", "delegation": None})


def test_a_new_account_is_recorded_with_its_roles_and_never_its_password(delegations):
    user = services.user_create(actor=None, username="member9", password="s3cret-Passw0rd", email="m9@example.org",
                                delegation=delegations["FR"], roles=[roles.MEMBER])
    assert user.check_password("s3cret-Passw0rd")
    [event] = events("user.created")
    assert event.after["roles"] == ["member"] and event.after["delegation"] == "FR"
    assert "s3cret" not in str(event.after) and "password" not in event.after


# --- The admin -----------------------------------------------------------------------


@pytest.fixture
def staff(delegations):
    return User.objects.create_superuser(username="admin", password="x", email="admin@example.org")


def _user_form(user, **changes):
    data = {"username": user.username, "first_name": "", "last_name": "", "email": user.email,
            "delegation": user.delegation_id or "", "roles": list(user.groups.values_list("name", flat=True)),
            "is_active": "on" if user.is_active else "", "authority_reason": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v not in ("", None)}


def test_the_admin_refuses_a_change_of_role_without_a_reason(client, staff, people):
    client.force_login(staff)
    auditor = people["auditor"]
    response = client.post(f"/admin/accounts/user/{auditor.pk}/change/",
                           _user_form(auditor, roles=["auditor", "chair"]))
    assert response.status_code == 200 and b"Say why" in response.content
    assert not auditor.groups.filter(name="chair").exists()
    assert not events("user.roles_changed")


def test_the_admin_changes_roles_through_the_service_and_the_trail_names_the_staff_user(client, staff, people):
    client.force_login(staff)
    auditor = people["auditor"]
    response = client.post(f"/admin/accounts/user/{auditor.pk}/change/",
                           _user_form(auditor, roles=["auditor", "chair"], authority_reason="Acting chair."))
    assert response.status_code == 302
    assert auditor.groups.filter(name="chair").exists()
    [event] = events("user.roles_changed")
    assert event.actor == staff and event.reason == "Acting chair."


def test_the_admin_unlinks_a_party_only_with_a_reason_and_the_trail_shows_it(client, staff, parties):
    client.force_login(staff)
    ua = parties["UA"]
    form = {"code": "UA", "name": ua.name, "delegation": ""}
    assert client.post(f"/admin/accounts/party/{ua.pk}/change/", form).status_code == 200
    ua.refresh_from_db()
    assert ua.delegation is not None
    response = client.post(f"/admin/accounts/party/{ua.pk}/change/", {**form, "authority_reason": "Test."})
    assert response.status_code == 302
    ua.refresh_from_db()
    assert ua.delegation is None
    [event] = events("party.delegation_changed")
    assert event.actor == staff and event.after["delegation"] is None


def test_role_groups_cannot_be_edited_in_the_admin(client, staff):
    from django.contrib.auth.models import Group

    client.force_login(staff)
    member = Group.objects.get(name="member")
    assert client.post(f"/admin/auth/group/{member.pk}/change/", {"name": "member", "permissions": []}).status_code == 403
    assert client.get("/admin/auth/group/add/").status_code == 403
