"""Roles are Django groups with these names. One place to ask "may this person ...?"."""

from rest_framework.permissions import BasePermission

MONITOR = "monitor"
VERIFIER = "verifier"
MEMBER = "member"
CHAIR = "chair"
AUDITOR = "auditor"
# The liaison of a party to the conflict (User.represents says which party):
# heard before attribution, sees only the cases naming that party, and never
# the trail (no audit permission below).
PARTY_REPRESENTATIVE = "party_representative"
ALL_ROLES = (MONITOR, VERIFIER, MEMBER, CHAIR, AUDITOR, PARTY_REPRESENTATIVE)

# Django permissions each role's group holds. Apps below accounts (the trail)
# check their own permission and know no role names; this is where roles get
# them. role_groups_sync() applies it after every migrate (accounts/apps.py).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # Only the auditors, who prove the trail, ask for a full verification
    # pass on demand (audit.permissions.VERIFY_IN_FULL); the chair reads the
    # trail and its incremental check.
    AUDITOR: ("audit.view_auditevent", "audit.verify_trail_in_full"),
    CHAIR: ("audit.view_auditevent",),
}


def role_groups_sync() -> None:
    """Make every role's group exist with exactly the permissions above
    (idempotent; a permission granted by hand to a role group is removed)."""
    from django.contrib.auth.models import Group, Permission

    for role in ALL_ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for name in ROLE_PERMISSIONS.get(role, ()):
            app_label, codename = name.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def roles_of(user) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._role_cache = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def HasRole(*roles: str, safe_roles: tuple[str, ...] = ()) -> type[BasePermission]:
    """A DRF permission admitting the given roles for every method, and
    `safe_roles` for GET/HEAD/OPTIONS only (an auditor reads, never writes)."""

    class _HasRole(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request, view) -> bool:
            if has_role(request.user, *roles):
                return True
            return request.method in ("GET", "HEAD", "OPTIONS") and has_role(request.user, *safe_roles)

    _HasRole.__name__ = "HasRole_" + "_".join(roles + tuple(f"read_{r}" for r in safe_roles))
    return _HasRole
